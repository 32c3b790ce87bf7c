/* test_redis.c - what a PING's first reply line says about the service: the
 * parser on its own (every kind, every prefix, NULs, long lines), then the
 * probe end to end against scripted servers on 127.0.0.1, plain and TLS, and
 * the redis.* facts rules read. Every wait is bounded: servers give up after
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

#include "probes/redis.h"
#include "loopback.h"
#include "unit.h"

#define S(lit) (const unsigned char *)(lit), sizeof(lit) - 1

/* --- the parser ------------------------------------------------------------- */

/* Parses a copy of buf in a block of exactly len bytes, so that ASan catches
 * any read past the end. */
static ld_redis_reply parse_exact(const unsigned char *buf, size_t len) {
    unsigned char *copy = malloc(len ? len : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    if (len)
        memcpy(copy, buf, len);
    ld_redis_reply r = ld_redis_parse(len ? copy : NULL, len);
    free(copy);
    return r;
}

/* One complete first reply and what it means. */
typedef struct reply_case {
    const unsigned char *bytes; /* the reply, line end included */
    size_t len;                 /* its length (NULs allowed) */
    ld_redis_reply want;        /* its classification */
} reply_case;

static const reply_case complete_replies[] = {
    {S("+PONG\r\n"), LD_REDIS_PONG},
    {S("-NOAUTH Authentication required.\r\n"), LD_REDIS_NOAUTH},
    {S("-NOAUTH\r\n"), LD_REDIS_NOAUTH},
    {S("-WRONGPASS invalid username-password pair or user is disabled.\r\n"), LD_REDIS_NOAUTH},
    {S("-NOPERM User default has no permissions to run the 'ping' command\r\n"), LD_REDIS_NOAUTH},
    {S("-ERR NOAUTH Authentication required.\r\n"), LD_REDIS_NOAUTH},
    {S("-ERR Authentication required.\r\n"), LD_REDIS_NOAUTH},
    {S("-ERR operation not permitted\r\n"), LD_REDIS_NOAUTH},
    {S("-ERR \0 noauth\r\n"), LD_REDIS_NOAUTH},
    {S("-ERR unknown command 'PING', with args beginning with: \r\n"), LD_REDIS_ERROR},
    {S("-DENIED Redis is running in protected mode because protected mode is enabled\r\n"),
     LD_REDIS_ERROR},
    {S("-LOADING Redis is loading the dataset in memory\r\n"), LD_REDIS_ERROR},
    {S("-NOAUTHX Authentication required.\r\n"), LD_REDIS_ERROR},
    {S("-NOAUTH\0 Authentication required.\r\n"), LD_REDIS_ERROR},
    {S("-ERRauthentication required\r\n"), LD_REDIS_ERROR},
    {S("-\r\n"), LD_REDIS_ERROR},
    {S("+OK\r\n"), LD_REDIS_OTHER},
    {S("+PONG \r\n"), LD_REDIS_OTHER},
    {S("+pong\r\n"), LD_REDIS_OTHER},
    {S("+PO\0NG\r\n"), LD_REDIS_OTHER},
    {S("\0+PONG\r\n"), LD_REDIS_OTHER},
    {S(":1\r\n"), LD_REDIS_OTHER},
    {S("$4\r\nPONG\r\n"), LD_REDIS_OTHER},
    {S("*1\r\n$4\r\nPONG\r\n"), LD_REDIS_OTHER},
    {S("HTTP/1.1 400 Bad Request\r\n"), LD_REDIS_OTHER},
    {S("SSH-2.0-OpenSSH_9.2p1\r\n"), LD_REDIS_OTHER},
    {S("+PONG\n"), LD_REDIS_OTHER}, /* a bare LF ends a line that is not RESP */
    {S("hello\n"), LD_REDIS_OTHER},
    {S("\n"), LD_REDIS_OTHER},
    {S("\r\n"), LD_REDIS_OTHER},
    {S("+PONG\r\n-ERR later\r\n"), LD_REDIS_PONG}, /* only the first reply counts */
    {S("-NOAUTH x\r\n+PONG\r\n"), LD_REDIS_NOAUTH},
};

static void every_kind_of_first_reply_is_classified(void) {
    for (size_t i = 0; i < sizeof complete_replies / sizeof complete_replies[0]; i++) {
        const reply_case *c = &complete_replies[i];
        ld_redis_reply got = parse_exact(c->bytes, c->len);
        if (got != c->want)
            fprintf(stderr, "\n  case %zu: got %s, want %s\n", i, ld_redis_reply_name(got),
                    ld_redis_reply_name(c->want));
        CU_ASSERT_EQUAL(got, c->want);
    }
}

static void every_prefix_before_the_line_end_is_incomplete(void) {
    for (size_t i = 0; i < sizeof complete_replies / sizeof complete_replies[0]; i++) {
        const reply_case *c = &complete_replies[i];
        const unsigned char *lf = memchr(c->bytes, '\n', c->len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(lf);
        size_t line_end = (size_t)(lf - c->bytes) + 1;
        for (size_t k = 0; k < line_end; k++)
            CU_ASSERT_EQUAL(parse_exact(c->bytes, k), LD_REDIS_INCOMPLETE);
        for (size_t k = line_end; k <= c->len; k++)
            CU_ASSERT_EQUAL(parse_exact(c->bytes, k), c->want);
    }
}

static void bytes_after_a_complete_line_never_change_the_answer(void) {
    static const reply_case tails[] = {
        {S("+PONG\r\n"), 0}, {S("-NOAUTH x\r\n"), 0}, {S("\0\0\0"), 0}, {S("\n"), 0}, {S("\r"), 0},
    };
    unsigned char buf[256];
    for (size_t i = 0; i < sizeof complete_replies / sizeof complete_replies[0]; i++) {
        const reply_case *c = &complete_replies[i];
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            CU_ASSERT_FATAL(c->len + tails[t].len <= sizeof buf);
            memcpy(buf, c->bytes, c->len);
            memcpy(buf + c->len, tails[t].bytes, tails[t].len);
            CU_ASSERT_EQUAL(parse_exact(buf, c->len + tails[t].len), c->want);
        }
    }
}

static void reply_without_a_line_end_is_incomplete(void) {
    static const reply_case partial[] = {
        {S(""), LD_REDIS_INCOMPLETE},
        {S("+"), LD_REDIS_INCOMPLETE},
        {S("+PONG"), LD_REDIS_INCOMPLETE},
        {S("+PONG\r"), LD_REDIS_INCOMPLETE},
        {S("-NOAUTH Authentication required."), LD_REDIS_INCOMPLETE},
        {S("\x15\x03\x01\x00\x02\x02\x46"), LD_REDIS_INCOMPLETE}, /* a TLS alert */
        {S("\0\0\0\0\r\r\r"), LD_REDIS_INCOMPLETE},
    };
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++)
        CU_ASSERT_EQUAL(parse_exact(partial[i].bytes, partial[i].len), LD_REDIS_INCOMPLETE);
}

