/* handshake.c - TCP handshakes, and the ICMP errors about them, from packets.
 *
 * Each layer (link, IP, TCP or ICMP) checks the length it is about to read
 * before reading it; an ICMP error sends the header it quotes back through
 * the same IP decoder. Flows live in fixed-size chunks, so a pointer from
 * ld_hs_at() stays valid while more packets arrive, and are found through an
 * open-addressing index keyed by the unordered 4-tuple, so that a packet in
 * either direction finds its flow with one lookup.
 *
 * Rules a reader of the results should know:
 * - Roles are fixed when a flow is created: a SYN's sender, a SYN-ACK's
 *   receiver, the source of the packet an ICMP error quotes, or, for
 *   mid-stream traffic, the end with the higher port (ephemeral ports are
 *   above service ports).
 * - One 4-tuple is one flow: every client SYN on it counts in nsyn, including
 *   a new connect() that reuses the port after an RST or FIN. Real clients
 *   pick a fresh ephemeral port per attempt, so in practice nsyn - 1 is the
 *   number of retransmissions.
 * - "Established" means a SYN-ACK was seen; the client's ACK is reported in
 *   ack_seen but not required, since a capture cut short may miss it.
 * - A table with a keep callback evicts instead of refusing when full: the
 *   oldest flows first (a cursor walks storage, and every reused slot gets
 *   the newest flow), skipping those the owner claims. The index deletes by
 *   shifting the following entries back, so no tombstone ever lengthens a probe.
 */
#include "handshake.h"

#include "core/icmp.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define CHUNK_FLOWS   256  /* flows per storage chunk */
#define INDEX_MIN     64   /* initial hash slots (a power of two) */
#define MAX_VLAN_TAGS 8    /* 802.1Q / 802.1ad tags walked before calling the frame bad */
#define MAX_IPV6_EXT  16   /* IPv6 extension headers walked before calling the packet bad */
#define EVICT_SCAN    4096 /* flows looked at for one eviction before giving up */

/* Linux cooked header values; fixed by the file format, not by this host. */
#define SLL_OUTGOING 4   /* packet type: sent by this host */
#define SLL_LOOPBACK 772 /* ARPHRD_LOOPBACK */

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP  0x0806

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define PROTO_ICMP  1
#define PROTO_TCP   6
#define PROTO_ICMP6 58

/* One stored flow. */
typedef struct hs_entry {
    ld_hs_flow f;  /* what callers see */
    uint64_t hash; /* of its unordered 4-tuple, kept so the index can grow without re-reading */
} hs_entry;

struct ld_hs_table {
    hs_entry **chunks;     /* flow storage, CHUNK_FLOWS per chunk, in first-seen order */
    size_t nchunks;        /* chunks allocated */
    size_t count;          /* flows stored */
    size_t max_flows;      /* count never exceeds this */
    size_t *index;         /* hash slots: flow number + 1, 0 when empty */
    size_t nslots;         /* a power of two, kept above twice count so probes stay short */
    uint64_t seed;         /* random hash key, so a crafted capture cannot force collisions */
    ld_hs_keep_cb keep;    /* when set, a full table evicts flows this does not claim */
    void *keep_arg;        /* passed to keep */
    size_t evict_next;     /* storage position where the search for an evictable flow starts */
    unsigned long evicted; /* flows evicted so far */
    ld_hs_neigh neighs[LD_HS_MAX_NEIGHS]; /* ARP / ND counts, most recent addresses */
    size_t nneighs;                       /* entries of neighs in use */
};

/* What the link layer says of a packet besides its payload. */
typedef struct link_meta {
    int dir;     /* 1 sent by the capturing host, -1 not, 0 unknown (Linux cooked) */
    int ifindex; /* interface index (Linux cooked v2), 0 when unknown */
} link_meta;

/* The IP layer of a packet, once checked. */
typedef struct ip_view {
    int v6;            /* IPv6 */
    ld_addr src;       /* source address */
    ld_addr dst;       /* destination address */
    uint8_t proto;     /* upper-layer protocol (after IPv6 extension headers) */
    const uint8_t *l4; /* its header */
    size_t l4_cap;     /* bytes of it captured */
    size_t l4_len;     /* bytes of it the IP header declares (what a header may claim) */
} ip_view;

