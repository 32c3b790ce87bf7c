/* test_mqtt.c - what an MQTT 3.1.1 CONNECT gets back: the CONNECT we build,
 * the CONNACK parser on its own (every code, every prefix, garbage), then the
 * probe end to end against scripted brokers on 127.0.0.1, plain and TLS, and
 * the mqtt.* facts rules read. Every wait is bounded: servers give up after
 * WAIT_MS, probes have deadlines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probes/mqtt.h"
#include "loopback.h"
#include "unit.h"

#define S(lit) (const unsigned char *)(lit), sizeof(lit) - 1

/* --- a CONNECT, decoded the way a broker would ------------------------------- */

/* What a CONNECT said. */
typedef struct connect_msg {
    char client_id[256]; /* its client id */
    unsigned keepalive;  /* its keepalive (s) */
    size_t len;          /* bytes the packet took */
} connect_msg;

/* Decodes a CONNECT at b[0..n) strictly as MQTT 3.1.1 with our options
 * (clean session, no will, no credentials); 0 when it is anything else. */
static int decode_connect(const unsigned char *b, size_t n, connect_msg *m) {
    memset(m, 0, sizeof *m);
    if (n < 2 || b[0] != 0x10)
        return 0;
    size_t rl = 0, mult = 1, i = 1;
    for (;; i++) {
        if (i >= n || i > 4)
            return 0;
        rl += (size_t)(b[i] & 0x7f) * mult;
        mult *= 128;
        if (!(b[i] & 0x80))
            break;
    }
    if (i > 1 && b[i] == 0)
        return 0; /* the length must use the fewest bytes */
    const unsigned char *v = b + i + 1;
    if (n < i + 1 + rl || rl < 12)
        return 0;
    static const unsigned char proto[] = {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02};
    if (memcmp(v, proto, sizeof proto) != 0)
        return 0;
    m->keepalive = (unsigned)(v[8] << 8 | v[9]);
    size_t id_len = (size_t)(v[10] << 8 | v[11]);
    if (12 + id_len != rl || id_len >= sizeof m->client_id)
        return 0;
    memcpy(m->client_id, v + 12, id_len);
    if (memchr(m->client_id, '\0', id_len))
        return 0;
    m->len = i + 1 + rl;
    return 1;
}

/* 1 when id is "linkdoctor-<our pid>-<digits>" within the 23 bytes every
 * broker must accept. */
static int is_our_client_id(const char *id) {
    char prefix[40];
    int k = snprintf(prefix, sizeof prefix, "linkdoctor-%ld-", (long)getpid());
    if (strncmp(id, prefix, (size_t)k) != 0 || !id[k])
        return 0;
    return strspn(id + k, "0123456789") == strlen(id + k) && strlen(id) <= 23;
}

/* --- ld_mqtt_connect_packet -------------------------------------------------- */

