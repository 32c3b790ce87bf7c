/* test_dns.c - the DNS probe against scripted DNS servers on 127.0.0.1, and
 * the resolv.conf and hosts-file readers on files of the test's own.
 *
 * A server answers well, or with a reply that is not a valid DNS message (a
 * compression pointer to itself, an answer count past the records), or with
 * a truncated reply whose TCP retry fails, or not at all; a closed port is a
 * server that refuses (ICMP port unreachable). Each resolver is asked on its
 * own port, so one probe can ask a silent one and a good one, in the order a
 * resolv.conf would list them. A server may also answer through a chain of
 * two CNAMEs into Azure's privatelink zone, with the address or NXDOMAIN at
 * its end: the chain as followed, and what the names say of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/commands.h"
#include "probes/dns.h"
#include "loopback.h"
#include "unit.h"

#define NAME          "svc.example.test"
#define ANSWER_IP     "10.9.8.7"
#define QUERY_TIMEOUT (600 * LD_MS)                            /* --connect-timeout of these runs */
#define CNAME_1       "alias.corp.example.test"                /* NAME's CNAME */
#define CNAME_2       "acct.privatelink.blob.core.windows.net" /* CNAME_1's */

/* What a scripted server does with a UDP query. */
typedef enum ds_mode {
    DS_ANSWER,    /* A: ANSWER_IP; AAAA: no data */
    DS_LOOP,      /* an answer whose name is a compression pointer to itself */
    DS_BAD_COUNT, /* an answer count past the records sent */
    DS_TC,        /* a truncated reply (TC) with no records */
    DS_SILENT,    /* reads the query, never answers */
    DS_JUNK_ID,   /* the query's ID, then bytes that are no DNS message */
    DS_SHORT,     /* five bytes: not even a header */
    DS_CHAIN,     /* NAME -> CNAME_1 -> CNAME_2, then A: ANSWER_IP; AAAA: the chain only */
    DS_CHAIN_NX,  /* the same chain, then NXDOMAIN: the zone at its end lacks the name */
} ds_mode;

/* What it does with a TCP connection (after a truncated reply). */
typedef enum ds_tcp {
    DT_NONE,  /* nothing listens: the connection is refused */
    DT_CLOSE, /* accepts, reads the query, closes */
} ds_tcp;

/* One scripted DNS server on 127.0.0.1, served by a thread until stopped. */
typedef struct ds_server {
    ds_mode mode;     /* UDP script */
    ds_tcp tcp;       /* TCP script */
    int udp;          /* UDP socket */
    int listener;     /* TCP listener, -1 with DT_NONE */
    int stop[2];      /* a byte on stop[1] ends the thread */
    uint16_t port;    /* UDP and TCP port */
    int tcp_accepted; /* TCP connections accepted */
    pthread_t thread; /* the server */
} ds_server;

static void put16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* Writes name in DNS wire form (no compression) at out; its length. */
static size_t put_name(unsigned char *out, const char *name) {
    size_t len = 0;
    for (const char *p = name; *p;) {
        size_t label = strcspn(p, ".");
        out[len++] = (unsigned char)label;
        memcpy(out + len, p, label);
        len += label;
        p += label + (p[label] == '.');
    }
    out[len++] = 0;
    return len;
}

/* Appends a record of owner (NULL: a pointer to the question's name), type
 * and rdata (a name for a CNAME, 4 bytes for an A) at out; its length. */
static size_t put_record(unsigned char *out, const char *owner, unsigned type, const void *rdata) {
    size_t len = owner ? put_name(out, owner) : 2;
    if (!owner)
        put16(out, 0xC00C);
    put16(out + len, type);
    put16(out + len + 2, 1);
    put16(out + len + 4, 0);
    put16(out + len + 6, 60);
    size_t rdlen = type == 5 ? put_name(out + len + 10, rdata) : 4;
    if (type != 5)
        memcpy(out + len + 10, rdata, 4);
    put16(out + len + 8, (unsigned)rdlen);
    return len + 10 + rdlen;
}

