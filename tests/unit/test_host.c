/* test_host.c - the host context of a report: os-release files
 * (tests/data/host), the interface and address dumps the kernel gave
 * (tests/data/netlink, recorded by record.py there), --redact, and one
 * collection on this host. */
#include <stdlib.h>
#include <string.h>

#include "core/host.h"
#include "core/utc.h"
#include "unit.h"

/* A zeroed context with the os-release file at relpath read into it. */
static ld_host *os_release(const char *relpath) {
    ld_host *h = ld_host_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    size_t len;
    char *text = ld_unit_read_data(relpath, &len);
    ld_host_parse_os_release(h, text, len);
    free(text);
    return h;
}

static void os_release_gives_id_version_and_pretty_name(void) {
    ld_host *h = os_release("host/os-release-ubuntu");
    CU_ASSERT_STRING_EQUAL(h->os_id, "ubuntu");
    CU_ASSERT_STRING_EQUAL(h->os_version_id, "24.04");
    CU_ASSERT_STRING_EQUAL(h->os_pretty_name, "Ubuntu 24.04.1 LTS");
    ld_host_free(h);
}

static void os_release_values_are_unquoted_as_a_shell_does(void) {
    ld_host *h = os_release("host/os-release-quoted"); /* CRLF lines, both quotes, escapes */
    CU_ASSERT_STRING_EQUAL(h->os_id, "amzn");
    CU_ASSERT_STRING_EQUAL(h->os_version_id, "2023");
    CU_ASSERT_STRING_EQUAL(h->os_pretty_name, "Amazon \"Linux\" 2023 \\$HOME `x` <b>bold</b>");
    ld_host_free(h);
}

static void os_release_control_characters_are_escaped(void) {
    ld_host *h = os_release("host/os-release-hostile");
    CU_ASSERT_STRING_EQUAL(h->os_id, "evil\\x1b[31m");
    CU_ASSERT_STRING_EQUAL(h->os_version_id, "1\\x07");
    CU_ASSERT_STRING_EQUAL(h->os_pretty_name, "unterminated");
    ld_host_free(h);
    /* a value longer than its room is cut, still terminated */
    h = ld_host_create();
    char text[600] = "ID=";
    memset(text + 3, 'a', 500);
    ld_host_parse_os_release(h, text, strlen(text));
    CU_ASSERT_EQUAL(strlen(h->os_id), sizeof h->os_id - 1);
    ld_host_free(h);
}

/* The recorded dumps of the client namespace of record.py: lo and vc. */
static ld_host *recorded_interfaces(void) {
    ld_host *h = ld_host_create();
    ld_err err;
    size_t len;
    char *links = ld_unit_read_data("netlink/links.bin", &len);
    CU_ASSERT_EQUAL(ld_host_parse_links(h, links, len, &err), LD_OK);
    free(links);
    char *addrs = ld_unit_read_data("netlink/addrs.bin", &len);
    CU_ASSERT_EQUAL(ld_host_parse_addrs(h, addrs, len, &err), LD_OK);
    free(addrs);
    return h;
}

/* 1 when iface has the address cidr. */
static int has_addr(const ld_host_iface *iface, const char *cidr) {
    for (size_t i = 0; i < iface->naddrs; i++)
        if (strcmp(iface->addrs[i], cidr) == 0)
            return 1;
    return 0;
}

static void interfaces_have_state_mtu_and_addresses_with_prefix(void) {
    ld_host *h = recorded_interfaces();
    CU_ASSERT_EQUAL_FATAL(h->nifaces, 2);
    CU_ASSERT_STRING_EQUAL(h->ifaces[0].name, "lo");
    CU_ASSERT_STRING_EQUAL(h->ifaces[0].state, "up"); /* no operstate: its flags say */
    CU_ASSERT_EQUAL(h->ifaces[0].mtu, 65536);
    CU_ASSERT_TRUE(has_addr(&h->ifaces[0], "127.0.0.1/8"));
    CU_ASSERT_TRUE(has_addr(&h->ifaces[0], "::1/128"));
    CU_ASSERT_STRING_EQUAL(h->ifaces[1].name, "vc");
    CU_ASSERT_STRING_EQUAL(h->ifaces[1].state, "up");
    CU_ASSERT_EQUAL(h->ifaces[1].mtu, 1450);
    CU_ASSERT_TRUE(has_addr(&h->ifaces[1], "10.77.0.1/24"));
    CU_ASSERT_TRUE(has_addr(&h->ifaces[1], "fd77::1/64"));
    CU_ASSERT_EQUAL(h->ifaces_omitted, 0);
    ld_host_free(h);
}