static void connect_packet_is_mqtt_311_clean_session_byte_for_byte(void) {
    static const unsigned char want[] = {
        0x10, 24,                             /* CONNECT, remaining length */
        0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, /* protocol name, level 4 */
        0x02,                                 /* clean session only */
        0x00, 0x3c,                           /* keepalive 60 */
        0x00, 12,   'l', 'i', 'n', 'k', 'd',  'o', 'c', 't', 'o', 'r', '-', '1'};
    unsigned char buf[64];
    size_t n = ld_mqtt_connect_packet("linkdoctor-1", 60, buf, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(n, sizeof want);
    CU_ASSERT_EQUAL(memcmp(buf, want, n), 0);
    connect_msg m;
    CU_ASSERT_TRUE(decode_connect(buf, n, &m));
    CU_ASSERT_STRING_EQUAL(m.client_id, "linkdoctor-1");
    CU_ASSERT_EQUAL(m.keepalive, 60);
}

static void connect_packet_that_does_not_fit_is_not_built(void) {
    unsigned char buf[64];
    size_t need = ld_mqtt_connect_packet("abc", 0, buf, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(need, 2 + 10 + 2 + 3);
    for (size_t len = 0; len < need; len++) {
        /* An exact-size block: ASan sees any write past it. */
        unsigned char *small = malloc(len ? len : 1);
        CU_ASSERT_EQUAL(ld_mqtt_connect_packet("abc", 0, small, len), 0);
        free(small);
    }
    unsigned char *exact = malloc(need);
    CU_ASSERT_EQUAL(ld_mqtt_connect_packet("abc", 0, exact, need), need);
    free(exact);
    CU_ASSERT_EQUAL(ld_mqtt_connect_packet(NULL, 0, buf, sizeof buf), 0);
}

static void connect_packet_length_uses_the_variable_length_encoding(void) {
    static const struct {
        size_t id_len;       /* client id length */
        unsigned char rl[3]; /* remaining length as encoded */
        size_t rl_len;       /* its bytes */
    } cases[] = {
        {0, {12}, 1},                   /* an empty id is allowed with clean session */
        {115, {127}, 1},                /* the longest one-byte length */
        {116, {0x80, 0x01}, 2},         /* 128 */
        {200, {0xd4, 0x01}, 2},         /* 212 */
        {16371, {0xff, 0x7f}, 2},       /* 16383, the longest two-byte length */
        {16372, {0x80, 0x80, 0x01}, 3}, /* 16384 */
        {65535, {0x8b, 0x80, 0x04}, 3}, /* the longest id a string field holds */
    };
    size_t cap = 1 + 3 + 12 + 65535;
    unsigned char *buf = malloc(cap);
    char *id = malloc(65536 + 1);
    CU_ASSERT_FATAL(buf && id);
    memset(id, 'x', 65536);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        id[cases[i].id_len] = '\0';
        size_t n = ld_mqtt_connect_packet(id, 30, buf, cap);
        CU_ASSERT_EQUAL(n, 1 + cases[i].rl_len + 12 + cases[i].id_len);
        CU_ASSERT_EQUAL(memcmp(buf + 1, cases[i].rl, cases[i].rl_len), 0);
        if (cases[i].id_len < 256) {
            connect_msg m;
            CU_ASSERT_TRUE(decode_connect(buf, n, &m));
            CU_ASSERT_EQUAL(strlen(m.client_id), cases[i].id_len);
        }
        id[cases[i].id_len] = 'x';
    }
    id[65536] = '\0'; /* one byte too long for a UTF-8 string field */
    CU_ASSERT_EQUAL(ld_mqtt_connect_packet(id, 30, buf, cap), 0);
    free(buf);
    free(id);
}

/* --- ld_mqtt_parse ------------------------------------------------------------ */

/* Parses a copy of buf in a block of exactly len bytes, so that ASan catches
 * any read past the end. */
static ld_mqtt_reply parse_exact(const unsigned char *buf, size_t len, int *code) {
    unsigned char *copy = malloc(len ? len : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    if (len)
        memcpy(copy, buf, len);
    ld_mqtt_reply r = ld_mqtt_parse(len ? copy : NULL, len, code);
    free(copy);
    return r;
}

/* One complete reply and what it means. */
typedef struct reply_case {
    const unsigned char *bytes; /* the reply */
    size_t len;                 /* its length */
    ld_mqtt_reply want;         /* its classification */
    int code;                   /* the return code when a CONNACK, else -1 */
} reply_case;

static const reply_case replies[] = {
    {S("\x20\x02\x00\x00"), LD_MQTT_CONNACK, 0},
    {S("\x20\x02\x01\x00"), LD_MQTT_CONNACK, 0}, /* session present */
    {S("\x20\x02\x00\x01"), LD_MQTT_CONNACK, 1},
    {S("\x20\x02\x00\x02"), LD_MQTT_CONNACK, 2},
    {S("\x20\x02\x00\x03"), LD_MQTT_CONNACK, 3},
    {S("\x20\x02\x00\x04"), LD_MQTT_CONNACK, 4},
    {S("\x20\x02\x00\x05"), LD_MQTT_CONNACK, 5},
    {S("\x20\x02\x00\x06"), LD_MQTT_CONNACK, 6},
    {S("\x20\x02\x00\xff"), LD_MQTT_CONNACK, 255},
    {S("\x20\x02\x00\x00\xd0\x00"), LD_MQTT_CONNACK, 0}, /* what follows is not ours */
    {S("\x20\x02\x02\x00"), LD_MQTT_INVALID, -1},        /* reserved flag bits */
    {S("\x20\x02\x80\x00"), LD_MQTT_INVALID, -1},
    {S("\x20\x03\x00\x00\x00"), LD_MQTT_INVALID, -1}, /* an MQTT 5 CONNACK */
    {S("\x20\x00\x00\x00"), LD_MQTT_INVALID, -1},
    {S("\x20\x82\x00\x00"), LD_MQTT_INVALID, -1},
    {S("\x21\x02\x00\x00"), LD_MQTT_INVALID, -1}, /* flags in the fixed header */
    {S("\x30\x02\x00\x00"), LD_MQTT_INVALID, -1}, /* PUBLISH */
    {S("\xd0\x00\x00\x00"), LD_MQTT_INVALID, -1}, /* PINGRESP */
    {S("\xe0\x00\x00\x00"), LD_MQTT_INVALID, -1}, /* DISCONNECT */
    {S("\0\0\0\0"), LD_MQTT_INVALID, -1},
    {S("HTTP/1.1 400 Bad Request\r\n"), LD_MQTT_INVALID, -1},
    {S("\x15\x03\x01\x00\x02\x02\x46"), LD_MQTT_INVALID, -1}, /* a TLS alert */
};

static void every_connack_code_and_every_kind_of_garbage_is_classified(void) {
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        int code = 1234;
        ld_mqtt_reply got = parse_exact(replies[i].bytes, replies[i].len, &code);
        if (got != replies[i].want || code != replies[i].code)
            fprintf(stderr, "\n  case %zu: got %d code %d, want %d code %d\n", i, got, code,
                    replies[i].want, replies[i].code);
        CU_ASSERT_EQUAL(got, replies[i].want);
        CU_ASSERT_EQUAL(code, replies[i].code);
        CU_ASSERT_EQUAL(parse_exact(replies[i].bytes, replies[i].len, NULL), replies[i].want);
    }
}

static void fewer_than_four_bytes_is_incomplete_and_more_never_changes_the_answer(void) {
    unsigned char buf[64];
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        const reply_case *c = &replies[i];
        for (size_t k = 0; k < 4; k++) {
            int code = 1234;
            CU_ASSERT_EQUAL(parse_exact(c->bytes, k, &code), LD_MQTT_INCOMPLETE);
            CU_ASSERT_EQUAL(code, -1);
        }
        for (size_t k = 4; k <= c->len; k++)
            CU_ASSERT_EQUAL(parse_exact(c->bytes, k, NULL), c->want);
        CU_ASSERT_FATAL(c->len + 8 <= sizeof buf);
        memcpy(buf, c->bytes, c->len);
        memcpy(buf + c->len, "\x20\x02\x00\x05\0\0\0\0", 8);
        int code = 1234;
        CU_ASSERT_EQUAL(parse_exact(buf, c->len + 8, &code), c->want);
        CU_ASSERT_EQUAL(code, c->code);
    }
}