static uint16_t rd16(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32be(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t rd32le(const uint8_t *p) {
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* --- the flow table -------------------------------------------------------- */

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Zones are ignored: a capture never carries one, but a caller's address may. */
static int same_ip(const ld_addr *a, const ld_addr *b) {
    if (a->family != b->family)
        return 0;
    if (a->family == AF_INET)
        return a->v4.s_addr == b->v4.s_addr;
    return memcmp(&a->v6, &b->v6, sizeof a->v6) == 0;
}

static uint64_t end_hash(uint64_t seed, const ld_addr *a, uint16_t port) {
    uint64_t h = seed ^ ((uint64_t)(unsigned)a->family << 16) ^ port;
    if (a->family == AF_INET) {
        uint32_t w;
        memcpy(&w, &a->v4, sizeof w);
        h = mix64(h ^ ((uint64_t)w << 24));
    } else {
        uint64_t w[2];
        memcpy(w, &a->v6, sizeof w);
        h = mix64(h ^ w[0]);
        h = mix64(h ^ w[1]);
    }
    return mix64(h);
}

/* The same for (a, b) and (b, a), so either direction finds the flow. */
static uint64_t tuple_hash(const ld_hs_table *t, const ld_addr *a, uint16_t ap, const ld_addr *b,
                           uint16_t bp) {
    return mix64(end_hash(t->seed, a, ap) + end_hash(t->seed, b, bp));
}

static hs_entry *entry_at(const ld_hs_table *t, size_t i) {
    return &t->chunks[i / CHUNK_FLOWS][i % CHUNK_FLOWS];
}

/* 1 when the flow is between these two ends, in either direction. */
static int entry_matches(const hs_entry *e, const ld_addr *a, uint16_t ap, const ld_addr *b,
                         uint16_t bp) {
    const ld_hs_flow *f = &e->f;
    if (f->client_port == ap && f->server_port == bp && same_ip(&f->client, a) &&
        same_ip(&f->server, b))
        return 1;
    return f->client_port == bp && f->server_port == ap && same_ip(&f->client, b) &&
           same_ip(&f->server, a);
}

static hs_entry *lookup(const ld_hs_table *t, uint64_t h, const ld_addr *a, uint16_t ap,
                        const ld_addr *b, uint16_t bp) {
    size_t mask = t->nslots - 1;
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        size_t slot = t->index[s];
        if (slot == 0)
            return NULL; /* the index is never full, so every probe ends */
        hs_entry *e = entry_at(t, slot - 1);
        if (e->hash == h && entry_matches(e, a, ap, b, bp))
            return e;
    }
}

static void index_put(size_t *index, size_t nslots, uint64_t h, size_t flow) {
    size_t mask = nslots - 1;
    size_t s = (size_t)h & mask;
    while (index[s] != 0)
        s = (s + 1) & mask;
    index[s] = flow + 1;
}

/* Doubles the index when one more flow would fill it past half. */
static int index_reserve(ld_hs_table *t) {
    if ((t->count + 1) * 2 <= t->nslots)
        return 1;
    if (t->nslots > SIZE_MAX / 2 / sizeof *t->index)
        return 0;
    size_t n = t->nslots * 2;
    size_t *idx = calloc(n, sizeof *idx);
    if (!idx)
        return 0;
    for (size_t i = 0; i < t->count; i++)
        index_put(idx, n, entry_at(t, i)->hash, i);
    free(t->index);
    t->index = idx;
    t->nslots = n;
    return 1;
}

/* Takes flow number `flow` out of the index: the entries after its slot that
 * probed past it move back, so every lookup still ends at an empty slot. */
static void index_remove(ld_hs_table *t, size_t flow) {
    size_t mask = t->nslots - 1;
    size_t hole = (size_t)entry_at(t, flow)->hash & mask;
    while (t->index[hole] != flow + 1)
        hole = (hole + 1) & mask;
    for (size_t j = (hole + 1) & mask; t->index[j] != 0; j = (j + 1) & mask) {
        size_t home = (size_t)entry_at(t, t->index[j] - 1)->hash & mask;
        /* The entry at j stays when its home lies cyclically in (hole, j]. */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            t->index[hole] = t->index[j];
            hole = j;
        }
    }
    t->index[hole] = 0;
}

/* A full table's room for a new flow: the storage position of the oldest
 * flow keep() does not claim, taken out of the index; SIZE_MAX when none is
 * found within EVICT_SCAN. */
static size_t flow_evict(ld_hs_table *t) {
    for (size_t k = 0; k < t->count && k < EVICT_SCAN; k++) {
        size_t i = (t->evict_next + k) % t->count;
        if (t->keep(&entry_at(t, i)->f, t->keep_arg))
            continue;
        index_remove(t, i);
        t->evict_next = (i + 1) % t->count;
        t->evicted++;
        return i;
    }
    return SIZE_MAX;
}

/* Adds a flow with these roles; NULL when the table is at its limit (and
 * nothing may be evicted) or memory ran out (either way the caller reports
 * LD_HS_FULL: no flow was started). */
static hs_entry *flow_new(ld_hs_table *t, uint64_t h, const ld_addr *client, uint16_t cport,
                          const ld_addr *server, uint16_t sport, double ts) {
    size_t pos = t->count;
    if (t->count >= t->max_flows) {
        if (!t->keep || (pos = flow_evict(t)) == SIZE_MAX)
            return NULL;
    } else if (!index_reserve(t)) {
        return NULL;
    } else if (t->count / CHUNK_FLOWS >= t->nchunks) {
        hs_entry **c = realloc(t->chunks, (t->nchunks + 1) * sizeof *c);
        if (!c)
            return NULL;
        t->chunks = c;
        t->chunks[t->nchunks] = calloc(CHUNK_FLOWS, sizeof **c);
        if (!t->chunks[t->nchunks])
            return NULL;
        t->nchunks++;
    }
    hs_entry *e = entry_at(t, pos);
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->f.client = *client;
    e->f.client_port = cport;
    e->f.server = *server;
    e->f.server_port = sport;
    e->f.first_ts = ts;
    e->f.last_ts = ts;
    index_put(t->index, t->nslots, h, pos);
    if (pos == t->count)
        t->count++;
    return e;
}

/* Counts a packet of the flow. */
static void flow_touch(ld_hs_flow *f, double ts) {
    if (f->packets < (unsigned long)-1)
        f->packets++;
    if (ts < f->first_ts)
        f->first_ts = ts;
    if (ts > f->last_ts)
        f->last_ts = ts;
}

ld_hs_table *ld_hs_create(size_t max_flows) {
    ld_hs_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_flows = max_flows ? max_flows : LD_HS_DEFAULT_MAX_FLOWS;
    t->nslots = INDEX_MIN;
    t->index = calloc(t->nslots, sizeof *t->index);
    if (!t->index) {
        free(t);
        return NULL;
    }
    /* Without entropy the table still works; only collision resistance suffers. */
    if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed)
        t->seed = mix64((uint64_t)(uintptr_t)t);
    return t;
}

