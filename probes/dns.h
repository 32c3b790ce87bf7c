/* dns.h - the DNS probe: asks every resolver, separately, for A and AAAA.
 *
 * Each resolver (every nameserver of /etc/resolv.conf, then every
 * --dns-server) gets its own c-ares channel, so one silent server cannot
 * hide behind another.
 *
 * The cloud's own resolver is asked by a second probe of its own
 * (compare_only), so that its silence - a resolver nobody configured - never
 * holds up the connects that follow the system's answer. It records only
 * its dns.resolver.* evidence; the summary compares it with the system's
 * answer once the target is done (dns.cloud_resolver_*): the private
 * addresses it has that the system's answer lacks are the private zone a
 * custom DNS server does not forward. The probe records per-resolver evidence (dns.resolver.*)
 * and, when it ends, the dns.* facts of the answer the system would use:
 * the first system resolver that gave a definitive answer, as glibc does.
 * It tells a server that answered with something unusable (a malformed
 * reply, a truncated one whose TCP retry failed) from a silent or refusing
 * one, computes what a glibc lookup waits on the nameservers listed before
 * the one that answers, and compares what /etc/hosts says with DNS.
 */
#ifndef LD_PROBE_DNS_H
#define LD_PROBE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/attempt.h"
#include "core/names.h"
#include "core/resolver.h"
#include "probes/probe.h"

/* Most resolvers and search domains taken from resolv.conf / options. */
#define LD_DNS_MAX_RESOLVERS 16
#define LD_DNS_MAX_DOMAINS   8

/* The files glibc reads; `ip netns exec` bind-mounts a namespace's own
 * /etc/netns/NAME/ copies over these paths, so they are always the ones. */
#define LD_DNS_RESOLV_CONF "/etc/resolv.conf"
#define LD_DNS_HOSTS_FILE  "/etc/hosts"

/* glibc's resolver defaults and limits (resolv.conf(5), <resolv.h>). */
#define LD_DNS_GLIBC_TIMEOUT_S     5  /* RES_TIMEOUT: wait per nameserver */
#define LD_DNS_GLIBC_MAX_TIMEOUT_S 30 /* RES_MAXRETRANS */
#define LD_DNS_GLIBC_ATTEMPTS      2  /* RES_DFLRETRY: rounds over the nameservers */
#define LD_DNS_GLIBC_MAX_ATTEMPTS  5  /* RES_MAXRETRY */
#define LD_DNS_GLIBC_MAXNS         3  /* MAXNS: nameservers glibc uses, the first ones listed */

/* The options of resolv.conf that change how glibc asks (bits). */
typedef enum ld_dns_option {
    LD_DNS_OPT_TIMEOUT = 1u << 0,               /* "timeout:N" given */
    LD_DNS_OPT_ATTEMPTS = 1u << 1,              /* "attempts:N" given */
    LD_DNS_OPT_ROTATE = 1u << 2,                /* "rotate": start at another server each time */
    LD_DNS_OPT_SINGLE_REQUEST = 1u << 3,        /* "single-request": A, then AAAA */
    LD_DNS_OPT_SINGLE_REQUEST_REOPEN = 1u << 4, /* "single-request-reopen": a socket each */
    LD_DNS_OPT_USE_VC = 1u << 5,                /* "use-vc": ask over TCP */
} ld_dns_option;

/* The system's resolver configuration, read once per run. */
typedef struct ld_dns_system {
    ld_resolver resolvers[LD_DNS_MAX_RESOLVERS]; /* nameservers in order */
    size_t nresolvers;                           /* how many */
    char *domains[LD_DNS_MAX_DOMAINS];           /* search list, owned */
    size_t ndomains;                             /* how many */
    int ndots;                                   /* resolv.conf ndots */
    int timeout_s;                               /* options timeout: as glibc keeps it (0..30) */
    int attempts;                                /* options attempts: as glibc keeps it (0..5) */
    unsigned options;                            /* LD_DNS_OPT_* bits */
} ld_dns_system;

/* Reads a resolv.conf (path; NULL for LD_DNS_RESOLV_CONF): its nameservers,
 * search list and ndots through c-ares, and the options glibc applies that
 * c-ares does not report as glibc would (timeout:, attempts:, rotate,
 * single-request[-reopen], use-vc) from the file itself. Nothing is sent. */
ld_status ld_dns_system_load(ld_dns_system *out, const char *path, ld_err *err);
/* Frees the search list; a zeroed struct is harmless. */
void ld_dns_system_clear(ld_dns_system *sys);
/* The resolv.conf word of one LD_DNS_OPT_* bit ("rotate"; "timeout" and
 * "attempts" without their number), NULL for another value. */
const char *ld_dns_option_name(unsigned bit);

/* The resolv.conf word of one LD_DNS_OPT_* bit as sys has it ("rotate",
 * "timeout:1"), into buf; "" when sys does not set it. */
void ld_dns_option_word(const ld_dns_system *sys, unsigned bit, char *buf, size_t len);

/* The 1-based number of the first line of the hosts file at path that maps
 * name (case-insensitively) to addr, or that names it at all when addr is
 * NULL; 0 when no line does or the file cannot be read. */
int ld_dns_hosts_line(const char *path, const char *name, const ld_addr *addr);
/* Tells found of each line of the hosts file at path that maps any of
 * names[0..n) (case-insensitively), in file order - its number and its text
 * without the line feed - at most max lines. Returns how many it told. */
size_t ld_dns_hosts_entries(const char *path, const char *const *names, size_t n, size_t max,
                            void (*found)(void *arg, int number, const char *text), void *arg);

/* What one DNS probe asks. */
typedef struct ld_dns_config {
    const char *name;             /* the host name */
    const ld_resolver *resolvers; /* system resolvers first, then --dns-server */
    size_t nresolvers;            /* how many */
    const ld_dns_system *system;  /* search list and ndots */
    const ld_addr *endpoint_ips;  /* --endpoint-ip, to compare answers with */
    size_t nendpoint_ips;         /* how many */
    ld_time query_timeout;        /* per resolver (--connect-timeout) */
    int compare_only;             /* evidence only (the cloud's resolver): no dns.* target
                                     fact, no /etc/hosts, no answer for the connects */
    const ld_names *names;        /* patterns to read the name and its CNAME chain with
                                     (dns.endpoint_*, dns.privatelink_*), NULL: none */
} ld_dns_config;

extern const ld_probe_ops ld_probe_dns;

/* After the probe finished: the addresses an application would connect to
 * (at most max, into out) - those /etc/hosts gives the name when it has it
 * (*origin LD_ORIGIN_HOSTS), else the system's DNS answer (LD_ORIGIN_DNS). */
size_t ld_dns_addresses(const ld_probe *p, ld_addr *out, size_t max, unsigned *origin);
/* After the probe finished: the addresses of the system's DNS answer (at
 * most max, into out), whatever /etc/hosts says. */
size_t ld_dns_answer(const ld_probe *p, ld_addr *out, size_t max);

#endif