/* The reply to query q (n bytes) by mode, into out; its length, 0 for none. */
static size_t build_reply(ds_mode mode, const unsigned char *q, size_t n, unsigned char *out) {
    if (n < 12 || mode == DS_SILENT)
        return 0;
    if (mode == DS_SHORT) {
        memcpy(out, "\x12\x34\xff\xfe\x00", 5); /* with TC set, were it a header */
        return 5;
    }
    if (mode == DS_JUNK_ID) {
        memcpy(out, q, 2);
        for (int i = 2; i < 200; i++)
            out[i] = (unsigned char)(i * 37 + 11);
        return 200;
    }
    size_t qend = 12;
    while (qend < n && q[qend])
        qend += (size_t)q[qend] + 1;
    qend += 1 + 4; /* the root label, QTYPE and QCLASS */
    if (qend > n)
        return 0;
    unsigned qtype = (unsigned)q[qend - 4] << 8 | q[qend - 3];
    memcpy(out, q, qend);
    out[2] = 0x81 | (mode == DS_TC ? 0x02 : 0); /* QR, RD (and TC) */
    out[3] = 0x80;                              /* RA, NOERROR */
    put16(out + 4, 1);
    put16(out + 6, 0);
    put16(out + 8, 0);
    put16(out + 10, 0);
    size_t len = qend;
    if (mode == DS_CHAIN || mode == DS_CHAIN_NX) {
        unsigned char ip[4];
        inet_pton(AF_INET, ANSWER_IP, ip);
        len += put_record(out + len, NULL, 5, CNAME_1);
        len += put_record(out + len, CNAME_1, 5, CNAME_2);
        int address = mode == DS_CHAIN && qtype == 1;
        if (address)
            len += put_record(out + len, CNAME_2, 1, ip);
        put16(out + 6, 2u + (unsigned)address);
        out[3] = mode == DS_CHAIN_NX ? 0x83 : 0x80; /* RA, and NXDOMAIN */
        return len;
    }
    if (mode == DS_TC || (mode == DS_ANSWER && qtype != 1))
        return len;
    unsigned char *rr = out + len;
    if (mode == DS_LOOP)
        put16(rr, 0xC000 | (unsigned)len); /* a pointer to this very name */
    else
        put16(rr, 0xC00C); /* the question's name */
    put16(rr + 2, qtype);
    put16(rr + 4, 1);
    put16(rr + 6, 0);
    put16(rr + 8, 60);
    put16(rr + 10, 4);
    inet_pton(AF_INET, ANSWER_IP, rr + 12);
    len += 16;
    put16(out + 6, mode == DS_BAD_COUNT ? 3 : 1);
    return len;
}

static void *serve(void *arg) {
    ds_server *s = arg;
    for (;;) {
        struct pollfd fds[3] = {
            {s->stop[0], POLLIN, 0}, {s->udp, POLLIN, 0}, {s->listener, POLLIN, 0}};
        if (poll(fds, s->listener >= 0 ? 3 : 2, LB_WAIT_MS) <= 0 || fds[0].revents)
            return NULL;
        if (fds[1].revents & POLLIN) {
            unsigned char q[512], reply[1024];
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(s->udp, q, sizeof q, 0, (struct sockaddr *)&from, &fromlen);
            size_t len = n > 0 ? build_reply(s->mode, q, (size_t)n, reply) : 0;
            if (len)
                sendto(s->udp, reply, len, 0, (struct sockaddr *)&from, fromlen);
        }
        if (s->listener >= 0 && (fds[2].revents & POLLIN)) {
            int c = accept(s->listener, NULL, NULL);
            if (c >= 0) {
                unsigned char q[512];
                struct pollfd in = {c, POLLIN, 0};
                if (poll(&in, 1, LB_WAIT_MS) > 0)
                    (void)read(c, q, sizeof q);
                s->tcp_accepted++;
                close(c);
            }
        }
    }
}

/* A socket of type bound to 127.0.0.1:port (0: any). */
static int bound(int type, uint16_t port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint16_t port_of(int fd) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    return ntohs(sa.sin_port);
}