static void connack_codes_have_their_mqtt_311_names(void) {
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(0), "accepted");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(1), "unacceptable protocol version");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(2), "identifier rejected");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(3), "server unavailable");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(4), "bad user name or password");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(5), "not authorized");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(6), "reserved");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(255), "reserved");
    CU_ASSERT_STRING_EQUAL(ld_mqtt_connack_name(-1), "reserved");
}

/* --- scripted loopback servers (tests/unit/loopback.h) ------------------------ */

/* Length of the MQTT packet at b: its fixed header says; 0 while that is not in. */
static size_t packet_len(const unsigned char *b, size_t n) {
    size_t rl = 0, mult = 1;
    for (size_t i = 1; i < n && i <= 4; i++) {
        rl += (size_t)(b[i] & 0x7f) * mult;
        mult *= 128;
        if (!(b[i] & 0x80))
            return 1 + i + rl;
    }
    return 0;
}

/* The whole request is in: one complete packet. */
static int request_complete(const unsigned char *b, size_t n) {
    size_t len = packet_len(b, n);
    return len && n >= len;
}

/* Runs the MQTT probe on stream, recording under addr, until it finishes
 * (deadline after timeout; cancelled after cancel_after when not 0). */
static void run_probe(ld_facts *facts, ld_stream stream, const char *addr, ld_time timeout,
                      ld_time cancel_after) {
    ld_err err = {{0}};
    ld_reqrep_config cfg = {.stream = stream};
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(addr, &cfg.addr, &err), LD_OK);
    lb_run_probe(&ld_probe_mqtt, &cfg, facts, timeout, cancel_after);
}

