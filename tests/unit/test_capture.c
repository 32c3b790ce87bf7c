/* test_capture.c - what capture evidence makes of an attempt: the packet
 * timeline as facts, "SYN never on the wire" as a local block, the states a
 * capture file alone gives, and the capture.* counts rules read. */
#include <string.h>

#include "probes/capture.h"
#include "probes/tcp.h"
#include "unit.h"

static ld_addr addr(const char *s) {
    ld_addr a;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(s, &a, &err), LD_OK);
    return a;
}

/* A flow from 10.0.1.10:40000 to 10.0.2.23:19530 with nsyn SYNs a second apart. */
static ld_hs_flow flow(unsigned nsyn) {
    ld_hs_flow f;
    memset(&f, 0, sizeof f);
    f.client = addr("10.0.1.10");
    f.client_port = 40000;
    f.server = addr("10.0.2.23");
    f.server_port = 19530;
    f.nsyn = nsyn;
    for (unsigned i = 0; i < nsyn && i < LD_HS_MAX_SYNS; i++)
        f.syn_ts[i] = 100.0 + i * 1.004;
    f.first_ts = 100.0;
    f.last_ts = 100.0 + (nsyn ? nsyn - 1 : 0) * 1.004;
    f.last_syn_ts = nsyn ? f.last_ts : 0;
    f.packets = nsyn;
    return f;
}

static const char *str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

/* An attempt the TCP probe ended in state, as its subject. */
static ld_bag *attempt(ld_facts *f, const char *state) {
    ld_bag *a = ld_facts_subject(f, "tcp", "10.0.2.23");
    ld_bag_set_str(a, LD_F_TCP_A_ADDRESS, "10.0.2.23");
    ld_bag_set_bool(a, LD_F_TCP_A_EXPECTED, 1);
    ld_bag_set_str(a, LD_F_TCP_A_STATE, state);
    return a;
}

/* ld_capture_judge() with its arguments spelled out. */
static ld_tcp_state judge(ld_tcp_state seen, const ld_hs_flow *fl, int blind, int unresolved,
                          double waited_ms) {
    ld_capture_judge_args args = {
        .blind = blind, .neighbour_unresolved = unresolved, .waited_ms = waited_ms};
    return ld_capture_judge(seen, fl, &args);
}

/* What the plan does with an ended attempt: the capture's evidence, then
 * the state the socket's outcome and the packets together give. */
static void record(ld_bag *a, const ld_hs_flow *fl, int blind) {
    ld_capture_record_flow(a, fl);
    ld_tcp_state seen = (ld_tcp_state)ld_tcp_state_parse(str(a, LD_F_TCP_A_STATE));
    ld_bag_set_str(a, LD_F_TCP_A_STATE, ld_tcp_state_name(judge(seen, fl, blind, 0, 2000)));
}

static void retransmitted_unanswered_syn_is_recorded_as_s0_with_its_times(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "timeout");
    ld_hs_flow fl = flow(2);
    record(a, &fl, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_CONN_STATE), "S0");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "timeout");
    const ld_value *times = ld_bag_get(a, LD_F_TCP_A_SYN_TIMES_MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(times);
    CU_ASSERT_EQUAL(times->u.list.len, 2);
    CU_ASSERT_STRING_EQUAL(times->u.list.items[0], "0.0");
    CU_ASSERT_STRING_EQUAL(times->u.list.items[1], "1004.0");
    CU_ASSERT_TRUE(ld_bag_get(a, LD_F_TCP_A_SYN_SEEN)->u.b);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_UNANSWERED)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_RETRANSMITS)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_NOT_SEEN)->u.i, 0);
    ld_facts_free(f);
}

static void single_unanswered_syn_proves_nothing_yet(void) {
    /* Cut short before the retransmission (a short --timeout): no proof. */
    ld_facts *f = ld_facts_create();
    ld_hs_flow fl = flow(1);
    record(attempt(f, "timeout"), &fl, 0);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_UNANSWERED)->u.i, 0);
    ld_facts_free(f);
}

