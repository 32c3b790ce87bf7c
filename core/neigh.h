/* neigh.h - the next hop toward an address and its neighbour (ARP / NDP)
 * state, from the kernel's routing and neighbour tables (rtnetlink).
 *
 * A SYN to an address on a local link waits inside the kernel until the next
 * hop (the address itself, or its route's gateway) answers ARP or neighbour
 * discovery. When nothing answers, the SYN never reaches the wire - as when a
 * local firewall drops it - and connect() fails only after about 3 s of
 * probes. The neighbour entry tells the two apart: INCOMPLETE or FAILED means
 * no neighbour answered; no entry, or a resolved one, means the SYN was not
 * waiting for one.
 *
 * One RTM_GETROUTE finds the next hop, one RTM_GETNEIGH its state. The kernel
 * answers both inside send(), so ld_neigh_query() reads each answer at once
 * from a non-blocking socket and never waits. The parsers are pure, so that
 * tests feed them recorded kernel messages (tests/data/netlink).
 *
 * The same route answer says what `ip route get` says of the way: the
 * interface, the source address the kernel prefers, the gateway, and the
 * route's MTU (its mtu metric, or a path MTU the kernel learnt; without one,
 * the interface's, which one RTM_GETLINK reads). ld_neigh_route() asks only
 * that - what every connection attempt records, at no cost on the wire.
 */
#ifndef LD_NEIGH_H
#define LD_NEIGH_H

#include <net/if.h>
#include <stddef.h>

#include "addr.h"
#include "err.h"

/* The state of the next hop's neighbour entry (the tcp.attempt.neighbour_state
 * fact), or why there is none to read. */
typedef enum ld_neigh_state {
    LD_NEIGH_UNKNOWN = 0, /* "unknown": the kernel could not be asked */
    LD_NEIGH_NO_ROUTE,    /* "no_route": no route to the address */
    LD_NEIGH_LOCAL,       /* "local": the address is this host's own */
    LD_NEIGH_NONE,        /* "none": no entry: nothing was sent to the next hop lately */
    LD_NEIGH_INCOMPLETE,  /* "incomplete": being resolved, nothing answered yet */
    LD_NEIGH_FAILED,      /* "failed": resolution gave up, nothing answered */
    LD_NEIGH_REACHABLE,   /* "reachable": answered recently */
    LD_NEIGH_STALE,       /* "stale": answered once, not confirmed lately */
    LD_NEIGH_DELAY,       /* "delay": stale, confirmation pending */
    LD_NEIGH_PROBE,       /* "probe": stale, being confirmed */
    LD_NEIGH_PERMANENT,   /* "permanent": configured by hand */
    LD_NEIGH_NOARP,       /* "noarp": the link needs no resolution (loopback, tunnels) */
    LD_NEIGH__COUNT
} ld_neigh_state;

/* The fact value of a state ("incomplete", ...). */
const char *ld_neigh_state_name(ld_neigh_state s);
/* Parses a fact value; -1 when s names no state. */
int ld_neigh_state_parse(const char *s);
/* 1 for INCOMPLETE and FAILED: no neighbour answered for the next hop. */
int ld_neigh_unresolved(ld_neigh_state s);
/* 1 for STALE, DELAY and PROBE: the entry holds a link-layer address that
 * answered once but not lately. Packets go out to it (a capture sees them
 * leave) even when nothing has that address any more - a deleted endpoint
 * interface - until the kernel's probes fail and the entry turns FAILED. */
int ld_neigh_unconfirmed(ld_neigh_state s);

/* How recently the kernel must have confirmed a neighbour (a reply through
 * it: a TCP handshake, an ARP answer) for a STALE/DELAY/PROBE entry to count
 * as confirmed. The kernel's own rule: an entry in DELAY confirmed within
 * reachable_time turns REACHABLE at its next timer, up to 5 s later; a run
 * reads it before that. reachable_time is drawn from [0.5, 1.5] x
 * base_reachable_time (30 s by default), so 15 s is within it always. */
