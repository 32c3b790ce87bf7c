/* neigh.c - next hop and neighbour state from rtnetlink.
 *
 * Messages are checked before they are read: every length comes from the
 * kernel's header and is bounded by what is left of the datagram (next_msg,
 * next_attr), so a recorded or truncated message is as safe to parse as a
 * live one.
 */
#include "neigh.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
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

/* The next whole message of a datagram of len bytes, from *off on; NULL
 * when none fits. Every length is checked against what is left before it is
 * trusted, and offsets stay aligned as the kernel aligns them. */
static const struct nlmsghdr *next_msg(const void *buf, size_t len, size_t *off) {
    if (*off > len || len - *off < sizeof(struct nlmsghdr))
        return NULL;
    const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)buf + *off);
    if (h->nlmsg_len < sizeof *h || h->nlmsg_len > len - *off)
        return NULL;
    *off += NLMSG_ALIGN(h->nlmsg_len);
    return h;
}

/* The next whole attribute of the len bytes at base, from *off on; NULL when none fits. */
static const struct rtattr *next_attr(const void *base, size_t len, size_t *off) {
    if (*off > len || len - *off < sizeof(struct rtattr))
        return NULL;
    const struct rtattr *a = (const struct rtattr *)((const char *)base + *off);
    if (a->rta_len < sizeof *a || a->rta_len > len - *off)
        return NULL;
    *off += RTA_ALIGN(a->rta_len);
    return a;
}

/* An attribute's payload, its length into *plen. */
static const void *attr_data(const struct rtattr *a, size_t *plen) {
    *plen = a->rta_len - sizeof *a;
    return (const char *)a + sizeof *a;
}

/* The attributes after a message's fixed header of hlen bytes, their length into *alen. */
static const void *msg_attrs(const struct nlmsghdr *h, size_t hlen, size_t *alen) {
    size_t head = NLMSG_ALIGN(NLMSG_LENGTH(hlen));
    *alen = h->nlmsg_len > head ? h->nlmsg_len - head : 0;
    return (const char *)h + head;
}

/* An address attribute of family (4 or 16 bytes) into out; 0 when it does not fit. */
static int attr_addr(const struct rtattr *a, int family, ld_addr *out) {
    size_t len;
    const void *data = attr_data(a, &len);
    memset(out, 0, sizeof *out);
    out->family = family;
    if (family == AF_INET && len == 4) {
        memcpy(&out->v4, data, 4);
        return 1;
    }
    if (family == AF_INET6 && len == 16) {
        memcpy(&out->v6, data, 16);
        return 1;
    }
    out->family = 0;
    return 0;
}

/* The error an NLMSG_ERROR message carries (positive errno), -1 when it is cut short. */
static int nl_error(const struct nlmsghdr *h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
        return -1;
    const struct nlmsgerr *e = NLMSG_DATA(h);
    return -e->error;
}

ld_status ld_neigh_parse_route(const void *msg, size_t len, ld_neigh *out, ld_err *err) {
    int family = out->dst.family;
    size_t off = 0;
    for (const struct nlmsghdr *h; (h = next_msg(msg, len, &off));) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            int e = nl_error(h);
            if (e == ENETUNREACH || e == EHOSTUNREACH) {
                out->state = LD_NEIGH_NO_ROUTE;
                return LD_OK;
            }
            return ld_err_set(err, LD_EINVAL, "route lookup: %s",
                              e > 0 ? strerror(e) : "truncated error");
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
        size_t alen, at = 0;
        const void *attrs = msg_attrs(h, sizeof *rt, &alen);
        for (const struct rtattr *a; (a = next_attr(attrs, alen, &at));) {
            size_t plen;
            const void *data = attr_data(a, &plen);
            if (a->rta_type == RTA_OIF && plen == sizeof(uint32_t)) {
                uint32_t oif;
                memcpy(&oif, data, sizeof oif);
                out->ifindex = (int)oif;
            } else if (a->rta_type == RTA_GATEWAY) {
                ld_addr gw;
                if (attr_addr(a, family, &gw)) {
                    out->next_hop = gw;
                    out->via_gateway = 1;
                }
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
    for (const struct nlmsghdr *h; (h = next_msg(msg, len, &off));) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            int e = nl_error(h);
            if (e == ENOENT) {
                out->state = LD_NEIGH_NONE;
                return LD_OK;
            }
            return ld_err_set(err, LD_EINVAL, "neighbour lookup: %s",
                              e > 0 ? strerror(e) : "truncated error");
        }
        if (h->nlmsg_type != RTM_NEWNEIGH)
            continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ndmsg)))
            return ld_err_set(err, LD_EINVAL, "neighbour lookup: truncated answer");
        const struct ndmsg *nd = NLMSG_DATA(h);
        size_t alen, at = 0;
        const void *attrs = msg_attrs(h, sizeof *nd, &alen);
        for (const struct rtattr *a; (a = next_attr(attrs, alen, &at));) {
            ld_addr dst;
            if (a->rta_type == NDA_DST && attr_addr(a, nd->ndm_family, &dst) &&
                !ld_addr_equal(&dst, &out->next_hop))
                return ld_err_set(err, LD_EINVAL, "neighbour lookup: answer for another address");
        }
        out->state = from_nud(nd->ndm_state);
        return LD_OK;
    }
    return ld_err_set(err, LD_EINVAL, "neighbour lookup: no neighbour in the answer");
}

