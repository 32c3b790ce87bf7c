/* netlink.h - asking the kernel over rtnetlink, and reading its answers
 * safely: the pieces neigh.c (a route, a neighbour) and host.c (the links
 * and their addresses) share.
 *
 * Readers are pure and bounded: every length comes from the kernel's header
 * and is checked against what is left of the buffer before it is trusted,
 * so a recorded, truncated or garbled message is as safe to read as a live
 * one (tests/data/netlink holds recorded answers). The kernel queues its
 * answer to a request inside send(), and builds each further part of a dump
 * inside recv(): a non-blocking socket reads them all without waiting.
 */
#ifndef LD_NETLINK_H
#define LD_NETLINK_H

#include <linux/netlink.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

/* The next whole message of the len bytes at buf, from *off on (advanced past
 * it); NULL when none fits. */
const struct nlmsghdr *ld_nl_next_msg(const void *buf, size_t len, size_t *off);
/* The next whole attribute of the len bytes at base, from *off on; NULL when
 * none fits. */
const struct rtattr *ld_nl_next_attr(const void *base, size_t len, size_t *off);
/* An attribute's payload, its length into *plen. */
const void *ld_nl_attr_data(const struct rtattr *a, size_t *plen);
/* The attributes after a message's fixed header of hlen bytes, their length
 * into *alen (0 when the message has none). */
const void *ld_nl_msg_attrs(const struct nlmsghdr *h, size_t hlen, size_t *alen);
/* An address attribute of family (4 or 16 bytes) into out; 0 when it does
 * not fit the family. */
int ld_nl_attr_addr(const struct rtattr *a, int family, ld_addr *out);
/* A 32-bit attribute into *out; 0 when its payload is not 4 bytes. */
int ld_nl_attr_u32(const struct rtattr *a, unsigned *out);
/* The error an NLMSG_ERROR message carries (a positive errno, 0 for an
 * acknowledgement), -1 when it is cut short. */
int ld_nl_error(const struct nlmsghdr *h);
/* Sets err to "WHAT: <the error h carries>" and returns LD_EINVAL: the end of
 * an exchange the kernel refused (h an NLMSG_ERROR message). */
ld_status ld_nl_fail(const struct nlmsghdr *h, const char *what, ld_err *err);

/* What an RTM_NEWLINK message says of one interface. */
typedef struct ld_nl_link {
    int index;              /* ifindex */
    char name[IF_NAMESIZE]; /* IFLA_IFNAME, "" when absent */
    unsigned mtu;           /* IFLA_MTU, 0 when absent */
    unsigned operstate;     /* IFLA_OPERSTATE (RFC 2863: IF_OPER_*), IF_OPER_UNKNOWN when absent */
    unsigned flags;         /* IFF_* (IFF_UP: administratively up) */
} ld_nl_link;

/* Reads an RTM_NEWLINK message into out; 0 when h is no such message or
 * is cut short. */
int ld_nl_read_link(const struct nlmsghdr *h, ld_nl_link *out);

/* Appends an address attribute to the request at buf (cap bytes); 0 when it
 * does not fit. */
int ld_nl_put_addr(void *buf, size_t cap, unsigned type, const ld_addr *a);
/* Appends a 32-bit attribute to the request at buf (cap bytes); 0 when it
 * does not fit. */
int ld_nl_put_u32(void *buf, size_t cap, unsigned type, unsigned v);

/* A non-blocking NETLINK_ROUTE socket, -1 with err set. */
int ld_nl_open(ld_err *err);
/* Sends the request at req and reads the kernel's one-datagram answer into
 * buf (cap bytes). Returns its length, -1 with errno set. */
ssize_t ld_nl_exchange(int fd, void *req, void *buf, size_t cap);
/* Sends the dump request at req (NLM_F_DUMP) and appends every datagram of
 * the answer to out, up to NLMSG_DONE. A dump larger than out's limit stops
 * there (what was read stays: whole datagrams, each a run of whole
 * messages) and is no error: the readers take what they find. */
ld_status ld_nl_dump(int fd, void *req, ld_buf *out, ld_err *err);

#endif