static void long_lines_are_classified_from_their_whole_text(void) {
    unsigned char buf[LD_REDIS_REPLY_MAX];
    /* The password hint at the end of a long error line still counts. */
    static const char tail[] = " authentication required\r\n";
    memcpy(buf, "-ERR ", 5);
    memset(buf + 5, 'x', 400);
    memcpy(buf + 405, tail, sizeof tail - 1);
    CU_ASSERT_EQUAL(parse_exact(buf, 405 + sizeof tail - 1), LD_REDIS_NOAUTH);
    buf[405 + sizeof tail - 3] = 'x'; /* no CR: no RESP line */
    CU_ASSERT_EQUAL(parse_exact(buf, 405 + sizeof tail - 1), LD_REDIS_OTHER);
    /* A buffer's worth without a line end is decided on what was read: not
     * an error line, so "other"; one byte less is still undecided. */
    memset(buf, 'A', sizeof buf);
    CU_ASSERT_EQUAL(parse_exact(buf, sizeof buf - 1), LD_REDIS_INCOMPLETE);
    CU_ASSERT_EQUAL(parse_exact(buf, sizeof buf), LD_REDIS_OTHER);
    /* Redis 7's protected-mode reply is ~1 KB on one line: the first
     * LD_REDIS_REPLY_MAX bytes already say it is a Redis error, not noise. */
    static const char denied[] = "-DENIED Redis is running in protected mode because protected "
                                 "mode is enabled and no password is set for the default user. ";
    size_t n = 0;
    while (n < sizeof buf) {
        size_t k = sizeof denied - 1 < sizeof buf - n ? sizeof denied - 1 : sizeof buf - n;
        memcpy(buf + n, denied, k);
        n += k;
    }
    CU_ASSERT_EQUAL(parse_exact(buf, sizeof buf - 1), LD_REDIS_INCOMPLETE);
    CU_ASSERT_EQUAL(parse_exact(buf, sizeof buf), LD_REDIS_ERROR);
    /* ... and a long -NOAUTH line still proves a Redis that wants a password. */
    memcpy(buf, "-NOAUTH ", 8);
    CU_ASSERT_EQUAL(parse_exact(buf, sizeof buf), LD_REDIS_NOAUTH);
}

