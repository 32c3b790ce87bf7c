/* neigh.c - next hop and neighbour state from rtnetlink.
 *
 * Messages are checked before they are read: every length comes from the
 * kernel's header and is bounded by what is left of the datagram (next_msg,
 * next_attr), so a recorded or truncated message is as safe to parse as a
 * live one.
 */
#include "neigh.h"

#include "netlink.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NL_BUF 8192 /* one answer: a route or a neighbour is a few hundred bytes */

static const char *const state_names[LD_NEIGH__COUNT] = {
    [LD_NEIGH_UNKNOWN] = "unknown",       [LD_NEIGH_NO_ROUTE] = "no_route",
    [LD_NEIGH_LOCAL] = "local",           [LD_NEIGH_NONE] = "none",
    [LD_NEIGH_INCOMPLETE] = "incomplete", [LD_NEIGH_FAILED] = "failed",
    [LD_NEIGH_REACHABLE] = "reachable",   [LD_NEIGH_STALE] = "stale",
    [LD_NEIGH_DELAY] = "delay",           [LD_NEIGH_PROBE] = "probe",
    [LD_NEIGH_PERMANENT] = "permanent",   [LD_NEIGH_NOARP] = "noarp",
};

const char *ld_neigh_state_name(ld_neigh_state s) {
    return (unsigned)s < LD_NEIGH__COUNT ? state_names[s] : "unknown";
}

int ld_neigh_state_parse(const char *s) {
    for (int i = 0; s && i < LD_NEIGH__COUNT; i++)
        if (strcmp(state_names[i], s) == 0)
            return i;
    return -1;
}

int ld_neigh_unresolved(ld_neigh_state s) {
    return s == LD_NEIGH_INCOMPLETE || s == LD_NEIGH_FAILED;
}

int ld_neigh_unconfirmed(ld_neigh_state s) {
    return s == LD_NEIGH_STALE || s == LD_NEIGH_DELAY || s == LD_NEIGH_PROBE;
}

int ld_neigh_unconfirmed_since(ld_neigh_state s, double confirmed_ms) {
    return ld_neigh_unconfirmed(s) && !(confirmed_ms >= 0 && confirmed_ms < LD_NEIGH_RECENT_MS);
}

/* The kernel's NUD_* bits, the most telling first. */
static ld_neigh_state from_nud(unsigned nud) {
    if (nud & NUD_INCOMPLETE)
        return LD_NEIGH_INCOMPLETE;
    if (nud & NUD_FAILED)
        return LD_NEIGH_FAILED;
    if (nud & NUD_REACHABLE)
        return LD_NEIGH_REACHABLE;
    if (nud & NUD_PERMANENT)
        return LD_NEIGH_PERMANENT;
    if (nud & NUD_NOARP)
        return LD_NEIGH_NOARP;
    if (nud & NUD_STALE)
        return LD_NEIGH_STALE;
    if (nud & NUD_DELAY)
        return LD_NEIGH_DELAY;
    if (nud & NUD_PROBE)
        return LD_NEIGH_PROBE;
    return LD_NEIGH_NONE;
}

