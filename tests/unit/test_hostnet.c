/* test_hostnet.c - rp_filter and conntrack as the kernel applies them, read
 * from a copy of /proc/sys (tests/data/proc). */
#include <string.h>
#include <sys/socket.h>

#include "core/hostnet.h"
#include "unit.h"

#define PROC LD_TEST_DATA "/proc"

static void rp_filter_in_effect_is_the_larger_of_all_and_the_interface(void) {
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, "eth0"), 1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, "eth1"), 2);
}

static void rp_filter_unreadable_or_odd_is_unknown(void) {
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, "eth9"), -1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, "garbled"), -1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, "../all"), -1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, ".."), -1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, ""), -1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(PROC, NULL), -1);
    CU_ASSERT_EQUAL(ld_hostnet_rp_filter(LD_TEST_DATA "/pcap", "eth0"), -1);
}

static void conntrack_fill_is_read(void) {
    int64_t count = 0, max = 0;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_hostnet_conntrack(PROC, &count, &max, &err), LD_OK);
    CU_ASSERT_EQUAL(count, 65536);
    CU_ASSERT_EQUAL(max, 65536);
    CU_ASSERT_EQUAL(ld_hostnet_conntrack(LD_TEST_DATA "/pcap", &count, &max, &err), LD_EIO);
    CU_ASSERT_NOT_EQUAL(err.msg[0], '\0');
}

static void neighbour_give_up_time_follows_the_settings(void) {
    /* DELAY 2 s + (2 + 0 + 1) probes * 500 ms; only the probes when already probing. */
    CU_ASSERT_DOUBLE_EQUAL(ld_hostnet_neigh_give_up_ms(PROC, AF_INET, "eth0", 0), 3500.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(ld_hostnet_neigh_give_up_ms(PROC, AF_INET, "eth0", 1), 1500.0, 1e-9);
    /* IPv6 reads net.ipv6; app_solicit and mcast_resolicit unset: 0. */
    CU_ASSERT_DOUBLE_EQUAL(ld_hostnet_neigh_give_up_ms(PROC, AF_INET6, "eth0", 0), 1750.0, 1e-9);
    /* Unreadable, or no plain name: the kernel's defaults, 5 s + 3 * 1 s. */
    CU_ASSERT_DOUBLE_EQUAL(ld_hostnet_neigh_give_up_ms(PROC, AF_INET, "eth9", 0), 8000.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(ld_hostnet_neigh_give_up_ms(PROC, AF_INET, "../eth0", 1), 3000.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(ld_hostnet_neigh_give_up_ms(PROC, AF_INET, NULL, 0), 8000.0, 1e-9);
}

static void this_hosts_loopback_has_an_rp_filter(void) {
    int v = ld_hostnet_rp_filter("/proc", "lo");
    CU_ASSERT_TRUE(v >= 0 && v <= 2);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(rp_filter_in_effect_is_the_larger_of_all_and_the_interface),
        LD_TEST(rp_filter_unreadable_or_odd_is_unknown),
        LD_TEST(conntrack_fill_is_read),
        LD_TEST(neighbour_give_up_time_follows_the_settings),
        LD_TEST(this_hosts_loopback_has_an_rp_filter),
        {0},
    };
    return ld_unit_run("hostnet", cases);
}