static void reply_kinds_have_the_names_facts_use(void) {
    CU_ASSERT_STRING_EQUAL(ld_redis_reply_name(LD_REDIS_PONG), "pong");
    CU_ASSERT_STRING_EQUAL(ld_redis_reply_name(LD_REDIS_NOAUTH), "noauth");
    CU_ASSERT_STRING_EQUAL(ld_redis_reply_name(LD_REDIS_ERROR), "error");
    CU_ASSERT_STRING_EQUAL(ld_redis_reply_name(LD_REDIS_OTHER), "other");
    CU_ASSERT_STRING_EQUAL(ld_redis_reply_name(LD_REDIS_INCOMPLETE), "none");
}

/* --- scripted loopback servers (tests/unit/loopback.h) ------------------------ */

/* The whole request is in: a PING line ends at LF. */
static int request_complete(const unsigned char *b, size_t n) {
    return memchr(b, '\n', n) != NULL;
}

/* Runs the Redis probe on stream, recording under addr, until it finishes
 * (deadline after timeout; cancelled after cancel_after when not 0). */
static void run_probe(ld_facts *facts, ld_stream stream, const char *addr, ld_time timeout,
                      ld_time cancel_after) {
    ld_err err = {{0}};
    ld_reqrep_config cfg = {.stream = stream};
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(addr, &cfg.addr, &err), LD_OK);
    lb_run_probe(&ld_probe_redis, &cfg, facts, timeout, cancel_after);
}

/* Serves one connection with the script and runs the probe on it. */
static ld_facts *probe_against(lb_server *srv, int tls, ld_time timeout) {
    srv->request_complete = request_complete;
    return lb_probe_against(srv, tls, timeout, run_probe);
}

/* The subject the probe recorded for addr, or NULL. */
static const ld_bag *attempt(const ld_facts *f, const char *addr) {
    return lb_subject(f, "redis", addr);
}

/* The lb_server got exactly one PING and then saw the probe close. */
static void assert_exactly_one_ping(const lb_server *srv) {
    CU_ASSERT_EQUAL(srv->got_len, 6);
    CU_ASSERT_EQUAL(memcmp(srv->got, "PING\r\n", 6), 0);
}

/* A reply in one piece. */
/* clang-format off */
#define ONE(lit) {{(lit), sizeof(lit) - 1}, {NULL, 0}}
/* clang-format on */

/* --- the probe, end to end --------------------------------------------------- */

static void pong_is_recorded_with_its_round_trip(void) {
    lb_server srv = {
        .request_complete = request_complete, .mode = LB_REPLY, .reply = ONE("+PONG\r\n")};
    ld_time t0 = ld_time_now();
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    double elapsed_ms = (double)(ld_time_now() - t0) / (double)LD_MS;
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ADDRESS), "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "pong");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "+PONG");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "result");
    const ld_value *ms = ld_bag_get(a, LD_F_REDIS_A_MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
    CU_ASSERT_TRUE(ms->u.n >= 0 && ms->u.n <= elapsed_ms);
    assert_exactly_one_ping(&srv);
    CU_ASSERT_TRUE(srv.got_eof); /* the probe closed its connection */
    ld_facts_free(f);
}

static void noauth_is_a_redis_that_wants_a_password(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = ONE("-NOAUTH Authentication required.\r\n")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "noauth");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "-NOAUTH Authentication required.");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "result");
    assert_exactly_one_ping(&srv);
    ld_facts_free(f);
}

static void other_error_is_recorded_with_its_text(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = ONE("-ERR unknown command 'PING'\r\n")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "error");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "-ERR unknown command 'PING'");
    assert_exactly_one_ping(&srv);
    ld_facts_free(f);
}

