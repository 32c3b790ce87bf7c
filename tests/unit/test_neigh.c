/* test_neigh.c - the next hop and its neighbour state, read from the
 * kernel's own answers (tests/data/netlink, recorded by record.py there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/neigh.h"
#include "unit.h"

static ld_addr ip(const char *s) {
    ld_addr a;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(s, &a, &err), LD_OK);
    return a;
}

/* A lookup of dst whose route answer is the fixture `route` (NULL: skip it,
 * the next hop is dst) and whose neighbour answer is `neigh` (NULL: none). */
static ld_status lookup(const char *dst, const char *route, const char *neigh, ld_neigh *out) {
    ld_err err = {{0}};
    ld_status st = LD_OK;
    memset(out, 0, sizeof *out);
    out->dst = ip(dst);
    out->next_hop = out->dst;
    char path[128];
    size_t len;
    if (route) {
        snprintf(path, sizeof path, "netlink/%s.bin", route);
        char *msg = ld_unit_read_data(path, &len);
        st = ld_neigh_parse_route(msg, len, out, &err);
        free(msg);
    }
    if (st == LD_OK && neigh) {
        snprintf(path, sizeof path, "netlink/%s.bin", neigh);
        char *msg = ld_unit_read_data(path, &len);
        st = ld_neigh_parse_neigh(msg, len, out, &err);
        free(msg);
    }
    if (st != LD_OK)
        CU_ASSERT_NOT_EQUAL(err.msg[0], '\0');
    return st;
}

static void on_link_address_is_its_own_next_hop(void) {
    ld_neigh n;
    CU_ASSERT_EQUAL_FATAL(lookup("10.77.0.99", "route-onlink", NULL, &n), LD_OK);
    ld_addr want = ip("10.77.0.99");
    CU_ASSERT_TRUE(ld_addr_equal(&n.next_hop, &want));
    CU_ASSERT_FALSE(n.via_gateway);
    CU_ASSERT_TRUE(n.ifindex > 0);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_NONE); /* the neighbour is not asked yet */
    CU_ASSERT_EQUAL_FATAL(lookup("fd77::99", "route-v6-onlink", NULL, &n), LD_OK);
    want = ip("fd77::99");
    CU_ASSERT_TRUE(ld_addr_equal(&n.next_hop, &want));
    CU_ASSERT_FALSE(n.via_gateway);
}

static void routed_address_goes_through_its_gateway(void) {
    ld_neigh n;
    CU_ASSERT_EQUAL_FATAL(lookup("10.78.0.5", "route-gateway", NULL, &n), LD_OK);
    ld_addr gw = ip("10.77.0.2");
    CU_ASSERT_TRUE(ld_addr_equal(&n.next_hop, &gw));
    CU_ASSERT_TRUE(n.via_gateway);
    CU_ASSERT_TRUE(n.ifindex > 0);
}

