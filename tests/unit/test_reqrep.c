/* test_reqrep.c - the request/reply probe on its own, through a toy service
 * ("HELLO <fd>" answered "+WELCOME", "-BUSY <reason>" or anything else): the
 * request built for the connection, what each outcome's flags make an attempt
 * record, the service's extra fact, the farewell after a success only, and
 * the target facts the worst attempt decides. Redis and MQTT are the same
 * probe with other descriptors (test_redis.c, test_mqtt.c).
 *
 * The toy borrows fact ids from the TLS rows of the fact table: the probe
 * needs only ids of the right type and scope, and records its attempts under
 * its own subject kind. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "probes/reqrep.h"
#include "loopback.h"
#include "unit.h"

#define TOY "toy" /* the toy probe's name: the subject kind of its attempts */

/* The toy's facts of each attempt ... */
#define A_ADDRESS     LD_F_TLS_A_ADDRESS
#define A_OUTCOME     LD_F_TLS_A_RESULT
#define A_REPLY       LD_F_TLS_A_PEER_BYTES
#define A_MS          LD_F_TLS_A_HANDSHAKE_MS
#define A_ENDED_BY    LD_F_TLS_A_ENDED_BY
#define A_BUSY_REASON LD_F_TLS_A_ERROR /* its extra fact */
/* ... and of the target. */
#define T_ATTEMPTED   LD_F_TLS_ATTEMPTED
#define T_OK          LD_F_TLS_TRUSTED
#define T_OUTCOME     LD_F_TLS_RESULT
#define T_REPLY       LD_F_TLS_PEER_BYTES
#define T_FAILED      LD_F_TLS_FAILED_ADDRESSES
#define T_FASTEST_MS  LD_F_TLS_HANDSHAKE_MS
#define T_BUSY_REASON LD_F_TLS_ERROR

/* The toy's outcomes, least bad first. */
enum toy_outcome { WELCOME, BUSY, GARBLED, SILENT, TOY_OUTCOMES };
static const ld_reqrep_outcome toy_outcomes[TOY_OUTCOMES] = {
    [WELCOME] = {"welcome", LD_REQREP_OK | LD_REQREP_TIMED | LD_REQREP_QUOTED},
    [BUSY] = {"busy", LD_REQREP_TIMED | LD_REQREP_QUOTED},
    [GARBLED] = {"garbled", LD_REQREP_QUOTED}, /* not timed: no answer to time */
    [SILENT] = {"silent", 0},
};

/* "HELLO <fd>\n": the request names its connection, as MQTT's client id does. */
static size_t hello(unsigned char *buf, size_t cap, int fd) {
    int n = snprintf((char *)buf, cap, "HELLO %d\n", fd);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* A reply, and a request, end at the first LF. */
static int line_complete(const unsigned char *b, size_t n) {
    return memchr(b, '\n', n) != NULL;
}

static size_t toy_classify(const unsigned char *b, size_t n) {
    if (n == 0)
        return SILENT;
    if (!line_complete(b, n))
        return GARBLED;
    if (n >= 9 && memcmp(b, "+WELCOME\n", 9) == 0)
        return WELCOME;
    return n >= 6 && memcmp(b, "-BUSY ", 6) == 0 ? BUSY : GARBLED;
}

/* The toy's extra fact: why it is busy, the text after "-BUSY ". */
static void busy_reason(ld_bag *attempt, const unsigned char *b, size_t n) {
    if (toy_classify(b, n) != BUSY)
        return;
    const unsigned char *lf = memchr(b, '\n', n);
    char reason[64];
    snprintf(reason, sizeof reason, "%.*s", (int)(lf - b - 6), (const char *)b + 6);
    ld_bag_set_str(attempt, A_BUSY_REASON, reason);
}

static const unsigned char bye[] = "BYE\n";

static const ld_reqrep_service toy = {
    .request = hello,
    .farewell = bye,
    .farewell_len = sizeof bye - 1,
    .complete = line_complete,
    .reply_max = 64,
    .classify = toy_classify,
    .outcomes = toy_outcomes,
    .noutcomes = TOY_OUTCOMES,
    .quote = LD_REQREP_QUOTE_LINE,
    .attempt_address = A_ADDRESS,
    .attempt_outcome = A_OUTCOME,
    .attempt_reply = A_REPLY,
    .attempt_ms = A_MS,
    .attempt_ended_by = A_ENDED_BY,
    .record = busy_reason,
    .target_attempted = T_ATTEMPTED,
    .target_ok = T_OK,
    .target_outcome = T_OUTCOME,
    .target_reply = T_REPLY,
    .target_failed = T_FAILED,
    .target_fastest_ms = T_FASTEST_MS,
    .target_extra = {{A_BUSY_REASON, T_BUSY_REASON}},
    .target_nextra = 1,
};

LD_REQREP_PROBE(ld_probe_toy, TOY, toy);

/* --- one attempt, end to end ---------------------------------------------------- */

/* Runs the toy probe into f on a fresh connection to srv, recording under
 * addr; returns the connection's fd and leaves the server's record in *srv. */
static int hello_against(ld_facts *f, lb_server *srv, const char *addr, ld_time timeout) {
    srv->request_complete = line_complete;
    lb_listen(srv);
    lb_run(srv);
    ld_reqrep_config cfg = {.stream = lb_plain_stream(srv)};
    ld_err err = {{0}};
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(addr, &cfg.addr, &err), LD_OK);
    lb_run_probe(&ld_probe_toy, &cfg, f, timeout, 0);
    lb_join(srv);
    return cfg.stream.fd;
}

