/* handshake.h - TCP handshakes, and the ICMP errors about them, from packets.
 *
 * A pure decoder and flow table: it is fed captured packets (live by the
 * capture probe, or from a pcap/pcapng file by `linkdoctor analyze`) and
 * keeps, per TCP connection attempt, what happened to its SYN: retransmitted,
 * answered by SYN-ACK or RST, or rejected by an ICMP error that quotes it.
 * It does no I/O except in ld_hs_read_file(), and never trusts a length it
 * has not checked: any byte string is safe to feed it.
 *
 * Link types: Ethernet (DLT_EN10MB, with 802.1Q / 802.1ad tags), Linux cooked
 * v1 and v2 (DLT_LINUX_SLL, DLT_LINUX_SLL2), raw IP (DLT_RAW, DLT_IPV4,
 * DLT_IPV6) and BSD loopback (DLT_NULL, DLT_LOOP; either byte order).
 * Network: IPv4 (non-first fragments ignored) and IPv6 (extension headers
 * walked). ICMP destination-unreachable and time-exceeded, and their ICMPv6
 * counterparts, are matched to the flow whose IP + TCP header they quote.
 *
 * The kernel hands an AF_PACKET socket on "any" a packet sent over loopback
 * twice (outgoing, then incoming). libpcap filters the outgoing copy itself,
 * but captures made without it may keep both: in Linux cooked captures the
 * outgoing copy on an ARPHRD_LOOPBACK interface is skipped, so that a
 * duplicate is never taken for a retransmission.
 *
 * Flow pointers (ld_hs_at, ld_hs_find) stay valid until ld_hs_free, unless
 * the table evicts (ld_hs_set_keep). A flow is established once a SYN-ACK was
 * seen; one known only from an ICMP error is OTH; its ICMP fields are those
 * of the first error. Over IPv6, Linux retries a SYN after an ICMPv6
 * admin-prohibited, so a rejected flow may have nsyn 2.
 *
 * Linux cooked headers say more than the packet: the direction (sent by the
 * capturing host or not) and, in v2, the interface index. A flow keeps both
 * for its SYNs and its first answer, so that an answer that arrived and was
 * then ignored by the client (it sent its SYN again) can be told from one
 * that never came, and on which interface it came in.
 *
 * ARP and neighbour discovery (ICMPv6 135/136) are counted per address being
 * resolved, in a small table of its own: a SYN to an address nobody owns on
 * the local link never leaves, but the requests for it do.
 */
#ifndef LD_HANDSHAKE_H
#define LD_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"

#define LD_HS_MAX_SYNS          8     /* SYN times kept per flow */
#define LD_HS_DEFAULT_MAX_FLOWS 65536 /* flows a table holds before it ignores (or evicts) */
#define LD_HS_MAX_NEIGHS        64    /* addresses whose ARP / ND requests are counted */

/* One connection attempt, as the packets show it. The client is whoever
 * sent the SYN (or, when no SYN was captured, the SYN-ACK's destination, or
 * the sender of the packet an ICMP error quotes). Times are capture times in
 * seconds. */
typedef struct ld_hs_flow {
    ld_addr client;                /* SYN sender */
    uint16_t client_port;          /* its port */
    ld_addr server;                /* SYN destination */
    uint16_t server_port;          /* its port */
    unsigned nsyn;                 /* client SYNs captured: 1 + retransmissions */
    double syn_ts[LD_HS_MAX_SYNS]; /* times of the first LD_HS_MAX_SYNS SYNs */
    double last_syn_ts;            /* time of the latest client SYN */
    int syn_dir;                   /* 1: every client SYN was captured leaving the capturing
                                      host; -1: one was captured arriving (the capture was not
                                      taken on the client); 0: the link type does not say */
    int syn_ifindex;               /* interface the first client SYN was captured on (Linux
                                      cooked v2), 0 when unknown */
    int reply_ifindex;             /* interface the server's first SYN-ACK or RST was captured
                                      on (Linux cooked v2), 0 when unknown */
    int synack_seen;               /* the server answered SYN-ACK */
    double synack_ts;              /* when (first one) */
    int ack_seen;                  /* the client acknowledged the SYN-ACK */
    int rst_from_server;           /* the server sent RST */
    double rst_server_ts;          /* when (first one) */
    int rst_from_client;           /* the client sent RST */
    int fin_from_client;           /* the client sent FIN */
    int fin_from_server;           /* the server sent FIN */
    int icmp_seen;                 /* an ICMP error quoting this flow was captured */
    int icmp_v6;                   /* it was ICMPv6 */
    int icmp_type;                 /* its type */
    int icmp_code;                 /* its code */
    ld_addr icmp_from;             /* who sent it */
    double icmp_ts;                /* when (first one) */
    double first_ts;               /* first packet of the flow */
    double last_ts;                /* last packet of the flow */
    unsigned long packets;         /* packets counted for the flow (ICMP included) */
} ld_hs_flow;