void ld_hs_free(ld_hs_table *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->index);
    free(t);
}

size_t ld_hs_count(const ld_hs_table *t) {
    return t ? t->count : 0;
}

const ld_hs_flow *ld_hs_at(const ld_hs_table *t, size_t i) {
    if (!t || i >= t->count)
        return NULL;
    return &entry_at(t, i)->f;
}

const ld_hs_flow *ld_hs_find(const ld_hs_table *t, const ld_addr *client, uint16_t client_port,
                             const ld_addr *server, uint16_t server_port) {
    if (!t || !client || !server)
        return NULL;
    if ((client->family != AF_INET && client->family != AF_INET6) ||
        client->family != server->family)
        return NULL;
    uint64_t h = tuple_hash(t, client, client_port, server, server_port);
    const hs_entry *e = lookup(t, h, client, client_port, server, server_port);
    /* lookup() matches either direction; the caller asked for one */
    if (!e || e->f.client_port != client_port || !same_ip(&e->f.client, client))
        return NULL;
    return &e->f;
}

int ld_hs_flow_matches(const ld_hs_flow *f, const ld_addr *client, uint16_t client_port,
                       const ld_addr *server, uint16_t server_port) {
    return f->client_port == client_port && f->server_port == server_port &&
           same_ip(&f->client, client) && same_ip(&f->server, server);
}

int ld_hs_reply_lost(const ld_hs_flow *f) {
    if (!f || f->nsyn == 0 || (!f->synack_seen && !f->rst_from_server) || f->ack_seen)
        return 0;
    double answered = f->synack_seen ? f->synack_ts : f->rst_server_ts;
    if (f->synack_seen && f->rst_from_server && f->rst_server_ts < answered)
        answered = f->rst_server_ts;
    return f->last_syn_ts > answered;
}

void ld_hs_set_keep(ld_hs_table *t, ld_hs_keep_cb keep, void *arg) {
    t->keep = keep;
    t->keep_arg = arg;
}

unsigned long ld_hs_evicted(const ld_hs_table *t) {
    return t ? t->evicted : 0;
}