static void addresses_of_unknown_interfaces_are_ignored(void) {
    ld_host *h = ld_host_create();
    ld_err err;
    size_t len;
    char *addrs = ld_unit_read_data("netlink/addrs.bin", &len);
    CU_ASSERT_EQUAL(ld_host_parse_addrs(h, addrs, len, &err), LD_OK);
    CU_ASSERT_EQUAL(h->nifaces, 0);
    free(addrs);
    ld_host_free(h);
}

static void interfaces_past_the_limit_are_counted_not_kept(void) {
    ld_host *h = ld_host_create();
    ld_err err;
    size_t len;
    char *links = ld_unit_read_data("netlink/links.bin", &len);
    for (int i = 0; i < LD_HOST_IFACES_MAX; i++)
        CU_ASSERT_EQUAL(ld_host_parse_links(h, links, len, &err), LD_OK);
    CU_ASSERT_EQUAL(h->nifaces, LD_HOST_IFACES_MAX);
    CU_ASSERT_EQUAL(h->ifaces_omitted, LD_HOST_IFACES_MAX); /* two per dump, half kept */
    free(links);
    ld_host_free(h);
}

static void cut_dumps_are_read_as_far_as_they_are_whole(void) {
    static const char *const files[] = {"netlink/links.bin", "netlink/addrs.bin"};
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        char *msg = ld_unit_read_data(files[f], &len);
        for (size_t cut = 0; cut < len; cut++) {
            ld_host *h = recorded_interfaces();
            size_t before = h->nifaces;
            ld_err err;
            char *copy = malloc(cut ? cut : 1);
            memcpy(copy, msg, cut);
            /* never read past the cut: ASan's build proves it; whole messages only */
            ld_host_parse_links(h, copy, cut, &err);
            ld_host_parse_addrs(h, copy, cut, &err);
            CU_ASSERT_TRUE(h->nifaces <= before + 2);
            for (size_t i = 0; i < h->nifaces; i++)
                CU_ASSERT_TRUE(h->ifaces[i].naddrs <= LD_HOST_IFACE_ADDRS_MAX);
            free(copy);
            ld_host_free(h);
        }
        free(msg);
    }
}

static void redact_masks_public_and_hardware_derived_addresses_only(void) {
    ld_host *h = ld_host_create();
    ld_host_iface *i = &h->ifaces[h->nifaces++];
    snprintf(i->name, sizeof i->name, "eth0");
    static const char *const in[] = {
        "10.0.1.5/24",        "54.240.1.9/20", "fe80::a8c1:abff:fe12:3456/64",
        "2600:1f14::1234/64", "fd00:1::5/64",  "fd00:1::a8c1:abff:fe12:3456/64",
        "100.64.3.2/10",      "127.0.0.1/8",   "not-an-address/8",
    };
    static const char *const out[] = {
        "10.0.1.5/24",      "redacted-ipv4/20", "redacted-ipv6/64",
        "redacted-ipv6/64", "fd00:1::5/64",     "redacted-ipv6/64",
        "100.64.3.2/10",    "127.0.0.1/8",      "not-an-address/8",
    };
    for (size_t k = 0; k < sizeof in / sizeof in[0]; k++)
        snprintf(i->addrs[i->naddrs++], sizeof i->addrs[0], "%s", in[k]);
    ld_host_redact(h);
    for (size_t k = 0; k < sizeof out / sizeof out[0]; k++)
        CU_ASSERT_STRING_EQUAL(i->addrs[k], out[k]);
    ld_host_free(h);
}