ld_status ld_neigh_parse_route(const void *msg, size_t len, ld_neigh *out, ld_err *err) {
    int family = out->dst.family;
    size_t off = 0;
    for (const struct nlmsghdr *h; (h = ld_nl_next_msg(msg, len, &off));) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            int e = ld_nl_error(h);
            if (e == ENETUNREACH || e == EHOSTUNREACH) {
                out->state = LD_NEIGH_NO_ROUTE;
                return LD_OK;
            }
            return ld_nl_fail(h, "route lookup", err);
        }
        if (h->nlmsg_type != RTM_NEWROUTE)
            continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
            return ld_err_set(err, LD_EINVAL, "route lookup: truncated answer");
        const struct rtmsg *rt = NLMSG_DATA(h);
        if (rt->rtm_family != family)
            return ld_err_set(err, LD_EINVAL, "route lookup: answer for another family");
        out->next_hop = out->dst;
        out->via_gateway = 0;
        out->mtu = 0;
        out->mtu_from_route = 0;
        memset(&out->source, 0, sizeof out->source);
        size_t alen, at = 0;
        const void *attrs = ld_nl_msg_attrs(h, sizeof *rt, &alen);
        for (const struct rtattr *a; (a = ld_nl_next_attr(attrs, alen, &at));) {
            size_t plen;
            const void *data = ld_nl_attr_data(a, &plen);
            if (a->rta_type == RTA_OIF && plen == sizeof(uint32_t)) {
                uint32_t oif;
                memcpy(&oif, data, sizeof oif);
                out->ifindex = (int)oif;
            } else if (a->rta_type == RTA_GATEWAY) {
                ld_addr gw;
                if (ld_nl_attr_addr(a, family, &gw)) {
                    out->next_hop = gw;
                    out->via_gateway = 1;
                }
            } else if (a->rta_type == RTA_PREFSRC) {
                ld_nl_attr_addr(a, family, &out->source);
            } else if (a->rta_type == RTA_METRICS) {
                /* Nested: RTAX_MTU is the route's mtu, or a path MTU learnt. */
                size_t mat = 0;
                for (const struct rtattr *m; (m = ld_nl_next_attr(data, plen, &mat));)
                    if (m->rta_type == RTAX_MTU && ld_nl_attr_u32(m, &out->mtu) && out->mtu)
                        out->mtu_from_route = 1;
            } else if (a->rta_type == RTA_VIA && plen == sizeof(struct rtvia) + 16) {
                /* An IPv4 route through an IPv6 gateway. */
                struct rtvia via;
                memcpy(&via, data, sizeof via);
                if (via.rtvia_family == AF_INET6) {
                    memset(&out->next_hop, 0, sizeof out->next_hop);
                    out->next_hop.family = AF_INET6;
                    memcpy(&out->next_hop.v6, (const char *)data + sizeof via, 16);
                    out->via_gateway = 1;
                }
            }
        }
        out->state = rt->rtm_type == RTN_LOCAL ? LD_NEIGH_LOCAL : LD_NEIGH_NONE;
        return LD_OK;
    }
    return ld_err_set(err, LD_EINVAL, "route lookup: no route in the answer");
}

ld_status ld_neigh_parse_neigh(const void *msg, size_t len, ld_neigh *out, ld_err *err) {
    size_t off = 0;
    for (const struct nlmsghdr *h; (h = ld_nl_next_msg(msg, len, &off));) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            int e = ld_nl_error(h);
            if (e == ENOENT) {
                out->state = LD_NEIGH_NONE;
                return LD_OK;
            }
            return ld_nl_fail(h, "neighbour lookup", err);
        }
        if (h->nlmsg_type != RTM_NEWNEIGH)
            continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
            return ld_err_set(err, LD_EINVAL, "neighbour lookup: truncated answer");
        const struct ndmsg *nd = NLMSG_DATA(h);
        size_t alen, at = 0;
        const void *attrs = ld_nl_msg_attrs(h, sizeof *nd, &alen);
        for (const struct rtattr *a; (a = ld_nl_next_attr(attrs, alen, &at));) {
            ld_addr dst;
            if (a->rta_type == NDA_DST && ld_nl_attr_addr(a, nd->ndm_family, &dst) &&
                !ld_addr_equal(&dst, &out->next_hop))
                return ld_err_set(err, LD_EINVAL, "neighbour lookup: answer for another address");
            size_t clen;
            const void *cdata = ld_nl_attr_data(a, &clen);
            if (a->rta_type == NDA_CACHEINFO && clen >= sizeof(struct nda_cacheinfo)) {
                /* Ages in clock ticks (USER_HZ) since each event. */
                struct nda_cacheinfo ci;
                memcpy(&ci, cdata, sizeof ci);
                long hz = sysconf(_SC_CLK_TCK);
                out->have_confirmed = 1;
                out->confirmed_ms = (double)ci.ndm_confirmed * 1000.0 / (double)(hz > 0 ? hz : 100);
            }
        }
        out->state = from_nud(nd->ndm_state);
        return LD_OK;
    }
    return ld_err_set(err, LD_EINVAL, "neighbour lookup: no neighbour in the answer");
}

ld_status ld_neigh_parse_link(const void *msg, size_t len, ld_neigh *out, ld_err *err) {
    size_t off = 0;
    for (const struct nlmsghdr *h; (h = ld_nl_next_msg(msg, len, &off));) {
        if (h->nlmsg_type == NLMSG_ERROR)
            return ld_nl_fail(h, "link lookup", err);
        ld_nl_link link;
        if (!ld_nl_read_link(h, &link))
            continue;
        if (link.index != out->ifindex)
            return ld_err_set(err, LD_EINVAL, "link lookup: answer for another interface");
        snprintf(out->ifname, sizeof out->ifname, "%s", link.name);
        if (!out->mtu_from_route)
            out->mtu = link.mtu;
        return LD_OK;
    }
    return ld_err_set(err, LD_EINVAL, "link lookup: no interface in the answer");
}

