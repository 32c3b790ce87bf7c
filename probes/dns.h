/* dns.h - the DNS probe: asks every resolver, separately, for A and AAAA.
 *
 * Each resolver (every nameserver of /etc/resolv.conf, then every
 * --dns-server) gets its own c-ares channel, so one silent server cannot hide
 * behind another. The probe records per-resolver evidence (dns.resolver.*)
 * and, when it ends, the dns.* facts of the answer the system would use:
 * the first system resolver that gave a definitive answer, as glibc does.
 */
#ifndef LD_PROBE_DNS_H
#define LD_PROBE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/attempt.h"
#include "core/resolver.h"
#include "probes/probe.h"

/* Most resolvers and search domains taken from resolv.conf / options. */
#define LD_DNS_MAX_RESOLVERS 16
#define LD_DNS_MAX_DOMAINS 8

/* The system's resolver configuration, read once per run. */
typedef struct ld_dns_system {
    ld_resolver resolvers[LD_DNS_MAX_RESOLVERS]; /* nameservers in order */
    size_t nresolvers;                           /* how many */
    char *domains[LD_DNS_MAX_DOMAINS];           /* search list, owned */
    size_t ndomains;                             /* how many */
    int ndots;                                   /* resolv.conf ndots */
} ld_dns_system;

/* Reads /etc/resolv.conf through c-ares (nothing is sent). */
ld_status ld_dns_system_load(ld_dns_system *out, ld_err *err);
/* Frees the search list; a zeroed struct is harmless. */
void ld_dns_system_clear(ld_dns_system *sys);

/* What one DNS probe asks. */
typedef struct ld_dns_config {
    const char *name;                /* the host name */
    const ld_resolver *resolvers;    /* system resolvers first, then --dns-server */
    size_t nresolvers;               /* how many */
    const ld_dns_system *system;     /* search list and ndots */
    const ld_addr *endpoint_ips;     /* --endpoint-ip, to compare answers with */
    size_t nendpoint_ips;            /* how many */
    ld_time query_timeout;           /* per resolver (--connect-timeout) */
} ld_dns_config;

extern const ld_probe_ops ld_probe_dns;

/* After the probe finished: the addresses an application would connect to
 * (at most max, into out) - those /etc/hosts gives the name when it has it
 * (*origin LD_ORIGIN_HOSTS), else the system's DNS answer (LD_ORIGIN_DNS). */
size_t ld_dns_addresses(const ld_probe *p, ld_addr *out, size_t max, unsigned *origin);

#endif