/* Starts a server; with DT_CLOSE the TCP listener takes the UDP port too. */
static void ds_start(ds_server *s, ds_mode mode, ds_tcp tcp) {
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->tcp = tcp;
    s->listener = -1;
    for (int tries = 0; tries < 20; tries++) {
        s->udp = bound(SOCK_DGRAM, 0);
        CU_ASSERT_FATAL(s->udp >= 0);
        s->port = port_of(s->udp);
        if (tcp == DT_NONE)
            break;
        if ((s->listener = bound(SOCK_STREAM, s->port)) >= 0 && listen(s->listener, 4) == 0)
            break;
        if (s->listener >= 0)
            close(s->listener);
        s->listener = -1;
        close(s->udp); /* its TCP twin is taken: another port */
    }
    CU_ASSERT_FATAL(tcp == DT_NONE || s->listener >= 0);
    CU_ASSERT_FATAL(pipe(s->stop) == 0);
    CU_ASSERT_FATAL(pthread_create(&s->thread, NULL, serve, s) == 0);
}

static void ds_stop(ds_server *s) {
    (void)write(s->stop[1], "x", 1);
    pthread_join(s->thread, NULL);
    close(s->stop[0]);
    close(s->stop[1]);
    close(s->udp);
    if (s->listener >= 0)
        close(s->listener);
}

/* A port of 127.0.0.1 where nothing listens on UDP: asking it draws an ICMP
 * port unreachable. */
static uint16_t closed_udp_port(void) {
    int fd = bound(SOCK_DGRAM, 0);
    CU_ASSERT_FATAL(fd >= 0);
    uint16_t port = port_of(fd);
    close(fd);
    return port;
}

/* glibc's defaults, no search list. */
static ld_dns_system default_system(void) {
    ld_dns_system sys;
    memset(&sys, 0, sizeof sys);
    sys.ndots = 1;
    sys.timeout_s = LD_DNS_GLIBC_TIMEOUT_S;
    sys.attempts = LD_DNS_GLIBC_ATTEMPTS;
    return sys;
}

/* Asks the system resolvers on these ports (in this order) for NAME, reading
 * names with the table names (NULL: none). */
static ld_facts *ask_reading(const ld_dns_system *sys, const uint16_t *ports, size_t n,
                             const ld_names *names) {
    ld_resolver res[4];
    CU_ASSERT_FATAL(n <= 4);
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        CU_ASSERT_FATAL(ld_addr_parse("127.0.0.1", &res[i].addr, NULL) == LD_OK);
        res[i].port = ports[i];
        res[i].source = LD_RESOLVER_SYSTEM;
    }
    ld_dns_config cfg = {.name = NAME,
                         .resolvers = res,
                         .nresolvers = n,
                         .system = sys,
                         .query_timeout = QUERY_TIMEOUT,
                         .names = names};
    ld_facts *f = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    lb_run_probe(&ld_probe_dns, &cfg, f, QUERY_TIMEOUT + 200 * LD_MS, 0);
    return f;
}

/* Asks the system resolvers on these ports (in this order) for NAME. */
static ld_facts *ask(const ld_dns_system *sys, const uint16_t *ports, size_t n) {
    return ask_reading(sys, ports, n, NULL);
}

/* The resolver subject of the server on port. */
static const ld_bag *resolver(const ld_facts *f, uint16_t port) {
    char key[32];
    snprintf(key, sizeof key, "127.0.0.1:%u", port);
    return lb_subject(f, "dns", key);
}

static const char *target_str(const ld_facts *f, ld_fact_id id) {
    return lb_str(ld_facts_target_const(f), id);
}

static int64_t target_int(const ld_facts *f, ld_fact_id id) {
    const ld_value *v = ld_facts_get(f, id);
    return v && v->type == LD_T_INT ? v->u.i : -1;
}

static double target_num(const ld_facts *f, ld_fact_id id) {
    const ld_value *v = ld_facts_get(f, id);
    return v && v->type == LD_T_NUM ? v->u.n : -1;
}