static void http_server_on_the_port_is_other(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "other");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "HTTP/1.1 400 Bad Request");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "result");
    assert_exactly_one_ping(&srv);
    ld_facts_free(f);
}

static void silence_ends_at_the_deadline_with_no_reply(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_SILENT};
    ld_time t0 = ld_time_now();
    ld_facts *f = probe_against(&srv, 0, 300 * LD_MS);
    ld_time took = ld_time_now() - t0;
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "none");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "timeout");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_REDIS_A_REPLY));
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_REDIS_A_MS));
    CU_ASSERT_TRUE(took >= 300 * LD_MS && took < 2 * LD_SEC);
    assert_exactly_one_ping(&srv);
    CU_ASSERT_TRUE(srv.got_eof);
    ld_facts_free(f);
}

static void close_at_once_is_no_reply(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_CLOSE};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "none");
    /* A FIN reads as a close (result), a RST after our PING as an error. */
    const char *ended = lb_str(a, LD_F_REDIS_A_ENDED_BY);
    CU_ASSERT_TRUE(strcmp(ended, "result") == 0 || strcmp(ended, "error") == 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_REDIS_A_REPLY));
    ld_facts_free(f);
}

static void reply_split_across_reads_even_inside_crlf_is_pong(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = {{"+PO", 3}, {"NG\r", 3}, {"\n", 1}, {NULL, 0}}};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "pong");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "+PONG");
    /* The round trip runs to the last piece, not the first. */
    CU_ASSERT_TRUE(ld_bag_get(a, LD_F_REDIS_A_MS)->u.n >= 2 * LB_PIECE_GAP_MS - 5);
    ld_facts_free(f);
}

static void endless_line_fills_the_buffer_and_is_other(void) {
    static char endless[2 * LD_REDIS_REPLY_MAX];
    memset(endless, 'A', sizeof endless);
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = {{endless, sizeof endless}, {NULL, 0}}};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "other");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "result"); /* not the deadline */
    const char *reply = lb_str(a, LD_F_REDIS_A_REPLY);
    CU_ASSERT_EQUAL(strlen(reply), 120);
    CU_ASSERT_EQUAL(strspn(reply, "A"), 120);
    ld_facts_free(f);
}

static void binary_reply_then_close_is_other_shown_printable(void) {
    /* What a TLS lb_server says to a plaintext PING: an alert, then it hangs up. */
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("\x15\x03\x01\x00\x02\x02\x46")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "other");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "......F");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "result");
    ld_facts_free(f);
}

static void nul_and_control_bytes_in_a_reply_line_are_shown_as_dots(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = ONE("-ERR a\0b\tc\x7f"
                                  "d\r\n")};
    ld_facts *f = probe_against(&srv, 0, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "error");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY), "-ERR a.b.c.d");
    ld_facts_free(f);
}

static void ping_waits_while_the_send_buffer_is_full(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = ONE("+PONG\r\n"),
                     .delay_ms = 100};
    lb_listen(&srv);
    int fd = lb_connect(&srv);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    lb_set_nonblocking(fd);
    /* Fill the path until not one byte more fits: PING must wait for room. */
    static char filler[65536];
    memset(filler, 'f', sizeof filler);
    size_t filled = 0;
    for (;;) {
        ssize_t w = write(fd, filler, sizeof filler);
        if (w < 0) {
            CU_ASSERT_FATAL(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        filled += (size_t)w;
    }
    srv.skip = filled;
    lb_run(&srv);
    ld_facts *f = ld_facts_create();
    run_probe(f, (ld_stream){.fd = fd, .ssl = NULL}, "127.0.0.1", 3 * LD_SEC, 0);
    lb_join(&srv);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "pong");
    assert_exactly_one_ping(&srv);
    ld_facts_free(f);
}

static void pong_over_tls(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY,
                     .reply = {{"+PO", 3}, {"NG\r\n", 4}, {NULL, 0}}};
    ld_facts *f = probe_against(&srv, 1, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "pong");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "result");
    assert_exactly_one_ping(&srv);
    CU_ASSERT_TRUE(srv.got_eof); /* close_notify, then close */
    ld_facts_free(f);
}

