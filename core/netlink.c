/* netlink.c - rtnetlink requests and bounded readers of the answers. */
#include "netlink.h"

#include <linux/if.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NL_DATAGRAM 32768 /* a dump part: the kernel fills up to a page or two */

const struct nlmsghdr *ld_nl_next_msg(const void *buf, size_t len, size_t *off) {
    if (*off > len || len - *off < sizeof(struct nlmsghdr))
        return NULL;
    const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)buf + *off);
    if (h->nlmsg_len < sizeof *h || h->nlmsg_len > len - *off)
        return NULL;
    *off += NLMSG_ALIGN(h->nlmsg_len);
    return h;
}

const struct rtattr *ld_nl_next_attr(const void *base, size_t len, size_t *off) {
    if (*off > len || len - *off < sizeof(struct rtattr))
        return NULL;
    const struct rtattr *a = (const struct rtattr *)((const char *)base + *off);
    if (a->rta_len < sizeof *a || a->rta_len > len - *off)
        return NULL;
    *off += RTA_ALIGN(a->rta_len);
    return a;
}

const void *ld_nl_attr_data(const struct rtattr *a, size_t *plen) {
    *plen = a->rta_len - sizeof *a;
    return (const char *)a + sizeof *a;
}

const void *ld_nl_msg_attrs(const struct nlmsghdr *h, size_t hlen, size_t *alen) {
    size_t head = NLMSG_ALIGN(NLMSG_LENGTH(hlen));
    *alen = h->nlmsg_len > head ? h->nlmsg_len - head : 0;
    return (const char *)h + head;
}

int ld_nl_attr_addr(const struct rtattr *a, int family, ld_addr *out) {
    size_t len;
    const void *data = ld_nl_attr_data(a, &len);
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

int ld_nl_attr_u32(const struct rtattr *a, unsigned *out) {
    size_t len;
    const void *data = ld_nl_attr_data(a, &len);
    uint32_t v;
    if (len != sizeof v)
        return 0;
    memcpy(&v, data, sizeof v);
    *out = v;
    return 1;
}

int ld_nl_error(const struct nlmsghdr *h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
        return -1;
    const struct nlmsgerr *e = NLMSG_DATA(h);
    return -e->error;
}

ld_status ld_nl_fail(const struct nlmsghdr *h, const char *what, ld_err *err) {
    int e = ld_nl_error(h);
    return ld_err_set(err, LD_EINVAL, "%s: %s", what, e > 0 ? strerror(e) : "truncated error");
}

int ld_nl_read_link(const struct nlmsghdr *h, ld_nl_link *out) {
    memset(out, 0, sizeof *out);
    if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        return 0;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    out->index = ifi->ifi_index;
    out->flags = ifi->ifi_flags;
    out->operstate = IF_OPER_UNKNOWN;
    size_t alen, at = 0;
    const void *attrs = ld_nl_msg_attrs(h, sizeof *ifi, &alen);
    for (const struct rtattr *a; (a = ld_nl_next_attr(attrs, alen, &at));) {
        size_t plen;
        const char *data = ld_nl_attr_data(a, &plen);
        if (a->rta_type == IFLA_IFNAME && plen > 0) {
            size_t n = strnlen(data, plen);
            if (n >= sizeof out->name)
                n = sizeof out->name - 1;
            memcpy(out->name, data, n);
            out->name[n] = '\0';
        } else if (a->rta_type == IFLA_MTU) {
            ld_nl_attr_u32(a, &out->mtu);
        } else if (a->rta_type == IFLA_OPERSTATE && plen == 1) {
            out->operstate = (unsigned char)data[0];
        }
    }
    return 1;
}

/* Appends an attribute of type with len bytes of data to the request at buf. */
static int put_attr(void *buf, size_t cap, unsigned type, const void *data, size_t len) {
    struct nlmsghdr *h = buf;
    size_t at = NLMSG_ALIGN(h->nlmsg_len);
    if (at + RTA_SPACE(len) > cap)
        return 0;
    struct rtattr *rta = (struct rtattr *)((char *)buf + at);
    rta->rta_type = (unsigned short)type;
    rta->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), data, len);
    h->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
    return 1;
}

int ld_nl_put_addr(void *buf, size_t cap, unsigned type, const ld_addr *a) {
    if (a->family == AF_INET)
        return put_attr(buf, cap, type, &a->v4, 4);
    return put_attr(buf, cap, type, &a->v6, 16);
}

int ld_nl_put_u32(void *buf, size_t cap, unsigned type, unsigned v) {
    uint32_t u = v;
    return put_attr(buf, cap, type, &u, sizeof u);
}

int ld_nl_open(ld_err *err) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0)
        ld_err_set(err, LD_ESYS, "netlink: %s", strerror(errno));
    return fd;
}

/* Sends the request at req to the kernel. */
static int send_request(int fd, const void *req) {
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    const struct nlmsghdr *h = req;
    return sendto(fd, req, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ? -1 : 0;
}

ssize_t ld_nl_exchange(int fd, void *req, void *buf, size_t cap) {
    struct nlmsghdr *h = req;
    if (send_request(fd, req) < 0)
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

/* 1 when the datagram of len bytes at buf ends the dump: it holds NLMSG_DONE
 * or an error. */
static int dump_ends(const void *buf, size_t len) {
    size_t off = 0;
    for (const struct nlmsghdr *h; (h = ld_nl_next_msg(buf, len, &off));)
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
            return 1;
    return 0;
}

ld_status ld_nl_dump(int fd, void *req, ld_buf *out, ld_err *err) {
    static const size_t cap = NL_DATAGRAM;
    char *part = NULL;
    ld_status st = LD_OK;
    uint32_t seq = ((struct nlmsghdr *)req)->nlmsg_seq;
    if (send_request(fd, req) < 0)
        return ld_err_set(err, LD_ESYS, "netlink dump: %s", strerror(errno));
    /* The kernel's pages are 8-byte aligned; a heap buffer is too. */
    if (!(part = malloc(cap + NLMSG_ALIGNTO)))
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    for (;;) {
        /* MSG_TRUNC: the datagram's real length, to tell a part cut short. */
        ssize_t n = recv(fd, part, cap, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            st = ld_err_set(err, LD_ESYS, "netlink dump: %s", strerror(errno));
            break;
        }
        if ((size_t)n > cap) {
            st = ld_err_set(err, LD_ESYS, "netlink dump: a part larger than %zu bytes", cap);
            break;
        }
        if ((size_t)n < sizeof(struct nlmsghdr) || ((struct nlmsghdr *)part)->nlmsg_seq != seq)
            continue; /* not ours */
        /* Parts are read back to back: each starts aligned as the kernel aligns. */
        size_t padded = NLMSG_ALIGN((size_t)n);
        memset(part + n, 0, padded - (size_t)n);
        if (out->len + padded > out->limit)
            break; /* bounded: keep the whole datagrams read so far */
        if ((st = ld_buf_append(out, part, padded)) != LD_OK) {
            ld_err_set(err, st, "out of memory");
            break;
        }
        if (dump_ends(part, (size_t)n))
            break;
    }
    free(part);
    return st;
}