/* What became of one packet. */
typedef enum ld_hs_result {
    LD_HS_USED = 0,  /* it updated a flow (or the ARP / ND counts) */
    LD_HS_IGNORED,   /* well-formed, but not TCP / a tracked ICMP error, or a duplicate */
    LD_HS_MALFORMED, /* too short or inconsistent to decode */
    LD_HS_FULL,      /* it would start a flow past the table's limit and no flow could be
                        evicted (or memory ran out) */
} ld_hs_result;

typedef struct ld_hs_table ld_hs_table;

/* An empty table holding at most max_flows flows (0: the default). */
ld_hs_table *ld_hs_create(size_t max_flows);
/* Frees the table; NULL is harmless. */
void ld_hs_free(ld_hs_table *t);

/* 1 when packets of this DLT link type can be decoded. */
int ld_hs_dlt_supported(int dlt);
/* Decodes caplen bytes of one packet of link type dlt captured at ts and
 * updates the flow it belongs to. */
ld_hs_result ld_hs_packet(ld_hs_table *t, int dlt, const uint8_t *data, size_t caplen, double ts);

/* Flows in the order they were first seen. */
size_t ld_hs_count(const ld_hs_table *t);
const ld_hs_flow *ld_hs_at(const ld_hs_table *t, size_t i);
/* The flow of this client/server pair (in that order; IPv6 zones ignored),
 * or NULL. */
const ld_hs_flow *ld_hs_find(const ld_hs_table *t, const ld_addr *client, uint16_t client_port,
                             const ld_addr *server, uint16_t server_port);

/* 1 when the flow holds every tuple field given: the same client and server
 * (in these roles; IPv6 zones ignored). */
int ld_hs_flow_matches(const ld_hs_flow *f, const ld_addr *client, uint16_t client_port,
                       const ld_addr *server, uint16_t server_port);
/* 1 when the server answered (SYN-ACK or RST) and the client sent its SYN
 * again after that answer without acknowledging it: the answer reached the
 * capture point but never the client's socket. */
int ld_hs_reply_lost(const ld_hs_flow *f);

/* Whether the owner still needs a flow (see ld_hs_set_keep). */
typedef int (*ld_hs_keep_cb)(const ld_hs_flow *f, void *arg);
/* From now on a full table makes room for a new flow by evicting the oldest
 * one keep() does not claim, instead of ignoring the newcomer: a live capture
 * under a SYN flood keeps tracking the attempts it watches. Such a table
 * reuses storage: flow pointers stay valid only until the next packet, and
 * ld_hs_at() no longer follows first-seen order. keep NULL turns it off. */
void ld_hs_set_keep(ld_hs_table *t, ld_hs_keep_cb keep, void *arg);
/* Flows evicted so far. */
unsigned long ld_hs_evicted(const ld_hs_table *t);

/* ARP / neighbour discovery seen for one address. */
typedef struct ld_hs_neigh {
    ld_addr target;          /* the address being resolved */
    unsigned requests;       /* ARP requests / neighbour solicitations for it */
    unsigned replies;        /* ARP replies / neighbour advertisements for it */
    double first_request_ts; /* the first request (0 when none) */
    double last_ts;          /* the latest packet about it */
} ld_hs_neigh;

/* What was captured about resolving target (IPv6 zone ignored), or NULL. The
 * table keeps the LD_HS_MAX_NEIGHS addresses seen most recently. */
const ld_hs_neigh *ld_hs_find_neigh(const ld_hs_table *t, const ld_addr *target);

/* Zeek's conn_state of a flow: S0 (SYN, no reply), REJ (SYN answered by RST),
 * RSTOS0 (client SYN then RST, no SYN-ACK), SH (client SYN then FIN, no
 * SYN-ACK), S1 (established, not closed), SF (established and closed by
 * both), S2 / S3 (established, FIN from client / server only), RSTO / RSTR
 * (established, then RST by client / server), RSTRH / SHR (SYN-ACK then RST /
 * FIN with no SYN seen), OTH (no SYN and no SYN-ACK seen). */
const char *ld_hs_conn_state(const ld_hs_flow *f);
/* "admin-prohibited", "host-unreachable", "port-unreachable", "ttl-exceeded",
 * ... for the flow's ICMP error (NULL when none). */
const char *ld_hs_icmp_reason(const ld_hs_flow *f);

/* Statistics of ld_hs_read_file(). */
typedef struct ld_hs_file_stats {
    int dlt;                 /* the file's link type */
    unsigned long packets;   /* packets read */
    unsigned long used;      /* of those, LD_HS_USED */
    unsigned long malformed; /* of those, LD_HS_MALFORMED */
} ld_hs_file_stats;

/* Reads a pcap or pcapng file (at most max_packets packets; 0: no limit) into
 * t. A missing, unreadable, empty, truncated or corrupt file, or an
 * unsupported link type, is LD_EINVAL with one line in err that does not
 * repeat the path (the caller names the file). */
ld_status ld_hs_read_file(ld_hs_table *t, const char *path, unsigned long max_packets,
                          ld_hs_file_stats *stats, ld_err *err);

#endif
