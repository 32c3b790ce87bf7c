/* allow.c - CIDR blocks and DNS suffixes for --allow-target. */
#include "allow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits "ADDR/BITS" into *net and *bits; 0 when it is not a CIDR block. */
static int cidr_parse(const char *s, ld_addr *net, int *bits) {
    const char *slash = strchr(s, '/');
    char addr[LD_ADDR_STRLEN];
    if (!slash || (size_t)(slash - s) >= sizeof addr)
        return 0;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || ld_addr_parse(addr, net, NULL) != LD_OK)
        return 0;
    if (b < 0 || b > (net->family == AF_INET ? 32 : 128))
        return 0;
    *bits = (int)b;
    return 1;
}

/* 1 when the first bits of a and b (same family) are equal. */
static int prefix_equal(const ld_addr *a, const ld_addr *b, int bits) {
    const unsigned char *x =
        a->family == AF_INET ? (const unsigned char *)&a->v4 : (const unsigned char *)&a->v6;
    const unsigned char *y =
        b->family == AF_INET ? (const unsigned char *)&b->v4 : (const unsigned char *)&b->v6;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
        if ((x[i] & mask) != (y[i] & mask))
            return 0;
    }
    return 1;
}

ld_status ld_allow_check(const char *pattern, ld_err *err) {
    ld_addr net;
    int bits;
    if (strchr(pattern, '/'))
        return cidr_parse(pattern, &net, &bits)
                   ? LD_OK
                   : ld_err_set(err, LD_EINVAL, "not a CIDR block (e.g. 10.0.0.0/8, fd00::/8)");
    const char *name = pattern[0] == '.' ? pattern + 1 : pattern;
    ld_err inner;
    if (ld_host_name_check(name, &inner) != LD_OK)
        return ld_err_set(err, LD_EINVAL, "not a CIDR block or a DNS suffix: %s", inner.msg);
    return LD_OK;
}

/* 1 when host equals suffix or ends in "." + suffix (case and a trailing dot
 * ignored). */
static int suffix_match(const char *host, const char *suffix) {
    if (suffix[0] == '.')
        suffix++;
    size_t h = strlen(host), s = strlen(suffix);
    if (h && host[h - 1] == '.')
        h--;
    if (s && suffix[s - 1] == '.')
        s--;
    if (s == 0 || s > h || strncasecmp(host + h - s, suffix, s) != 0)
        return 0;
    return h == s || host[h - s - 1] == '.';
}

/* 1 when a falls in the CIDR block pattern. */
static int cidr_match(const char *pattern, const ld_addr *a) {
    ld_addr net;
    int bits;
    return cidr_parse(pattern, &net, &bits) && a->family == net.family &&
           prefix_equal(a, &net, bits);
}

int ld_allow_match_addr(const char *const *patterns, size_t n, const ld_addr *a) {
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (cidr_match(patterns[i], a))
            return 1;
    return 0;
}

int ld_allow_match(const char *const *patterns, size_t n, const ld_target *t) {
    if (t->host_is_ip)
        return ld_allow_match_addr(patterns, n, &t->ip);
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!strchr(patterns[i], '/') && suffix_match(t->host, patterns[i]))
            return 1;
    return 0;
}
