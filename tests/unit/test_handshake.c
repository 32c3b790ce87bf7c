/* test_handshake.c - what the packets say happened to each SYN.
 *
 * Fixtures in tests/data/pcap were recorded in network namespaces by
 * tests/data/pcap/record.sh (see its README); the malformed cases are packets
 * built here byte by byte.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes/handshake.h"
#include "unit.h"

#define PCAP_DIR LD_TEST_DATA "/pcap/"

/* pcap's link types, spelled out so a test never depends on the host's headers. */
enum {
    DLT_NULL_ = 0,
    DLT_EN10MB_ = 1,
    DLT_RAW_ = 12,
    DLT_LOOP_ = 108,
    DLT_SLL_ = 113,
    DLT_IPV4_ = 228,
    DLT_IPV6_ = 229,
    DLT_SLL2_ = 276
};

/* --- helpers --------------------------------------------------------------- */

static ld_addr ip(const char *s) {
    ld_addr a;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(s, &a, &err), LD_OK);
    return a;
}

static int is_ip(const ld_addr *a, const char *s) {
    ld_addr b = ip(s);
    return ld_addr_equal(a, &b);
}

/* Reads a fixture that must decode cleanly; the caller frees the table. */
static ld_hs_table *fixture(const char *name, ld_hs_file_stats *st) {
    ld_hs_file_stats scratch;
    char path[512];
    ld_err err = {{0}};
    snprintf(path, sizeof path, PCAP_DIR "%s", name);
    ld_hs_table *t = ld_hs_create(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    ld_status s = ld_hs_read_file(t, path, 0, st ? st : &scratch, &err);
    if (s != LD_OK)
        fprintf(stderr, "%s: %s\n", name, err.msg);
    CU_ASSERT_EQUAL_FATAL(s, LD_OK);
    return t;
}

/* The flow whose server is server:port (there is one per server in every fixture). */
static const ld_hs_flow *to_server(const ld_hs_table *t, const char *server, uint16_t port) {
    for (size_t i = 0; i < ld_hs_count(t); i++) {
        const ld_hs_flow *f = ld_hs_at(t, i);
        if (f->server_port == port && is_ip(&f->server, server))
            return f;
    }
    fprintf(stderr, "no flow to %s port %u\n", server, port);
    CU_FAIL_FATAL("flow missing");
    return NULL;
}

/* Reads path and expects LD_EINVAL with exactly msg. */
static void file_error(const char *path, const char *msg) {
    ld_hs_table *t = ld_hs_create(0);
    ld_hs_file_stats st;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_hs_read_file(t, path, 0, &st, &err), LD_EINVAL);
    if (strcmp(err.msg, msg) != 0)
        fprintf(stderr, "%s: got '%s', expected '%s'\n", path, err.msg, msg);
    CU_ASSERT_STRING_EQUAL(err.msg, msg);
    const char *base = strrchr(path, '/');
    if (base && base[1])
        CU_ASSERT_PTR_NULL(strstr(err.msg, base + 1)); /* the caller names the file */
    ld_hs_free(t);
}

static void put16(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* A 20-byte TCP header (no options) at p. */
static void tcp_hdr(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags) {
    memset(p, 0, 20);
    put16(p, sport);
    put16(p + 2, dport);
    p[12] = 5 << 4;
    p[13] = flags;
}

/* A 20-byte IPv4 header at p, total length total. */
static void ip4_hdr(uint8_t *p, const char *src, const char *dst, uint8_t proto, size_t total) {
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (unsigned)total);
    p[8] = 64;
    p[9] = proto;
    inet_pton(AF_INET, src, p + 12);
    inet_pton(AF_INET, dst, p + 16);
}

/* A 40-byte IPv6 header at p. */
static void ip6_hdr(uint8_t *p, const char *src, const char *dst, uint8_t next, size_t plen) {
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, (unsigned)plen);
    p[6] = next;
    p[7] = 64;
    inet_pton(AF_INET6, src, p + 8);
    inet_pton(AF_INET6, dst, p + 24);
}

/* An IPv4 TCP segment (40 bytes) into buf. */
static size_t tcp4(uint8_t *buf, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   uint8_t flags) {
    ip4_hdr(buf, src, dst, 6, 40);
    tcp_hdr(buf + 20, sport, dport, flags);
    return 40;
}

/* An IPv6 TCP segment (60 bytes) into buf. */
static size_t tcp6(uint8_t *buf, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                   uint8_t flags) {
    ip6_hdr(buf, src, dst, 6, 20);
    tcp_hdr(buf + 40, sport, dport, flags);
    return 60;
}

/* An ICMPv4 error from `from` to `to` quoting qlen bytes of quoted. */
static size_t icmp4(uint8_t *buf, const char *from, const char *to, int type, int code,
                    const uint8_t *quoted, size_t qlen) {
    ip4_hdr(buf, from, to, 1, 28 + qlen);
    memset(buf + 20, 0, 8);
    buf[20] = (uint8_t)type;
    buf[21] = (uint8_t)code;
    memcpy(buf + 28, quoted, qlen);
    return 28 + qlen;
}

/* An ICMPv6 error from `from` to `to` quoting qlen bytes of quoted. */
static size_t icmp6(uint8_t *buf, const char *from, const char *to, int type, int code,
                    const uint8_t *quoted, size_t qlen) {
    ip6_hdr(buf, from, to, 58, 8 + qlen);
    memset(buf + 40, 0, 8);
    buf[40] = (uint8_t)type;
    buf[41] = (uint8_t)code;
    memcpy(buf + 48, quoted, qlen);
    return 48 + qlen;
}

/* An Ethernet frame of type etype around payload. */
static size_t eth(uint8_t *buf, unsigned etype, const uint8_t *payload, size_t len) {
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    memcpy(buf, macs, 12);
    put16(buf + 12, etype);
    memcpy(buf + 14, payload, len);
    return 14 + len;
}

static ld_hs_result raw(ld_hs_table *t, const uint8_t *p, size_t n, double ts) {
    return ld_hs_packet(t, DLT_RAW_, p, n, ts);
}

/* --- recorded captures ----------------------------------------------------- */

static void dropped_syn_is_s0_with_a_retransmission(void) {
    ld_hs_table *t = fixture("dropped.eth.pcap", NULL);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_TRUE(is_ip(&f->client, "10.77.0.1"));
    CU_ASSERT_TRUE(is_ip(&f->server, "10.77.0.2"));
    CU_ASSERT_EQUAL(f->server_port, 8441);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "S0");
    CU_ASSERT_TRUE(f->nsyn >= 2);
    /* Linux's first SYN timeout is one second. */
    double gap = f->syn_ts[1] - f->syn_ts[0];
    CU_ASSERT_TRUE(gap > 0.9 && gap < 1.5);
    CU_ASSERT_DOUBLE_EQUAL(f->first_ts, f->syn_ts[0], 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f->last_ts, f->syn_ts[f->nsyn - 1], 1e-9);
    CU_ASSERT_FALSE(f->synack_seen || f->rst_from_server || f->icmp_seen);
    CU_ASSERT_PTR_NULL(ld_hs_icmp_reason(f));
    CU_ASSERT_EQUAL(f->packets, f->nsyn);
    ld_hs_free(t);
}

static void refused_when_rst_seen(void) {
    ld_hs_table *t = fixture("refused.eth.pcap", NULL);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "REJ");
    CU_ASSERT_EQUAL(f->server_port, 8443);
    CU_ASSERT_EQUAL(f->nsyn, 1);
    CU_ASSERT_TRUE(f->rst_from_server);
    CU_ASSERT_FALSE(f->rst_from_client);
    CU_ASSERT_TRUE(f->rst_server_ts >= f->syn_ts[0]);
    CU_ASSERT_TRUE(f->rst_server_ts - f->syn_ts[0] < 0.1);
    CU_ASSERT_FALSE(f->synack_seen);
    ld_hs_free(t);
}

static void admin_prohibited_icmp_is_matched_to_its_syn(void) {
    ld_hs_table *t = fixture("rejected.eth.pcap", NULL);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "S0");
    CU_ASSERT_EQUAL(f->server_port, 8442);
    CU_ASSERT_EQUAL(f->nsyn, 1);
    CU_ASSERT_TRUE(f->icmp_seen);
    CU_ASSERT_FALSE(f->icmp_v6);
    CU_ASSERT_EQUAL(f->icmp_type, 3);
    CU_ASSERT_EQUAL(f->icmp_code, 13);
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(f), "admin-prohibited");
    CU_ASSERT_TRUE(is_ip(&f->icmp_from, "10.77.0.2"));
    CU_ASSERT_TRUE(f->icmp_ts >= f->syn_ts[0]);
    CU_ASSERT_DOUBLE_EQUAL(f->last_ts, f->icmp_ts, 1e-9);
    CU_ASSERT_EQUAL(f->packets, 2);
    ld_hs_free(t);
}

