/* icmp.c - ICMP destination-unreachable and time-exceeded names (RFC 792,
 * RFC 1812, RFC 4443), shared by the socket and the packet views. */
#include "icmp.h"

#include <stddef.h>

static const char *const icmp4_unreach[] = {
    "net-unreachable",
    "host-unreachable",
    "protocol-unreachable",
    "port-unreachable",
    "fragmentation-needed",
    "source-route-failed",
    "net-unknown",
    "host-unknown",
    "source-isolated",
    "net-prohibited",
    "host-prohibited",
    "net-unreachable-for-tos",
    "host-unreachable-for-tos",
    "admin-prohibited",
    "host-precedence-violation",
    "precedence-cutoff",
};

static const char *const icmp6_unreach[] = {
    "no-route",         "admin-prohibited",     "beyond-scope", "address-unreachable",
    "port-unreachable", "source-policy-failed", "reject-route",
};

const char *ld_icmp_reason(int v6, int type, int code) {
    size_t n4 = sizeof icmp4_unreach / sizeof *icmp4_unreach;
    size_t n6 = sizeof icmp6_unreach / sizeof *icmp6_unreach;
    if (!v6 && type == 3 && code >= 0 && (size_t)code < n4)
        return icmp4_unreach[code];
    if (v6 && type == 1 && code >= 0 && (size_t)code < n6)
        return icmp6_unreach[code];
    if (type == (v6 ? 3 : 11))
        return "ttl-exceeded";
    return "icmp-error";
}