/* A server's script and what the attempt must record. */
typedef struct live_case {
    lb_mode mode;         /* the server's script */
    const char *reply;    /* what it answers; NULL for nothing */
    const char *outcome;  /* the outcome recorded */
    const char *quoted;   /* the reply fact; NULL when there must be none */
    int timed;            /* a round trip is recorded */
    const char *reason;   /* the extra fact; NULL when there must be none */
    const char *ended_by; /* how the attempt ended */
    const char *sent;     /* what the server got after "HELLO <fd>\n" */
} live_case;

static const live_case live_cases[] = {
    {LB_REPLY, "+WELCOME\n", "welcome", "+WELCOME", 1, NULL, "result", "BYE\n"},
    {LB_REPLY, "-BUSY come back later\n", "busy", "-BUSY come back later", 1, "come back later",
     "result", ""},
    /* Bytes and a close without a line end: quoted, but no answer to time. */
    {LB_REPLY_CLOSE, "\x01\x02zz", "garbled", "..zz", 0, NULL, "result", ""},
    {LB_SILENT, NULL, "silent", NULL, 0, NULL, "timeout", ""},
};

static void each_outcome_records_what_its_flags_say_and_success_says_goodbye(void) {
    for (size_t i = 0; i < sizeof live_cases / sizeof live_cases[0]; i++) {
        const live_case *c = &live_cases[i];
        lb_server srv = {.mode = c->mode};
        if (c->reply)
            srv.reply[0] = (lb_piece){c->reply, strlen(c->reply)};
        ld_facts *f = ld_facts_create();
        int fd = hello_against(f, &srv, "127.0.0.2", c->reply ? 2 * LD_SEC : 300 * LD_MS);
        const ld_bag *a = lb_subject(f, TOY, "127.0.0.2");
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_STRING_EQUAL(lb_str(a, A_ADDRESS), "127.0.0.2");
        CU_ASSERT_STRING_EQUAL(lb_str(a, A_OUTCOME), c->outcome);
        CU_ASSERT_STRING_EQUAL(lb_str(a, A_REPLY), c->quoted ? c->quoted : "(none)");
        CU_ASSERT_EQUAL(ld_bag_get(a, A_MS) != NULL, c->timed);
        CU_ASSERT_STRING_EQUAL(lb_str(a, A_BUSY_REASON), c->reason ? c->reason : "(none)");
        CU_ASSERT_STRING_EQUAL(lb_str(a, A_ENDED_BY), c->ended_by);
        /* The request named the connection it went out on. */
        char want[64];
        snprintf(want, sizeof want, "HELLO %d\n%s", fd, c->sent);
        CU_ASSERT_EQUAL(srv.got_len, strlen(want));
        CU_ASSERT_EQUAL(memcmp(srv.got, want, strlen(want)), 0);
        if (c->mode != LB_REPLY_CLOSE)
            CU_ASSERT_TRUE(srv.got_eof); /* the probe closed its connection */
        ld_facts_free(f);
    }
}

/* --- the target facts ------------------------------------------------------------- */

/* An attempt as the probe records it. */
typedef struct recorded {
    const char *addr;    /* the address */
    const char *outcome; /* its outcome's name */
    const char *reply;   /* the quoted reply, or NULL */
    double ms;           /* the round trip, or -1 */
    const char *reason;  /* the extra fact, or NULL */
} recorded;