static void established_and_closed_by_both_is_sf(void) {
    ld_hs_table *t = fixture("established.eth.pcap", NULL);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "SF");
    CU_ASSERT_EQUAL(f->nsyn, 1);
    CU_ASSERT_TRUE(f->synack_seen && f->ack_seen);
    CU_ASSERT_TRUE(f->synack_ts > f->syn_ts[0]);
    CU_ASSERT_TRUE(f->fin_from_client && f->fin_from_server);
    CU_ASSERT_FALSE(f->rst_from_client || f->rst_from_server || f->icmp_seen);
    CU_ASSERT_EQUAL(f->packets, 8);
    ld_hs_free(t);
}

static void partial_one_address_drops_the_other_answers(void) {
    ld_hs_table *t = fixture("partial.eth.pcap", NULL);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 2);
    const ld_hs_flow *good = to_server(t, "10.77.0.2", 8445);
    const ld_hs_flow *bad = to_server(t, "10.77.0.3", 8445);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(good), "SF");
    CU_ASSERT_EQUAL(good->nsyn, 1);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(bad), "S0");
    CU_ASSERT_TRUE(bad->nsyn >= 2);
    /* first-seen order: the good connection came first */
    CU_ASSERT_PTR_EQUAL(ld_hs_at(t, 0), good);
    CU_ASSERT_PTR_EQUAL(ld_hs_at(t, 1), bad);
    CU_ASSERT_PTR_NULL(ld_hs_at(t, 2));
    /* find is by client and server, in that order */
    CU_ASSERT_PTR_EQUAL(
        ld_hs_find(t, &bad->client, bad->client_port, &bad->server, bad->server_port), bad);
    CU_ASSERT_PTR_NULL(
        ld_hs_find(t, &bad->server, bad->server_port, &bad->client, bad->client_port));
    CU_ASSERT_PTR_NULL(
        ld_hs_find(t, &bad->client, bad->client_port, &good->server, bad->server_port));
    ld_hs_free(t);
}

static void local_reject_shows_the_icmp_but_no_syn(void) {
    /* The client's own firewall rejected the SYN: "any" sees only the ICMP
     * error on loopback, the veth sees nothing at all. */
    ld_hs_file_stats st;
    ld_hs_table *t = fixture("local-reject.sll.pcap", &st);
    CU_ASSERT_EQUAL(st.packets, 1);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_EQUAL(f->nsyn, 0);
    CU_ASSERT_TRUE(is_ip(&f->client, "10.77.0.1"));
    CU_ASSERT_TRUE(is_ip(&f->server, "10.77.0.2"));
    CU_ASSERT_EQUAL(f->server_port, 8446);
    CU_ASSERT_TRUE(f->icmp_seen);
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(f), "admin-prohibited");
    CU_ASSERT_TRUE(is_ip(&f->icmp_from, "10.77.0.1")); /* from this host itself */
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "OTH");
    ld_hs_free(t);

    t = fixture("local-reject.eth.pcap", &st);
    CU_ASSERT_EQUAL(st.packets, 0);
    CU_ASSERT_EQUAL(st.dlt, DLT_EN10MB_);
    CU_ASSERT_EQUAL(ld_hs_count(t), 0);
    ld_hs_free(t);
}

/* The flows of the recorded loopback capture (libpcap already dropped the duplicates). */
static void check_loopback_flows(const ld_hs_table *t) {
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 2);
    const ld_hs_flow *open = to_server(t, "127.0.0.1", 8447);
    const ld_hs_flow *closed = to_server(t, "127.0.0.1", 8448);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(open), "SF");
    CU_ASSERT_EQUAL(open->nsyn, 1);
    CU_ASSERT_EQUAL(open->packets, 8);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(closed), "REJ");
    CU_ASSERT_EQUAL(closed->nsyn, 1);
    CU_ASSERT_EQUAL(closed->packets, 2);
}

static void loopback_duplicates_are_not_retransmissions(void) {
    const char *files[] = {"loopback.sll.pcap", "loopback.sll2.pcap", "loopback-dup.sll.pcap",
                           "loopback-dup.sll2.pcap"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        ld_hs_file_stats st;
        ld_hs_table *t = fixture(files[i], &st);
        check_loopback_flows(t);
        int dup = strstr(files[i], "-dup") != NULL;
        CU_ASSERT_EQUAL(st.packets, dup ? 20u : 10u); /* the -dup files hold each packet twice */
        CU_ASSERT_EQUAL(st.used, 10);
        ld_hs_free(t);
    }
}

static void ipv6_flows_and_icmpv6_errors(void) {
    ld_hs_table *t = fixture("ipv6.eth.pcap", NULL);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 3);
    const ld_hs_flow *open = to_server(t, "fd77::2", 8450);
    const ld_hs_flow *dropped = to_server(t, "fd77::2", 8451);
    const ld_hs_flow *rejected = to_server(t, "fd77::2", 8452);
    CU_ASSERT_TRUE(is_ip(&open->client, "fd77::1"));
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(open), "SF");
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(dropped), "S0");
    CU_ASSERT_TRUE(dropped->nsyn >= 2);
    CU_ASSERT_FALSE(dropped->icmp_seen);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(rejected), "S0");
    CU_ASSERT_TRUE(rejected->icmp_seen);
    CU_ASSERT_TRUE(rejected->icmp_v6);
    CU_ASSERT_EQUAL(rejected->icmp_type, 1);
    CU_ASSERT_EQUAL(rejected->icmp_code, 1);
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(rejected), "admin-prohibited");
    CU_ASSERT_TRUE(is_ip(&rejected->icmp_from, "fd77::2"));
    ld_hs_free(t);
}

static void reply_dropped_shows_the_answer_then_the_syn_again(void) {
    /* The client's input firewall dropped the SYN-ACK after the capture saw it:
     * SYN, SYN-ACK, and about a second later the SYN again, never an ACK. */
    static const struct {
        const char *file; /* fixture */
        int dir;          /* what it says of the SYNs' direction */
        int ifindex;      /* whether it names interfaces */
    } files[] = {{"reply-dropped.eth.pcap", 0, 0},
                 {"reply-dropped.sll.pcap", 1, 0},
                 {"reply-dropped.sll2.pcap", 1, 1}};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        ld_hs_table *t = fixture(files[i].file, NULL);
        const ld_hs_flow *f = to_server(t, "10.77.0.2", 8449);
        CU_ASSERT_EQUAL(ld_hs_count(t), 1);
        CU_ASSERT_EQUAL(f->nsyn, 2);
        CU_ASSERT_TRUE(f->synack_seen);
        CU_ASSERT_FALSE(f->ack_seen);
        CU_ASSERT_TRUE(f->synack_ts < f->syn_ts[1]);
        CU_ASSERT_DOUBLE_EQUAL(f->last_syn_ts, f->syn_ts[1], 1e-9);
        CU_ASSERT_TRUE(f->syn_ts[1] - f->syn_ts[0] > 0.9 && f->syn_ts[1] - f->syn_ts[0] < 1.5);
        CU_ASSERT_TRUE(ld_hs_reply_lost(f));
        CU_ASSERT_EQUAL(f->syn_dir, files[i].dir);
        if (files[i].ifindex) {
            CU_ASSERT_TRUE(f->syn_ifindex > 0);
            CU_ASSERT_EQUAL(f->reply_ifindex, f->syn_ifindex);
        } else {
            CU_ASSERT_EQUAL(f->syn_ifindex, 0);
            CU_ASSERT_EQUAL(f->reply_ifindex, 0);
        }
        ld_hs_free(t);
    }
    /* The established fixture's client acknowledged its SYN-ACK: not lost. */
    ld_hs_table *t = fixture("established.sll2.pcap", NULL);
    CU_ASSERT_FALSE(ld_hs_reply_lost(to_server(t, "10.77.0.2", 8444)));
    ld_hs_free(t);
}

/* 1 when both tables hold the same flows; cooked captures come from another
 * socket, so their times may differ by a few microseconds. */
