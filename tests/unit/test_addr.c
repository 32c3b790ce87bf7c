/* test_addr.c - address parsing and the scope that tells private from public. */
#include <string.h>

#include "core/addr.h"
#include "unit.h"

static ld_addr_scope scope(const char *s) {
    ld_addr a;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(s, &a, &err), LD_OK);
    return ld_addr_scope_of(&a);
}

static void rfc1918_and_ula_are_private(void) {
    CU_ASSERT_EQUAL(scope("10.0.1.23"), LD_AS_PRIVATE);
    CU_ASSERT_EQUAL(scope("172.16.0.1"), LD_AS_PRIVATE);
    CU_ASSERT_EQUAL(scope("172.31.255.255"), LD_AS_PRIVATE);
    CU_ASSERT_EQUAL(scope("192.168.1.1"), LD_AS_PRIVATE);
    CU_ASSERT_EQUAL(scope("fd00:ec2::23"), LD_AS_ULA);
    CU_ASSERT_EQUAL(scope("fc00::1"), LD_AS_ULA);
}

static void boundaries_of_private_ranges_are_public(void) {
    CU_ASSERT_EQUAL(scope("172.15.255.255"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("172.32.0.0"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("11.0.0.1"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("192.169.0.1"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("52.94.0.10"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("2600:1f14::1"), LD_AS_PUBLIC);
}

static void special_ranges_have_their_own_scope(void) {
    CU_ASSERT_EQUAL(scope("100.64.0.1"), LD_AS_CGNAT);
    CU_ASSERT_EQUAL(scope("100.127.255.255"), LD_AS_CGNAT);
    CU_ASSERT_EQUAL(scope("100.128.0.0"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("127.0.0.53"), LD_AS_LOOPBACK);
    CU_ASSERT_EQUAL(scope("::1"), LD_AS_LOOPBACK);
    CU_ASSERT_EQUAL(scope("169.254.169.254"), LD_AS_LINK_LOCAL);
    CU_ASSERT_EQUAL(scope("fe80::1"), LD_AS_LINK_LOCAL);
    CU_ASSERT_EQUAL(scope("0.0.0.0"), LD_AS_UNSPECIFIED);
    CU_ASSERT_EQUAL(scope("::"), LD_AS_UNSPECIFIED);
    CU_ASSERT_EQUAL(scope("224.0.0.1"), LD_AS_MULTICAST);
    CU_ASSERT_EQUAL(scope("ff02::1"), LD_AS_MULTICAST);
    CU_ASSERT_EQUAL(scope("192.0.2.1"), LD_AS_DOCUMENTATION);
    CU_ASSERT_EQUAL(scope("198.51.100.7"), LD_AS_DOCUMENTATION);
    CU_ASSERT_EQUAL(scope("203.0.113.9"), LD_AS_DOCUMENTATION);
    CU_ASSERT_EQUAL(scope("2001:db8::1"), LD_AS_DOCUMENTATION);
    CU_ASSERT_EQUAL(scope("240.0.0.1"), LD_AS_RESERVED);
    CU_ASSERT_EQUAL(scope("255.255.255.255"), LD_AS_RESERVED);
    CU_ASSERT_EQUAL(scope("198.18.0.1"), LD_AS_RESERVED);
    CU_ASSERT_EQUAL(scope("0.1.2.3"), LD_AS_RESERVED);
}

static void mapped_ipv4_takes_the_ipv4_scope(void) {
    CU_ASSERT_EQUAL(scope("::ffff:10.0.0.1"), LD_AS_PRIVATE);
    CU_ASSERT_EQUAL(scope("::ffff:8.8.8.8"), LD_AS_PUBLIC);
    CU_ASSERT_EQUAL(scope("64:ff9b::a00:1"), LD_AS_PRIVATE);
}

static void text_round_trips_canonically(void) {
    ld_addr a, b;
    ld_err err;
    char buf[LD_ADDR_STRLEN];
    CU_ASSERT_EQUAL(ld_addr_parse("2001:0db8:0000::0001", &a, &err), LD_OK);
    ld_addr_format(&a, buf);
    CU_ASSERT_STRING_EQUAL(buf, "2001:db8::1");
    CU_ASSERT_EQUAL(ld_addr_parse("2001:db8::1", &b, &err), LD_OK);
    CU_ASSERT_TRUE(ld_addr_equal(&a, &b));
    CU_ASSERT_EQUAL(ld_addr_parse("fe80::1%lo", &a, &err), LD_OK);
    CU_ASSERT_NOT_EQUAL(a.scope_id, 0);
    ld_addr_format(&a, buf);
    CU_ASSERT_STRING_EQUAL(buf, "fe80::1%lo");
}

static void invalid_addresses_are_rejected(void) {
    ld_addr a;
    ld_err err;
    const char *bad[] = {"",      "10.0.0",   "10.0.0.256",        "host.example",
                         "1:2:3", "fe80::1%", "fe80::1%nosuchif0", "10.0.0.1 ",
                         NULL};
    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(ld_addr_parse(bad[i], &a, &err), LD_EINVAL);
}

static void host_form_takes_ipv6_in_brackets_only(void) {
    ld_addr a;
    ld_err err;
    CU_ASSERT_EQUAL(ld_addr_parse_host("[2001:db8::1]", &a, &err), LD_OK);
    CU_ASSERT_EQUAL(a.family, AF_INET6);
    CU_ASSERT_EQUAL(ld_addr_parse_host("[fe80::1%lo]", &a, &err), LD_OK);
    CU_ASSERT_NOT_EQUAL(a.scope_id, 0);
    CU_ASSERT_EQUAL(ld_addr_parse_host("2001:db8::1", &a, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_addr_parse_host("10.0.0.1", &a, &err), LD_OK);
    CU_ASSERT_EQUAL(a.family, AF_INET);
    CU_ASSERT_EQUAL(ld_addr_parse_host("[10.0.0.1]", &a, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "only an IPv6 address"));
    const char *bad[] = {
        "[]", "[", "[::1", "::1]", "[[::1]]", "[host.example]", "[fe80::1%nosuchif0]", NULL};
    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(ld_addr_parse_host(bad[i], &a, &err), LD_EINVAL);
}

static void sockaddr_round_trip_keeps_port(void) {
    ld_addr a, b;
    ld_err err;
    struct sockaddr_storage ss;
    uint16_t port = 0;
    CU_ASSERT_EQUAL(ld_addr_parse("10.1.2.3", &a, &err), LD_OK);
    ld_addr_to_sockaddr(&a, 19530, &ss);
    CU_ASSERT_EQUAL(ld_addr_from_sockaddr((struct sockaddr *)&ss, &b, &port), LD_OK);
    CU_ASSERT_TRUE(ld_addr_equal(&a, &b));
    CU_ASSERT_EQUAL(port, 19530);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(rfc1918_and_ula_are_private),
        LD_TEST(boundaries_of_private_ranges_are_public),
        LD_TEST(special_ranges_have_their_own_scope),
        LD_TEST(mapped_ipv4_takes_the_ipv4_scope),
        LD_TEST(text_round_trips_canonically),
        LD_TEST(invalid_addresses_are_rejected),
        LD_TEST(host_form_takes_ipv6_in_brackets_only),
        LD_TEST(sockaddr_round_trip_keeps_port),
        {0},
    };
    return ld_unit_run("addr", cases);
}