/* Serves one connection with the script and runs the probe on it. */
static ld_facts *probe_against(lb_server *srv, int tls, ld_time timeout) {
    srv->request_complete = request_complete;
    return lb_probe_against(srv, tls, timeout, run_probe);
}

/* The subject the probe recorded for addr, or NULL. */
static const ld_bag *attempt(const ld_facts *f, const char *addr) {
    return lb_subject(f, "mqtt", addr);
}

/* A reply in one piece. */
/* clang-format off */
#define ONE(lit) {{(lit), sizeof(lit) - 1}, {NULL, 0}}
/* clang-format on */

/* The lb_server got exactly one valid CONNECT from us and, when it accepted,
 * exactly one DISCONNECT after it. */
static void assert_connect_then(const lb_server *srv, int disconnect) {
    connect_msg m;
    CU_ASSERT_TRUE_FATAL(decode_connect(srv->got, srv->got_len, &m));
    if (!is_our_client_id(m.client_id))
        fprintf(stderr, "\n  client id '%s'\n", m.client_id);
    CU_ASSERT_TRUE(is_our_client_id(m.client_id));
    CU_ASSERT_TRUE(m.keepalive > 0);
    if (disconnect) {
        CU_ASSERT_EQUAL(srv->got_len, m.len + 2);
        CU_ASSERT_EQUAL(memcmp(srv->got + m.len, "\xe0\x00", 2), 0);
    } else {
        CU_ASSERT_EQUAL(srv->got_len, m.len);
    }
}

/* --- the probe, end to end --------------------------------------------------- */

static void accepted_connect_is_recorded_and_ended_with_a_disconnect(void) {
    lb_server srv = {
        .request_complete = request_complete, .mode = LB_REPLY, .reply = ONE("\x20\x02\x00\x00")};
    ld_time t0 = ld_time_now();
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    double elapsed_ms = (double)(ld_time_now() - t0) / (double)LD_MS;
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ADDRESS), "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "accepted");
    CU_ASSERT_EQUAL(ld_bag_get(a, LD_F_MQTT_A_CONNACK_CODE)->u.i, 0);
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_CONNACK_REASON), "accepted");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "result");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_MQTT_A_REPLY));
    const ld_value *ms = ld_bag_get(a, LD_F_MQTT_A_MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
    CU_ASSERT_TRUE(ms->u.n >= 0 && ms->u.n <= elapsed_ms);
    assert_connect_then(&srv, 1);
    CU_ASSERT_TRUE(srv.got_eof);
    ld_facts_free(f);
}

static void refused_connect_carries_its_code_and_reason(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("\x20\x02\x00\x05")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "refused");
    CU_ASSERT_EQUAL(ld_bag_get(a, LD_F_MQTT_A_CONNACK_CODE)->u.i, 5);
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_CONNACK_REASON), "not authorized");
    CU_ASSERT_PTR_NOT_NULL(ld_bag_get(a, LD_F_MQTT_A_MS));
    assert_connect_then(&srv, 0); /* no DISCONNECT to a broker that refused */
    ld_facts_free(f);
}

static void reserved_return_code_is_refused_as_reserved(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("\x20\x02\x00\x80")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "refused");
    CU_ASSERT_EQUAL(ld_bag_get(a, LD_F_MQTT_A_CONNACK_CODE)->u.i, 128);
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_CONNACK_REASON), "reserved");
    ld_facts_free(f);
}