static int same_flows(const ld_hs_table *a, const ld_hs_table *b, double tol) {
    if (ld_hs_count(a) != ld_hs_count(b))
        return 0;
    for (size_t i = 0; i < ld_hs_count(a); i++) {
        const ld_hs_flow *x = ld_hs_at(a, i), *y = ld_hs_at(b, i);
        if (!ld_addr_equal(&x->client, &y->client) || !ld_addr_equal(&x->server, &y->server) ||
            x->client_port != y->client_port || x->server_port != y->server_port ||
            x->nsyn != y->nsyn || x->synack_seen != y->synack_seen || x->ack_seen != y->ack_seen ||
            x->rst_from_server != y->rst_from_server || x->rst_from_client != y->rst_from_client ||
            x->fin_from_client != y->fin_from_client || x->fin_from_server != y->fin_from_server ||
            x->icmp_seen != y->icmp_seen || x->icmp_v6 != y->icmp_v6 ||
            x->icmp_type != y->icmp_type || x->icmp_code != y->icmp_code ||
            x->packets != y->packets || strcmp(ld_hs_conn_state(x), ld_hs_conn_state(y)) != 0 ||
            ld_hs_reply_lost(x) != ld_hs_reply_lost(y))
            return 0;
        if (x->icmp_seen && !ld_addr_equal(&x->icmp_from, &y->icmp_from))
            return 0;
        for (unsigned k = 0; k < x->nsyn && k < LD_HS_MAX_SYNS; k++)
            if (fabs(x->syn_ts[k] - y->syn_ts[k]) > tol)
                return 0;
        if (fabs(x->first_ts - y->first_ts) > tol || fabs(x->last_ts - y->last_ts) > tol)
            return 0;
    }
    return 1;
}

static void every_link_type_gives_the_same_flows(void) {
    static const char *scenarios[] = {"dropped", "rejected", "refused",      "established",
                                      "partial", "ipv6",     "reply-dropped"};
    static const struct {
        const char *suffix; /* file name after the scenario */
        int dlt;            /* what libpcap reports for it */
        double tol;         /* seconds the times may differ from the Ethernet capture */
    } variants[] = {
        {".sll.pcap", DLT_SLL_, 1e-3},      {".sll2.pcap", DLT_SLL2_, 1e-3},
        {".raw.pcap", DLT_RAW_, 1e-9},      {".null-le.pcap", DLT_NULL_, 1e-9},
        {".null-be.pcap", DLT_NULL_, 1e-9}, {".pcapng", DLT_EN10MB_, 1e-9},
    };
    for (size_t s = 0; s < sizeof scenarios / sizeof *scenarios; s++) {
        char name[128];
        snprintf(name, sizeof name, "%s.eth.pcap", scenarios[s]);
        ld_hs_file_stats st;
        ld_hs_table *ref = fixture(name, &st);
        CU_ASSERT_EQUAL(st.dlt, DLT_EN10MB_);
        CU_ASSERT_TRUE(ld_hs_count(ref) > 0);
        unsigned long packets = st.packets;
        for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
            snprintf(name, sizeof name, "%s%s", scenarios[s], variants[v].suffix);
            ld_hs_table *t = fixture(name, &st);
            CU_ASSERT_EQUAL(st.dlt, variants[v].dlt);
            CU_ASSERT_EQUAL(st.packets, packets);
            CU_ASSERT_EQUAL(st.used, packets);
            CU_ASSERT_EQUAL(st.malformed, 0);
            int same = same_flows(ref, t, variants[v].tol);
            if (!same)
                fprintf(stderr, "%s differs from %s.eth.pcap\n", name, scenarios[s]);
            CU_ASSERT_TRUE(same);
            ld_hs_free(t);
        }
        ld_hs_free(ref);
    }
}

static void max_packets_stops_reading_early(void) {
    ld_hs_table *t = ld_hs_create(0);
    ld_hs_file_stats st;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_hs_read_file(t, PCAP_DIR "partial.eth.pcap", 3, &st, &err), LD_OK);
    CU_ASSERT_EQUAL(st.packets, 3);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(ld_hs_at(t, 0)), "S1"); /* not closed yet */
    /* stats and err are optional */
    CU_ASSERT_EQUAL(ld_hs_read_file(t, PCAP_DIR "dropped.eth.pcap", 0, NULL, NULL), LD_OK);
    CU_ASSERT_EQUAL(ld_hs_read_file(t, PCAP_DIR "empty.pcap", 0, NULL, NULL), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_hs_count(t), 2);
    ld_hs_free(t);
}

/* --- file errors ----------------------------------------------------------- */

static void file_errors_say_what_is_wrong(void) {
    file_error(PCAP_DIR "no-such-capture.pcap", "no such file");
    file_error(PCAP_DIR "dropped.eth.pcap/inside", "no such file");
    file_error(LD_TEST_DATA "/pcap", "is a directory");
    file_error(PCAP_DIR "empty.pcap", "empty file");
    file_error(PCAP_DIR "not-pcap.txt", "not a pcap or pcapng file");
    file_error(PCAP_DIR "README.md", "not a pcap or pcapng file");
    file_error(PCAP_DIR "truncated-header.pcap", "truncated file header");
    file_error(PCAP_DIR "truncated.pcap", "truncated after packet 1");
    file_error(PCAP_DIR "truncated.pcapng", "truncated after packet 1");
    file_error(PCAP_DIR "unsupported-dlt.pcap",
               "link type 105 (IEEE802_11) is not supported; linkdoctor reads Ethernet, Linux "
               "cooked v1/v2, raw IP and BSD loopback captures");

    /* corrupt: libpcap's own words, after ours */
    ld_hs_table *t = ld_hs_create(0);
    ld_hs_file_stats st;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_hs_read_file(t, PCAP_DIR "corrupt.pcap", 0, &st, &err), LD_EINVAL);
    CU_ASSERT_EQUAL(strncmp(err.msg, "corrupt after packet 1 (", 24), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "capture length"));
    CU_ASSERT_EQUAL(st.packets, 1);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1); /* what was read before stays */
    ld_hs_free(t);

    /* three bytes are no magic number */
    const char *tiny = LD_TEST_OUT "/hs-tiny.pcap";
    FILE *f = fopen(tiny, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite("\xd4\xc3\xb2", 1, 3, f);
    fclose(f);
    file_error(tiny, "not a pcap or pcapng file");
    unlink(tiny);

    if (geteuid() != 0) { /* root reads anything */
        const char *locked = LD_TEST_OUT "/hs-unreadable.pcap";
        f = fopen(locked, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fclose(f);
        chmod(locked, 0);
        file_error(locked, "permission denied");
        unlink(locked);
    }
}

/* --- built packets --------------------------------------------------------- */

static void short_or_inconsistent_ip_headers_are_malformed(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[128];
    size_t n = tcp4(p, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    CU_ASSERT_EQUAL(raw(t, p, 19, 1), LD_HS_MALFORMED); /* shorter than an IPv4 header */
    CU_ASSERT_EQUAL(raw(t, p, 0, 1), LD_HS_MALFORMED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_RAW_, NULL, 0, 1), LD_HS_MALFORMED);
    p[0] = 0x44; /* IHL 16 bytes */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    p[0] = 0x4f; /* IHL 60 bytes, past the 40 captured */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    p[0] = 0x45;
    put16(p + 2, 12); /* total length shorter than the header */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    put16(p + 2, 40);
    p[0] = 0x55; /* version 5 */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    p[0] = 0x45;
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, n, 1), LD_HS_MALFORMED); /* v4 in a v6 DLT */
    CU_ASSERT_EQUAL(raw(t, p, 39, 1), LD_HS_MALFORMED); /* TCP header cut to 19 bytes */
    CU_ASSERT_EQUAL(ld_hs_count(t), 0);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1);
    ld_hs_free(t);
}

static void tcp_data_offset_must_fit_the_ip_length(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[128];
    size_t n = tcp4(p, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    p[32] = 4 << 4; /* data offset 16 bytes */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    p[32] = 6 << 4; /* 24 bytes, but the IP length leaves 20 */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    /* a snap length that cut the options is fine: the IP length vouches for them */
    put16(p + 2, 44);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_USED);
    /* Ethernet padding after a short packet is not payload */
    uint8_t q[128];
    n = tcp4(q, "10.0.0.1", 40001, "10.0.0.2", 443, TCP_SYN);
    memset(q + n, 0xee, 20);
    CU_ASSERT_EQUAL(raw(t, q, n + 20, 1), LD_HS_USED);
    /* total length 0 is a TSO super-packet seen on its sender */
    n = tcp4(q, "10.0.0.1", 40002, "10.0.0.2", 443, TCP_SYN);
    put16(q + 2, 0);
    CU_ASSERT_EQUAL(raw(t, q, n, 1), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 3);
    ld_hs_free(t);
}