static void route_says_source_and_its_own_mtu(void) {
    ld_neigh n;
    /* route 10.79.0.0/16 via 10.77.0.2 mtu 1400 */
    CU_ASSERT_EQUAL_FATAL(lookup("10.79.0.5", "route-mtu", NULL, &n), LD_OK);
    ld_addr gw = ip("10.77.0.2"), src = ip("10.77.0.1");
    CU_ASSERT_TRUE(ld_addr_equal(&n.next_hop, &gw));
    CU_ASSERT_TRUE(n.via_gateway);
    CU_ASSERT_TRUE(ld_addr_equal(&n.source, &src));
    CU_ASSERT_EQUAL(n.mtu, 1400);
    CU_ASSERT_TRUE(n.mtu_from_route);
    /* the interface's answer names it, and leaves the route's MTU alone */
    size_t len;
    char *msg = ld_unit_read_data("netlink/link-vc.bin", &len);
    ld_err err;
    ld_neigh before = n;
    CU_ASSERT_EQUAL(ld_neigh_parse_link(msg, len, &n, &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(n.ifname, "vc");
    CU_ASSERT_EQUAL(n.mtu, 1400);
    /* an answer about another interface is refused */
    before.ifindex += 1000;
    CU_ASSERT_EQUAL(ld_neigh_parse_link(msg, len, &before, &err), LD_EINVAL);
    free(msg);
}

static void route_without_mtu_takes_its_interfaces(void) {
    ld_neigh n;
    CU_ASSERT_EQUAL_FATAL(lookup("10.77.0.99", "route-onlink", NULL, &n), LD_OK);
    ld_addr src = ip("10.77.0.1");
    CU_ASSERT_TRUE(ld_addr_equal(&n.source, &src));
    CU_ASSERT_EQUAL(n.mtu, 0);
    CU_ASSERT_FALSE(n.mtu_from_route);
    size_t len;
    char *msg = ld_unit_read_data("netlink/link-vc.bin", &len);
    ld_err err;
    CU_ASSERT_EQUAL(ld_neigh_parse_link(msg, len, &n, &err), LD_OK);
    CU_ASSERT_EQUAL(n.mtu, 1450); /* ip link set vc mtu 1450 */
    free(msg);
}

static void no_route_and_local_addresses_need_no_neighbour(void) {
    ld_neigh n;
    CU_ASSERT_EQUAL(lookup("10.123.0.1", "route-unreachable", NULL, &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_NO_ROUTE);
    CU_ASSERT_EQUAL(lookup("10.77.0.1", "route-local", NULL, &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_LOCAL);
    CU_ASSERT_FALSE(ld_neigh_unresolved(LD_NEIGH_NO_ROUTE));
    CU_ASSERT_FALSE(ld_neigh_unresolved(LD_NEIGH_LOCAL));
}

static void neighbour_nobody_answers_is_unresolved(void) {
    ld_neigh n;
    CU_ASSERT_EQUAL(lookup("10.77.0.99", "route-onlink", "neigh-incomplete", &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_INCOMPLETE);
    CU_ASSERT_TRUE(ld_neigh_unresolved(n.state));
    CU_ASSERT_EQUAL(lookup("10.77.0.99", "route-onlink", "neigh-failed", &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_FAILED);
    CU_ASSERT_TRUE(ld_neigh_unresolved(n.state));
    CU_ASSERT_STRING_EQUAL(ld_neigh_state_name(n.state), "failed");
    CU_ASSERT_EQUAL(lookup("fd77::99", "route-v6-onlink", "neigh-v6-incomplete", &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_INCOMPLETE);
}

static void neighbour_that_answered_or_was_never_needed_is_not(void) {
    ld_neigh n;
    CU_ASSERT_EQUAL(lookup("10.78.0.5", "route-gateway", "neigh-reachable", &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_REACHABLE);
    CU_ASSERT_FALSE(ld_neigh_unresolved(n.state));
    CU_ASSERT_EQUAL(lookup("10.77.0.50", NULL, "neigh-none", &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_NONE);
    CU_ASSERT_STRING_EQUAL(ld_neigh_state_name(n.state), "none");
    CU_ASSERT_FALSE(ld_neigh_unresolved(n.state));
}

static void stale_neighbour_in_use_is_unconfirmed_not_unresolved(void) {
    ld_neigh n;
    /* Added stale for an address nobody has, then connected to: the SYN left
     * for its old MAC and the entry waits in DELAY before it probes. */
    CU_ASSERT_EQUAL(lookup("10.77.0.98", "route-onlink", "neigh-delay", &n), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_DELAY);
    CU_ASSERT_STRING_EQUAL(ld_neigh_state_name(n.state), "delay");
    CU_ASSERT_FALSE(ld_neigh_unresolved(n.state));
    CU_ASSERT_TRUE(ld_neigh_unconfirmed(n.state));
    CU_ASSERT_TRUE(ld_neigh_unconfirmed(LD_NEIGH_STALE));
    CU_ASSERT_TRUE(ld_neigh_unconfirmed(LD_NEIGH_PROBE));
    static const ld_neigh_state confirmed[] = {
        LD_NEIGH_REACHABLE,  LD_NEIGH_PERMANENT, LD_NEIGH_NOARP,
        LD_NEIGH_INCOMPLETE, LD_NEIGH_FAILED,    LD_NEIGH_NONE,
        LD_NEIGH_LOCAL,      LD_NEIGH_NO_ROUTE,  LD_NEIGH_UNKNOWN,
    };
    for (size_t i = 0; i < sizeof confirmed / sizeof confirmed[0]; i++)
        CU_ASSERT_FALSE(ld_neigh_unconfirmed(confirmed[i]));
    /* The recorded entry says when the kernel last confirmed it: a new entry
     * added stale is put 2 x base_reachable_time (60 s) back. */
    CU_ASSERT_TRUE(n.have_confirmed);
    CU_ASSERT_TRUE(n.confirmed_ms >= LD_NEIGH_RECENT_MS);
    CU_ASSERT_TRUE(ld_neigh_unconfirmed_since(n.state, n.confirmed_ms));
}

/* An entry still in DELAY that the kernel confirmed lately (a handshake
 * through the same next hop) is confirmed: the kernel itself makes it
 * REACHABLE at its next timer. Unknown age: as the state says. */
static void a_recent_confirmation_confirms_an_unconfirmed_state(void) {
    CU_ASSERT_FALSE(ld_neigh_unconfirmed_since(LD_NEIGH_DELAY, 0));
    CU_ASSERT_FALSE(ld_neigh_unconfirmed_since(LD_NEIGH_STALE, 1200));
    CU_ASSERT_FALSE(ld_neigh_unconfirmed_since(LD_NEIGH_PROBE, LD_NEIGH_RECENT_MS - 1));
    CU_ASSERT_TRUE(ld_neigh_unconfirmed_since(LD_NEIGH_DELAY, LD_NEIGH_RECENT_MS));
    CU_ASSERT_TRUE(ld_neigh_unconfirmed_since(LD_NEIGH_STALE, 60000));
    CU_ASSERT_TRUE(ld_neigh_unconfirmed_since(LD_NEIGH_DELAY, -1));
    CU_ASSERT_FALSE(ld_neigh_unconfirmed_since(LD_NEIGH_REACHABLE, 60000));
    CU_ASSERT_FALSE(ld_neigh_unconfirmed_since(LD_NEIGH_FAILED, -1));
}

static void answers_about_something_else_are_refused(void) {
    ld_neigh n;
    /* the neighbour answer names 10.77.0.99, not the next hop asked about */
    CU_ASSERT_EQUAL(lookup("10.77.0.98", NULL, "neigh-incomplete", &n), LD_EINVAL);
    /* a route answer for IPv4 to a question about an IPv6 address */
    CU_ASSERT_EQUAL(lookup("fd77::99", "route-onlink", NULL, &n), LD_EINVAL);
    /* a route answer where a neighbour answer belongs, and the other way round */
    CU_ASSERT_EQUAL(lookup("10.77.0.99", "neigh-incomplete", NULL, &n), LD_EINVAL);
    CU_ASSERT_EQUAL(lookup("10.77.0.99", NULL, "route-onlink", &n), LD_EINVAL);
    /* an error other than "no route" / "no entry" */
    CU_ASSERT_EQUAL(lookup("10.77.0.99", "neigh-none", NULL, &n), LD_EINVAL);
    CU_ASSERT_EQUAL(lookup("10.77.0.99", NULL, "route-unreachable", &n), LD_EINVAL);
}

static void cut_or_garbled_answers_are_refused_never_misread(void) {
    static const char *const files[] = {
        "route-onlink",    "route-gateway",   "route-unreachable", "route-local",
        "route-v6-onlink", "neigh-none",      "neigh-incomplete",  "neigh-v6-incomplete",
        "neigh-failed",    "neigh-reachable", "route-mtu",         "link-vc",
    };
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[128];
        size_t len;
        snprintf(path, sizeof path, "netlink/%s.bin", files[f]);
        char *msg = ld_unit_read_data(path, &len);
        int v6 = strstr(files[f], "v6") != NULL;
        for (size_t cut = 0; cut < len; cut++) {
            ld_neigh n;
            ld_err err;
            memset(&n, 0, sizeof n);
            n.dst = ip(v6 ? "fd77::99" : "10.77.0.99");
            n.next_hop = n.dst;
            /* a message cut short fails its own length check: never read past it */
            char *copy = malloc(cut ? cut : 1);
            memcpy(copy, msg, cut);
            CU_ASSERT_EQUAL(ld_neigh_parse_route(copy, cut, &n, &err), LD_EINVAL);
            CU_ASSERT_EQUAL(ld_neigh_parse_neigh(copy, cut, &n, &err), LD_EINVAL);
            n.ifindex = 2;
            CU_ASSERT_EQUAL(ld_neigh_parse_link(copy, cut, &n, &err), LD_EINVAL);
            free(copy);
        }
        /* a length field larger than the datagram */
        uint32_t big = 4096;
        memcpy(msg, &big, sizeof big);
        ld_neigh n;
        ld_err err;
        memset(&n, 0, sizeof n);
        n.dst = ip(v6 ? "fd77::99" : "10.77.0.99");
        CU_ASSERT_EQUAL(ld_neigh_parse_route(msg, len, &n, &err), LD_EINVAL);
        CU_ASSERT_EQUAL(ld_neigh_parse_neigh(msg, len, &n, &err), LD_EINVAL);
        free(msg);
    }
}

static void this_hosts_kernel_answers_for_loopback(void) {
    ld_neigh n;
    ld_err err = {{0}};
    ld_addr lo = ip("127.0.0.1");
    CU_ASSERT_EQUAL(ld_neigh_query(&lo, &n, &err), LD_OK);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_LOCAL);
    CU_ASSERT_TRUE(n.ifindex > 0);
    CU_ASSERT_STRING_EQUAL(n.ifname, "lo");
    CU_ASSERT_TRUE(n.mtu > 0); /* loopback's, as the route has none */
    ld_neigh r;
    CU_ASSERT_EQUAL(ld_neigh_route(&lo, &r, &err), LD_OK);
    CU_ASSERT_EQUAL(r.state, LD_NEIGH_LOCAL);
    CU_ASSERT_STRING_EQUAL(r.ifname, "lo");
    CU_ASSERT_EQUAL(r.mtu, n.mtu);
    CU_ASSERT_TRUE(ld_addr_equal(&r.source, &lo));
    ld_addr none;
    memset(&none, 0, sizeof none);
    CU_ASSERT_EQUAL(ld_neigh_query(&none, &n, &err), LD_EINVAL);
    CU_ASSERT_EQUAL(n.state, LD_NEIGH_UNKNOWN);
}

/* A run's attempts to one address read its route once: the memo answers
 * the second time, and when full it still answers (asking the kernel). */
static void the_route_memo_asks_once_per_address(void) {
    ld_route_memo *m = calloc(1, sizeof *m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ld_err err = {{0}};
    ld_neigh a, b;
    ld_addr lo = ip("127.0.0.1");
    CU_ASSERT_EQUAL(ld_route_memo_get(m, &lo, &a, &err), LD_OK);
    CU_ASSERT_EQUAL(m->n, 1);
    CU_ASSERT_EQUAL(ld_route_memo_get(m, &lo, &b, &err), LD_OK);
    CU_ASSERT_EQUAL(m->n, 1);
    CU_ASSERT_EQUAL(b.state, LD_NEIGH_LOCAL);
    CU_ASSERT_STRING_EQUAL(b.ifname, a.ifname);
    CU_ASSERT_TRUE(ld_addr_equal(&b.dst, &lo));
    /* The memo is what answers: change its copy, and the change comes back. */
    m->items[0].mtu = 1234;
    CU_ASSERT_EQUAL(ld_route_memo_get(m, &lo, &b, &err), LD_OK);
    CU_ASSERT_EQUAL(b.mtu, 1234);
    for (int i = 2; i < LD_ROUTE_MEMO_MAX + 8; i++) {
        char text[32];
        snprintf(text, sizeof text, "127.0.0.%d", i);
        ld_addr other = ip(text);
        CU_ASSERT_EQUAL(ld_route_memo_get(m, &other, &b, &err), LD_OK);
        CU_ASSERT_TRUE(ld_addr_equal(&b.dst, &other));
        CU_ASSERT_EQUAL(b.state, LD_NEIGH_LOCAL);
    }
    CU_ASSERT_EQUAL(m->n, LD_ROUTE_MEMO_MAX);
    CU_ASSERT_EQUAL(ld_route_memo_get(NULL, &lo, &b, &err), LD_OK); /* no memo: asks */
    CU_ASSERT_NOT_EQUAL(b.mtu, 1234);
    free(m);
}

static void every_state_has_a_name(void) {
    for (int s = 0; s < LD_NEIGH__COUNT; s++)
        CU_ASSERT_PTR_NOT_NULL(ld_neigh_state_name((ld_neigh_state)s));
    CU_ASSERT_STRING_EQUAL(ld_neigh_state_name(LD_NEIGH_INCOMPLETE), "incomplete");
    CU_ASSERT_STRING_EQUAL(ld_neigh_state_name(LD_NEIGH__COUNT), "unknown");
    for (int s = 0; s < LD_NEIGH__COUNT; s++)
        CU_ASSERT_EQUAL(ld_neigh_state_parse(ld_neigh_state_name((ld_neigh_state)s)), s);
    CU_ASSERT_EQUAL(ld_neigh_state_parse("INCOMPLETE"), -1);
    CU_ASSERT_EQUAL(ld_neigh_state_parse(NULL), -1);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(on_link_address_is_its_own_next_hop),
        LD_TEST(routed_address_goes_through_its_gateway),
        LD_TEST(route_says_source_and_its_own_mtu),
        LD_TEST(route_without_mtu_takes_its_interfaces),
        LD_TEST(no_route_and_local_addresses_need_no_neighbour),
        LD_TEST(neighbour_nobody_answers_is_unresolved),
        LD_TEST(stale_neighbour_in_use_is_unconfirmed_not_unresolved),
        LD_TEST(a_recent_confirmation_confirms_an_unconfirmed_state),
        LD_TEST(neighbour_that_answered_or_was_never_needed_is_not),
        LD_TEST(answers_about_something_else_are_refused),
        LD_TEST(cut_or_garbled_answers_are_refused_never_misread),
        LD_TEST(this_hosts_kernel_answers_for_loopback),
        LD_TEST(the_route_memo_asks_once_per_address),
        LD_TEST(every_state_has_a_name),
        {0},
    };
    return ld_unit_run("neigh", cases);
}
