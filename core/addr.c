/* addr.c - address parsing and classification. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest address text worth parsing: an IPv6 address, '%' and a zone. */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 1 + IF_NAMESIZE + 1)

ld_status ld_addr_parse(const char *s, ld_addr *out, ld_err *err) {
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return ld_err_set(err, LD_EINVAL, "empty address");
    if (inet_pton(AF_INET, s, &out->v4) == 1) {
        out->family = AF_INET;
        return LD_OK;
    }
    char text[ADDR_TEXT_MAX];
    if (strlen(s) >= sizeof text)
        return ld_err_set(err, LD_EINVAL, "'%s' is not an IP address", s);
    strcpy(text, s);
    char *zone = strchr(text, '%');
    if (zone)
        *zone++ = '\0';
    if (inet_pton(AF_INET6, text, &out->v6) != 1)
        return ld_err_set(err, LD_EINVAL, "'%s' is not an IP address", s);
    out->family = AF_INET6;
    if (zone) {
        if (!*zone)
            return ld_err_set(err, LD_EINVAL, "'%s': empty IPv6 zone after '%%'", s);
        unsigned idx = if_nametoindex(zone);
        if (idx == 0) {
            char *end;
            unsigned long n = strtoul(zone, &end, 10);
            if (*end || !isdigit((unsigned char)zone[0]) || n == 0 || n > UINT32_MAX)
                return ld_err_set(err, LD_EINVAL, "'%s': no interface named '%s'", s, zone);
            idx = (unsigned)n;
        }
        out->scope_id = idx;
    }
    return LD_OK;
}

ld_status ld_addr_parse_host(const char *s, ld_addr *out, ld_err *err) {
    size_t len = s ? strlen(s) : 0;
    if (len < 2 || s[0] != '[' || s[len - 1] != ']')
        return ld_addr_parse(s, out, err);
    char inner[ADDR_TEXT_MAX];
    if (len - 2 >= sizeof inner) {
        memset(out, 0, sizeof *out);
        return ld_err_set(err, LD_EINVAL, "'%s' is not an IP address", s);
    }
    memcpy(inner, s + 1, len - 2);
    inner[len - 2] = '\0';
    ld_status st = ld_addr_parse(inner, out, err);
    if (st == LD_OK && out->family != AF_INET6)
        return ld_err_set(err, LD_EINVAL, "'%s': only an IPv6 address goes in brackets", s);
    return st;
}

void ld_addr_format(const ld_addr *a, char buf[LD_ADDR_STRLEN]) {
    if (a->family == AF_INET) {
        inet_ntop(AF_INET, &a->v4, buf, LD_ADDR_STRLEN);
        return;
    }
    inet_ntop(AF_INET6, &a->v6, buf, LD_ADDR_STRLEN);
    if (a->scope_id) {
        char name[IF_NAMESIZE];
        size_t len = strlen(buf);
        if (if_indextoname(a->scope_id, name))
            snprintf(buf + len, LD_ADDR_STRLEN - len, "%%%s", name);
        else
            snprintf(buf + len, LD_ADDR_STRLEN - len, "%%%u", a->scope_id);
    }
}

int ld_addr_equal(const ld_addr *a, const ld_addr *b) {
    if (a->family != b->family)
        return 0;
    if (a->family == AF_INET)
        return a->v4.s_addr == b->v4.s_addr;
    return memcmp(&a->v6, &b->v6, sizeof a->v6) == 0 && a->scope_id == b->scope_id;
}

socklen_t ld_addr_to_sockaddr(const ld_addr *a, uint16_t port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr = a->v4;
        return sizeof *sin;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = a->v6;
    sin6->sin6_scope_id = a->scope_id;
    return sizeof *sin6;
}