static void fragments_and_other_protocols_are_ignored(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[128], f[160];
    size_t n = tcp4(p, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    put16(p + 6, 0x0010); /* fragment offset 128 */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_IGNORED);
    put16(p + 6, 0x2000); /* first fragment, more to come: it has the TCP header */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_USED);
    n = tcp4(p, "10.0.0.1", 40000, "10.0.0.2", 53, 0);
    p[9] = 17; /* UDP */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_IGNORED);
    uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, f, eth(f, 0x0806, arp, sizeof arp), 1),
                    LD_HS_IGNORED);
    ip6_hdr(p, "fd00::1", "fd00::2", 59, 0); /* no next header */
    CU_ASSERT_EQUAL(raw(t, p, 40, 1), LD_HS_IGNORED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1);
    ld_hs_free(t);
}

static void ipv6_extension_headers_are_walked(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[256];
    /* hop-by-hop (8) -> destination options (16) -> fragment (8, offset 0) -> TCP */
    ip6_hdr(p, "fd00::1", "fd00::2", 0, 8 + 16 + 8 + 20);
    uint8_t *q = p + 40;
    memset(q, 0, 32);
    q[0] = 60;
    q[1] = 0;
    q[8] = 44;
    q[9] = 1;
    q[24] = 6;
    put16(q + 26, 0x0001); /* offset 0, more fragments */
    tcp_hdr(q + 32, 40000, 443, TCP_SYN);
    size_t n = 40 + 32 + 20;
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, n, 1), LD_HS_USED);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_TRUE(is_ip(&f->client, "fd00::1"));
    CU_ASSERT_EQUAL(f->client_port, 40000);
    CU_ASSERT_EQUAL(f->server_port, 443);
    CU_ASSERT_EQUAL(f->nsyn, 1);

    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, 40 + 30, 1), LD_HS_MALFORMED); /* in a header */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, 40 + 12, 1), LD_HS_MALFORMED);
    q[9] = 40; /* destination options claims 328 bytes */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, n, 1), LD_HS_MALFORMED);
    q[9] = 1;
    put16(q + 26, 0x0008); /* a non-first fragment */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, n, 1), LD_HS_IGNORED);
    /* an authentication header counts in 4-byte words: 12 bytes here */
    ip6_hdr(p, "fd00::1", "fd00::2", 51, 12 + 20);
    memset(p + 40, 0, 12);
    p[40] = 6;
    p[41] = 1;
    tcp_hdr(p + 52, 40000, 443, TCP_SYN);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, 72, 2), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_at(t, 0)->nsyn, 2);
    /* seventeen empty hop-by-hop headers is no real packet */
    ip6_hdr(p, "fd00::1", "fd00::2", 0, 17 * 8 + 20);
    for (int i = 0; i < 17; i++) {
        memset(p + 40 + 8 * i, 0, 8);
        p[40 + 8 * i] = i < 16 ? 0 : 6;
    }
    tcp_hdr(p + 40 + 17 * 8, 40000, 443, TCP_SYN);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, p, 40 + 17 * 8 + 20, 3), LD_HS_MALFORMED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1);
    ld_hs_free(t);
}

static void icmp_must_quote_ip_and_ports(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t syn[64], p[160];
    tcp4(syn, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    /* the quoted IP header and 4 bytes of TCP: the ports, not the sequence number */
    size_t n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 1, syn, 24);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 1, syn, 10); /* half an IP header */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 1, syn, 0);
    CU_ASSERT_EQUAL(raw(t, p, n - 4, 1), LD_HS_MALFORMED); /* ICMP header cut */
    uint8_t syn6[64];
    tcp6(syn6, "fd00::1", 40000, "fd00::2", 443, TCP_SYN);
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 1, syn6, 48); /* ICMPv4 quoting IPv6 */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    n = icmp6(p, "fd00::fe", "fd00::1", 1, 4, syn6, 44);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 8, 0, syn, 28); /* echo request */
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_IGNORED);
    syn[9] = 17; /* about a UDP datagram */
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 3, syn, 28);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_IGNORED);
    syn[9] = 6;
    /* bytes past the IP total length are link padding, even when they look like a quote */
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 1, syn, 28);
    put16(p + 2, 28 + 24);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_MALFORMED);
    put16(syn + 6, 0x0100); /* about a non-first fragment */
    n = icmp4(p, "10.0.0.254", "10.0.0.1", 3, 3, syn, 28);
    CU_ASSERT_EQUAL(raw(t, p, n, 1), LD_HS_IGNORED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 0);
    ld_hs_free(t);
}

static void icmp_before_the_syn_starts_the_flow(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t syn[64], p[160];
    size_t sn = tcp4(syn, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    size_t n = icmp4(p, "10.0.0.254", "10.0.0.1", 11, 0, syn, 28); /* exactly 8 TCP bytes */
    CU_ASSERT_EQUAL(raw(t, p, n, 5.0), LD_HS_USED);
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_EQUAL(f->nsyn, 0);
    CU_ASSERT_TRUE(is_ip(&f->client, "10.0.0.1"));
    CU_ASSERT_EQUAL(f->client_port, 40000);
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(f), "ttl-exceeded");
    CU_ASSERT_TRUE(is_ip(&f->icmp_from, "10.0.0.254"));
    /* a later SYN of the same 4-tuple joins it; the time order is kept */
    CU_ASSERT_EQUAL(raw(t, syn, sn, 4.0), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1);
    CU_ASSERT_EQUAL(f->nsyn, 1);
    CU_ASSERT_DOUBLE_EQUAL(f->first_ts, 4.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f->last_ts, 5.0, 1e-9);
    /* only the first ICMP error is kept */
    n = icmp4(p, "10.0.0.2", "10.0.0.1", 3, 13, syn, 28);
    CU_ASSERT_EQUAL(raw(t, p, n, 6.0), LD_HS_USED);
    CU_ASSERT_EQUAL(f->icmp_type, 11);
    CU_ASSERT_DOUBLE_EQUAL(f->icmp_ts, 5.0, 1e-9);
    CU_ASSERT_EQUAL(f->packets, 3);
    /* ICMPv6 time exceeded */
    uint8_t syn6[64];
    tcp6(syn6, "fd00::1", 40000, "fd00::2", 443, TCP_SYN);
    n = icmp6(p, "fd00::fe", "fd00::1", 3, 0, syn6, 48);
    CU_ASSERT_EQUAL(raw(t, p, n, 7.0), LD_HS_USED);
    f = ld_hs_at(t, 1);
    CU_ASSERT_TRUE(f->icmp_v6);
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(f), "ttl-exceeded");
    CU_ASSERT_TRUE(is_ip(&f->client, "fd00::1"));
    ld_hs_free(t);
}

static void vlan_tags_are_skipped(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t seg[64], tagged[128], f[160];
    size_t sn = tcp4(seg, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    /* 802.1ad outer tag, 802.1Q inner tag, then IPv4 */
    uint8_t tags[8] = {0x00, 0x64, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00};
    memcpy(tagged, tags, 8);
    memcpy(tagged + 8, seg, sn);
    size_t n = eth(f, 0x88a8, tagged, 8 + sn);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, f, n, 1), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 1);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, f, 14 + 6, 1), LD_HS_MALFORMED); /* in a tag */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, f, 13, 1), LD_HS_MALFORMED);
    /* nine stacked tags */
    for (int i = 0; i < 9; i++) {
        put16(tagged + 4 * i, 1);
        put16(tagged + 4 * i + 2, 0x8100);
    }
    n = eth(f, 0x8100, tagged, 9 * 4 + 20);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, f, n, 1), LD_HS_MALFORMED);
    /* an IPv6 ethertype around an IPv4 packet */
    n = eth(f, 0x86dd, seg, sn);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, f, n, 1), LD_HS_MALFORMED);
    ld_hs_free(t);
}