/* Appends an address attribute to the request in buf (of size cap, used len). */
static int put_addr(void *buf, size_t cap, unsigned type, const ld_addr *a) {
    struct nlmsghdr *h = buf;
    size_t alen = a->family == AF_INET ? 4 : 16;
    size_t at = NLMSG_ALIGN(h->nlmsg_len);
    if (at + RTA_SPACE(alen) > cap)
        return 0;
    struct rtattr *rta = (struct rtattr *)((char *)buf + at);
    rta->rta_type = (unsigned short)type;
    rta->rta_len = (unsigned short)RTA_LENGTH(alen);
    memcpy(RTA_DATA(rta), a->family == AF_INET ? (const void *)&a->v4 : (const void *)&a->v6, alen);
    h->nlmsg_len = (uint32_t)(at + RTA_SPACE(alen));
    return 1;
}

/* Sends the request in req and reads the kernel's answer, which is queued
 * before send() returns. Returns the answer's length, -1 with errno set. */
static ssize_t exchange(int fd, void *req, void *buf, size_t cap) {
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    struct nlmsghdr *h = req;
    if (sendto(fd, req, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return -1;
    for (;;) {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n < 0)
            return -1;
        /* Skip what is not the answer to this request (there is none normally). */
        if ((size_t)n >= sizeof *h && ((struct nlmsghdr *)buf)->nlmsg_seq == h->nlmsg_seq)
            return n;
    }
}

ld_status ld_neigh_query(const ld_addr *dst, ld_neigh *out, ld_err *err) {
    union {
        struct nlmsghdr h;
        char bytes[256];
    } req;
    union {
        struct nlmsghdr h;
        char bytes[NL_BUF];
    } ans;
    ld_status st = LD_OK;
    memset(out, 0, sizeof *out);
    out->dst = *dst;
    out->dst.scope_id = 0;
    if (dst->family != AF_INET && dst->family != AF_INET6)
        return ld_err_set(err, LD_EINVAL, "not an IP address");
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0)
        return ld_err_set(err, LD_ESYS, "netlink: %s", strerror(errno));

    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    req.h.nlmsg_type = RTM_GETROUTE;
    req.h.nlmsg_flags = NLM_F_REQUEST;
    req.h.nlmsg_seq = 1;
    struct rtmsg *rt = NLMSG_DATA(&req.h);
    rt->rtm_family = (unsigned char)dst->family;
    rt->rtm_dst_len = dst->family == AF_INET ? 32 : 128;
    put_addr(&req, sizeof req, RTA_DST, &out->dst);
    ssize_t n = exchange(fd, &req, &ans, sizeof ans);
    if (n < 0) {
        st = ld_err_set(err, LD_ESYS, "route lookup: %s", strerror(errno));
        goto out;
    }
    if ((st = ld_neigh_parse_route(&ans, (size_t)n, out, err)) != LD_OK)
        goto out;
    if (out->ifindex > 0 && !if_indextoname((unsigned)out->ifindex, out->ifname))
        out->ifname[0] = '\0';
    if (out->state != LD_NEIGH_NONE || out->ifindex <= 0)
        goto out; /* no route, a local address, or no interface to ask on */

    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
    req.h.nlmsg_type = RTM_GETNEIGH;
    req.h.nlmsg_flags = NLM_F_REQUEST;
    req.h.nlmsg_seq = 2;
    struct ndmsg *nd = NLMSG_DATA(&req.h);
    nd->ndm_family = (unsigned char)out->next_hop.family;
    nd->ndm_ifindex = out->ifindex;
    put_addr(&req, sizeof req, NDA_DST, &out->next_hop);
    n = exchange(fd, &req, &ans, sizeof ans);
    if (n < 0) {
        st = ld_err_set(err, LD_ESYS, "neighbour lookup: %s", strerror(errno));
        goto out;
    }
    st = ld_neigh_parse_neigh(&ans, (size_t)n, out, err);
out:
    if (st != LD_OK)
        out->state = LD_NEIGH_UNKNOWN;
    close(fd);
    return st;
}