/* The list fact joined by ", ". */
static const char *target_list(const ld_facts *f, ld_fact_id id, char *buf, size_t len) {
    const ld_value *v = ld_facts_get(f, id);
    buf[0] = '\0';
    for (size_t i = 0; v && v->type == LD_T_LIST && i < v->u.list.len; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", v->u.list.items[i]);
    return buf;
}

#define LIST(f, id) target_list(f, id, (char[256]){0}, 256)

/* One server in mode; the rcode the probe records for it and the system. */
static void expect_rcode(ds_mode mode, ds_tcp tcp, const char *rcode) {
    ld_dns_system sys = default_system();
    ds_server s;
    ds_start(&s, mode, tcp);
    ld_facts *f = ask(&sys, &s.port, 1);
    ds_stop(&s);
    CU_ASSERT_STRING_EQUAL(lb_str(resolver(f, s.port), LD_F_DNS_R_RCODE), rcode);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), rcode);
    ld_facts_free(f);
}

/* --- what came back ------------------------------------------------------------------ */

static void good_answer_is_noerror(void) {
    ld_dns_system sys = default_system();
    ds_server s;
    ds_start(&s, DS_ANSWER, DT_NONE);
    ld_facts *f = ask(&sys, &s.port, 1);
    ds_stop(&s);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "NOERROR");
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_ADDRESSES), ANSWER_IP);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SYSTEM_RESPONDING_COUNT), 1);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 0);
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(resolver(f, s.port), LD_F_DNS_R_TRUNCATED));
    ld_facts_free(f);
}

static void compression_loop_is_a_malformed_answer_not_silence(void) {
    ld_dns_system sys = default_system();
    ds_server s;
    ds_start(&s, DS_LOOP, DT_NONE);
    ld_facts *f = ask(&sys, &s.port, 1);
    ds_stop(&s);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "MALFORMED");
    CU_ASSERT_STRING_EQUAL(lb_str(resolver(f, s.port), LD_F_DNS_R_A_RCODE), "MALFORMED");
    /* It answered: it is no silent resolver. */
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SYSTEM_RESPONDING_COUNT), 1);
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_SILENT_RESOLVERS), "");
    CU_ASSERT_PTR_NOT_NULL(ld_bag_get(resolver(f, s.port), LD_F_DNS_R_LATENCY_MS));
    ld_facts_free(f);
}

static void answer_count_past_the_records_is_a_malformed_answer(void) {
    expect_rcode(DS_BAD_COUNT, DT_NONE, "MALFORMED");
}

static void truncated_reply_with_a_closed_tcp_retry_is_tcp_failed(void) {
    ld_dns_system sys = default_system();
    ds_server s;
    ds_start(&s, DS_TC, DT_CLOSE);
    ld_facts *f = ask(&sys, &s.port, 1);
    ds_stop(&s);
    CU_ASSERT(s.tcp_accepted >= 1); /* the retry over TCP did happen */
    const ld_bag *b = resolver(f, s.port);
    CU_ASSERT_STRING_EQUAL(lb_str(b, LD_F_DNS_R_RCODE), "TCP_FAILED");
    CU_ASSERT_STRING_EQUAL(lb_str(b, LD_F_DNS_R_TCP_FAILURE), "closed");
    const ld_value *tc = ld_bag_get(b, LD_F_DNS_R_TRUNCATED);
    CU_ASSERT(tc && tc->u.b);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "TCP_FAILED");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_TCP_FAILURE), "closed");
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SYSTEM_RESPONDING_COUNT), 1);
    ld_facts_free(f);
}

static void truncated_reply_with_a_refused_tcp_retry_is_tcp_failed(void) {
    ld_dns_system sys = default_system();
    ds_server s;
    ds_start(&s, DS_TC, DT_NONE);
    ld_facts *f = ask(&sys, &s.port, 1);
    ds_stop(&s);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "TCP_FAILED");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_TCP_FAILURE), "refused");
    ld_facts_free(f);
}

static void closed_port_is_unreachable(void) {
    ld_dns_system sys = default_system();
    uint16_t port = closed_udp_port();
    ld_facts *f = ask(&sys, &port, 1);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "UNREACHABLE");
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SYSTEM_RESPONDING_COUNT), 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(resolver(f, port), LD_F_DNS_R_TRUNCATED));
    /* No nameserver answers: no lookup delay to compute. */
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), -1);
    ld_facts_free(f);
}