static void cooked_outgoing_loopback_copy_is_skipped(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t seg[64], p[128];
    size_t sn = tcp4(seg, "127.0.0.1", 40000, "127.0.0.1", 8080, TCP_SYN);
    /* v1: packet type, ARPHRD type, address length, address[8], protocol */
    memset(p, 0, 16);
    put16(p, 4);
    put16(p + 2, 772);
    put16(p + 14, 0x0800);
    memcpy(p + 16, seg, sn);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL_, p, 16 + sn, 1), LD_HS_IGNORED);
    put16(p, 0); /* the incoming copy */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL_, p, 16 + sn, 1), LD_HS_USED);
    put16(p, 4);
    put16(p + 2, 1); /* outgoing on Ethernet: no duplicate, keep it */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL_, p, 16 + sn, 2), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL_, p, 15, 2), LD_HS_MALFORMED);
    CU_ASSERT_EQUAL(ld_hs_at(t, 0)->nsyn, 2);
    /* v2: protocol, reserved, if_index, ARPHRD type, packet type, address length, address[8] */
    memset(p, 0, 20);
    put16(p, 0x0800);
    put16(p + 8, 772);
    p[10] = 4;
    memcpy(p + 20, seg, sn);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL2_, p, 20 + sn, 3), LD_HS_IGNORED);
    p[10] = 0;
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL2_, p, 20 + sn, 3), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL2_, p, 19, 3), LD_HS_MALFORMED);
    CU_ASSERT_EQUAL(ld_hs_at(t, 0)->nsyn, 3);
    ld_hs_free(t);
}

static void bsd_loopback_family_in_either_byte_order(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t seg[64], seg6[80], p[128];
    size_t sn = tcp4(seg, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    size_t sn6 = tcp6(seg6, "fd00::1", 40000, "fd00::2", 443, TCP_SYN);
    static const uint8_t v4[][4] = {{2, 0, 0, 0}, {0, 0, 0, 2}};
    static const uint8_t v6[][4] = {{24, 0, 0, 0}, {0, 0, 0, 28}, {30, 0, 0, 0}, {0, 0, 0, 10}};
    for (size_t i = 0; i < 2; i++) {
        memcpy(p, v4[i], 4);
        memcpy(p + 4, seg, sn);
        CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_NULL_, p, 4 + sn, 1), LD_HS_USED);
        CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_LOOP_, p, 4 + sn, 1), LD_HS_USED);
    }
    for (size_t i = 0; i < 4; i++) {
        memcpy(p, v6[i], 4);
        memcpy(p + 4, seg6, sn6);
        CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_NULL_, p, 4 + sn6, 1), LD_HS_USED);
    }
    memcpy(p, "\x07\0\0\0", 4); /* some other family */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_NULL_, p, 4 + sn6, 1), LD_HS_IGNORED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_NULL_, p, 3, 1), LD_HS_MALFORMED);
    memcpy(p, v4[0], 4); /* says IPv4, holds IPv6 */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_NULL_, p, 4 + sn6, 1), LD_HS_MALFORMED);
    CU_ASSERT_EQUAL(ld_hs_count(t), 2);
    CU_ASSERT_EQUAL(ld_hs_at(t, 0)->nsyn, 4);
    CU_ASSERT_EQUAL(ld_hs_at(t, 1)->nsyn, 4);
    /* DLT_IPV4 / DLT_IPV6 take only their own version */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV4_, seg, sn, 2), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV6_, seg6, sn6, 2), LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_IPV4_, seg6, sn6, 2), LD_HS_MALFORMED);
    ld_hs_free(t);
}

static void supported_link_types(void) {
    const int yes[] = {DLT_NULL_, DLT_EN10MB_, DLT_RAW_,  DLT_LOOP_,
                       DLT_SLL_,  DLT_IPV4_,   DLT_IPV6_, DLT_SLL2_};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        CU_ASSERT_TRUE(ld_hs_dlt_supported(yes[i]));
    const int no[] = {-1, 6, 9, 105, 127, 147, 65535};
    ld_hs_table *t = ld_hs_create(0);
    uint8_t seg[64];
    size_t sn = tcp4(seg, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        CU_ASSERT_FALSE(ld_hs_dlt_supported(no[i]));
        CU_ASSERT_EQUAL(ld_hs_packet(t, no[i], seg, sn, 1), LD_HS_IGNORED);
    }
    CU_ASSERT_EQUAL(ld_hs_count(t), 0);
    ld_hs_free(t);
}

static void table_limit_is_full_but_known_flows_still_update(void) {
    ld_hs_table *t = ld_hs_create(2);
    uint8_t p[64];
    CU_ASSERT_EQUAL(raw(t, p, tcp4(p, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN), 1), LD_HS_USED);
    CU_ASSERT_EQUAL(raw(t, p, tcp4(p, "10.0.0.1", 40001, "10.0.0.2", 443, TCP_SYN), 1), LD_HS_USED);
    CU_ASSERT_EQUAL(raw(t, p, tcp4(p, "10.0.0.1", 40002, "10.0.0.2", 443, TCP_SYN), 1), LD_HS_FULL);
    uint8_t syn[64], q[128];
    tcp4(syn, "10.0.0.1", 40003, "10.0.0.2", 443, TCP_SYN);
    CU_ASSERT_EQUAL(raw(t, q, icmp4(q, "10.0.0.2", "10.0.0.1", 3, 3, syn, 28), 1), LD_HS_FULL);
    CU_ASSERT_EQUAL(ld_hs_count(t), 2);
    CU_ASSERT_EQUAL(raw(t, p, tcp4(p, "10.0.0.2", 443, "10.0.0.1", 40000, TCP_SYN | TCP_ACK), 2),
                    LD_HS_USED);
    CU_ASSERT_TRUE(ld_hs_at(t, 0)->synack_seen);
    ld_hs_free(t);
}

static void many_flows_keep_order_and_addresses(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[64];
    char src[32];
    raw(t, p, tcp4(p, "10.1.0.0", 1024, "10.0.0.2", 443, TCP_SYN), 0);
    const ld_hs_flow *first = ld_hs_at(t, 0);
    for (unsigned i = 1; i < 5000; i++) {
        snprintf(src, sizeof src, "10.1.%u.%u", i / 256, i % 256);
        CU_ASSERT_EQUAL(raw(t, p, tcp4(p, src, (uint16_t)(1024 + i), "10.0.0.2", 443, TCP_SYN), i),
                        LD_HS_USED);
    }
    CU_ASSERT_EQUAL_FATAL(ld_hs_count(t), 5000);
    CU_ASSERT_PTR_EQUAL(ld_hs_at(t, 0), first); /* pointers survive growth */
    ld_addr server = ip("10.0.0.2");
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(src, sizeof src, "10.1.%u.%u", i / 256, i % 256);
        ld_addr client = ip(src);
        const ld_hs_flow *f = ld_hs_find(t, &client, (uint16_t)(1024 + i), &server, 443);
        CU_ASSERT_PTR_EQUAL(f, ld_hs_at(t, i));
    }
    /* every flow answered: one lookup per packet in the other direction */
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(src, sizeof src, "10.1.%u.%u", i / 256, i % 256);
        raw(t, p, tcp4(p, "10.0.0.2", 443, src, (uint16_t)(1024 + i), TCP_RST | TCP_ACK), 9999);
    }
    CU_ASSERT_EQUAL(ld_hs_count(t), 5000);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(ld_hs_at(t, 4321)), "REJ");
    ld_hs_free(t);
}

static void retransmissions_counted_times_kept_for_the_first_eight(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[64];
    size_t n = tcp4(p, "10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(raw(t, p, n, 100.0 + (1 << i)), LD_HS_USED);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_EQUAL(f->nsyn, 10);
    CU_ASSERT_DOUBLE_EQUAL(f->syn_ts[0], 101.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f->syn_ts[LD_HS_MAX_SYNS - 1], 100.0 + (1 << (LD_HS_MAX_SYNS - 1)),
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f->last_ts, 100.0 + 512, 1e-9);
    ld_hs_free(t);
}

static void roles_without_a_syn(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[64];
    /* a SYN-ACK alone: the client is whom it is sent to */
    raw(t, p, tcp4(p, "10.0.0.2", 443, "10.0.0.1", 40000, TCP_SYN | TCP_ACK), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_TRUE(is_ip(&f->client, "10.0.0.1"));
    CU_ASSERT_EQUAL(f->client_port, 40000);
    CU_ASSERT_EQUAL(f->nsyn, 0);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "S1");
    raw(t, p, tcp4(p, "10.0.0.2", 443, "10.0.0.1", 40000, TCP_RST), 2);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "RSTRH");
    /* mid-stream: the higher port is the client's, whoever speaks first */
    raw(t, p, tcp4(p, "10.0.0.2", 443, "10.0.0.1", 50000, TCP_ACK), 3);
    f = ld_hs_at(t, 1);
    CU_ASSERT_TRUE(is_ip(&f->client, "10.0.0.1"));
    CU_ASSERT_EQUAL(f->client_port, 50000);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "OTH");
    raw(t, p, tcp4(p, "10.0.0.1", 50001, "10.0.0.2", 443, TCP_ACK), 3);
    CU_ASSERT_EQUAL(ld_hs_at(t, 2)->client_port, 50001);
    /* a SYN from the server's side (simultaneous open) is not a client SYN */
    raw(t, p, tcp4(p, "10.0.0.2", 443, "10.0.0.1", 50000, TCP_SYN), 4);
    CU_ASSERT_EQUAL(ld_hs_at(t, 1)->nsyn, 0);
    CU_ASSERT_EQUAL(ld_hs_count(t), 3);
    ld_hs_free(t);
}