/* --- ARP and neighbour discovery ------------------------------------------ */

const ld_hs_neigh *ld_hs_find_neigh(const ld_hs_table *t, const ld_addr *target) {
    for (size_t i = 0; t && target && i < t->nneighs; i++)
        if (same_ip(&t->neighs[i].target, target))
            return &t->neighs[i];
    return NULL;
}

/* Counts a request for (or a reply about) target; the entry seen least
 * recently makes room for a new address. */
static ld_hs_result neigh_note(ld_hs_table *t, const ld_addr *target, int reply, double ts) {
    ld_hs_neigh *n = (ld_hs_neigh *)ld_hs_find_neigh(t, target);
    if (!n) {
        if (t->nneighs < LD_HS_MAX_NEIGHS) {
            n = &t->neighs[t->nneighs++];
        } else {
            n = &t->neighs[0];
            for (size_t i = 1; i < t->nneighs; i++)
                if (t->neighs[i].last_ts < n->last_ts)
                    n = &t->neighs[i];
        }
        memset(n, 0, sizeof *n);
        n->target = *target;
    }
    if (reply) {
        if (n->replies < (unsigned)-1)
            n->replies++;
    } else {
        if (n->requests == 0)
            n->first_request_ts = ts;
        if (n->requests < (unsigned)-1)
            n->requests++;
    }
    if (ts > n->last_ts)
        n->last_ts = ts;
    return LD_HS_USED;
}

/* An ARP packet for IPv4 over Ethernet: a request counts for the address it
 * asks about, a reply for the address it announces. Announcements (sender
 * and target the same) and probes (sender 0.0.0.0) resolve nothing. */
static ld_hs_result arp_packet(ld_hs_table *t, const uint8_t *p, size_t n, double ts) {
    if (n < 28)
        return LD_HS_MALFORMED;
    if (rd16(p) != 1 || rd16(p + 2) != ETH_IPV4 || p[4] != 6 || p[5] != 4)
        return LD_HS_IGNORED;
    uint16_t op = rd16(p + 6);
    ld_addr sender = {.family = AF_INET}, target = {.family = AF_INET};
    memcpy(&sender.v4, p + 14, 4);
    memcpy(&target.v4, p + 24, 4);
    if (op == 1) {
        if (sender.v4.s_addr == 0 || sender.v4.s_addr == target.v4.s_addr)
            return LD_HS_IGNORED;
        return neigh_note(t, &target, 0, ts);
    }
    if (op == 2)
        return neigh_note(t, &sender, 1, ts);
    return LD_HS_IGNORED;
}

/* --- IP -------------------------------------------------------------------- */

/* Checks an IPv4 header. A quoted header (inside an ICMP error) describes a
 * packet the quote cuts short, so its total length bounds nothing.
 * LD_HS_USED means "decoded" here. */
static ld_hs_result ipv4_parse(const uint8_t *p, size_t n, int quoted, ip_view *v) {
    if (n < 20 || (p[0] >> 4) != 4)
        return LD_HS_MALFORMED;
    size_t hl = (size_t)(p[0] & 0x0f) * 4;
    if (hl < 20 || hl > n)
        return LD_HS_MALFORMED;
    size_t total = rd16(p + 2);
    size_t cap = n - hl;
    size_t len = cap;
    if (!quoted) {
        if (total == 0)
            total = n; /* a TSO super-packet captured on its sender says 0 */
        if (total < hl)
            return LD_HS_MALFORMED;
        len = total - hl;
        if (len < cap)
            cap = len; /* link-layer padding is not payload */
    } else if (total != 0 && total < hl) {
        return LD_HS_MALFORMED;
    }
    if (rd16(p + 6) & 0x1fff)
        return LD_HS_IGNORED; /* a non-first fragment has no TCP header */
    memset(v, 0, sizeof *v);
    v->src.family = AF_INET;
    memcpy(&v->src.v4, p + 12, 4);
    v->dst.family = AF_INET;
    memcpy(&v->dst.v4, p + 16, 4);
    v->proto = p[9];
    v->l4 = p + hl;
    v->l4_cap = cap;
    v->l4_len = len;
    return LD_HS_USED;
}