#define LD_NEIGH_RECENT_MS 15000

/* 1 when SYNs unanswered toward a next hop in state s may have reached no
 * one: s is STALE, DELAY or PROBE, and the kernel has not confirmed the
 * neighbour in the last LD_NEIGH_RECENT_MS (confirmed_ms: how long ago it
 * did; negative when unknown). A fleet's own handshakes through the same
 * next hop confirm it while the entry still says DELAY. */
int ld_neigh_unconfirmed_since(ld_neigh_state s, double confirmed_ms);

/* The way to one address. */
typedef struct ld_neigh {
    ld_addr dst;              /* the address asked about */
    ld_addr next_hop;         /* dst itself, or its route's gateway (family 0: none known) */
    int via_gateway;          /* next_hop is a gateway */
    int ifindex;              /* the route's interface, 0 when unknown */
    char ifname[IF_NAMESIZE]; /* its name, "" when unknown */
    ld_neigh_state state;     /* the next hop's neighbour state */
    ld_addr source;           /* the source address the route prefers (family 0: none said) */
    unsigned mtu;             /* the route's MTU, else its interface's; 0 when unknown */
    int mtu_from_route;       /* mtu is the route's own (a metric or a learnt path MTU) */
    int have_confirmed;       /* the kernel said when it last confirmed the neighbour */
    double confirmed_ms;      /* how long ago, when have_confirmed (NDA_CACHEINFO) */
} ld_neigh;

/* Asks the kernel the way to dst: route, next hop, interface, neighbour
 * state. Always fills out; returns non-OK (state UNKNOWN, one line in err)
 * only when the kernel could not be asked or answered something unexpected. */
ld_status ld_neigh_query(const ld_addr *dst, ld_neigh *out, ld_err *err);

/* Asks the kernel only the route to dst (no neighbour): next hop,
 * interface, source and MTU, state NO_ROUTE, LOCAL or NONE. Like
 * ld_neigh_query(), always fills out. */
ld_status ld_neigh_route(const ld_addr *dst, ld_neigh *out, ld_err *err);

/* The routes one run has read, so that the attempts of a fleet to one
 * address ask the kernel once (1,000 ports of one endpoint were 1,000
 * rtnetlink exchanges). A route does not change within a run's seconds; a
 * neighbour's state does, so only ld_neigh_route()'s answers are kept. */
#define LD_ROUTE_MEMO_MAX 32
typedef struct ld_route_memo {
    ld_neigh items[LD_ROUTE_MEMO_MAX]; /* answers, in the order first asked */
    size_t n;                          /* how many (full: later addresses are asked each time) */
} ld_route_memo;

/* ld_neigh_route() through the memo m (NULL: ask the kernel); an answer is
 * kept only when the kernel was asked without error. */
ld_status ld_route_memo_get(ld_route_memo *m, const ld_addr *dst, ld_neigh *out, ld_err *err);

/* Reads the kernel's answer (one datagram of len bytes) to an RTM_GETROUTE
 * for out->dst: next_hop, via_gateway, ifindex, source and the route's own
 * MTU from an RTM_NEWROUTE (state LOCAL for one of this host's addresses),
 * state NO_ROUTE from an ENETUNREACH / EHOSTUNREACH error. LD_EINVAL for
 * anything else. */
ld_status ld_neigh_parse_route(const void *msg, size_t len, ld_neigh *out, ld_err *err);
/* Reads the answer to an RTM_GETNEIGH for out->next_hop: its state from an
 * RTM_NEWNEIGH, NONE from an ENOENT error. LD_EINVAL for anything else. */
ld_status ld_neigh_parse_neigh(const void *msg, size_t len, ld_neigh *out, ld_err *err);
/* Reads the answer to an RTM_GETLINK for out->ifindex: its MTU into out->mtu
 * when the route had none. LD_EINVAL for anything else. */
ld_status ld_neigh_parse_link(const void *msg, size_t len, ld_neigh *out, ld_err *err);

#endif