static void noauth_over_tls(void) {
    lb_server srv = {.request_complete = request_complete,
                     .mode = LB_REPLY_CLOSE,
                     .reply = ONE("-NOAUTH Authentication required.\r\n")};
    ld_facts *f = probe_against(&srv, 1, 2 * LD_SEC);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "noauth");
    assert_exactly_one_ping(&srv);
    ld_facts_free(f);
}

static void silence_over_tls_ends_at_the_deadline(void) {
    lb_server srv = {.request_complete = request_complete, .mode = LB_SILENT};
    ld_facts *f = probe_against(&srv, 1, 300 * LD_MS);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "none");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "timeout");
    assert_exactly_one_ping(&srv);
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
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "none");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "run_deadline");
    CU_ASSERT_TRUE(srv.got_eof); /* the connection was released */
    ld_facts_free(f);
}

static void no_connection_ends_in_error_at_once(void) {
    ld_facts *f = ld_facts_create();
    run_probe(f, LD_STREAM_NONE, "127.0.0.1", 2 * LD_SEC, 0);
    const ld_bag *a = attempt(f, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_REPLY_KIND), "none");
    CU_ASSERT_STRING_EQUAL(lb_str(a, LD_F_REDIS_A_ENDED_BY), "error");
    ld_facts_free(f);
}

/* --- redis.* target facts ------------------------------------------------------ */

/* Records an attempt as the probe would. */
static void record(ld_facts *f, const char *addr, const char *kind, const char *reply, double ms) {
    ld_bag *a = ld_facts_subject(f, "redis", addr);
    ld_bag_set_str(a, LD_F_REDIS_A_ADDRESS, addr);
    ld_bag_set_str(a, LD_F_REDIS_A_REPLY_KIND, kind);
    if (reply)
        ld_bag_set_str(a, LD_F_REDIS_A_REPLY, reply);
    if (ms >= 0)
        ld_bag_set_num(a, LD_F_REDIS_A_MS, ms);
}

static const char *target_str(const ld_facts *f, ld_fact_id id) {
    const ld_value *v = ld_facts_get(f, id);
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

static void pong_and_noauth_everywhere_is_ok_with_the_fastest_time(void) {
    ld_facts *f = ld_facts_create();
    record(f, "10.0.0.1", "pong", "+PONG", 4.0);
    record(f, "10.0.0.2", "noauth", "-NOAUTH Authentication required.", 2.5);
    CU_ASSERT_EQUAL(ld_probe_redis.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_TRUE(ld_facts_get(f, LD_F_REDIS_ATTEMPTED)->u.b);
    CU_ASSERT_TRUE(ld_facts_get(f, LD_F_REDIS_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY_KIND), "noauth");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY), "-NOAUTH Authentication required.");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_REDIS_FAILED_ADDRESSES)->u.list.len, 0);
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_REDIS_MS)->u.n, 2.5, 1e-9);
    ld_facts_free(f);
}

static void worst_reply_wins_and_failures_are_listed_by_address(void) {
    ld_facts *f = ld_facts_create();
    record(f, "10.0.0.1", "pong", "+PONG", 4.0);
    record(f, "10.0.0.2", "other", "HTTP/1.1 400 Bad Request", 1.0);
    record(f, "10.0.0.3", "error", "-ERR unknown command", 1.0);
    ld_probe_redis.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_REDIS_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY_KIND), "other");
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY), "HTTP/1.1 400 Bad Request");
    const ld_value *failed = ld_facts_get(f, LD_F_REDIS_FAILED_ADDRESSES);
    CU_ASSERT_EQUAL_FATAL(failed->u.list.len, 2);
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[0], "10.0.0.2");
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[1], "10.0.0.3");
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_REDIS_MS)->u.n, 4.0, 1e-9); /* ok ones only */
    ld_facts_free(f);
    /* Silence is worse than anything said. */
    f = ld_facts_create();
    record(f, "10.0.0.1", "pong", "+PONG", 4.0);
    record(f, "10.0.0.2", "other", "HTTP/1.1 400 Bad Request", 1.0);
    record(f, "10.0.0.3", "error", "-ERR unknown command", 1.0);
    record(f, "10.0.0.4", "none", NULL, -1);
    ld_probe_redis.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY_KIND), "none");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_REDIS_REPLY));
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_REDIS_FAILED_ADDRESSES)->u.list.len, 3);
    ld_facts_free(f);
}