static void silent_server_is_timeout(void) {
    expect_rcode(DS_SILENT, DT_NONE, "TIMEOUT");
}

/* c-ares drops a reply it cannot match to a query (as it must, against
 * spoofing) and the query times out; the server did answer, though. */
static void garbage_with_the_query_id_is_a_malformed_answer_not_silence(void) {
    expect_rcode(DS_JUNK_ID, DT_NONE, "MALFORMED");
}

static void datagram_shorter_than_a_header_is_a_malformed_answer(void) {
    expect_rcode(DS_SHORT, DT_NONE, "MALFORMED");
}

/* --- the CNAME chain, and what its names say ----------------------------------------- */

static void cname_chain_is_recorded_as_followed(void) {
    ld_dns_system sys = default_system();
    ds_server s;
    ds_start(&s, DS_CHAIN, DT_NONE);
    ld_facts *f = ask(&sys, &s.port, 1);
    ds_stop(&s);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "NOERROR");
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_CNAME_CHAIN), CNAME_1 ", " CNAME_2);
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_ADDRESSES), ANSWER_IP);
    const ld_value *v = ld_bag_get(resolver(f, s.port), LD_F_DNS_R_CNAME_CHAIN);
    CU_ASSERT_TRUE_FATAL(v && v->type == LD_T_LIST && v->u.list.len == 2);
    CU_ASSERT_STRING_EQUAL(v->u.list.items[1], CNAME_2);
    /* Without a name table, nothing is read. */
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_DNS_RECOGNIZED_NAMES));
    ld_facts_free(f);
}

/* c-ares's search hands an NXDOMAIN on without the reply: the chain is read
 * off the wire, and the zone at its end named. */
static void nxdomain_after_a_cname_chain_keeps_the_chain_and_its_zone(void) {
    ld_dns_system sys = default_system();
    ld_err err = {{0}};
    ld_names *names = ld_cli_names(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(names);
    ds_server s;
    ds_start(&s, DS_CHAIN_NX, DT_NONE);
    ld_facts *f = ask_reading(&sys, &s.port, 1, names);
    ds_stop(&s);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_RCODE), "NXDOMAIN");
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_CNAME_CHAIN), CNAME_1 ", " CNAME_2);
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_RECOGNIZED_NAMES), CNAME_2);
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_NAME_PATTERNS), "azure.privatelink");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_PRIVATELINK_ZONE),
                           "privatelink.blob.core.windows.net");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_PRIVATELINK_RECORD), "acct");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_ENDPOINT_NAME_KIND), "privatelink");
    ld_facts_free(f);
    ld_names_free(names);
}

/* --- what a glibc lookup waits ------------------------------------------------------ */

static void silent_first_nameserver_costs_the_timeout_of_resolv_conf(void) {
    ld_dns_system sys = default_system();
    sys.timeout_s = 2;
    ds_server silent, good;
    ds_start(&silent, DS_SILENT, DT_NONE);
    ds_start(&good, DS_ANSWER, DT_NONE);
    uint16_t ports[] = {silent.port, good.port};
    ld_facts *f = ask(&sys, ports, 2);
    ds_stop(&silent);
    ds_stop(&good);
    char want[32];
    snprintf(want, sizeof want, "127.0.0.1:%u", silent.port);
    CU_ASSERT_STRING_EQUAL(LIST(f, LD_F_DNS_SLOW_RESOLVERS), want);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 1);
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), 2000);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_RESOLVER_TIMEOUT_S), 2);
    const ld_value *wait = ld_bag_get(resolver(f, silent.port), LD_F_DNS_R_WAIT_MS);
    CU_ASSERT(wait && wait->u.n == 2000);
    snprintf(want, sizeof want, "127.0.0.1:%u", good.port);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_DNS_ANSWER_RESOLVER), want);
    ld_facts_free(f);
}