static void lists_are_bounded_and_sanitized(void) {
    ld_host *h = ld_host_create();
    for (int k = 0; k < LD_HOST_LIST_MAX + 5; k++) {
        ld_host_add_nameserver(h, "10.0.0.2:53");
        ld_host_add_search(h, "corp.example\x1b[2J");
        ld_host_add_hosts_line(h, k + 1, "10.0.0.9 svc.example.test");
    }
    CU_ASSERT_EQUAL(h->nnameservers, LD_HOST_LIST_MAX);
    CU_ASSERT_EQUAL(h->nsearch, LD_HOST_LIST_MAX);
    CU_ASSERT_EQUAL(h->nhosts_lines, LD_HOST_LIST_MAX);
    CU_ASSERT_STRING_EQUAL(h->search[0], "corp.example\\x1b[2J");
    CU_ASSERT_EQUAL(h->hosts_lines[LD_HOST_LIST_MAX - 1].number, LD_HOST_LIST_MAX);
    ld_host_free(h);
    ld_host_free(NULL);
}

static void time_is_utc_iso_8601(void) {
    char buf[32];
    ld_utc_format(1795305600.75, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "2026-11-22T00:00:00Z");
    double back = 0;
    CU_ASSERT_TRUE(ld_utc_parse(buf, &back));
    CU_ASSERT_DOUBLE_EQUAL(back, 1795305600.0, 1e-9);
    /* Only the whole form: no zone, another zone, a date alone, garbage. */
    const char *bad[] = {"2026-11-22T00:00:00", "2026-11-22T00:00:00+01:00", "2026-11-22", "x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_FALSE(ld_utc_parse(bad[i], &back));
    CU_ASSERT_FALSE(ld_utc_parse(NULL, &back));
}

static void collected_here_without_a_byte_on_the_wire(void) {
    ld_host *h = ld_host_create();
    ld_err err;
    const char *vars[] = {"HTTPS_PROXY", "no_proxy"};
    const char *vals[] = {"http://alice:s3cret@proxy.corp:3128", "localhost,.internal"};
    ld_proxy_env env = {.n = 2};
    memcpy(env.vars, vars, sizeof vars);
    memcpy(env.values, vals, sizeof vals);
    ld_host_sources src = {.os_release = LD_TEST_DATA "/host/os-release-ubuntu",
                           .proxy = &env,
                           .started_at = 1795305600.0};
    CU_ASSERT_EQUAL(ld_host_collect(h, &src, &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(h->os_id, "ubuntu");
    CU_ASSERT_NOT_EQUAL(h->kernel[0], '\0');
    CU_ASSERT_STRING_EQUAL(h->time, "2026-11-22T00:00:00Z");
    int lo = 0;
    for (size_t i = 0; i < h->nifaces; i++)
        lo |= strcmp(h->ifaces[i].name, "lo") == 0 && has_addr(&h->ifaces[i], "127.0.0.1/8");
    CU_ASSERT_TRUE(lo);
    CU_ASSERT_EQUAL_FATAL(h->nproxy, 2);
    CU_ASSERT_STRING_EQUAL(h->proxy[0].name, "HTTPS_PROXY");
    CU_ASSERT_PTR_NULL(strstr(h->proxy[0].value, "s3cret"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h->proxy[0].value, "proxy.corp:3128"));
    CU_ASSERT_STRING_EQUAL(h->proxy[1].value, "localhost,.internal");
    ld_host_free(h);
    /* a missing os-release leaves the OS unknown and says so; the rest is there */
    h = ld_host_create();
    src.os_release = LD_TEST_OUT "/no-such-os-release";
    CU_ASSERT_NOT_EQUAL(ld_host_collect(h, &src, &err), LD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no-such-os-release"));
    CU_ASSERT_STRING_EQUAL(h->os_id, "");
    CU_ASSERT_TRUE(h->nifaces > 0);
    ld_host_free(h);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(os_release_gives_id_version_and_pretty_name),
        LD_TEST(os_release_values_are_unquoted_as_a_shell_does),
        LD_TEST(os_release_control_characters_are_escaped),
        LD_TEST(interfaces_have_state_mtu_and_addresses_with_prefix),
        LD_TEST(addresses_of_unknown_interfaces_are_ignored),
        LD_TEST(interfaces_past_the_limit_are_counted_not_kept),
        LD_TEST(cut_dumps_are_read_as_far_as_they_are_whole),
        LD_TEST(redact_masks_public_and_hardware_derived_addresses_only),
        LD_TEST(lists_are_bounded_and_sanitized),
        LD_TEST(time_is_utc_iso_8601),
        LD_TEST(collected_here_without_a_byte_on_the_wire),
        {0},
    };
    return ld_unit_run("host", cases);
}