/* Checks an IPv6 header and walks its extension headers to the upper layer. */
static ld_hs_result ipv6_parse(const uint8_t *p, size_t n, int quoted, ip_view *v) {
    if (n < 40 || (p[0] >> 4) != 6)
        return LD_HS_MALFORMED;
    size_t cap = n - 40;
    size_t len = rd16(p + 4);
    if (quoted || len == 0)
        len = cap; /* quoted: cut short; 0: a jumbogram or a GSO super-packet */
    if (len < cap)
        cap = len;
    uint8_t nh = p[6];
    const uint8_t *q = p + 40;
    for (int i = 0;; i++) {
        size_t hlen;
        if (nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140) {
            /* hop-by-hop, routing, destination options, mobility, HIP, shim6 */
            if (cap < 8)
                return LD_HS_MALFORMED;
            hlen = ((size_t)q[1] + 1) * 8;
        } else if (nh == 44) { /* fragment */
            if (cap < 8)
                return LD_HS_MALFORMED;
            if (rd16(q + 2) & 0xfff8)
                return LD_HS_IGNORED; /* a non-first fragment has no TCP header */
            hlen = 8;
        } else if (nh == 51) { /* authentication header counts 4-byte words */
            if (cap < 8)
                return LD_HS_MALFORMED;
            hlen = ((size_t)q[1] + 2) * 4;
        } else {
            break;
        }
        if (i >= MAX_IPV6_EXT || hlen > cap)
            return LD_HS_MALFORMED;
        nh = q[0];
        q += hlen;
        cap -= hlen;
        len -= hlen; /* len >= cap held before, so no wrap */
    }
    memset(v, 0, sizeof *v);
    v->v6 = 1;
    v->src.family = AF_INET6;
    memcpy(&v->src.v6, p + 8, 16);
    v->dst.family = AF_INET6;
    memcpy(&v->dst.v6, p + 24, 16);
    v->proto = nh;
    v->l4 = q;
    v->l4_cap = cap;
    v->l4_len = len;
    return LD_HS_USED;
}

/* --- TCP and ICMP ---------------------------------------------------------- */

static ld_hs_result tcp_packet(ld_hs_table *t, const ip_view *v, const link_meta *lm, double ts) {
    /* Options may be cut by the snap length; the fixed header may not. */
    if (v->l4_cap < 20)
        return LD_HS_MALFORMED;
    const uint8_t *h = v->l4;
    size_t doff = (size_t)(h[12] >> 4) * 4;
    if (doff < 20 || doff > v->l4_len)
        return LD_HS_MALFORMED;
    uint16_t sport = rd16(h), dport = rd16(h + 2);
    uint8_t flags = h[13];
    int syn = flags & TCP_SYN, ack = flags & TCP_ACK;

    uint64_t hash = tuple_hash(t, &v->src, sport, &v->dst, dport);
    hs_entry *e = lookup(t, hash, &v->src, sport, &v->dst, dport);
    if (!e) {
        int src_is_client;
        if (syn)
            src_is_client = !ack;
        else
            src_is_client = sport >= dport; /* mid-stream: the ephemeral port is the client's */
        if (src_is_client)
            e = flow_new(t, hash, &v->src, sport, &v->dst, dport, ts);
        else
            e = flow_new(t, hash, &v->dst, dport, &v->src, sport, ts);
        if (!e)
            return LD_HS_FULL;
    }
    ld_hs_flow *f = &e->f;
    int from_client = f->client_port == sport && same_ip(&f->client, &v->src);
    flow_touch(f, ts);

    if (syn && !ack) {
        /* A SYN from the server's side is a simultaneous open: counted, not a client SYN. */
        if (from_client) {
            if (f->nsyn < LD_HS_MAX_SYNS)
                f->syn_ts[f->nsyn] = ts;
            if (f->nsyn == 0) {
                f->syn_ifindex = lm->ifindex;
                f->syn_dir = lm->dir;
            } else if (lm->dir < 0 || f->syn_dir < 0) {
                f->syn_dir = -1; /* one SYN arrived from elsewhere: not the client's capture */
            }
            if (f->nsyn < (unsigned)-1)
                f->nsyn++;
            if (ts > f->last_syn_ts)
                f->last_syn_ts = ts;
        }
    } else if (syn) {
        if (!from_client && !f->synack_seen) {
            f->synack_seen = 1;
            f->synack_ts = ts;
            if (!f->rst_from_server)
                f->reply_ifindex = lm->ifindex;
        }
    } else if (ack && from_client && f->synack_seen && !(flags & TCP_RST)) {
        f->ack_seen = 1;
    }
    if (flags & TCP_RST) {
        if (from_client) {
            f->rst_from_client = 1;
        } else if (!f->rst_from_server) {
            f->rst_from_server = 1;
            f->rst_server_ts = ts;
            if (!f->synack_seen)
                f->reply_ifindex = lm->ifindex;
        }
    }
    if (flags & TCP_FIN) {
        if (from_client)
            f->fin_from_client = 1;
        else
            f->fin_from_server = 1;
    }
    return LD_HS_USED;
}