static void http_server_on_the_port_is_invalid_with_its_first_bytes_in_hex(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "invalid");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_REPLY),
                           "48 54 54 50 2f 31 2e 31 20 34 30 30 20 42 61 64");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "result");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_MQTT_A_CONNACK_CODE));
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_MQTT_A_CONNACK_REASON));
    assert_connect_then(&srv, 0);
    ld_facts_free(f);
}

static void truncated_connack_then_close_is_invalid(void) {
    lb_server srv = {
        .request_complete = request_complete, .mode = LB_REPLY_CLOSE, .reply = ONE("\x20\x02")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "invalid");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_REPLY), "20 02");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "result");
    ld_facts_free(f);
}

static void silence_ends_at_the_deadline_without_connack(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_SILENT};
    ld_time t0 = ld_time_now();
    ld_facts *f = probe_against(&srv, 0, 300 * LD_MS);
    ld_time took = ld_time_now() - t0;
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "no_connack");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "timeout");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_MQTT_A_REPLY));
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_MQTT_A_MS));
    CU_ASSERT_TRUE(took >= 300 * LD_MS && took < 2 * LD_SEC);
    assert_connect_then(&srv, 0);
    CU_ASSERT_TRUE(srv.got_eof);
    ld_facts_free(f);
}

static void close_at_once_is_no_connack(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_CLOSE};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "no_connack");
    /* A FIN reads as a close (result), a RST after our CONNECT as an error. */
    const char *ended = lb_str(a, LD_F_MQTT_A_ENDED_BY);
    CU_ASSERT_TRUE(strcmp(ended, "result") == 0 || strcmp(ended, "error") == 0);
    ld_facts_free(f);
}

static void connack_arriving_byte_by_byte_is_accepted(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = {{"\x20", 1}, {"\x02", 1}, {"\x00", 1}, {"\x00", 1}}};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "accepted");
    CU_ASSERT_TRUE(ld_bag_get(a, LD_F_MQTT_A_MS)->u.n >= 3 * LB_PIECE_GAP_MS - 5);
    assert_connect_then(&srv, 1);
    ld_facts_free(f);
}

static void accepted_over_tls(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = {{"\x20\x02", 2}, {"\x00\x00", 2}, {NULL, 0}}};
    ld_facts *f = probe_against(&srv, 1, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "accepted");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "result");
    assert_connect_then(&srv, 1);
    CU_ASSERT_TRUE(srv.got_eof); /* close_notify, then close */
    ld_facts_free(f);
}

static void bad_credentials_over_tls(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("\x20\x02\x00\x04")};
    ld_facts *f = probe_against(&srv, 1, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "refused");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_CONNACK_REASON), "bad user name or password");
    assert_connect_then(&srv, 0);
    ld_facts_free(f);
}

static void silence_over_tls_ends_at_the_deadline(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_SILENT};
    ld_facts *f = probe_against(&srv, 1, 300 * LD_MS);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "no_connack");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "timeout");
    assert_connect_then(&srv, 0);
    ld_facts_free(f);
}

static void run_ending_early_cancels_with_what_is_known(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_SILENT};
    lb_listen(&srv);
    lb_run(&srv);
    ld_facts *f = ld_facts_create();
    ld_time t0 = ld_time_now();
    run_probe(f, lb_plain_stream(&srv), "127.0.0.1", 5 * LD_SEC, 100 * LD_MS);
    CU_ASSERT_TRUE(ld_time_now() - t0 < 2 * LD_SEC);
    lb_join(&srv);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "no_connack");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "run_deadline");
    CU_ASSERT_TRUE(srv.got_eof);
    ld_facts_free(f);
}

static void no_connection_ends_in_error_at_once(void) {
    ld_facts *f = ld_facts_create();
    run_probe(f, LD_STREAM_NONE, "127.0.0.1", 2 * LD_SEC, 0);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_RESULT), "no_connack");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_MQTT_A_ENDED_BY), "error");
    ld_facts_free(f);
}

/* Stops the loop when the last of the probes sharing *owner finishes. */
static void count_down(ld_probe *p) {
    int *left = p->owner;
    if (--*left == 0)
        ld_loop_stop(p->loop);
}