/* Records the n attempts in f and summarizes them for svc; returns f. */
static ld_facts *summarized(ld_facts *f, const ld_reqrep_service *svc, const recorded *at,
                            size_t n) {
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (const recorded *r = at; r < at + n; r++) {
        ld_bag *a = ld_facts_subject(f, TOY, r->addr);
        ld_bag_set_str(a, A_ADDRESS, r->addr);
        ld_bag_set_str(a, A_OUTCOME, r->outcome);
        if (r->reply)
            ld_bag_set_str(a, A_REPLY, r->reply);
        if (r->ms >= 0)
            ld_bag_set_num(a, A_MS, r->ms);
        if (r->reason)
            ld_bag_set_str(a, A_BUSY_REASON, r->reason);
    }
    CU_ASSERT_EQUAL(ld_reqrep_summarize(svc, TOY, f), LD_OK);
    return f;
}
/* A fresh store with the attempts of the array at, summarized for svc. */
#define SUMMARIZED(svc, at) summarized(ld_facts_create(), (svc), (at), sizeof(at) / sizeof(at)[0])

/* A target fact as text: a string, a list joined by ", ", "(none)". */
static const char *fact(const ld_facts *f, ld_fact_id id) {
    static char joined[256];
    const ld_value *v = ld_facts_get(f, id);
    if (!v || v->type != LD_T_LIST)
        return lb_str(ld_facts_target_const(f), id);
    joined[0] = '\0';
    for (size_t i = 0; i < v->u.list.len; i++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? ", " : "",
                 v->u.list.items[i]);
    return joined;
}

static void worst_outcome_of_two_live_addresses_decides_the_target(void) {
    lb_server busy = {.mode = LB_REPLY, .reply = {{"-BUSY full\n", 11}, {NULL, 0}}};
    lb_server welcome = {.mode = LB_REPLY, .reply = {{"+WELCOME\n", 9}, {NULL, 0}}};
    ld_facts *f = ld_facts_create();
    hello_against(f, &busy, "127.0.0.2", 2 * LD_SEC);
    hello_against(f, &welcome, "127.0.0.3", 2 * LD_SEC);
    CU_ASSERT_EQUAL(ld_probe_toy.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_TRUE(ld_facts_get(f, T_ATTEMPTED)->u.b);
    CU_ASSERT_FALSE(ld_facts_get(f, T_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(fact(f, T_OUTCOME), "busy");
    CU_ASSERT_STRING_EQUAL(fact(f, T_REPLY), "-BUSY full");
    CU_ASSERT_STRING_EQUAL(fact(f, T_BUSY_REASON), "full"); /* the extra fact, from the worst */
    CU_ASSERT_STRING_EQUAL(fact(f, T_FAILED), "127.0.0.2"); /* a plain address */
    const ld_value *welcome_ms = ld_bag_get(lb_subject(f, TOY, "127.0.0.3"), A_MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(welcome_ms);
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, T_FASTEST_MS)->u.n, welcome_ms->u.n, 1e-9);
    ld_facts_free(f);
}

static void worst_is_decided_by_rank_not_order_and_ties_keep_the_first(void) {
    static const recorded mixed[] = {
        {"10.0.0.1", "welcome", "+WELCOME", 3.0, NULL},
        {"10.0.0.2", "garbled", "HTTP/1.1 400", -1, NULL},
        {"10.0.0.3", "busy", "-BUSY a", 1.0, "a"},
        {"10.0.0.4", "garbled", "SSH-2.0", -1, NULL},
        {"10.0.0.5", "welcome", "+WELCOME", 2.0, NULL},
    };
    ld_facts *f = SUMMARIZED(&toy, mixed);
    CU_ASSERT_STRING_EQUAL(fact(f, T_OUTCOME), "garbled");
    CU_ASSERT_STRING_EQUAL(fact(f, T_REPLY), "HTTP/1.1 400");
    CU_ASSERT_STRING_EQUAL(fact(f, T_BUSY_REASON), "(none)"); /* the worst has none */
    CU_ASSERT_STRING_EQUAL(fact(f, T_FAILED), "10.0.0.2, 10.0.0.3, 10.0.0.4");
    /* The fastest successful time: the busy one was faster, and does not count. */
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, T_FASTEST_MS)->u.n, 2.0, 1e-9);
    ld_facts_free(f);
}

