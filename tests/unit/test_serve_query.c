/* test_serve_query.c - what a /probe request may ask for (serve): the long
 * option names with '_', one target, nothing that names a local file; and
 * --allow-target's CIDR blocks and DNS suffixes. */
#include <string.h>

#include "cli/allow.h"
#include "cli/commands.h"
#include "cli/query.h"
#include "unit.h"

static ld_profiles profiles;

/* Reads "name=value&..." (value NULL without '=') into a spec; the error
 * message when refused, "" when not. */
static const char *spec_of(const char *query, ld_target_spec *spec) {
    static char msg[LD_ERR_MAX];
    char text[512];
    snprintf(text, sizeof text, "%s", query);
    ld_query q = {0};
    char *save = NULL;
    for (char *pair = strtok_r(text, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq)
            *eq = '\0';
        if (ld_query_add(&q, pair, eq ? eq + 1 : NULL))
            break;
    }
    ld_target_opts defaults = {.cert_warn_days = 14};
    ld_err err = {{0}};
    ld_status st = ld_query_spec(&q, &profiles, &defaults, spec, &err);
    ld_query_clear(&q);
    snprintf(msg, sizeof msg, "%s", st == LD_OK ? "" : err.msg);
    return msg;
}

static void options_come_as_long_names_with_underscores(void) {
    ld_target_spec s;
    CU_ASSERT_STRING_EQUAL(spec_of("target=svc.lab.test&profile=zilliz&endpoint_ip=10.0.1.23"
                                   "&endpoint_ip=10.0.2.7&expect_status=400,403&sni=x.lab.test",
                                   &s),
                           "");
    CU_ASSERT_EQUAL(s.target.port, 19530); /* the profile's */
    CU_ASSERT_EQUAL(s.target.scheme, LD_SCHEME_HTTPS);
    CU_ASSERT_EQUAL(s.nendpoint_ips, 2);
    CU_ASSERT_STRING_EQUAL(s.expect.text, "400,403");
    CU_ASSERT_STRING_EQUAL(s.sni, "x.lab.test");
}

static void options_naming_local_files_are_refused(void) {
    ld_target_spec s;
    CU_ASSERT_PTR_NOT_NULL(
        strstr(spec_of("cacert=/etc/shadow&target=a:1", &s), "'cacert' is not allowed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a:1&rules=/x", &s), "'rules' is not allowed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a:1&targets=/x", &s), "not allowed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a:1&output=/x", &s), "not allowed"));
    /* Run-wide options are the server's too. */
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a:1&timeout=100", &s), "not allowed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a:1&capture=off", &s), "not allowed"));
}

static void exactly_one_valid_target(void) {
    ld_target_spec s;
    CU_ASSERT_STRING_EQUAL(spec_of("profile=zilliz", &s), "no target= given");
    CU_ASSERT_STRING_EQUAL(spec_of("target=a:1&target=b:2", &s), "one target= at a time");
    CU_ASSERT_STRING_EQUAL(spec_of("target=", &s), "target= is empty");
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a..b:1", &s), "target 'a..b:1'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(spec_of("target=a:1&expect_status=6xx", &s), "--expect-status"));
    CU_ASSERT_STRING_EQUAL(spec_of("target=a:1&format=xml", &s),
                           "format: use prometheus (the default) or json");
    CU_ASSERT_STRING_EQUAL(spec_of("target=a:1&sni", &s), "a query parameter without a value");
}

static void a_password_in_the_target_is_not_echoed(void) {
    ld_target_spec s;
    const char *msg = spec_of("target=redis://u:hunter2@a..b:6379", &s);
    CU_ASSERT_TRUE(msg[0] != '\0');
    CU_ASSERT_PTR_NULL(strstr(msg, "hunter2"));
}

static int allowed(const char *pattern, const char *target) {
    ld_target t;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_target_parse(target, &t, &err), LD_OK);
    const char *const patterns[] = {pattern};
    return ld_allow_match(patterns, pattern ? 1 : 0, &t);
}

static void allow_target_matches_cidr_blocks_and_dns_suffixes(void) {
    CU_ASSERT_TRUE(allowed(NULL, "8.8.8.8:53"));
    CU_ASSERT_TRUE(allowed("10.0.0.0/8", "10.1.2.3:80"));
    CU_ASSERT_FALSE(allowed("10.0.0.0/8", "11.0.0.1:80"));
    CU_ASSERT_TRUE(allowed("10.0.1.0/25", "10.0.1.127:80"));
    CU_ASSERT_FALSE(allowed("10.0.1.0/25", "10.0.1.128:80"));
    CU_ASSERT_TRUE(allowed("fd00::/8", "[fd12::1]:80"));
    CU_ASSERT_FALSE(allowed("fd00::/8", "10.0.0.1:80"));
    CU_ASSERT_TRUE(allowed("internal", "db.internal:5432"));
    CU_ASSERT_TRUE(allowed(".Internal.", "DB.INTERNAL.:5432"));
    CU_ASSERT_TRUE(allowed("internal", "internal:5432"));
    CU_ASSERT_FALSE(allowed("internal", "notinternal:5432")); /* whole labels only */
    CU_ASSERT_FALSE(allowed("internal", "10.0.0.1:5432"));    /* a suffix judges names */
    CU_ASSERT_FALSE(allowed("10.0.0.0/8", "db.internal:5432"));
    ld_err err;
    CU_ASSERT_EQUAL(ld_allow_check("10.0.0.0/33", &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_allow_check("bad name!", &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_allow_check(".vectordb.zillizcloud.com", &err), LD_OK);
}

/* A request's endpoint_ip and dns_server are addresses: only CIDR blocks
 * admit them, never a DNS suffix. */
static void allow_target_judges_addresses_by_cidr_blocks(void) {
    ld_addr a;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse("10.0.2.23", &a, &err), LD_OK);
    const char *const patterns[] = {"internal", "10.0.2.0/24", "fd00::/8"};
    CU_ASSERT_TRUE(ld_allow_match_addr(patterns, 0, &a));
    CU_ASSERT_TRUE(ld_allow_match_addr(patterns, 2, &a));
    CU_ASSERT_FALSE(ld_allow_match_addr(patterns, 1, &a));
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse("10.0.3.23", &a, &err), LD_OK);
    CU_ASSERT_FALSE(ld_allow_match_addr(patterns, 3, &a));
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse("fd12::53", &a, &err), LD_OK);
    CU_ASSERT_TRUE(ld_allow_match_addr(patterns, 3, &a));
}

int main(void) {
    ld_err err;
    if (ld_cli_profiles(&profiles, &err) != LD_OK)
        return 1;
    static const ld_test_case cases[] = {
        LD_TEST(options_come_as_long_names_with_underscores),
        LD_TEST(options_naming_local_files_are_refused),
        LD_TEST(exactly_one_valid_target),
        LD_TEST(a_password_in_the_target_is_not_echoed),
        LD_TEST(allow_target_matches_cidr_blocks_and_dns_suffixes),
        LD_TEST(allow_target_judges_addresses_by_cidr_blocks),
        {0},
    };
    return ld_unit_run("serve_query", cases);
}
