/* host.h - the context of the host a report comes from: what a support
 * engineer would otherwise ask back - the distribution and kernel, the clock,
 * the interfaces with their state, MTU and addresses, the resolver
 * configuration, the hosts-file lines of the targets, the proxy variables.
 *
 * Collected once per report, cheaply and with nothing sent on any network:
 * two files, uname(), and two rtnetlink dumps (links, addresses) read from a
 * non-blocking socket. Everything is bounded (LD_HOST_* below) and kept as
 * sanitized text, which is also what a report read back gives: the renderers
 * take one model whether it was collected here or parsed from a saved report.
 *
 * The parsers are pure, so that tests feed them sample files and recorded
 * kernel messages (tests/data/host, tests/data/netlink). The resolver
 * configuration and the hosts-file lines are the DNS probe's own reading of
 * those files: the plan fills them in (ld_run_host_dns).
 */
#ifndef LD_HOST_H
#define LD_HOST_H

#include <net/if.h>
#include <stddef.h>

#include "addr.h"
#include "err.h"
#include "proxy.h"

#define LD_HOST_IFACES_MAX      64  /* interfaces kept (the rest are counted) */
#define LD_HOST_IFACE_ADDRS_MAX 16  /* addresses kept per interface */
#define LD_HOST_LIST_MAX        16  /* nameservers, search domains, options, hosts lines */
#define LD_HOST_PROXY_MAX       8   /* proxy variables (as many as ld_proxy_env holds) */
#define LD_HOST_TEXT_MAX        256 /* longest text kept: a name, a line, a value */
#define LD_HOST_CIDR_STRLEN     (LD_ADDR_STRLEN + 4) /* "fd00::1/64" */
#define LD_HOST_OS_RELEASE_MAX  65536                /* most bytes of os-release read */

/* One network interface. */
typedef struct ld_host_iface {
    char name[IF_NAMESIZE]; /* "eth0" */
    char state[16];         /* up, down, lowerlayerdown, dormant, testing, notpresent, unknown */
    unsigned mtu;           /* its MTU, 0 when unknown */
    char addrs[LD_HOST_IFACE_ADDRS_MAX][LD_HOST_CIDR_STRLEN]; /* "10.0.1.5/24", in kernel order */
    size_t naddrs;                                            /* how many */
    int index; /* ifindex, to match addresses (not reported) */
} ld_host_iface;

/* One line of the hosts file. */
typedef struct ld_host_line {
    int number;                  /* 1-based line number */
    char text[LD_HOST_TEXT_MAX]; /* the line, without its line feed */
} ld_host_line;

/* One proxy variable of the environment. */
typedef struct ld_host_var {
    char name[32];                /* "HTTPS_PROXY" */
    char value[LD_HOST_TEXT_MAX]; /* its value, credentials masked */
} ld_host_var;

/* The host context of a report. Empty text or a zero count means "not
 * known" (a report from an older linkdoctor, a file that could not be read). */
typedef struct ld_host {
    char os_id[64];                           /* os-release ID ("ubuntu") */
    char os_version_id[64];                   /* VERSION_ID ("24.04") */
    char os_pretty_name[LD_HOST_TEXT_MAX];    /* PRETTY_NAME */
    char kernel[LD_HOST_TEXT_MAX];            /* uname release ("6.8.0-45-generic") */
    char time[32];                            /* the wall clock at the start, UTC, ISO 8601 */
    ld_host_iface ifaces[LD_HOST_IFACES_MAX]; /* interfaces, by ifindex */
    size_t nifaces;                           /* how many */
    size_t ifaces_omitted;                    /* interfaces past LD_HOST_IFACES_MAX */
    int resolv_read;                          /* the resolver configuration was read */
    char resolv_path[LD_HOST_TEXT_MAX];       /* its file (/etc/resolv.conf) */
    char resolv_error[LD_HOST_TEXT_MAX];      /* why it could not be read, "" when it was */
    char nameservers[LD_HOST_LIST_MAX][LD_ADDR_STRLEN + 8]; /* "10.0.0.2:53", in order */
    size_t nnameservers;                                    /* how many */
    char search[LD_HOST_LIST_MAX][LD_HOST_TEXT_MAX];        /* the search list */
    size_t nsearch;                                         /* how many */
    char options[LD_HOST_LIST_MAX][32];         /* "ndots:2", "timeout:1", "rotate", ... */
    size_t noptions;                            /* how many */
    char hosts_path[LD_HOST_TEXT_MAX];          /* the hosts file (/etc/hosts) */
    ld_host_line hosts_lines[LD_HOST_LIST_MAX]; /* its lines that name a target */
    size_t nhosts_lines;                        /* how many */
    ld_host_var proxy[LD_HOST_PROXY_MAX];       /* the proxy variables set */
    size_t nproxy;                              /* how many */
} ld_host;

/* What ld_host_collect() reads; NULL members take the system's. */
typedef struct ld_host_sources {
    const char *os_release;    /* NULL: /etc/os-release, else /usr/lib/os-release */
    const ld_proxy_env *proxy; /* the environment's proxy variables, NULL: none */
    double started_at;         /* the wall clock at the start (seconds since the epoch) */
} ld_host_sources;

/* A zeroed host context; NULL when out of memory. */
ld_host *ld_host_create(void);
/* Frees it; NULL is harmless. */
void ld_host_free(ld_host *h);

/* Fills h (OS, kernel, time, interfaces, proxy variables) from the system.
 * Best effort: what cannot be read stays empty; err says what failed first
 * and the return is non-OK, yet h holds everything that could be read. */
ld_status ld_host_collect(ld_host *h, const ld_host_sources *src, ld_err *err);

/* Reads os-release text (KEY=VALUE lines, values quoted as in a shell). */
void ld_host_parse_os_release(ld_host *h, const char *text, size_t len);
/* Reads an RTM_GETLINK dump (len bytes of whole messages): one interface per
 * RTM_NEWLINK, appended to h. */
ld_status ld_host_parse_links(ld_host *h, const void *msg, size_t len, ld_err *err);
/* Reads an RTM_GETADDR dump: each address, with its prefix, under its
 * interface (already in h from the links). */
ld_status ld_host_parse_addrs(ld_host *h, const void *msg, size_t len, ld_err *err);

/* Appends a nameserver, search domain, option or hosts line (sanitized, cut
 * to fit); beyond LD_HOST_LIST_MAX they are dropped. */
void ld_host_add_nameserver(ld_host *h, const char *s);
void ld_host_add_search(ld_host *h, const char *s);
void ld_host_add_option(ld_host *h, const char *s);
void ld_host_add_hosts_line(ld_host *h, int number, const char *text);

/* --redact: masks what names this host beyond what support needs. Public
 * (globally routable) interface addresses and IPv6 addresses whose interface
 * identifier is derived from a MAC address (EUI-64) become
 * "redacted-ipv4/PREFIX" / "redacted-ipv6/PREFIX"; private addresses stay,
 * as security group rules and routes are written with them. */
void ld_host_redact(ld_host *h);

#endif