static void a_flow_through_its_states(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[64];
    const char *c = "10.0.0.1", *s = "10.0.0.2";
    raw(t, p, tcp4(p, c, 40000, s, 443, TCP_SYN), 1);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "S0");
    raw(t, p, tcp4(p, s, 443, c, 40000, TCP_SYN | TCP_ACK), 2);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "S1");
    CU_ASSERT_FALSE(f->ack_seen);
    raw(t, p, tcp4(p, c, 40000, s, 443, TCP_ACK), 3);
    CU_ASSERT_TRUE(f->ack_seen);
    raw(t, p, tcp4(p, s, 443, c, 40000, TCP_FIN | TCP_ACK), 4);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "S3");
    raw(t, p, tcp4(p, c, 40000, s, 443, TCP_FIN | TCP_ACK), 5);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "SF");
    raw(t, p, tcp4(p, c, 40000, s, 443, TCP_RST), 6);
    CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(f), "RSTO");
    CU_ASSERT_EQUAL(f->packets, 6);
    CU_ASSERT_DOUBLE_EQUAL(f->synack_ts, 2.0, 1e-9);
    ld_hs_free(t);
}

static void conn_state_follows_zeek(void) {
    struct {
        unsigned nsyn;
        int synack, rst_s, rst_c, fin_c, fin_s;
        const char *state;
    } cases[] = {
        {1, 0, 0, 0, 0, 0, "S0"},   {3, 0, 1, 0, 0, 0, "REJ"},  {1, 0, 0, 1, 0, 0, "RSTOS0"},
        {1, 0, 0, 0, 1, 0, "SH"},   {1, 1, 0, 0, 0, 0, "S1"},   {1, 1, 0, 0, 1, 1, "SF"},
        {1, 1, 0, 0, 1, 0, "S2"},   {1, 1, 0, 0, 0, 1, "S3"},   {1, 1, 0, 1, 0, 0, "RSTO"},
        {1, 1, 1, 0, 0, 0, "RSTR"}, {1, 1, 1, 1, 1, 1, "RSTR"}, {0, 1, 1, 0, 0, 0, "RSTRH"},
        {0, 1, 0, 0, 0, 1, "SHR"},  {0, 0, 0, 0, 0, 0, "OTH"},  {0, 0, 1, 1, 1, 1, "OTH"},
        {0, 1, 0, 0, 1, 1, "SF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ld_hs_flow f;
        memset(&f, 0, sizeof f);
        f.nsyn = cases[i].nsyn;
        f.synack_seen = cases[i].synack;
        f.rst_from_server = cases[i].rst_s;
        f.rst_from_client = cases[i].rst_c;
        f.fin_from_client = cases[i].fin_c;
        f.fin_from_server = cases[i].fin_s;
        if (strcmp(ld_hs_conn_state(&f), cases[i].state) != 0)
            fprintf(stderr, "case %zu: %s, expected %s\n", i, ld_hs_conn_state(&f), cases[i].state);
        CU_ASSERT_STRING_EQUAL(ld_hs_conn_state(&f), cases[i].state);
    }
    CU_ASSERT_PTR_NULL(ld_hs_conn_state(NULL));
}

static void icmp_reasons_name_every_code(void) {
    static const char *v4[] = {"net-unreachable",
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
                               "precedence-cutoff"};
    static const char *v6[] = {
        "no-route",         "admin-prohibited",     "beyond-scope", "address-unreachable",
        "port-unreachable", "source-policy-failed", "reject-route"};
    ld_hs_flow f;
    memset(&f, 0, sizeof f);
    CU_ASSERT_PTR_NULL(ld_hs_icmp_reason(&f));
    CU_ASSERT_PTR_NULL(ld_hs_icmp_reason(NULL));
    f.icmp_seen = 1;
    f.icmp_type = 3;
    for (int code = 0; code < 16; code++) {
        f.icmp_code = code;
        CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), v4[code]);
    }
    f.icmp_code = 16;
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "icmp-error");
    f.icmp_code = -1;
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "icmp-error");
    f.icmp_type = 11;
    f.icmp_code = 0;
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "ttl-exceeded");
    f.icmp_type = 12;
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "icmp-error");
    f.icmp_v6 = 1;
    f.icmp_type = 1;
    for (int code = 0; code < 7; code++) {
        f.icmp_code = code;
        CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), v6[code]);
    }
    f.icmp_code = 7;
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "icmp-error");
    f.icmp_type = 3;
    f.icmp_code = 1;
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "ttl-exceeded");
    f.icmp_type = 11; /* not an ICMPv6 time exceeded */
    CU_ASSERT_STRING_EQUAL(ld_hs_icmp_reason(&f), "icmp-error");
}

static void find_ignores_zones_and_null_is_harmless(void) {
    ld_hs_free(NULL);
    CU_ASSERT_EQUAL(ld_hs_count(NULL), 0);
    CU_ASSERT_PTR_NULL(ld_hs_at(NULL, 0));
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[80];
    raw(t, p, tcp6(p, "fe80::1", 40000, "fe80::2", 443, TCP_SYN), 1);
    ld_addr c = ip("fe80::1%lo"), s = ip("fe80::2%lo");
    CU_ASSERT_NOT_EQUAL(c.scope_id, 0);
    CU_ASSERT_PTR_EQUAL(ld_hs_find(t, &c, 40000, &s, 443), ld_hs_at(t, 0));
    ld_addr v4 = ip("10.0.0.1");
    CU_ASSERT_PTR_NULL(ld_hs_find(t, &v4, 40000, &s, 443));
    CU_ASSERT_PTR_NULL(ld_hs_find(t, &c, 40001, &s, 443));
    CU_ASSERT_PTR_NULL(ld_hs_find(t, NULL, 40000, &s, 443));
    CU_ASSERT_PTR_NULL(ld_hs_at(t, 1));
    ld_hs_free(t);
}

/* --- a SYN flood, answers the client never got, ARP / ND ------------------ */

/* The keep callback of the flood tests: the one watched attempt. */
static int keep_watched(const ld_hs_flow *f, void *arg) {
    const ld_hs_flow *w = arg;
    return ld_hs_flow_matches(f, &w->client, w->client_port, &w->server, w->server_port);
}