static void unanswered_syn_never_on_the_wire_is_a_local_block(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "timeout");
    record(a, NULL, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "local_block");
    CU_ASSERT_FALSE(ld_bag_get(a, LD_F_TCP_A_SYN_SEEN)->u.b);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_NOT_SEEN)->u.i, 1);
    ld_facts_free(f);
}

static void local_reset_for_a_syn_never_sent_is_a_local_block(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "refused");
    record(a, NULL, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "local_block");
    ld_facts_free(f);
}

static void blind_capture_concludes_nothing_from_absence(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "timeout");
    record(a, NULL, 1);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "timeout");
    ld_facts_free(f);
}

static void open_attempt_keeps_its_state_whatever_the_capture_missed(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "open");
    record(a, NULL, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "open");
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_NOT_SEEN)->u.i, 0);
    ld_facts_free(f);
}

static void socket_icmp_detail_is_kept_and_capture_adds_its_time(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "icmp");
    ld_bag_set_str(a, LD_F_TCP_A_ICMP_REASON, "admin-prohibited");
    ld_hs_flow fl = flow(1);
    fl.icmp_seen = 1;
    fl.icmp_type = 3;
    fl.icmp_code = 1; /* differs from the socket's: the socket's stays */
    fl.icmp_from = addr("10.0.2.1");
    fl.icmp_ts = 100.0005;
    record(a, &fl, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_ICMP_REASON), "admin-prohibited");
    CU_ASSERT_DOUBLE_EQUAL(ld_bag_get(a, LD_F_TCP_A_ICMP_MS)->u.n, 0.5, 1e-6);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_REJECTED)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_UNANSWERED)->u.i, 0);
    ld_facts_free(f);
}

static void capture_file_flows_become_attempts_with_the_state_packets_show(void) {
    struct {
        const char *name;  /* case */
        ld_hs_flow fl;     /* packets */
        const char *state; /* attempt state */
    } cases[5];
    cases[0].name = "synack";
    cases[0].fl = flow(1);
    cases[0].fl.synack_seen = 1;
    cases[0].fl.synack_ts = 100.002;
    cases[0].state = "open";
    cases[1].name = "rst";
    cases[1].fl = flow(1);
    cases[1].fl.rst_from_server = 1;
    cases[1].fl.rst_server_ts = 100.001;
    cases[1].state = "refused";
    cases[2].name = "dropped";
    cases[2].fl = flow(3);
    cases[2].state = "timeout";
    cases[3].name = "icmp from the path";
    cases[3].fl = flow(1);
    cases[3].fl.icmp_seen = 1;
    cases[3].fl.icmp_type = 3;
    cases[3].fl.icmp_code = 13;
    cases[3].fl.icmp_from = addr("10.0.2.1");
    cases[3].state = "icmp";
    cases[4].name = "icmp from the client itself, SYN never sent";
    cases[4].fl = flow(0);
    cases[4].fl.icmp_seen = 1;
    cases[4].fl.icmp_type = 3;
    cases[4].fl.icmp_code = 13;
    cases[4].fl.icmp_from = addr("10.0.1.10");
    cases[4].state = "local_block";
    for (size_t i = 0; i < 5; i++) {
        ld_facts *f = ld_facts_create();
        CU_ASSERT_EQUAL(ld_capture_attempt_from_flow(f, &cases[i].fl, 99.0, 110.0), LD_OK);
        const ld_bag *a = ld_facts_subject_at(f, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        if (strcmp(str(a, LD_F_TCP_A_STATE), cases[i].state) != 0)
            fprintf(stderr, "\n  %s: state %s, want %s\n", cases[i].name, str(a, LD_F_TCP_A_STATE),
                    cases[i].state);
        CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), cases[i].state);
        CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_ENDED_BY), "capture");
        CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_SOURCE_IP), "10.0.1.10");
        CU_ASSERT_EQUAL(ld_bag_get(a, LD_F_TCP_A_PORT)->u.i, 19530);
        CU_ASSERT_TRUE(ld_value_list_has(ld_bag_get(a, LD_F_TCP_A_ORIGIN), "capture"));
        ld_facts_free(f);
    }
    /* The started time is relative to the capture's start; syns_sent on timeouts. */
    ld_facts *f = ld_facts_create();
    ld_capture_attempt_from_flow(f, &cases[2].fl, 99.0, 110.0);
    const ld_bag *a = ld_facts_subject_at(f, 0);
    CU_ASSERT_DOUBLE_EQUAL(ld_bag_get(a, LD_F_TCP_A_STARTED_MS)->u.n, 1000.0, 1e-6);
    CU_ASSERT_EQUAL(ld_bag_get(a, LD_F_TCP_A_SYNS_SENT)->u.i, 3);
    ld_facts_free(f);
}