static void later_silent_nameservers_cost_glibc_s_share_of_the_timeout(void) {
    /* send_dg: timeout for the first, (timeout << index) / count for the
     * others: 3 s, then (3 << 1) / 3 = 2 s. */
    ld_dns_system sys = default_system();
    sys.timeout_s = 3;
    ds_server a, b, good;
    ds_start(&a, DS_SILENT, DT_NONE);
    ds_start(&b, DS_SILENT, DT_NONE);
    ds_start(&good, DS_ANSWER, DT_NONE);
    uint16_t ports[] = {a.port, b.port, good.port};
    ld_facts *f = ask(&sys, ports, 3);
    ds_stop(&a);
    ds_stop(&b);
    ds_stop(&good);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 2);
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), 5000);
    const ld_value *wait = ld_bag_get(resolver(f, b.port), LD_F_DNS_R_WAIT_MS);
    CU_ASSERT(wait && wait->u.n == 2000);
    ld_facts_free(f);
}

static void nameservers_past_the_third_are_not_used_by_glibc(void) {
    ld_dns_system sys = default_system();
    ds_server silent[3], good;
    uint16_t ports[4];
    for (int i = 0; i < 3; i++) {
        ds_start(&silent[i], DS_SILENT, DT_NONE);
        ports[i] = silent[i].port;
    }
    ds_start(&good, DS_ANSWER, DT_NONE);
    ports[3] = good.port;
    ld_facts *f = ask(&sys, ports, 4);
    for (int i = 0; i < 3; i++)
        ds_stop(&silent[i]);
    ds_stop(&good);
    /* The fourth answers, but a glibc lookup never asks it: no delay to give. */
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), -1);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(resolver(f, good.port), LD_F_DNS_R_WAIT_MS));
    ld_facts_free(f);
}

static void refusing_first_nameserver_costs_what_it_took(void) {
    ld_dns_system sys = default_system();
    ds_server good;
    uint16_t closed = closed_udp_port();
    ds_start(&good, DS_ANSWER, DT_NONE);
    uint16_t ports[] = {closed, good.port};
    ld_facts *f = ask(&sys, ports, 2);
    ds_stop(&good);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 1);
    double ms = target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS);
    CU_ASSERT(ms >= 0 && ms < 300); /* an ICMP error ends the wait at once */
    ld_facts_free(f);
}

static void silent_last_nameserver_costs_nothing_without_rotate(void) {
    ld_dns_system sys = default_system();
    ds_server good, silent;
    ds_start(&good, DS_ANSWER, DT_NONE);
    ds_start(&silent, DS_SILENT, DT_NONE);
    uint16_t ports[] = {good.port, silent.port};
    ld_facts *f = ask(&sys, ports, 2);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 0);
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), 0);
    ld_facts_free(f);
    /* With rotate, the lookups that start at the silent one wait for it. */
    sys.options = LD_DNS_OPT_ROTATE;
    f = ask(&sys, ports, 2);
    ds_stop(&good);
    ds_stop(&silent);
    CU_ASSERT_EQUAL(target_int(f, LD_F_DNS_SLOW_RESOLVER_COUNT), 1);
    CU_ASSERT_EQUAL(target_num(f, LD_F_DNS_SLOW_RESOLUTION_MS), LD_DNS_GLIBC_TIMEOUT_S * 1000);
    const ld_value *rotate = ld_facts_get(f, LD_F_DNS_RESOLVER_ROTATE);
    CU_ASSERT(rotate && rotate->u.b);
    ld_facts_free(f);
}

/* --- resolv.conf and the hosts file -------------------------------------------------- */

