/* addr.h - IP addresses: strict parsing, canonical text, and scope.
 *
 * The scope says what kind of network an address belongs to, which is what
 * tells "the private endpoint" from "the service's public front door".
 */
#ifndef LD_ADDR_H
#define LD_ADDR_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* Longest canonical text of an address, with "%zone" and the NUL. */
#define LD_ADDR_STRLEN (INET6_ADDRSTRLEN + 1 + 16)

/* An IPv4 or IPv6 address. */
typedef struct ld_addr {
    int family;         /* AF_INET or AF_INET6 */
    struct in_addr v4;  /* when AF_INET */
    struct in6_addr v6; /* when AF_INET6 */
    uint32_t scope_id;  /* IPv6 zone (interface index), 0 when none */
} ld_addr;

/* What kind of network an address is on. */
typedef enum ld_addr_scope {
    LD_AS_PUBLIC = 0,    /* globally routable */
    LD_AS_PRIVATE,       /* RFC 1918: 10/8, 172.16/12, 192.168/16 */
    LD_AS_ULA,           /* IPv6 unique local fc00::/7 */
    LD_AS_CGNAT,         /* shared address space 100.64/10 (RFC 6598) */
    LD_AS_LOOPBACK,      /* 127/8, ::1 */
    LD_AS_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
    LD_AS_UNSPECIFIED,   /* 0.0.0.0, :: */
    LD_AS_MULTICAST,     /* 224/4, ff00::/8 */
    LD_AS_DOCUMENTATION, /* TEST-NET-1/2/3, 2001:db8::/32 */
    LD_AS_RESERVED,      /* everything else not routable: 0/8, 240/4, 198.18/15 ... */
} ld_addr_scope;

/* Parses a dotted-quad IPv4 or an IPv6 address (optionally "%zone", a known
 * interface name or index). No brackets, no port. */
ld_status ld_addr_parse(const char *s, ld_addr *out, ld_err *err);
/* The same for a host as URLs and no_proxy write it: an IPv6 address may
 * also come in brackets ("[2001:db8::1]"); only an IPv6 address may. */
ld_status ld_addr_parse_host(const char *s, ld_addr *out, ld_err *err);
/* Canonical text ("10.0.1.23", "2001:db8::1", "fe80::1%eth0") into buf. */
void ld_addr_format(const ld_addr *a, char buf[LD_ADDR_STRLEN]);
/* 1 when both are the same address (and zone). */
int ld_addr_equal(const ld_addr *a, const ld_addr *b);
/* Fills a sockaddr for a with the given port; returns its length. */
socklen_t ld_addr_to_sockaddr(const ld_addr *a, uint16_t port, struct sockaddr_storage *ss);
/* Reads an address from a sockaddr (AF_INET / AF_INET6); the port into
 * *port when port is not NULL. Returns LD_EINVAL for other families. */
ld_status ld_addr_from_sockaddr(const struct sockaddr *sa, ld_addr *out, uint16_t *port);
/* The scope of a; IPv4-mapped and NAT64 IPv6 addresses take the IPv4 scope. */
ld_addr_scope ld_addr_scope_of(const ld_addr *a);
/* "public", "private", "ula", "cgnat", "loopback", "link_local", ... */
const char *ld_addr_scope_name(ld_addr_scope s);

#endif