/* A request of type for the fixed header of hlen bytes, into req. */
static void *request(void *req, size_t cap, unsigned type, size_t hlen, unsigned seq) {
    struct nlmsghdr *h = req;
    memset(req, 0, cap);
    h->nlmsg_len = NLMSG_LENGTH(hlen);
    h->nlmsg_type = (unsigned short)type;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq;
    return NLMSG_DATA(h);
}

/* Asks the way to out->dst over fd: the route, its interface (name, MTU)
 * and, when neighbour is set, the next hop's neighbour entry. */
static ld_status lookup(int fd, int neighbour, ld_neigh *out, ld_err *err) {
    union {
        struct nlmsghdr h;
        char bytes[256];
    } req;
    union {
        struct nlmsghdr h;
        char bytes[NL_BUF];
    } ans;
    ld_status st;
    struct rtmsg *rt = request(&req, sizeof req, RTM_GETROUTE, sizeof *rt, 1);
    rt->rtm_family = (unsigned char)out->dst.family;
    rt->rtm_dst_len = out->dst.family == AF_INET ? 32 : 128;
    ld_nl_put_addr(&req, sizeof req, RTA_DST, &out->dst);
    ssize_t n = ld_nl_exchange(fd, &req, &ans, sizeof ans);
    if (n < 0)
        return ld_err_set(err, LD_ESYS, "route lookup: %s", strerror(errno));
    if ((st = ld_neigh_parse_route(&ans, (size_t)n, out, err)) != LD_OK)
        return st;
    if (out->ifindex <= 0)
        return LD_OK; /* no route, or nothing to ask on */

    struct ifinfomsg *ifi = request(&req, sizeof req, RTM_GETLINK, sizeof *ifi, 2);
    ifi->ifi_index = out->ifindex;
    /* The MTU and the name are all that is needed of it: no statistics. */
    ld_nl_put_u32(&req, sizeof req, IFLA_EXT_MASK, 0);
    /* Best effort: the interface adds to the answer, the route stands without it. */
    ld_err ignored;
    if ((n = ld_nl_exchange(fd, &req, &ans, sizeof ans)) < 0 ||
        ld_neigh_parse_link(&ans, (size_t)n, out, &ignored) != LD_OK) {
        if (!if_indextoname((unsigned)out->ifindex, out->ifname))
            out->ifname[0] = '\0';
    }
    if (!neighbour || out->state != LD_NEIGH_NONE)
        return LD_OK; /* not asked, a local address: no neighbour */

    struct ndmsg *nd = request(&req, sizeof req, RTM_GETNEIGH, sizeof *nd, 3);
    nd->ndm_family = (unsigned char)out->next_hop.family;
    nd->ndm_ifindex = out->ifindex;
    ld_nl_put_addr(&req, sizeof req, NDA_DST, &out->next_hop);
    if ((n = ld_nl_exchange(fd, &req, &ans, sizeof ans)) < 0)
        return ld_err_set(err, LD_ESYS, "neighbour lookup: %s", strerror(errno));
    return ld_neigh_parse_neigh(&ans, (size_t)n, out, err);
}

/* ld_neigh_query() and ld_neigh_route(): a socket for lookup(). */
static ld_status ask(const ld_addr *dst, int neighbour, ld_neigh *out, ld_err *err) {
    memset(out, 0, sizeof *out);
    out->dst = *dst;
    out->dst.scope_id = 0;
    if (dst->family != AF_INET && dst->family != AF_INET6)
        return ld_err_set(err, LD_EINVAL, "not an IP address");
    int fd = ld_nl_open(err);
    if (fd < 0)
        return LD_ESYS;
    ld_status st = lookup(fd, neighbour, out, err);
    if (st != LD_OK)
        out->state = LD_NEIGH_UNKNOWN;
    close(fd);
    return st;
}

ld_status ld_neigh_query(const ld_addr *dst, ld_neigh *out, ld_err *err) {
    return ask(dst, 1, out, err);
}

ld_status ld_neigh_route(const ld_addr *dst, ld_neigh *out, ld_err *err) {
    return ask(dst, 0, out, err);
}

ld_status ld_route_memo_get(ld_route_memo *m, const ld_addr *dst, ld_neigh *out, ld_err *err) {
    for (size_t i = 0; m && i < m->n; i++) {
        if (ld_addr_equal(&m->items[i].dst, dst)) {
            *out = m->items[i];
            return LD_OK;
        }
    }
    ld_status st = ask(dst, 0, out, err);
    if (st == LD_OK && m && m->n < LD_ROUTE_MEMO_MAX)
        m->items[m->n++] = *out;
    return st;
}