static void retransmission_grace_scales_with_the_round_trips_measured(void) {
    CU_ASSERT_EQUAL(ld_capture_grace_for(0), LD_CAPTURE_GRACE_UNMEASURED);  /* none measured */
    CU_ASSERT_EQUAL(ld_capture_grace_for(LD_MS / 2), LD_CAPTURE_GRACE_MIN); /* the floor */
    CU_ASSERT_EQUAL(ld_capture_grace_for(10 * LD_MS), 10 * LD_MS * LD_CAPTURE_RTT_FACTOR);
    CU_ASSERT_EQUAL(ld_capture_grace_for(900 * LD_MS), LD_CAPTURE_GRACE); /* the ceiling */
    CU_ASSERT_TRUE(LD_CAPTURE_GRACE_MIN < LD_CAPTURE_GRACE_UNMEASURED &&
                   LD_CAPTURE_GRACE_UNMEASURED <= LD_CAPTURE_GRACE);
}

static void summary_counts_only_expected_attempts_and_only_with_capture(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "timeout");
    ld_hs_flow fl = flow(2);
    record(a, &fl, 0);
    ld_bag *u = ld_facts_subject(f, "tcp", "10.0.9.9");
    ld_bag_set_bool(u, LD_F_TCP_A_EXPECTED, 0); /* an address DNS gave, not an endpoint */
    ld_bag_set_str(u, LD_F_TCP_A_STATE, "timeout");
    record(u, &fl, 0);
    ld_capture_summarize(f); /* capture.available not recorded: nothing derived */
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_CAPTURE_ATTEMPTS));
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_ATTEMPTS)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_UNANSWERED)->u.i, 1);
    ld_facts_free(f);
}

/* flow(nsyn) answered by the server's SYN-ACK (or RST) between the first
 * SYN and the next: the retransmissions came after the answer. */
static ld_hs_flow answered(unsigned nsyn, int rst) {
    ld_hs_flow f = flow(nsyn);
    if (rst) {
        f.rst_from_server = 1;
        f.rst_server_ts = 100.0005;
    } else {
        f.synack_seen = 1;
        f.synack_ts = 100.0005;
    }
    return f;
}

static void answer_the_socket_never_saw_is_a_reply_dropped(void) {
    ld_hs_flow syn_ack = answered(2, 0), rst = answered(2, 1), once = answered(1, 0);
    /* The SYN went out again after the answer: proof, however long the socket waited. */
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &syn_ack, 0, 0, -1), LD_TCP_REPLY_DROPPED);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &rst, 0, 0, 5), LD_TCP_REPLY_DROPPED);
    /* One SYN, answered at 0.5 ms: the socket gave up 2 s later, it never got it... */
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &once, 1, 0, 2000), LD_TCP_REPLY_DROPPED);
    /* ... but an answer that came just as the socket gave up proves nothing. */
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &once, 0, 0, 100), LD_TCP_TIMEOUT);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &once, 0, 0, -1), LD_TCP_TIMEOUT);
    /* The socket got it (or acknowledged it): nothing was dropped. */
    CU_ASSERT_EQUAL(judge(LD_TCP_OPEN, &syn_ack, 0, 0, 2000), LD_TCP_OPEN);
    CU_ASSERT_EQUAL(judge(LD_TCP_REFUSED, &rst, 0, 0, 2000), LD_TCP_REFUSED);
    ld_hs_flow acked = answered(1, 0);
    acked.ack_seen = 1;
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &acked, 0, 0, 2000), LD_TCP_TIMEOUT);
    /* Silence stays a timeout. */
    ld_hs_flow silent = flow(2);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &silent, 0, 0, 2000), LD_TCP_TIMEOUT);
}