/* An ICMP(v6) error: the flow it quotes gets its type, code and sender. A
 * neighbour solicitation or advertisement counts for its target address. */
static ld_hs_result icmp_packet(ld_hs_table *t, const ip_view *v, double ts) {
    if (v->l4_cap < 8)
        return LD_HS_MALFORMED;
    int type = v->l4[0], code = v->l4[1];
    if (v->v6 && (type == 135 || type == 136)) {
        if (v->l4_cap < 24)
            return LD_HS_MALFORMED;
        ld_addr target = {.family = AF_INET6};
        memcpy(&target.v6, v->l4 + 8, 16);
        return neigh_note(t, &target, type == 136, ts);
    }
    int tracked = v->v6 ? (type == 1 || type == 3) : (type == 3 || type == 11);
    if (!tracked)
        return LD_HS_IGNORED;
    ip_view q;
    ld_hs_result r = v->v6 ? ipv6_parse(v->l4 + 8, v->l4_cap - 8, 1, &q)
                           : ipv4_parse(v->l4 + 8, v->l4_cap - 8, 1, &q);
    if (r != LD_HS_USED)
        return r;
    if (q.proto != PROTO_TCP)
        return LD_HS_IGNORED;
    if (q.l4_cap < 8)
        return LD_HS_MALFORMED; /* RFC 792 promises 8 bytes: the ports and the sequence number */
    uint16_t sport = rd16(q.l4), dport = rd16(q.l4 + 2);

    uint64_t hash = tuple_hash(t, &q.src, sport, &q.dst, dport);
    hs_entry *e = lookup(t, hash, &q.src, sport, &q.dst, dport);
    /* No flow yet: the SYN never reached the wire (this host's own firewall
     * rejected it) or the capture started late. The quoted sender is the client. */
    if (!e)
        e = flow_new(t, hash, &q.src, sport, &q.dst, dport, ts);
    if (!e)
        return LD_HS_FULL;
    ld_hs_flow *f = &e->f;
    flow_touch(f, ts);
    if (!f->icmp_seen) {
        f->icmp_seen = 1;
        f->icmp_v6 = v->v6;
        f->icmp_type = type;
        f->icmp_code = code;
        f->icmp_from = v->src;
        f->icmp_ts = ts;
    }
    return LD_HS_USED;
}

/* An IP packet; want is 4 or 6 when the link layer said which, else 0. */
static ld_hs_result ip_packet(ld_hs_table *t, int want, const uint8_t *p, size_t n,
                              const link_meta *lm, double ts) {
    if (n < 1)
        return LD_HS_MALFORMED;
    int version = p[0] >> 4;
    if (want && version != want)
        return LD_HS_MALFORMED;
    ip_view v;
    ld_hs_result r;
    if (version == 4)
        r = ipv4_parse(p, n, 0, &v);
    else if (version == 6)
        r = ipv6_parse(p, n, 0, &v);
    else
        return LD_HS_MALFORMED;
    if (r != LD_HS_USED)
        return r;
    if (v.proto == PROTO_TCP)
        return tcp_packet(t, &v, lm, ts);
    if (v.proto == (v.v6 ? PROTO_ICMP6 : PROTO_ICMP))
        return icmp_packet(t, &v, ts);
    return LD_HS_IGNORED;
}

/* --- link layers ----------------------------------------------------------- */

/* What follows an Ethernet type field (Ethernet, and both cooked headers). */
static ld_hs_result ether_payload(ld_hs_table *t, uint16_t etype, const uint8_t *p, size_t n,
                                  const link_meta *lm, double ts) {
    for (int tags = 0; etype == 0x8100 || etype == 0x88a8 || etype == 0x9100; tags++) {
        if (tags >= MAX_VLAN_TAGS || n < 4)
            return LD_HS_MALFORMED;
        etype = rd16(p + 2);
        p += 4;
        n -= 4;
    }
    if (etype == ETH_IPV4)
        return ip_packet(t, 4, p, n, lm, ts);
    if (etype == ETH_IPV6)
        return ip_packet(t, 6, p, n, lm, ts);
    if (etype == ETH_ARP)
        return arp_packet(t, p, n, ts);
    return LD_HS_IGNORED;
}