/* Writes text to a file of the test's output directory; returns its path. */
static const char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", LD_TEST_OUT, name);
    FILE *fp = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void resolv_conf_options_are_read_as_glibc_reads_them(void) {
    const char *path = write_file("resolv-options.conf",
                                  "# a comment\n"
                                  "nameserver 10.0.1.2\n"
                                  "nameserver 10.0.1.3\n"
                                  "options timeout:2 attempts:9 rotate\n"
                                  "options\tuse-vc single-request-reopen timeout:40 ndots:2\n"
                                  "optionsrotate-is-not-an-options-line single-request\n");
    ld_dns_system sys;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL_FATAL(ld_dns_system_load(&sys, path, &err), LD_OK);
    CU_ASSERT_EQUAL(sys.nresolvers, 2);
    CU_ASSERT_EQUAL(sys.timeout_s, LD_DNS_GLIBC_MAX_TIMEOUT_S); /* the later line wins, clamped */
    CU_ASSERT_EQUAL(sys.attempts, LD_DNS_GLIBC_MAX_ATTEMPTS);
    CU_ASSERT_EQUAL(sys.options, LD_DNS_OPT_TIMEOUT | LD_DNS_OPT_ATTEMPTS | LD_DNS_OPT_ROTATE |
                                     LD_DNS_OPT_USE_VC | LD_DNS_OPT_SINGLE_REQUEST_REOPEN);
    CU_ASSERT_EQUAL(sys.ndots, 2);
    ld_dns_system_clear(&sys);
}

static void resolv_conf_without_options_has_glibc_defaults(void) {
    const char *path = write_file("resolv-plain.conf", "nameserver 10.0.1.2\n");
    ld_dns_system sys;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL_FATAL(ld_dns_system_load(&sys, path, &err), LD_OK);
    CU_ASSERT_EQUAL(sys.timeout_s, 5);
    CU_ASSERT_EQUAL(sys.attempts, 2);
    CU_ASSERT_EQUAL(sys.options, 0);
    ld_dns_system_clear(&sys);
}

static void option_names_are_the_resolv_conf_words(void) {
    CU_ASSERT_STRING_EQUAL(ld_dns_option_name(LD_DNS_OPT_ROTATE), "rotate");
    CU_ASSERT_STRING_EQUAL(ld_dns_option_name(LD_DNS_OPT_USE_VC), "use-vc");
    CU_ASSERT_STRING_EQUAL(ld_dns_option_name(LD_DNS_OPT_TIMEOUT), "timeout");
    CU_ASSERT_PTR_NULL(ld_dns_option_name(0));
    CU_ASSERT_PTR_NULL(ld_dns_option_name(3));
}

static void hosts_line_is_the_line_mapping_the_name_to_the_address(void) {
    const char *path = write_file("hosts", "127.0.0.1 localhost\n"
                                           "# 10.0.2.23 svc.example.test (old)\n"
                                           "10.0.3.23 other.example.test\n"
                                           "10.0.2.23\tfront SVC.example.test   # pinned\n"
                                           "10.0.4.5 svc.example.test\n");
    ld_addr a, b, c;
    CU_ASSERT_FATAL(ld_addr_parse("10.0.2.23", &a, NULL) == LD_OK);
    CU_ASSERT_FATAL(ld_addr_parse("10.0.4.5", &b, NULL) == LD_OK);
    CU_ASSERT_FATAL(ld_addr_parse("10.0.3.23", &c, NULL) == LD_OK);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(path, NAME, &a), 4);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(path, NAME, &b), 5);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(path, NAME, NULL), 4);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(path, NAME, &c), 0);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(path, "example.test", NULL), 0);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(LD_TEST_OUT "/no-such-hosts", NAME, NULL), 0);
}

/* ld_dns_hosts_entries' callback: "NUMBER:TEXT|" appended to the buffer arg. */
static void collect_entry(void *arg, int number, const char *text) {
    char *buf = arg;
    snprintf(buf + strlen(buf), 512 - strlen(buf), "%d:%s|", number, text);
}