ld_status ld_addr_from_sockaddr(const struct sockaddr *sa, ld_addr *out, uint16_t *port) {
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        out->family = AF_INET;
        out->v4 = sin->sin_addr;
        if (port)
            *port = ntohs(sin->sin_port);
        return LD_OK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        out->family = AF_INET6;
        out->v6 = sin6->sin6_addr;
        out->scope_id = sin6->sin6_scope_id;
        if (port)
            *port = ntohs(sin6->sin6_port);
        return LD_OK;
    }
    return LD_EINVAL;
}

/* 1 when the top `bits` bits of ip (host order) equal those of net. */
static int in_net4(uint32_t ip, uint32_t net, int bits) {
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (ip & mask) == (net & mask);
}

static ld_addr_scope scope_v4(uint32_t ip) {
    static const struct {
        uint32_t net;        /* network, host order */
        int bits;            /* prefix length */
        ld_addr_scope scope; /* what it is */
    } nets[] = {
        {0x00000000u, 32, LD_AS_UNSPECIFIED},   /* 0.0.0.0 */
        {0x00000000u, 8, LD_AS_RESERVED},       /* 0/8 "this network" */
        {0x0a000000u, 8, LD_AS_PRIVATE},        /* 10/8 */
        {0x64400000u, 10, LD_AS_CGNAT},         /* 100.64/10 */
        {0x7f000000u, 8, LD_AS_LOOPBACK},       /* 127/8 */
        {0xa9fe0000u, 16, LD_AS_LINK_LOCAL},    /* 169.254/16 */
        {0xac100000u, 12, LD_AS_PRIVATE},       /* 172.16/12 */
        {0xc0000000u, 24, LD_AS_RESERVED},      /* 192.0.0/24 IETF */
        {0xc0000200u, 24, LD_AS_DOCUMENTATION}, /* 192.0.2/24 */
        {0xc0a80000u, 16, LD_AS_PRIVATE},       /* 192.168/16 */
        {0xc6120000u, 15, LD_AS_RESERVED},      /* 198.18/15 benchmarking */
        {0xc6336400u, 24, LD_AS_DOCUMENTATION}, /* 198.51.100/24 */
        {0xcb007100u, 24, LD_AS_DOCUMENTATION}, /* 203.0.113/24 */
        {0xe0000000u, 4, LD_AS_MULTICAST},      /* 224/4 */
        {0xf0000000u, 4, LD_AS_RESERVED},       /* 240/4 and broadcast */
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if (in_net4(ip, nets[i].net, nets[i].bits))
            return nets[i].scope;
    return LD_AS_PUBLIC;
}

ld_addr_scope ld_addr_scope_of(const ld_addr *a) {
    if (a->family == AF_INET)
        return scope_v4(ntohl(a->v4.s_addr));
    const uint8_t *b = a->v6.s6_addr;
    static const uint8_t zero[16];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, zero, 16) == 0)
        return LD_AS_UNSPECIFIED;
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return LD_AS_LOOPBACK;
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
        uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return scope_v4(v4);
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return LD_AS_LINK_LOCAL;
    if ((b[0] & 0xfe) == 0xfc)
        return LD_AS_ULA;
    if (b[0] == 0xff)
        return LD_AS_MULTICAST;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return LD_AS_DOCUMENTATION;
    if ((b[0] & 0xe0) == 0x20)
        return LD_AS_PUBLIC;
    return LD_AS_RESERVED;
}

const char *ld_addr_scope_name(ld_addr_scope s) {
    switch (s) {
    case LD_AS_PUBLIC:
        return "public";
    case LD_AS_PRIVATE:
        return "private";
    case LD_AS_ULA:
        return "ula";
    case LD_AS_CGNAT:
        return "cgnat";
    case LD_AS_LOOPBACK:
        return "loopback";
    case LD_AS_LINK_LOCAL:
        return "link_local";
    case LD_AS_UNSPECIFIED:
        return "unspecified";
    case LD_AS_MULTICAST:
        return "multicast";
    case LD_AS_DOCUMENTATION:
        return "documentation";
    case LD_AS_RESERVED:
        return "reserved";
    }
    return "reserved";
}
