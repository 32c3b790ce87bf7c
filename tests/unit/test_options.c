/* test_options.c - the cloud options of the option table and the profiles that preset
 * expected AZ IDs: parsed into the run's options and each target's spec. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/cloud.h"
#include "core/profile.h"
#include "unit.h"

static const char profiles_json[] =
    "{\"linkdoctor_profiles\": 1, \"profiles\": ["
    " {\"name\": \"emqx-redis\", \"description\": \"Redis behind an endpoint service\","
    "  \"scheme\": \"redis\", \"port\": 6379, \"expect_az_ids\": [\"use1-az1\", \"use1-az4\"]},"
    " {\"name\": \"plain\", \"description\": \"no AZ IDs\", \"scheme\": \"tcp\", \"port\": 80}]}";

static ld_profiles *profiles(void) {
    static ld_profiles ps;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(
        ld_profiles_parse(profiles_json, strlen(profiles_json), "test", &ps, &err), LD_OK);
    return &ps;
}

/* Parses `check` with the NULL-terminated words into *o (cleared by the caller). */
static ld_status parse(ld_opts *o, ld_err *err, const char *first, ...) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"check";
    va_list ap;
    va_start(ap, first);
    for (const char *w = first; w && argc < 31; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    return ld_opts_parse(LD_CMD_CHECK, argc, argv, profiles(), o, err);
}

static void expect_az_ids_are_comma_separated_and_repeatable(void) {
    ld_opts o;
    ld_err err;
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--expect-az-id", "use1-az1,use1-az2", "--expect-az-id",
                          "use1-bos1-az1", NULL),
                    LD_OK);
    CU_ASSERT_EQUAL(o.target.nexpected_az_ids, 3);
    CU_ASSERT_STRING_EQUAL(o.target.expected_az_ids[2], "use1-bos1-az1");
    ld_target_spec spec;
    CU_ASSERT_EQUAL(ld_opts_spec("h:1", &o.target, &spec, &err), LD_OK);
    CU_ASSERT_EQUAL(spec.nexpected_az_ids, 3);
    CU_ASSERT_STRING_EQUAL(spec.expected_az_ids[0], "use1-az1");
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--expect-az-id", "us-east-1a b", NULL), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--expect-az-id"));
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--expect-az-id", "1use-az1", NULL), LD_EINVAL);
    ld_opts_clear(&o);
}

/* `linkdoctor profiles` shows what a profile presets beyond the target: its
 * AZ IDs, and the name patterns of the vendor it is. */
static void a_listed_profile_shows_its_az_ids_and_name_patterns(void) {
    ld_err err;
    ld_names *names = ld_cli_names(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(names);
    ld_profile p = profiles()->items[0];
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ld_cli_profile_print(f, &p, names);
    snprintf(p.name, sizeof p.name, "zilliz"); /* the built-in names' vendor */
    p.nexpect_az_ids = 0;
    ld_cli_profile_print(f, &p, names);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "emqx-redis\n  redis://HOST:6379\n  expected AZ IDs: use1-az1, use1-az4\n"
                     "  Redis behind an endpoint service\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        text,
        "zilliz\n  redis://HOST:6379\n  aws name: CLUSTER.aws-REGION.vectordb.zillizcloud.com "
        "(zilliz.aws)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  azure name: CLUSTER-privatelink.az-REGION."));
    /* No other vendor's patterns under emqx-redis. */
    CU_ASSERT_TRUE(strstr(text, " name: ") > strstr(text, "zilliz\n"));
    free(text);
    ld_names_free(names);
}

/* A zone NAME differs between accounts: it would always fire
 * cloud.az_mismatch, so it is refused, saying where its ID is. */