/* n spoofed SYNs to 10.0.9.53:19530, each from its own source address and port. */
static void flood(ld_hs_table *t, unsigned first, unsigned n, ld_hs_result want) {
    uint8_t p[64];
    char src[32];
    unsigned bad = 0;
    for (unsigned i = first; i < first + n; i++) {
        snprintf(src, sizeof src, "198.18.%u.%u", (i >> 8) & 0xff, i & 0xff);
        size_t len = tcp4(p, src, (uint16_t)(1024 + (i >> 16)), "10.0.9.53", 19530, TCP_SYN);
        bad += raw(t, p, len, 50.0 + i * 1e-6) != want;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void syn_flood_fills_a_table_that_does_not_evict(void) {
    /* A capture file: a full table ignores new flows (analyze reports what it kept). */
    ld_hs_table *t = ld_hs_create(0);
    flood(t, 0, LD_HS_DEFAULT_MAX_FLOWS, LD_HS_USED);
    flood(t, LD_HS_DEFAULT_MAX_FLOWS, 70000 - LD_HS_DEFAULT_MAX_FLOWS, LD_HS_FULL);
    uint8_t p[64];
    CU_ASSERT_EQUAL(raw(t, p, tcp4(p, "10.0.1.10", 40000, "10.0.2.23", 19530, TCP_SYN), 100),
                    LD_HS_FULL);
    CU_ASSERT_EQUAL(ld_hs_count(t), LD_HS_DEFAULT_MAX_FLOWS);
    CU_ASSERT_EQUAL(ld_hs_evicted(t), 0);
    ld_hs_free(t);
}

static void syn_flood_evicts_what_no_watch_needs_and_the_attempt_is_tracked(void) {
    ld_hs_table *t = ld_hs_create(0);
    ld_hs_flow watched;
    memset(&watched, 0, sizeof watched);
    watched.client = ip("10.0.1.10");
    watched.client_port = 40000;
    watched.server = ip("10.0.2.23");
    watched.server_port = 19530;
    ld_hs_set_keep(t, keep_watched, &watched);
    flood(t, 0, 70000, LD_HS_USED);
    CU_ASSERT_EQUAL(ld_hs_count(t), LD_HS_DEFAULT_MAX_FLOWS);
    CU_ASSERT_EQUAL(ld_hs_evicted(t), 70000 - LD_HS_DEFAULT_MAX_FLOWS);
    /* The real attempt arrives in a full table of flood flows: it is tracked. */
    uint8_t p[64];
    size_t syn = tcp4(p, "10.0.1.10", 40000, "10.0.2.23", 19530, TCP_SYN);
    CU_ASSERT_EQUAL(raw(t, p, syn, 100.0), LD_HS_USED);
    /* The flood goes on, the attempt's flow stays; its retransmission and the
     * answer land on it. */
    flood(t, 70000, 70000, LD_HS_USED);
    CU_ASSERT_EQUAL(raw(t, p, syn, 101.0), LD_HS_USED);
    CU_ASSERT_EQUAL(
        raw(t, p, tcp4(p, "10.0.2.23", 19530, "10.0.1.10", 40000, TCP_SYN | TCP_ACK), 101.001),
        LD_HS_USED);
    const ld_hs_flow *f = ld_hs_find(t, &watched.client, 40000, &watched.server, 19530);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->nsyn, 2);
    CU_ASSERT_TRUE(f->synack_seen);
    CU_ASSERT_EQUAL(ld_hs_count(t), LD_HS_DEFAULT_MAX_FLOWS);
    CU_ASSERT_EQUAL(ld_hs_evicted(t), 140000 + 1 - LD_HS_DEFAULT_MAX_FLOWS);
    /* Oldest first: the newest flood flows are still found, the oldest are
     * gone, and the index agrees with the storage for every flow. */
    ld_addr server = ip("10.0.9.53"), src;
    char text[32];
    snprintf(text, sizeof text, "198.18.%u.%u", (139999u >> 8) & 0xff, 139999u & 0xff);
    src = ip(text);
    CU_ASSERT_PTR_NOT_NULL(ld_hs_find(t, &src, (uint16_t)(1024 + (139999u >> 16)), &server, 19530));
    src = ip("198.18.0.0");
    CU_ASSERT_PTR_NULL(ld_hs_find(t, &src, 1024, &server, 19530));
    unsigned lost = 0;
    for (size_t i = 0; i < ld_hs_count(t); i++) {
        const ld_hs_flow *g = ld_hs_at(t, i);
        lost += ld_hs_find(t, &g->client, g->client_port, &g->server, g->server_port) != g;
    }
    CU_ASSERT_EQUAL(lost, 0);
    ld_hs_free(t);
}

static int keep_all(const ld_hs_flow *f, void *arg) {
    (void)f;
    (void)arg;
    return 1;
}

static void table_whose_flows_are_all_needed_is_full(void) {
    ld_hs_table *t = ld_hs_create(4);
    ld_hs_set_keep(t, keep_all, NULL);
    flood(t, 0, 4, LD_HS_USED);
    flood(t, 4, 1, LD_HS_FULL);
    CU_ASSERT_EQUAL(ld_hs_evicted(t), 0);
    CU_ASSERT_EQUAL(ld_hs_count(t), 4);
    ld_hs_free(t);
}

static void answer_then_the_syn_again_is_a_reply_the_client_never_got(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t p[64];
    const char *c = "10.0.0.1", *s = "10.0.0.2";
    /* SYN, SYN-ACK, SYN again: the SYN-ACK never reached the socket. */
    raw(t, p, tcp4(p, c, 40000, s, 443, TCP_SYN), 1.0);
    raw(t, p, tcp4(p, s, 443, c, 40000, TCP_SYN | TCP_ACK), 1.0001);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_FALSE(ld_hs_reply_lost(f)); /* not yet: the socket may still answer */
    raw(t, p, tcp4(p, c, 40000, s, 443, TCP_SYN), 2.0);
    CU_ASSERT_TRUE(ld_hs_reply_lost(f));
    CU_ASSERT_DOUBLE_EQUAL(f->last_syn_ts, 2.0, 1e-9);
    /* SYN, SYN-ACK, ACK: received. */
    raw(t, p, tcp4(p, c, 40001, s, 443, TCP_SYN), 1.0);
    raw(t, p, tcp4(p, s, 443, c, 40001, TCP_SYN | TCP_ACK), 1.0001);
    raw(t, p, tcp4(p, c, 40001, s, 443, TCP_ACK), 1.0002);
    CU_ASSERT_FALSE(ld_hs_reply_lost(ld_hs_at(t, 1)));
    /* SYN, SYN again, then the SYN-ACK: an answer that came late, not one ignored. */
    raw(t, p, tcp4(p, c, 40002, s, 443, TCP_SYN), 1.0);
    raw(t, p, tcp4(p, c, 40002, s, 443, TCP_SYN), 2.0);
    raw(t, p, tcp4(p, s, 443, c, 40002, TCP_SYN | TCP_ACK), 2.0001);
    CU_ASSERT_FALSE(ld_hs_reply_lost(ld_hs_at(t, 2)));
    /* SYN, RST, SYN: the reset never reached the socket either. */
    raw(t, p, tcp4(p, c, 40003, s, 443, TCP_SYN), 1.0);
    raw(t, p, tcp4(p, s, 443, c, 40003, TCP_RST | TCP_ACK), 1.0001);
    raw(t, p, tcp4(p, c, 40003, s, 443, TCP_SYN), 2.0);
    CU_ASSERT_TRUE(ld_hs_reply_lost(ld_hs_at(t, 3)));
    /* Unanswered SYNs are not a lost reply. */
    raw(t, p, tcp4(p, c, 40004, s, 443, TCP_SYN), 1.0);
    raw(t, p, tcp4(p, c, 40004, s, 443, TCP_SYN), 2.0);
    CU_ASSERT_FALSE(ld_hs_reply_lost(ld_hs_at(t, 4)));
    CU_ASSERT_FALSE(ld_hs_reply_lost(NULL));
    ld_hs_free(t);
}

/* A Linux cooked v2 frame: protocol, interface index, packet type, payload. */
static size_t sll2(uint8_t *buf, unsigned proto, uint32_t ifindex, int pkttype,
                   const uint8_t *payload, size_t len) {
    memset(buf, 0, 20);
    put16(buf, proto);
    buf[4] = (uint8_t)(ifindex >> 24);
    buf[5] = (uint8_t)(ifindex >> 16);
    buf[6] = (uint8_t)(ifindex >> 8);
    buf[7] = (uint8_t)ifindex;
    put16(buf + 8, 1); /* ARPHRD_ETHER */
    buf[10] = (uint8_t)pkttype;
    memcpy(buf + 20, payload, len);
    return 20 + len;
}

static void cooked_headers_say_direction_and_interface(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t seg[64], p[128];
    const char *c = "10.0.0.1", *s = "10.0.0.2";
    /* The SYN leaves on interface 2, the SYN-ACK comes in on interface 3. */
    size_t n = tcp4(seg, c, 40000, s, 443, TCP_SYN);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL2_, p, sll2(p, 0x0800, 2, 4, seg, n), 1), LD_HS_USED);
    n = tcp4(seg, s, 443, c, 40000, TCP_SYN | TCP_ACK);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL2_, p, sll2(p, 0x0800, 3, 0, seg, n), 1.1), LD_HS_USED);
    const ld_hs_flow *f = ld_hs_at(t, 0);
    CU_ASSERT_EQUAL(f->syn_dir, 1);
    CU_ASSERT_EQUAL(f->syn_ifindex, 2);
    CU_ASSERT_EQUAL(f->reply_ifindex, 3);
    /* A SYN captured arriving: this capture was not taken on the client. */
    n = tcp4(seg, c, 40001, s, 443, TCP_SYN);
    ld_hs_packet(t, DLT_SLL2_, p, sll2(p, 0x0800, 2, 4, seg, n), 1);
    ld_hs_packet(t, DLT_SLL2_, p, sll2(p, 0x0800, 5, 0, seg, n), 1);
    CU_ASSERT_EQUAL(ld_hs_at(t, 1)->syn_dir, -1);
    /* v1 says the direction only; Ethernet says neither. */
    memset(p, 0, 16);
    put16(p, 4);
    put16(p + 2, 1);
    put16(p + 14, 0x0800);
    n = tcp4(seg, c, 40002, s, 443, TCP_SYN);
    memcpy(p + 16, seg, n);
    ld_hs_packet(t, DLT_SLL_, p, 16 + n, 1);
    CU_ASSERT_EQUAL(ld_hs_at(t, 2)->syn_dir, 1);
    CU_ASSERT_EQUAL(ld_hs_at(t, 2)->syn_ifindex, 0);
    n = tcp4(seg, c, 40003, s, 443, TCP_SYN);
    ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0800, seg, n), 1);
    CU_ASSERT_EQUAL(ld_hs_at(t, 3)->syn_dir, 0);
    ld_hs_free(t);
}