/* BSD loopback's family field is in the capturing host's byte order, and
 * AF_INET6 differs between BSDs (24 Net/OpenBSD, 28 FreeBSD, 30 Darwin) and
 * Linux (10). */
static int null_family_is(uint32_t fam, int v6) {
    if (!v6)
        return fam == 2;
    return fam == 10 || fam == 24 || fam == 28 || fam == 30;
}

int ld_hs_dlt_supported(int dlt) {
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return 1;
    default:
        return 0;
    }
}

ld_hs_result ld_hs_packet(ld_hs_table *t, int dlt, const uint8_t *p, size_t n, double ts) {
    link_meta lm = {0, 0};
    if (!t)
        return LD_HS_IGNORED;
    if (!p)
        return LD_HS_MALFORMED;
    switch (dlt) {
    case DLT_EN10MB:
        if (n < 14)
            return LD_HS_MALFORMED;
        return ether_payload(t, rd16(p + 12), p + 14, n - 14, &lm, ts);
    case DLT_LINUX_SLL:
        if (n < 16)
            return LD_HS_MALFORMED;
        /* "any" shows a loopback packet leaving and arriving: keep the arrival */
        if (rd16(p) == SLL_OUTGOING && rd16(p + 2) == SLL_LOOPBACK)
            return LD_HS_IGNORED;
        lm.dir = rd16(p) == SLL_OUTGOING ? 1 : -1;
        return ether_payload(t, rd16(p + 14), p + 16, n - 16, &lm, ts);
    case DLT_LINUX_SLL2:
        if (n < 20)
            return LD_HS_MALFORMED;
        if (p[10] == SLL_OUTGOING && rd16(p + 8) == SLL_LOOPBACK)
            return LD_HS_IGNORED;
        lm.dir = p[10] == SLL_OUTGOING ? 1 : -1;
        lm.ifindex = (int)(rd32be(p + 4) & 0x7fffffff);
        return ether_payload(t, rd16(p), p + 20, n - 20, &lm, ts);
    case DLT_RAW:
        return ip_packet(t, 0, p, n, &lm, ts);
    case DLT_IPV4:
        return ip_packet(t, 4, p, n, &lm, ts);
    case DLT_IPV6:
        return ip_packet(t, 6, p, n, &lm, ts);
    case DLT_NULL:
    case DLT_LOOP: {
        if (n < 4)
            return LD_HS_MALFORMED;
        uint32_t le = rd32le(p), be = rd32be(p);
        if (null_family_is(le, 0) || null_family_is(be, 0))
            return ip_packet(t, 4, p + 4, n - 4, &lm, ts);
        if (null_family_is(le, 1) || null_family_is(be, 1))
            return ip_packet(t, 6, p + 4, n - 4, &lm, ts);
        return LD_HS_IGNORED;
    }
    default:
        return LD_HS_IGNORED; /* ld_hs_dlt_supported() says which DLTs decode */
    }
}

/* --- what the flows mean --------------------------------------------------- */

const char *ld_hs_conn_state(const ld_hs_flow *f) {
    if (!f)
        return NULL;
    int syn = f->nsyn > 0;
    if (!syn && !f->synack_seen)
        return "OTH";
    if (!f->synack_seen) {
        if (f->rst_from_server)
            return "REJ";
        if (f->rst_from_client)
            return "RSTOS0";
        return f->fin_from_client ? "SH" : "S0";
    }
    if (!syn) {
        if (f->rst_from_server)
            return "RSTRH";
        if (f->fin_from_server && !f->fin_from_client)
            return "SHR";
    }
    if (f->rst_from_server)
        return "RSTR";
    if (f->rst_from_client)
        return "RSTO";
    if (f->fin_from_client && f->fin_from_server)
        return "SF";
    if (f->fin_from_client)
        return "S2";
    if (f->fin_from_server)
        return "S3";
    return "S1";
}

const char *ld_hs_icmp_reason(const ld_hs_flow *f) {
    if (!f || !f->icmp_seen)
        return NULL;
    return ld_icmp_reason(f->icmp_v6, f->icmp_type, f->icmp_code);
}

/* --- files ----------------------------------------------------------------- */

/* pcap (micro- and nanosecond, and the "modified" variant) and pcapng, in
 * either byte order. */
static int known_magic(const uint8_t m[4]) {
    static const uint32_t magics[] = {0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34, 0x0a0d0d0a};
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (rd32be(m) == magics[i] || rd32le(m) == magics[i])
            return 1;
    return 0;
}