static void expect_az_id_refuses_zone_names(void) {
    static const char *const names[] = {"us-east-1a", "us-gov-west-1b", "us-west-2-lax-1a",
                                        "ap-northeast-1c"};
    static const char *const ids[] = {"use1-az4", "usw2-lax1-az1", "usgw1-az2", "apne1-az1",
                                      "use1-wl1-bos-wlz1"};
    ld_opts o;
    ld_err err;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        CU_ASSERT_TRUE(ld_az_is_zone_name(names[i]));
        CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--expect-az-id", names[i], NULL), LD_EINVAL);
        ld_opts_clear(&o);
    }
    CU_ASSERT_PTR_EQUAL(strstr(err.msg, "--expect-az-id ap-northeast-1c: that is an availability"),
                        err.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "give its AZ ID (e.g. use1-az4: aws ec2 describe-"));
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        CU_ASSERT_FALSE(ld_az_is_zone_name(ids[i]));
        CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--expect-az-id", ids[i], NULL), LD_OK);
        ld_opts_clear(&o);
    }
}

static void a_profile_presets_az_ids_and_the_option_replaces_them(void) {
    ld_opts o;
    ld_err err;
    ld_target_spec spec;
    CU_ASSERT_EQUAL(parse(&o, &err, "redis.internal", "--profile", "emqx-redis", NULL), LD_OK);
    CU_ASSERT_EQUAL(ld_opts_spec("redis.internal", &o.target, &spec, &err), LD_OK);
    CU_ASSERT_EQUAL(spec.nexpected_az_ids, 2);
    CU_ASSERT_STRING_EQUAL(spec.expected_az_ids[1], "use1-az4");
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(parse(&o, &err, "redis.internal", "--profile", "emqx-redis", "--expect-az-id",
                          "use1-az6", NULL),
                    LD_OK);
    CU_ASSERT_EQUAL(ld_opts_spec("redis.internal", &o.target, &spec, &err), LD_OK);
    CU_ASSERT_EQUAL(spec.nexpected_az_ids, 1);
    CU_ASSERT_STRING_EQUAL(spec.expected_az_ids[0], "use1-az6");
    ld_opts_clear(&o);
    /* A targets-file line's own AZ IDs replace the command line's. */
    CU_ASSERT_EQUAL(parse(&o, &err, "--expect-az-id", "use1-az1", NULL), LD_OK);
    char *line[] = {(char *)"h:1", (char *)"--expect-az-id", (char *)"use1-az2"};
    ld_target_opts t;
    const char *target;
    CU_ASSERT_EQUAL(ld_opts_line(3, line, profiles(), &o.target, &t, &target, &err), LD_OK);
    CU_ASSERT_EQUAL(t.nexpected_az_ids, 1);
    CU_ASSERT_STRING_EQUAL(t.expected_az_ids[0], "use1-az2");
    char *bare[] = {(char *)"h:2"};
    CU_ASSERT_EQUAL(ld_opts_line(1, bare, profiles(), &o.target, &t, &target, &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(t.expected_az_ids[0], "use1-az1");
    ld_opts_clear(&o);
}

static void profiles_with_bad_az_ids_do_not_load(void) {
    static const char *const bad[] = {
        "{\"linkdoctor_profiles\": 1, \"profiles\": [{\"name\": \"p\", \"description\": \"d\","
        " \"scheme\": \"tcp\", \"port\": 1, \"expect_az_ids\": \"use1-az1\"}]}",
        "{\"linkdoctor_profiles\": 1, \"profiles\": [{\"name\": \"p\", \"description\": \"d\","
        " \"scheme\": \"tcp\", \"port\": 1, \"expect_az_ids\": [\"US-EAST-1A\"]}]}",
        "{\"linkdoctor_profiles\": 1, \"profiles\": [{\"name\": \"p\", \"description\": \"d\","
        " \"scheme\": \"tcp\", \"port\": 1, \"expect_az_ids\": [1]}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ld_profiles ps;
        ld_err err;
        CU_ASSERT_EQUAL(ld_profiles_parse(bad[i], strlen(bad[i]), "t", &ps, &err), LD_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expect_az_ids"));
    }
}

static void cloud_resolver_takes_an_address_a_port_or_none(void) {
    ld_opts o;
    ld_err err;
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--cloud-resolver", "10.0.5.253:5353", NULL), LD_OK);
    CU_ASSERT_TRUE(o.cloud_resolver_given);
    CU_ASSERT_FALSE(o.cloud_resolver_off);
    CU_ASSERT_EQUAL(o.cloud_resolver.port, 5353);
    CU_ASSERT_EQUAL(o.cloud_resolver.source, LD_RESOLVER_CLOUD);
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--cloud-resolver", "none", NULL), LD_OK);
    CU_ASSERT_TRUE(o.cloud_resolver_off);
    CU_ASSERT_FALSE(o.cloud_resolver_given);
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", NULL), LD_OK);
    CU_ASSERT_FALSE(o.cloud_resolver_off || o.cloud_resolver_given || o.redact);
    ld_opts_clear(&o);
}

static void imds_endpoint_comes_from_the_option_then_the_environment(void) {
    ld_opts o;
    ld_err err;
    setenv(LD_IMDS_ENDPOINT_ENV, "http://10.9.9.9:8080/", 1);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", NULL), LD_OK);
    CU_ASSERT_STRING_EQUAL(o.imds_endpoint, "http://10.9.9.9:8080/");
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", "--imds-endpoint", "https://imds.lab", "--redact", NULL),
                    LD_OK);
    CU_ASSERT_STRING_EQUAL(o.imds_endpoint, "https://imds.lab");
    CU_ASSERT_TRUE(o.redact);
    ld_opts_clear(&o);
    setenv(LD_IMDS_ENDPOINT_ENV, "imds.lab", 1);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", NULL), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, LD_IMDS_ENDPOINT_ENV));
    ld_opts_clear(&o);
    unsetenv(LD_IMDS_ENDPOINT_ENV);
    CU_ASSERT_EQUAL(parse(&o, &err, "h:1", NULL), LD_OK);
    CU_ASSERT_PTR_NULL(o.imds_endpoint);
    ld_opts_clear(&o);
    CU_ASSERT_EQUAL(ld_imds_endpoint_check("http://[fd00::1]:80/base", &err), LD_OK);
    CU_ASSERT_EQUAL(ld_imds_endpoint_check("http://h/x#y", &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_imds_endpoint_check("http:// h", &err), LD_EINVAL);
}

/* show takes --redact (a report saved without it can be redacted for a ticket),
 * not the options of a run. */
static void show_takes_redact(void) {
    ld_opts o = {0};
    ld_err err;
    char *argv[] = {(char *)"show", (char *)"saved.json", (char *)"--redact", NULL};
    CU_ASSERT_EQUAL(ld_opts_parse(LD_CMD_SHOW, 3, argv, NULL, &o, &err), LD_OK);
    CU_ASSERT_TRUE(o.redact);
    CU_ASSERT_EQUAL(o.nargs, 1);
    ld_opts_clear(&o);
    char *run[] = {(char *)"show", (char *)"saved.json", (char *)"--cloud", (char *)"gcp", NULL};
    CU_ASSERT_EQUAL(ld_opts_parse(LD_CMD_SHOW, 4, run, NULL, &o, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not an option of linkdoctor show"));
    ld_opts_clear(&o);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(expect_az_ids_are_comma_separated_and_repeatable),
        LD_TEST(expect_az_id_refuses_zone_names),
        LD_TEST(a_listed_profile_shows_its_az_ids_and_name_patterns),
        LD_TEST(a_profile_presets_az_ids_and_the_option_replaces_them),
        LD_TEST(profiles_with_bad_az_ids_do_not_load),
        LD_TEST(cloud_resolver_takes_an_address_a_port_or_none),
        LD_TEST(imds_endpoint_comes_from_the_option_then_the_environment),
        LD_TEST(show_takes_redact),
        {0},
    };
    return ld_unit_run("options", cases);
}