static void every_success_is_ok(void) {
    static const recorded welcomed[] = {{"10.0.0.1", "welcome", "+WELCOME", 3.0, NULL},
                                        {"10.0.0.2", "welcome", "+WELCOME", 4.0, NULL}};
    ld_facts *f = SUMMARIZED(&toy, welcomed);
    CU_ASSERT_TRUE(ld_facts_get(f, T_ATTEMPTED)->u.b);
    CU_ASSERT_TRUE(ld_facts_get(f, T_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(fact(f, T_OUTCOME), "welcome");
    CU_ASSERT_EQUAL(ld_facts_get(f, T_FAILED)->u.list.len, 0); /* recorded, and empty */
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, T_FASTEST_MS)->u.n, 3.0, 1e-9);
    ld_facts_free(f);
}

static void an_outcome_the_service_does_not_list_ranks_worst(void) {
    /* A saved report of another version may name one: reported as recorded. */
    static const recorded odd[] = {{"10.0.0.1", "welcome", "+WELCOME", 3.0, NULL},
                                   {"10.0.0.2", "overloaded", NULL, -1, NULL},
                                   {"10.0.0.3", "silent", NULL, -1, NULL}};
    ld_facts *f = SUMMARIZED(&toy, odd);
    CU_ASSERT_FALSE(ld_facts_get(f, T_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(fact(f, T_OUTCOME), "overloaded");
    CU_ASSERT_STRING_EQUAL(fact(f, T_REPLY), "(none)");
    CU_ASSERT_STRING_EQUAL(fact(f, T_FAILED), "10.0.0.2, 10.0.0.3");
    ld_facts_free(f);
}

static void optional_target_facts_are_left_out_when_the_service_has_none(void) {
    ld_reqrep_service bare = toy;
    bare.target_ok = LD_REQREP_NO_FACT;
    bare.target_reply = LD_REQREP_NO_FACT;
    bare.target_nextra = 0;
    static const recorded busy[] = {{"10.0.0.1", "busy", "-BUSY x", 1.0, "x"}};
    ld_facts *f = SUMMARIZED(&bare, busy);
    CU_ASSERT_STRING_EQUAL(fact(f, T_OUTCOME), "busy");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, T_OK));
    CU_ASSERT_PTR_NULL(ld_facts_get(f, T_REPLY));
    CU_ASSERT_PTR_NULL(ld_facts_get(f, T_BUSY_REASON));
    CU_ASSERT_PTR_NULL(ld_facts_get(f, T_FASTEST_MS)); /* no success, no fastest time */
    ld_facts_free(f);
}

static void attempts_of_another_kind_are_not_this_services(void) {
    /* The TLS probe's attempt carries the very ids the toy borrows: were it
     * counted, its outcome (unknown to the toy) would rank worst. */
    ld_facts *f = ld_facts_create();
    ld_bag *tls = ld_facts_subject(f, "tls", "10.0.0.2");
    ld_bag_set_str(tls, A_ADDRESS, "10.0.0.2");
    ld_bag_set_str(tls, A_OUTCOME, "not_tls");
    static const recorded welcomed[] = {{"10.0.0.1", "welcome", "+WELCOME", 3.0, NULL}};
    summarized(f, &toy, welcomed, 1);
    CU_ASSERT_TRUE(ld_facts_get(f, T_OK)->u.b);
    CU_ASSERT_STRING_EQUAL(fact(f, T_OUTCOME), "welcome");
    CU_ASSERT_STRING_EQUAL(fact(f, T_FAILED), "");
    ld_facts_free(f);
}

int main(void) {
    /* A peer that hung up must show as EPIPE, not kill the test run. */
    signal(SIGPIPE, SIG_IGN);
    static const ld_test_case cases[] = {
        LD_TEST(each_outcome_records_what_its_flags_say_and_success_says_goodbye),
        LD_TEST(worst_outcome_of_two_live_addresses_decides_the_target),
        LD_TEST(worst_is_decided_by_rank_not_order_and_ties_keep_the_first),
        LD_TEST(every_success_is_ok),
        LD_TEST(an_outcome_the_service_does_not_list_ranks_worst),
        LD_TEST(optional_target_facts_are_left_out_when_the_service_has_none),
        LD_TEST(attempts_of_another_kind_are_not_this_services),
        {0},
    };
    return ld_unit_run("reqrep", cases);
}