static void syn_waiting_for_a_neighbour_is_no_route_not_a_firewall(void) {
    /* Never on the wire, next hop unresolved: no neighbour answered - with a
     * capture, a blind one, or none at all. */
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, NULL, 0, 1, 1200), LD_TCP_NO_ROUTE);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, NULL, 1, 1, 1200), LD_TCP_NO_ROUTE);
    /* Next hop fine: the firewall it is (unless the capture is blind). */
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, NULL, 0, 0, 200), LD_TCP_LOCAL_BLOCK);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, NULL, 1, 0, 200), LD_TCP_TIMEOUT);
    /* SYNs that left for a stale MAC address, then the kernel's probes of it
     * failed (STALE -> DELAY -> PROBE -> FAILED): they reached no one. */
    ld_hs_flow left = flow(2);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &left, 0, 1, 8200), LD_TCP_NO_ROUTE);
    /* Its entry still unconfirmed (not unresolved): unanswered, a drop. */
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &left, 0, 0, 1200), LD_TCP_TIMEOUT);
    /* An answer seen that the socket never got is not the neighbour's fault. */
    ld_hs_flow seen = answered(2, 0);
    CU_ASSERT_EQUAL(judge(LD_TCP_TIMEOUT, &seen, 0, 1, 1200), LD_TCP_REPLY_DROPPED);
}

static void unanswered_syns_to_an_unconfirmed_neighbour_say_so(void) {
    /* SYNs left and nothing answered, the next hop's entry in DELAY: the
     * target facts name it and say it was not confirmed. */
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "timeout");
    ld_neigh nb;
    memset(&nb, 0, sizeof nb);
    nb.next_hop = addr("10.0.2.23");
    nb.state = LD_NEIGH_DELAY;
    ld_capture_record_neighbour(NULL, a, &nb);
    CU_ASSERT_EQUAL(ld_probe_tcp.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_TRUE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNCONFIRMED)->u.b);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNRESOLVED)->u.b);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_STATE)->u.s, "delay");
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_NEXT_HOP)->u.s, "10.0.2.23");
    ld_facts_free(f);
    /* Reachable: confirmed, the drop stands on its own. */
    f = ld_facts_create();
    a = attempt(f, "timeout");
    nb.state = LD_NEIGH_REACHABLE;
    ld_capture_record_neighbour(NULL, a, &nb);
    ld_probe_tcp.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNCONFIRMED)->u.b);
    ld_facts_free(f);
    /* Still DELAY, but the kernel confirmed the neighbour 300 ms ago (a
     * handshake of the same run through it): confirmed. */
    f = ld_facts_create();
    a = attempt(f, "timeout");
    nb.state = LD_NEIGH_DELAY;
    nb.have_confirmed = 1;
    nb.confirmed_ms = 300;
    ld_capture_record_neighbour(NULL, a, &nb);
    ld_probe_tcp.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNCONFIRMED)->u.b);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_STATE)->u.s, "delay");
    ld_facts_free(f);
    nb.have_confirmed = 0;
    /* A stale entry behind a local block (the SYN never left) is not the
     * question: nothing went to it. */
    f = ld_facts_create();
    a = attempt(f, "local_block");
    nb.state = LD_NEIGH_STALE;
    ld_capture_record_neighbour(NULL, a, &nb);
    ld_probe_tcp.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNCONFIRMED)->u.b);
    ld_facts_free(f);
}