static void no_answer_anywhere_has_no_time(void) {
    ld_facts *f = ld_facts_create();
    record(f, "10.0.0.1", "error", "-DENIED protected mode", 1.0);
    ld_probe_redis.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_REDIS_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY_KIND), "error");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_REDIS_MS));
    ld_facts_free(f);
}

static void target_without_a_ping_gets_no_redis_facts(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *tcp = ld_facts_subject(f, "tcp", "10.0.0.1");
    ld_bag_set_str(tcp, LD_F_TCP_A_STATE, "open");
    CU_ASSERT_EQUAL(ld_probe_redis.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target(f)), 0);
    ld_facts_free(f);
}

static void probes_on_several_addresses_summarize_together(void) {
    ld_facts *f = ld_facts_create();
    lb_server pong = {
        .request_complete = request_complete, .mode = LB_REPLY, .reply = ONE("+PONG\r\n")};
    lb_server http = {.request_complete = request_complete,
                      .mode = LB_REPLY_CLOSE,
                      .reply = ONE("HTTP/1.1 400 Bad Request\r\n")};
    lb_listen(&pong);
    lb_listen(&http);
    lb_run(&pong);
    lb_run(&http);
    /* The address is only the subject key: each connection is its own. */
    run_probe(f, lb_plain_stream(&pong), "127.0.0.2", 2 * LD_SEC, 0);
    run_probe(f, lb_plain_stream(&http), "127.0.0.3", 2 * LD_SEC, 0);
    lb_join(&pong);
    lb_join(&http);
    ld_probe_redis.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_REDIS_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(target_str(f, LD_F_REDIS_REPLY_KIND), "other");
    const ld_value *failed = ld_facts_get(f, LD_F_REDIS_FAILED_ADDRESSES);
    CU_ASSERT_EQUAL_FATAL(failed->u.list.len, 1);
    CU_ASSERT_STRING_EQUAL(failed->u.list.items[0], "127.0.0.3");
    CU_ASSERT_PTR_NOT_NULL(ld_facts_get(f, LD_F_REDIS_MS));
    ld_facts_free(f);
}

int main(void) {
    /* A peer that hung up must show as EPIPE, not kill the test run. */
    signal(SIGPIPE, SIG_IGN);
    static const ld_test_case cases[] = {
        LD_TEST(every_kind_of_first_reply_is_classified),
        LD_TEST(every_prefix_before_the_line_end_is_incomplete),
        LD_TEST(bytes_after_a_complete_line_never_change_the_answer),
        LD_TEST(reply_without_a_line_end_is_incomplete),
        LD_TEST(long_lines_are_classified_from_their_whole_text),
        LD_TEST(reply_kinds_have_the_names_facts_use),
        LD_TEST(pong_is_recorded_with_its_round_trip),
        LD_TEST(noauth_is_a_redis_that_wants_a_password),
        LD_TEST(other_error_is_recorded_with_its_text),
        LD_TEST(http_server_on_the_port_is_other),
        LD_TEST(silence_ends_at_the_deadline_with_no_reply),
        LD_TEST(close_at_once_is_no_reply),
        LD_TEST(reply_split_across_reads_even_inside_crlf_is_pong),
        LD_TEST(endless_line_fills_the_buffer_and_is_other),
        LD_TEST(binary_reply_then_close_is_other_shown_printable),
        LD_TEST(nul_and_control_bytes_in_a_reply_line_are_shown_as_dots),
        LD_TEST(ping_waits_while_the_send_buffer_is_full),
        LD_TEST(pong_over_tls),
        LD_TEST(noauth_over_tls),
        LD_TEST(silence_over_tls_ends_at_the_deadline),
        LD_TEST(run_ending_early_cancels_with_what_is_known),
        LD_TEST(no_connection_ends_in_error_at_once),
        LD_TEST(pong_and_noauth_everywhere_is_ok_with_the_fastest_time),
        LD_TEST(worst_reply_wins_and_failures_are_listed_by_address),
        LD_TEST(no_answer_anywhere_has_no_time),
        LD_TEST(target_without_a_ping_gets_no_redis_facts),
        LD_TEST(probes_on_several_addresses_summarize_together),
        {0},
    };
    return ld_unit_run("redis", cases);
}