static ld_status open_error(int e, ld_err *err) {
    if (e == ENOENT || e == ENOTDIR)
        return ld_err_set(err, LD_EINVAL, "no such file");
    if (e == EACCES || e == EPERM)
        return ld_err_set(err, LD_EINVAL, "permission denied");
    if (e == EISDIR)
        return ld_err_set(err, LD_EINVAL, "is a directory");
    return ld_err_set(err, LD_EINVAL, "cannot open: %s", strerror(e));
}

/* The common failures get our words; only the rare ones get libpcap's. */
static ld_status check_file(const char *path, FILE **fpp, ld_err *err) {
    struct stat sb;
    if (stat(path, &sb) < 0)
        return open_error(errno, err);
    if (S_ISDIR(sb.st_mode))
        return ld_err_set(err, LD_EINVAL, "is a directory");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return open_error(errno, err);
    *fpp = fp;
    /* A pipe cannot be rewound: libpcap alone judges what comes through it. */
    if (!S_ISREG(sb.st_mode))
        return LD_OK;
    uint8_t magic[4];
    size_t got = fread(magic, 1, sizeof magic, fp);
    if (got == 0 && ferror(fp))
        return ld_err_set(err, LD_EINVAL, "cannot read: %s", strerror(errno));
    if (got == 0)
        return ld_err_set(err, LD_EINVAL, "empty file");
    if (got < sizeof magic || !known_magic(magic))
        return ld_err_set(err, LD_EINVAL, "not a pcap or pcapng file");
    if (fseek(fp, 0, SEEK_SET) != 0)
        return ld_err_set(err, LD_EINVAL, "cannot read: %s", strerror(errno));
    return LD_OK;
}

ld_status ld_hs_read_file(ld_hs_table *t, const char *path, unsigned long max_packets,
                          ld_hs_file_stats *stats, ld_err *err) {
    ld_status result = LD_OK;
    ld_hs_file_stats scratch;
    FILE *fp = NULL;
    pcap_t *pc = NULL;
    char errbuf[PCAP_ERRBUF_SIZE] = "";

    if (!stats)
        stats = &scratch;
    memset(stats, 0, sizeof *stats);
    stats->dlt = -1;
    if (!t || !path) {
        result = ld_err_set(err, LD_EINVAL, "no table or no path");
        goto out;
    }
    result = check_file(path, &fp, err);
    if (result != LD_OK)
        goto out;
    pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!pc) {
        if (strstr(errbuf, "unknown file format"))
            result = ld_err_set(err, LD_EINVAL, "not a pcap or pcapng file");
        else if (strstr(errbuf, "truncated"))
            result = ld_err_set(err, LD_EINVAL, "truncated file header");
        else
            result = ld_err_set(err, LD_EINVAL, "corrupt (%s)", errbuf);
        goto out; /* fp is still ours: libpcap closes it only once it took it */
    }
    fp = NULL;
    stats->dlt = pcap_datalink(pc);
    if (!ld_hs_dlt_supported(stats->dlt)) {
        const char *name = pcap_datalink_val_to_name(stats->dlt);
        result = ld_err_set(err, LD_EINVAL,
                            "link type %d (%s) is not supported; linkdoctor reads Ethernet, "
                            "Linux cooked v1/v2, raw IP and BSD loopback captures",
                            stats->dlt, name ? name : "unknown");
        goto out;
    }
    while (max_packets == 0 || stats->packets < max_packets) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(pc, &h, &data);
        if (rc == PCAP_ERROR_BREAK || rc == 0)
            break; /* end of file (0 is a live timeout, which a file never has) */
        if (rc != 1) {
            const char *msg = pcap_geterr(pc);
            if (strstr(msg, "truncated"))
                result = ld_err_set(err, LD_EINVAL, "truncated after packet %lu", stats->packets);
            else
                result = ld_err_set(err, LD_EINVAL, "corrupt after packet %lu (%s)", stats->packets,
                                    msg);
            goto out;
        }
        stats->packets++;
        double ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
        ld_hs_result r = ld_hs_packet(t, stats->dlt, data, h->caplen, ts);
        if (r == LD_HS_USED)
            stats->used++;
        else if (r == LD_HS_MALFORMED)
            stats->malformed++;
    }
out:
    if (pc)
        pcap_close(pc);
    if (fp)
        fclose(fp);
    return result;
}