static void concurrent_probes_use_distinct_client_ids(void) {
    enum { N = 3 };
    lb_server srv[N];
    ld_reqrep_config cfg[N];
    ld_probe p[N];
    ld_err err = {{0}};
    ld_loop *loop = ld_loop_create(&err);
    ld_facts *f = ld_facts_create();
    int left = N;
    ld_time now = ld_time_now();
    for (int i = 0; i < N; i++) {
        srv[i] = (lb_server){.request_complete = request_complete,
                             .mode = LB_REPLY,
                             .reply = ONE("\x20\x02\x00\x00")};
        lb_listen(&srv[i]);
        lb_run(&srv[i]);
        char addr[16];
        snprintf(addr, sizeof addr, "127.0.0.%d", i + 2);
        cfg[i] = (ld_reqrep_config){.stream = lb_plain_stream(&srv[i])};
        ld_addr_parse(addr, &cfg[i].addr, &err);
        p[i] = (ld_probe){.ops = &ld_probe_mqtt,
                          .config = &cfg[i],
                          .loop = loop,
                          .facts = f,
                          .run_started = now,
                          .deadline_at = now + 2 * LD_SEC,
                          .done = count_down,
                          .owner = &left};
    }
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(ld_probe_start(&p[i], &err), LD_OK);
    CU_ASSERT_EQUAL(ld_loop_run(loop, &err), LD_OK);
    for (int i = 0; i < N; i++) {
        p[i].ops->clear(&p[i]);
        lb_join(&srv[i]);
    }
    connect_msg m[N];
    for (int i = 0; i < N; i++) {
        CU_ASSERT_TRUE_FATAL(decode_connect(srv[i].got, srv[i].got_len, &m[i]));
        CU_ASSERT_TRUE(is_our_client_id(m[i].client_id));
        for (int j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(m[i].client_id, m[j].client_id);
    }
    ld_probe_mqtt.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_MQTT_RESULT)->u.s, "accepted");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_MQTT_FAILED_ADDRESSES)->u.list.len, 0);
    ld_facts_free(f);
    ld_loop_free(loop);
}

/* --- mqtt.* target facts -------------------------------------------------------- */

/* Records an attempt as the probe would; code < 0: no CONNACK. */
static void record(ld_facts *f, const char *addr, const char *result, int code, double ms) {
    ld_bag *a = ld_facts_subject(f, "mqtt", addr);
    ld_bag_set_str(a, LD_F_MQTT_A_ADDRESS, addr);
    ld_bag_set_str(a, LD_F_MQTT_A_RESULT, result);
    if (code >= 0) {
        ld_bag_set_int(a, LD_F_MQTT_A_CONNACK_CODE, code);
        ld_bag_set_str(a, LD_F_MQTT_A_CONNACK_REASON, ld_mqtt_connack_name(code));
    }
    if (ms >= 0)
        ld_bag_set_num(a, LD_F_MQTT_A_MS, ms);
}

static const char *target_str(const ld_facts *f, ld_fact_id id) {
    const ld_value *v = ld_facts_get(f, id);
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

static void accepted_everywhere_reports_the_fastest_connack(void) {
    ld_facts *f = ld_facts_create();
    record(f, "10.0.0.1", "accepted", 0, 7.0);
    record(f, "10.0.0.2", "accepted", 0, 3.5);
    CU_ASSERT_EQUAL(ld_probe_mqtt.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_TRUE(ld_facts_get(f, LD_F_MQTT_ATTEMPTED)->u.b);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_MQTT_RESULT), "accepted");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_MQTT_CONNACK_CODE)->u.i, 0);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_MQTT_CONNACK_REASON), "accepted");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_MQTT_FAILED_ADDRESSES)->u.list.len, 0);
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_MQTT_MS)->u.n, 3.5, 1e-9);
    ld_facts_free(f);
}