static void capture_file_shows_a_reply_dropped_only_on_the_client(void) {
    ld_facts *f = ld_facts_create();
    ld_hs_flow fl = answered(2, 0);
    CU_ASSERT_EQUAL(ld_capture_attempt_from_flow(f, &fl, 99.0, 110.0), LD_OK);
    const ld_bag *a = ld_facts_subject_at(f, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "reply_dropped");
    CU_ASSERT_EQUAL(ld_bag_get(a, LD_F_TCP_A_SYNS_SENT)->u.i, 2);
    CU_ASSERT_DOUBLE_EQUAL(ld_bag_get(a, LD_F_TCP_A_ELAPSED_MS)->u.n, 1004.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(ld_bag_get(a, LD_F_TCP_A_SYNACK_RTT_MS)->u.n, 0.5, 1e-6);
    ld_facts_free(f);
    /* A cooked capture showing the SYN arrive was taken elsewhere (a router):
     * the answer may have been lost anywhere after it. */
    f = ld_facts_create();
    fl.syn_dir = -1;
    ld_capture_attempt_from_flow(f, &fl, 99.0, 110.0);
    CU_ASSERT_STRING_EQUAL(str(ld_facts_subject_at(f, 0), LD_F_TCP_A_STATE), "open");
    ld_facts_free(f);
    /* The client acknowledged the SYN-ACK: it got it. */
    f = ld_facts_create();
    fl = answered(2, 0);
    fl.ack_seen = 1;
    ld_capture_attempt_from_flow(f, &fl, 99.0, 110.0);
    CU_ASSERT_STRING_EQUAL(str(ld_facts_subject_at(f, 0), LD_F_TCP_A_STATE), "open");
    ld_facts_free(f);
    /* Cooked v2 names both interfaces: the answer came in where the SYN left. */
    f = ld_facts_create();
    fl = answered(2, 0);
    fl.syn_ifindex = 2;
    fl.reply_ifindex = 2;
    ld_capture_attempt_from_flow(f, &fl, 99.0, 110.0);
    CU_ASSERT_FALSE(ld_bag_get(ld_facts_subject_at(f, 0), LD_F_TCP_A_REPLY_OTHER_INTERFACE)->u.b);
    ld_facts_free(f);
}

static void capture_file_ending_right_after_a_lone_syn_is_undecided(void) {
    ld_facts *f = ld_facts_create();
    ld_hs_flow fl = flow(1);
    /* The file ends with the SYN: no answer could have come yet. */
    CU_ASSERT_EQUAL(ld_capture_attempt_from_flow(f, &fl, 99.0, 100.0), LD_OK);
    const ld_bag *a = ld_facts_subject_at(f, 0);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_STATE), "undecided");
    CU_ASSERT_DOUBLE_EQUAL(ld_bag_get(a, LD_F_TCP_A_ELAPSED_MS)->u.n, 0.0, 1e-6);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_SYN_UNANSWERED)->u.i, 0);
    CU_ASSERT_EQUAL(ld_probe_tcp.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_UNDECIDED_COUNT)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_TIMEOUT_COUNT)->u.i, 0);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_FAILED_COUNT)->u.i, 0); /* nor failed */
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_OPEN_COUNT)->u.i, 0);   /* nor open */
    ld_facts_free(f);
    /* Still undecided just before a second of capture after it ... */
    f = ld_facts_create();
    ld_capture_attempt_from_flow(f, &fl, 99.0, 100.0 + LD_CAPTURE_QUIET_S - 0.01);
    CU_ASSERT_STRING_EQUAL(str(ld_facts_subject_at(f, 0), LD_F_TCP_A_STATE), "undecided");
    ld_facts_free(f);
    /* ... unanswered once a full second went by without an answer. */
    f = ld_facts_create();
    ld_capture_attempt_from_flow(f, &fl, 99.0, 100.0 + LD_CAPTURE_QUIET_S);
    CU_ASSERT_STRING_EQUAL(str(ld_facts_subject_at(f, 0), LD_F_TCP_A_STATE), "timeout");
    ld_facts_free(f);
    /* A retransmission decides, however soon the file ends. */
    f = ld_facts_create();
    fl = flow(2);
    ld_capture_attempt_from_flow(f, &fl, 99.0, fl.last_syn_ts);
    CU_ASSERT_STRING_EQUAL(str(ld_facts_subject_at(f, 0), LD_F_TCP_A_STATE), "timeout");
    ld_facts_free(f);
}