static void hosts_entries_are_every_line_naming_a_target(void) {
    const char *path = write_file("hosts-entries", "127.0.0.1 localhost\n"
                                                   "# 10.0.2.23 svc.example.test (old)\n"
                                                   "10.0.3.23 other.example.test\r\n"
                                                   "10.0.2.23\tfront SVC.example.test   # pinned\n"
                                                   "fd00::5 svc.example.test\n"
                                                   "not-an-address svc.example.test\n");
    const char *names[] = {NAME, "other.example.test"};
    char got[512] = "";
    CU_ASSERT_EQUAL(ld_dns_hosts_entries(path, names, 2, 16, collect_entry, got), 3);
    CU_ASSERT_STRING_EQUAL(got, "3:10.0.3.23 other.example.test|"
                                "4:10.0.2.23\tfront SVC.example.test   # pinned|"
                                "5:fd00::5 svc.example.test|");
    got[0] = '\0';
    CU_ASSERT_EQUAL(ld_dns_hosts_entries(path, names, 2, 1, collect_entry, got), 1);
    CU_ASSERT_STRING_EQUAL(got, "3:10.0.3.23 other.example.test|");
    got[0] = '\0';
    CU_ASSERT_EQUAL(ld_dns_hosts_entries(path, names, 0, 16, collect_entry, got), 0);
    CU_ASSERT_EQUAL(
        ld_dns_hosts_entries(LD_TEST_OUT "/no-such-hosts", names, 2, 16, collect_entry, got), 0);
    CU_ASSERT_STRING_EQUAL(got, "");
}

static void option_words_are_what_the_file_sets(void) {
    ld_dns_system sys = {
        .timeout_s = 1, .attempts = 3, .options = LD_DNS_OPT_TIMEOUT | LD_DNS_OPT_ROTATE};
    char word[32];
    ld_dns_option_word(&sys, LD_DNS_OPT_TIMEOUT, word, sizeof word);
    CU_ASSERT_STRING_EQUAL(word, "timeout:1");
    ld_dns_option_word(&sys, LD_DNS_OPT_ROTATE, word, sizeof word);
    CU_ASSERT_STRING_EQUAL(word, "rotate");
    ld_dns_option_word(&sys, LD_DNS_OPT_ATTEMPTS, word, sizeof word); /* not in the file */
    CU_ASSERT_STRING_EQUAL(word, "");
}

static void hosts_line_counts_an_overlong_line_once(void) {
    char text[4096];
    memset(text, 'x', 3000);
    memcpy(text, "10.0.9.9 ", 9);
    text[3000] = '\n';
    snprintf(text + 3001, sizeof text - 3001, "10.0.2.23 %s\n", NAME);
    const char *path = write_file("hosts-long", text);
    CU_ASSERT_EQUAL(ld_dns_hosts_line(path, NAME, NULL), 2);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(good_answer_is_noerror),
        LD_TEST(compression_loop_is_a_malformed_answer_not_silence),
        LD_TEST(answer_count_past_the_records_is_a_malformed_answer),
        LD_TEST(truncated_reply_with_a_closed_tcp_retry_is_tcp_failed),
        LD_TEST(truncated_reply_with_a_refused_tcp_retry_is_tcp_failed),
        LD_TEST(closed_port_is_unreachable),
        LD_TEST(silent_server_is_timeout),
        LD_TEST(garbage_with_the_query_id_is_a_malformed_answer_not_silence),
        LD_TEST(datagram_shorter_than_a_header_is_a_malformed_answer),
        LD_TEST(cname_chain_is_recorded_as_followed),
        LD_TEST(nxdomain_after_a_cname_chain_keeps_the_chain_and_its_zone),
        LD_TEST(silent_first_nameserver_costs_the_timeout_of_resolv_conf),
        LD_TEST(later_silent_nameservers_cost_glibc_s_share_of_the_timeout),
        LD_TEST(nameservers_past_the_third_are_not_used_by_glibc),
        LD_TEST(refusing_first_nameserver_costs_what_it_took),
        LD_TEST(silent_last_nameserver_costs_nothing_without_rotate),
        LD_TEST(resolv_conf_options_are_read_as_glibc_reads_them),
        LD_TEST(resolv_conf_without_options_has_glibc_defaults),
        LD_TEST(option_names_are_the_resolv_conf_words),
        LD_TEST(hosts_line_is_the_line_mapping_the_name_to_the_address),
        LD_TEST(hosts_line_counts_an_overlong_line_once),
        LD_TEST(hosts_entries_are_every_line_naming_a_target),
        LD_TEST(option_words_are_what_the_file_sets),
        {0},
    };
    return ld_unit_run("dns", cases);
}