static void refusal_wins_over_acceptance_and_carries_its_reason(void) {
    ld_facts *f = ld_facts_create();
    record(f, "10.0.0.1", "accepted", 0, 7.0);
    record(f, "10.0.0.2", "refused", 5, 1.0);
    ld_probe_mqtt.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_MQTT_RESULT), "refused");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_MQTT_CONNACK_CODE)->u.i, 5);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_MQTT_CONNACK_REASON), "not authorized");
    const ld_value *failed = ld_facts_get(f, LD_F_MQTT_FAILED_ADDRESSES);
    CU_ASSERT_EQUAL_FATAL(failed->u.list.len, 1);
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[0], "10.0.0.2");
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_MQTT_MS)->u.n, 7.0, 1e-9); /* accepted only */
    ld_facts_free(f);
}

static void no_connack_is_worst_then_invalid_then_refused(void) {
    ld_facts *f = ld_facts_create();
    record(f, "10.0.0.1", "refused", 4, 1.0);
    record(f, "10.0.0.2", "invalid", -1, -1);
    ld_probe_mqtt.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_MQTT_RESULT), "invalid");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_MQTT_CONNACK_CODE)); /* invalid has none */
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_MQTT_MS));
    ld_facts_free(f);

    f = ld_facts_create();
    record(f, "10.0.0.1", "refused", 4, 1.0);
    record(f, "10.0.0.2", "invalid", -1, -1);
    record(f, "10.0.0.3", "no_connack", -1, -1);
    record(f, "10.0.0.4", "accepted", 0, 2.0);
    ld_probe_mqtt.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_MQTT_RESULT), "no_connack");
    const ld_value *failed = ld_facts_get(f, LD_F_MQTT_FAILED_ADDRESSES);
    CU_ASSERT_EQUAL_FATAL(failed->u.list.len, 3);
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[0], "10.0.0.1");
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[1], "10.0.0.2");
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[2], "10.0.0.3");
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_MQTT_MS)->u.n, 2.0, 1e-9);
    ld_facts_free(f);
}

static void target_without_a_connect_gets_no_mqtt_facts(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *redis = ld_facts_subject(f, "redis", "10.0.0.1");
    ld_bag_set_str(redis, LD_F_REDIS_A_REPLY_KIND, "pong");
    CU_ASSERT_EQUAL(ld_probe_mqtt.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target(f)), 0);
    ld_facts_free(f);
}

int main(void) {
    /* A peer that hung up must show as EPIPE, not kill the test run. */
    signal(SIGPIPE, SIG_IGN);
    static const ld_test_case cases[] = {
        LD_TEST(connect_packet_is_mqtt_311_clean_session_byte_for_byte),
        LD_TEST(connect_packet_that_does_not_fit_is_not_built),
        LD_TEST(connect_packet_length_uses_the_variable_length_encoding),
        LD_TEST(every_connack_code_and_every_kind_of_garbage_is_classified),
        LD_TEST(fewer_than_four_bytes_is_incomplete_and_more_never_changes_the_answer),
        LD_TEST(connack_codes_have_their_mqtt_311_names),
        LD_TEST(accepted_connect_is_recorded_and_ended_with_a_disconnect),
        LD_TEST(refused_connect_carries_its_code_and_reason),
        LD_TEST(reserved_return_code_is_refused_as_reserved),
        LD_TEST(http_server_on_the_port_is_invalid_with_its_first_bytes_in_hex),
        LD_TEST(truncated_connack_then_close_is_invalid),
        LD_TEST(silence_ends_at_the_deadline_without_connack),
        LD_TEST(close_at_once_is_no_connack),
        LD_TEST(connack_arriving_byte_by_byte_is_accepted),
        LD_TEST(accepted_over_tls),
        LD_TEST(bad_credentials_over_tls),
        LD_TEST(silence_over_tls_ends_at_the_deadline),
        LD_TEST(run_ending_early_cancels_with_what_is_known),
        LD_TEST(no_connection_ends_in_error_at_once),
        LD_TEST(concurrent_probes_use_distinct_client_ids),
        LD_TEST(accepted_everywhere_reports_the_fastest_connack),
        LD_TEST(refusal_wins_over_acceptance_and_carries_its_reason),
        LD_TEST(no_connack_is_worst_then_invalid_then_refused),
        LD_TEST(target_without_a_connect_gets_no_mqtt_facts),
        {0},
    };
    return ld_unit_run("mqtt", cases);
}