static void lost_packets_and_evicted_flows_are_counted(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "timeout");
    ld_bag_set_int(a, LD_F_TCP_A_CAPTURE_LOST, 3);
    ld_bag_set_int(a, LD_F_TCP_A_CAPTURE_EVICTED, 7);
    ld_bag *b = ld_facts_subject(f, "tcp", "10.0.2.24");
    ld_bag_set_bool(b, LD_F_TCP_A_EXPECTED, 1);
    ld_bag_set_str(b, LD_F_TCP_A_STATE, "open");
    ld_bag_set_int(b, LD_F_TCP_A_CAPTURE_LOST, 1);
    ld_bag_set_int(b, LD_F_TCP_A_CAPTURE_EVICTED, 9);
    ld_capture_record_flow(a, NULL);
    ld_capture_record_flow(b, NULL);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_TRUE(ld_facts_get(f, LD_F_CAPTURE_LOSSY)->u.b);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_DROPS)->u.i, 3);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_EVICTED)->u.i, 9);
    ld_facts_free(f);
    /* Watched, nothing lost: not lossy. */
    f = ld_facts_create();
    a = attempt(f, "timeout");
    ld_capture_record_flow(a, NULL);
    ld_bag_set_int(a, LD_F_TCP_A_CAPTURE_LOST, 0);
    ld_bag_set_int(a, LD_F_TCP_A_CAPTURE_EVICTED, 0);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ld_facts_get(f, LD_F_CAPTURE_LOSSY));
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_CAPTURE_LOSSY)->u.b);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_CAPTURE_DROPS)->u.i, 0);
    ld_facts_free(f);
    /* A capture file says nothing of what its capture lost: no claim either way. */
    f = ld_facts_create();
    ld_hs_flow fl = flow(2);
    ld_capture_attempt_from_flow(f, &fl, 99.0, 110.0);
    ld_bag_set_bool(ld_facts_target(f), LD_F_CAPTURE_AVAILABLE, 1);
    ld_capture_summarize(f);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_CAPTURE_LOSSY));
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_CAPTURE_DROPS));
    ld_facts_free(f);
}