/* An ARP packet (IPv4 over Ethernet) into buf. */
static size_t arp(uint8_t *buf, int op, const char *sender, const char *target) {
    memset(buf, 0, 28);
    put16(buf, 1);
    put16(buf + 2, 0x0800);
    buf[4] = 6;
    buf[5] = 4;
    put16(buf + 6, (unsigned)op);
    inet_pton(AF_INET, sender, buf + 14);
    inet_pton(AF_INET, target, buf + 24);
    return 28;
}

/* An ICMPv6 neighbour solicitation (135) or advertisement (136) for target. */
static size_t nd(uint8_t *buf, int type, const char *from, const char *to, const char *target) {
    ip6_hdr(buf, from, to, 58, 24);
    memset(buf + 40, 0, 24);
    buf[40] = (uint8_t)type;
    inet_pton(AF_INET6, target, buf + 48);
    return 64;
}

static void arp_and_neighbour_discovery_are_counted_per_address(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t a[32], p[128];
    /* Two requests for an address nobody owns, a cooked capture on "any". */
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_SLL2_, p,
                                     sll2(p, 0x0806, 2, 4, a, arp(a, 1, "10.0.1.10", "10.0.1.99")),
                                     10.0 + i),
                        LD_HS_USED);
    ld_addr gone = ip("10.0.1.99"), router = ip("10.0.1.1");
    const ld_hs_neigh *n = ld_hs_find_neigh(t, &gone);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(n->requests, 2);
    CU_ASSERT_EQUAL(n->replies, 0);
    CU_ASSERT_DOUBLE_EQUAL(n->first_request_ts, 10.0, 1e-9);
    /* A request answered, over Ethernet. */
    ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, arp(a, 1, "10.0.1.10", "10.0.1.1")), 11);
    ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, arp(a, 2, "10.0.1.1", "10.0.1.10")), 11);
    n = ld_hs_find_neigh(t, &router);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(n->requests, 1);
    CU_ASSERT_EQUAL(n->replies, 1);
    /* Announcements, probes and other hardware resolve nothing; short ARP is bad. */
    CU_ASSERT_EQUAL(
        ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, arp(a, 1, "10.0.1.5", "10.0.1.5")), 12),
        LD_HS_IGNORED);
    CU_ASSERT_EQUAL(
        ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, arp(a, 1, "0.0.0.0", "10.0.1.6")), 12),
        LD_HS_IGNORED);
    arp(a, 1, "10.0.1.10", "10.0.1.7");
    put16(a, 6); /* IEEE 802 hardware */
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, 28), 12), LD_HS_IGNORED);
    CU_ASSERT_EQUAL(ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, 27), 12), LD_HS_MALFORMED);
    /* IPv6: neighbour solicitation and advertisement for the target address. */
    CU_ASSERT_EQUAL(raw(t, p, nd(p, 135, "fd77::1", "ff02::1:ff00:99", "fd77::99"), 13),
                    LD_HS_USED);
    CU_ASSERT_EQUAL(raw(t, p, nd(p, 135, "fd77::1", "ff02::1:ff00:2", "fd77::2"), 13), LD_HS_USED);
    CU_ASSERT_EQUAL(raw(t, p, nd(p, 136, "fd77::2", "fd77::1", "fd77::2"), 13), LD_HS_USED);
    CU_ASSERT_EQUAL(raw(t, p, nd(p, 135, "fd77::1", "fd77::2", "fd77::2") - 1, 13),
                    LD_HS_MALFORMED);
    ld_addr v6gone = ip("fd77::99"), v6peer = ip("fd77::2%lo");
    CU_ASSERT_EQUAL(ld_hs_find_neigh(t, &v6gone)->requests, 1);
    CU_ASSERT_EQUAL(ld_hs_find_neigh(t, &v6gone)->replies, 0);
    CU_ASSERT_EQUAL(ld_hs_find_neigh(t, &v6peer)->replies, 1);
    CU_ASSERT_EQUAL(ld_hs_count(t), 0); /* no TCP flow from any of it */
    CU_ASSERT_PTR_NULL(ld_hs_find_neigh(NULL, &gone));
    ld_hs_free(t);
}

static void neighbour_table_keeps_the_addresses_seen_last(void) {
    ld_hs_table *t = ld_hs_create(0);
    uint8_t a[32], p[64];
    char target[32];
    for (unsigned i = 0; i < 100; i++) {
        snprintf(target, sizeof target, "10.0.5.%u", i);
        ld_hs_packet(t, DLT_EN10MB_, p, eth(p, 0x0806, a, arp(a, 1, "10.0.1.10", target)), i);
    }
    ld_addr old = ip("10.0.5.0"), recent = ip("10.0.5.99"), edge = ip("10.0.5.36");
    CU_ASSERT_PTR_NULL(ld_hs_find_neigh(t, &old));
    CU_ASSERT_PTR_NOT_NULL(ld_hs_find_neigh(t, &recent));
    CU_ASSERT_PTR_NOT_NULL(ld_hs_find_neigh(t, &edge)); /* the last LD_HS_MAX_NEIGHS */
    ld_hs_free(t);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(dropped_syn_is_s0_with_a_retransmission),
        LD_TEST(refused_when_rst_seen),
        LD_TEST(admin_prohibited_icmp_is_matched_to_its_syn),
        LD_TEST(established_and_closed_by_both_is_sf),
        LD_TEST(partial_one_address_drops_the_other_answers),
        LD_TEST(local_reject_shows_the_icmp_but_no_syn),
        LD_TEST(loopback_duplicates_are_not_retransmissions),
        LD_TEST(ipv6_flows_and_icmpv6_errors),
        LD_TEST(every_link_type_gives_the_same_flows),
        LD_TEST(reply_dropped_shows_the_answer_then_the_syn_again),
        LD_TEST(max_packets_stops_reading_early),
        LD_TEST(file_errors_say_what_is_wrong),
        LD_TEST(short_or_inconsistent_ip_headers_are_malformed),
        LD_TEST(tcp_data_offset_must_fit_the_ip_length),
        LD_TEST(fragments_and_other_protocols_are_ignored),
        LD_TEST(ipv6_extension_headers_are_walked),
        LD_TEST(icmp_must_quote_ip_and_ports),
        LD_TEST(icmp_before_the_syn_starts_the_flow),
        LD_TEST(vlan_tags_are_skipped),
        LD_TEST(cooked_outgoing_loopback_copy_is_skipped),
        LD_TEST(bsd_loopback_family_in_either_byte_order),
        LD_TEST(supported_link_types),
        LD_TEST(table_limit_is_full_but_known_flows_still_update),
        LD_TEST(many_flows_keep_order_and_addresses),
        LD_TEST(retransmissions_counted_times_kept_for_the_first_eight),
        LD_TEST(roles_without_a_syn),
        LD_TEST(a_flow_through_its_states),
        LD_TEST(conn_state_follows_zeek),
        LD_TEST(icmp_reasons_name_every_code),
        LD_TEST(find_ignores_zones_and_null_is_harmless),
        LD_TEST(syn_flood_fills_a_table_that_does_not_evict),
        LD_TEST(syn_flood_evicts_what_no_watch_needs_and_the_attempt_is_tracked),
        LD_TEST(table_whose_flows_are_all_needed_is_full),
        LD_TEST(answer_then_the_syn_again_is_a_reply_the_client_never_got),
        LD_TEST(cooked_headers_say_direction_and_interface),
        LD_TEST(arp_and_neighbour_discovery_are_counted_per_address),
        LD_TEST(neighbour_table_keeps_the_addresses_seen_last),
        {0},
    };
    return ld_unit_run("handshake", cases);
}