static void neighbour_evidence_reaches_the_target_facts(void) {
    ld_facts *f = ld_facts_create();
    /* A local block whose next hop was fine, then one that never resolved:
     * the target facts name the unresolved one. */
    ld_bag *a = attempt(f, "local_block");
    ld_neigh nb;
    memset(&nb, 0, sizeof nb);
    nb.next_hop = addr("10.0.1.1");
    nb.via_gateway = 1;
    nb.state = LD_NEIGH_REACHABLE;
    ld_capture_record_neighbour(NULL, a, &nb);
    ld_bag *b = ld_facts_subject(f, "tcp", "10.0.1.99");
    ld_bag_set_str(b, LD_F_TCP_A_ADDRESS, "10.0.1.99");
    ld_bag_set_bool(b, LD_F_TCP_A_EXPECTED, 1);
    ld_bag_set_str(b, LD_F_TCP_A_STATE, "no_route");
    nb.next_hop = addr("10.0.1.99");
    nb.via_gateway = 0;
    nb.state = LD_NEIGH_INCOMPLETE;
    ld_capture_record_neighbour(NULL, b, &nb);
    ld_bag_set_int(b, LD_F_TCP_A_NEIGHBOUR_REQUESTS, 2);
    CU_ASSERT_EQUAL(ld_probe_tcp.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_NEXT_HOP)->u.s, "10.0.1.99");
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_STATE)->u.s, "incomplete");
    CU_ASSERT_TRUE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNRESOLVED)->u.b);
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_NEXT_HOP_GATEWAY)->u.b);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_REQUESTS)->u.i, 2);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_NO_ROUTE_COUNT)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_LOCAL_BLOCK_COUNT)->u.i, 1);
    ld_facts_free(f);
    /* No next hop known (no route): the state alone. */
    f = ld_facts_create();
    a = attempt(f, "no_route");
    memset(&nb, 0, sizeof nb);
    nb.state = LD_NEIGH_NO_ROUTE;
    ld_capture_record_neighbour(NULL, a, &nb);
    ld_probe_tcp.summarize(f, &ld_unit_no_spec);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_STATE)->u.s, "no_route");
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_NEIGHBOUR_UNRESOLVED)->u.b);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_TCP_NEXT_HOP));
    ld_facts_free(f);
}

static void reply_dropped_evidence_reaches_the_target_facts(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = attempt(f, "reply_dropped");
    ld_hs_flow fl = answered(2, 0);
    fl.syn_ifindex = 1; /* lo: present everywhere */
    fl.reply_ifindex = 1;
    ld_capture_record_flow(a, &fl);
    ld_capture_record_reply(a, ld_facts_target(f), &fl, LD_TEST_DATA "/proc");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_REPLY_INTERFACE), "lo");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_SYN_INTERFACE), "lo");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_CONNTRACK_MAX)->u.i, 65536);
    ld_bag_set_int(a, LD_F_TCP_A_RP_FILTER, 1);
    CU_ASSERT_EQUAL(ld_probe_tcp.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_REPLY_DROPPED_COUNT)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_FAILED_COUNT)->u.i, 1);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_TIMEOUT_COUNT)->u.i, 0); /* never a syn_dropped */
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_TCP_REPLY_INTERFACE)->u.s, "lo");
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_TCP_REPLY_OTHER_INTERFACE)->u.b);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_RP_FILTER)->u.i, 1);
    ld_facts_free(f);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(retransmitted_unanswered_syn_is_recorded_as_s0_with_its_times),
        LD_TEST(single_unanswered_syn_proves_nothing_yet),
        LD_TEST(unanswered_syn_never_on_the_wire_is_a_local_block),
        LD_TEST(local_reset_for_a_syn_never_sent_is_a_local_block),
        LD_TEST(blind_capture_concludes_nothing_from_absence),
        LD_TEST(open_attempt_keeps_its_state_whatever_the_capture_missed),
        LD_TEST(socket_icmp_detail_is_kept_and_capture_adds_its_time),
        LD_TEST(capture_file_flows_become_attempts_with_the_state_packets_show),
        LD_TEST(retransmission_grace_scales_with_the_round_trips_measured),
        LD_TEST(summary_counts_only_expected_attempts_and_only_with_capture),
        LD_TEST(answer_the_socket_never_saw_is_a_reply_dropped),
        LD_TEST(syn_waiting_for_a_neighbour_is_no_route_not_a_firewall),
        LD_TEST(unanswered_syns_to_an_unconfirmed_neighbour_say_so),
        LD_TEST(capture_file_shows_a_reply_dropped_only_on_the_client),
        LD_TEST(capture_file_ending_right_after_a_lone_syn_is_undecided),
        LD_TEST(lost_packets_and_evicted_flows_are_counted),
        LD_TEST(neighbour_evidence_reaches_the_target_facts),
        LD_TEST(reply_dropped_evidence_reaches_the_target_facts),
        {0},
    };
    return ld_unit_run("capture", cases);
}
