/* test_expr.c - the condition language: what each operator means over facts,
 * how missing facts behave, and where and why bad conditions are rejected. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr.h"
#include "unit.h"

/* A target with a bit of everything: a string, ints, a number, bools, lists
 * (one empty), and facts that were never recorded (cloud.provider,
 * tcp.connect_ms, dns.attempted, dns.cname_chain). */
static ld_facts *sample_facts(void) {
    ld_facts *f = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ld_bag *t = ld_facts_target(f);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_TARGET_HOST, "db.example.com"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(t, LD_F_TARGET_PORT, 19530), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_bool(t, LD_F_TARGET_HOST_IS_IP, 0), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_TARGET_ENDPOINT_IPS, "10.0.1.23"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_TARGET_ENDPOINT_IPS, "10.0.2.23"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_DNS_RCODE, "NOERROR"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_DNS_ADDRESSES, "10.0.1.23"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(t, LD_F_DNS_ADDRESS_COUNT, 1), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_num(t, LD_F_DNS_LATENCY_MS, 12.5), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_bool(t, LD_F_DNS_HOSTS_OVERRIDE, 1), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_empty_list(t, LD_F_DNS_PUBLIC_ADDRESSES), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(t, LD_F_TCP_TIMEOUT_COUNT, 2), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(t, LD_F_TCP_OPEN_COUNT, 0), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_TCP_ICMP_FROM, "10.0.1.23"), LD_OK);
    return f;
}

/* 1 or 0 for a condition that must parse; -1 (and the reason on stderr) when
 * it does not, so that the assertion using it fails visibly. */
static int eval_src(const ld_facts *f, const char *src) {
    ld_err err = {{0}};
    ld_expr *e = NULL;
    if (ld_expr_parse(src, &e, &err) != LD_OK) {
        fprintf(stderr, "\n  unexpected parse error for <%s>: %s\n", src, err.msg);
        return -1;
    }
    int r = ld_expr_eval(e, f);
    ld_expr_free(e);
    return r;
}

#define ASSERT_HOLDS(f, src) CU_ASSERT_EQUAL(eval_src(f, src), 1)
#define ASSERT_FAILS(f, src) CU_ASSERT_EQUAL(eval_src(f, src), 0)

/* 1 when src is rejected with status st and exactly "position N: " + a message
 * that contains phrase; else 0, with what happened on stderr. */
static int rejected(const char *src, ld_status st, size_t pos, const char *phrase) {
    ld_err err = {{0}};
    max_align_t sentinel;
    ld_expr *e = (ld_expr *)(void *)&sentinel; /* must come back NULL */
    char prefix[32];
    ld_status got = ld_expr_parse(src, &e, &err);
    snprintf(prefix, sizeof prefix, "position %zu: ", pos);
    int ok = got == st && e == NULL && strncmp(err.msg, prefix, strlen(prefix)) == 0 &&
             strstr(err.msg + strlen(prefix), phrase) != NULL;
    if (!ok)
        fprintf(stderr, "\n  <%.60s>: status %d, message \"%s\"; wanted status %d, \"%s...%s\"\n",
                src, got, err.msg, st, prefix, phrase);
    if (got == LD_OK)
        ld_expr_free(e);
    return ok;
}

#define ASSERT_REJECTED(src, pos, phrase) CU_ASSERT_TRUE(rejected(src, LD_EINVAL, pos, phrase))

/* --- operators and types ------------------------------------------------------ */

static void strings_compare_for_equality(void) {
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "dns.rcode == \"NOERROR\"");
    ASSERT_FAILS(f, "dns.rcode == \"NXDOMAIN\"");
    ASSERT_HOLDS(f, "dns.rcode != \"NXDOMAIN\"");
    ASSERT_FAILS(f, "dns.rcode != \"NOERROR\"");
    ASSERT_HOLDS(f, "\"NOERROR\" == dns.rcode");
    ASSERT_FAILS(f, "dns.rcode == \"noerror\""); /* case matters */
    ASSERT_HOLDS(f, "dns.rcode == dns.rcode");
    ASSERT_HOLDS(f, "tcp.icmp_from != target.host");
    ld_facts_free(f);
}

static void string_literals_unescape_quotes_and_backslashes(void) {
    ld_facts *f = sample_facts();
    CU_ASSERT_EQUAL(ld_bag_set_str(ld_facts_target(f), LD_F_TARGET_HOST, "a\"b\\c"), LD_OK);
    ASSERT_HOLDS(f, "target.host == \"a\\\"b\\\\c\"");
    ASSERT_FAILS(f, "target.host == \"a\\\"b\\\\\\\\c\"");
    ASSERT_HOLDS(f, "\"\" == \"\"");
    ASSERT_HOLDS(f, "\"&& || ( ) [ ]\" != \"\"");
    ld_facts_free(f);
}

static void integers_support_every_comparison(void) {
    ld_facts *f = sample_facts(); /* tcp.timeout_count = 2 */
    ASSERT_HOLDS(f, "tcp.timeout_count == 2");
    ASSERT_FAILS(f, "tcp.timeout_count == 3");
    ASSERT_HOLDS(f, "tcp.timeout_count != 3");
    ASSERT_FAILS(f, "tcp.timeout_count != 2");
    ASSERT_HOLDS(f, "tcp.timeout_count < 3");
    ASSERT_FAILS(f, "tcp.timeout_count < 2");
    ASSERT_HOLDS(f, "tcp.timeout_count <= 2");
    ASSERT_FAILS(f, "tcp.timeout_count <= 1");
    ASSERT_HOLDS(f, "tcp.timeout_count > 1");
    ASSERT_FAILS(f, "tcp.timeout_count > 2");
    ASSERT_HOLDS(f, "tcp.timeout_count >= 2");
    ASSERT_FAILS(f, "tcp.timeout_count >= 3");
    ASSERT_HOLDS(f, "3 > tcp.timeout_count");
    ASSERT_HOLDS(f, "tcp.timeout_count > tcp.open_count");
    ASSERT_HOLDS(f, "tcp.open_count > -1");
    ASSERT_FAILS(f, "tcp.open_count < -1");
    ld_facts_free(f);
}

static void ints_and_numbers_compare_numerically(void) {
    ld_facts *f = sample_facts(); /* dns.latency_ms = 12.5, target.port = 19530 */
    ASSERT_HOLDS(f, "dns.latency_ms == 12.5");
    ASSERT_HOLDS(f, "dns.latency_ms > 12");
    ASSERT_HOLDS(f, "dns.latency_ms < 12.6");
    ASSERT_FAILS(f, "dns.latency_ms >= 13");
    ASSERT_HOLDS(f, "dns.latency_ms != 12");
    ASSERT_HOLDS(f, "target.port < 19530.5");
    ASSERT_HOLDS(f, "target.port == 19530.0");
    ASSERT_HOLDS(f, "target.port > dns.latency_ms");
    ASSERT_HOLDS(f, "-0.5 < 0");
    /* Fractions read exactly as C reads them, whatever the locale. */
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, 2.675), LD_OK);
    ASSERT_HOLDS(f, "dns.latency_ms == 2.675");
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, -0.1), LD_OK);
    ASSERT_HOLDS(f, "dns.latency_ms == -0.1");
    ld_facts_free(f);
}

static void large_integers_compare_exactly(void) {
    ld_facts *f = sample_facts();
    /* 2^53 + 1 is not representable as a double: a double comparison would say equal. */
    CU_ASSERT_EQUAL(ld_bag_set_int(ld_facts_target(f), LD_F_TCP_SYNS_SENT, 9007199254740993LL),
                    LD_OK);
    ASSERT_HOLDS(f, "tcp.syns_sent == 9007199254740993");
    ASSERT_FAILS(f, "tcp.syns_sent == 9007199254740992");
    ASSERT_HOLDS(f, "tcp.syns_sent > 9007199254740992");
    ASSERT_HOLDS(f, "9223372036854775807 > -9223372036854775808");
    ld_facts_free(f);
}

static void bool_fact_alone_is_a_condition(void) {
    ld_facts *f = sample_facts(); /* dns.hosts_override = true, target.host_is_ip = false */
    ASSERT_HOLDS(f, "dns.hosts_override");
    ASSERT_FAILS(f, "target.host_is_ip");
    ASSERT_HOLDS(f, "!target.host_is_ip");
    ASSERT_HOLDS(f, "dns.hosts_override == true");
    ASSERT_HOLDS(f, "target.host_is_ip != true");
    ASSERT_HOLDS(f, "dns.hosts_override != target.host_is_ip");
    ld_facts_free(f);
}

static void true_and_false_literals_are_conditions(void) {
    ASSERT_HOLDS(NULL, "true");
    ASSERT_FAILS(NULL, "false");
    ASSERT_HOLDS(NULL, "true == true");
    ASSERT_HOLDS(NULL, "false != true");
}

static void conditions_compare_with_bools(void) {
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "(tcp.timeout_count > 0) == true");
    ASSERT_HOLDS(f, "(tcp.open_count > 0) == false");
    ASSERT_HOLDS(f, "(tcp.open_count > 0) != dns.hosts_override");
    ld_facts_free(f);
}

static void and_or_not_follow_boolean_logic(void) {
    ASSERT_HOLDS(NULL, "true && true");
    ASSERT_FAILS(NULL, "true && false");
    ASSERT_FAILS(NULL, "false && true");
    ASSERT_HOLDS(NULL, "true || false");
    ASSERT_HOLDS(NULL, "false || true");
    ASSERT_FAILS(NULL, "false || false");
    ASSERT_HOLDS(NULL, "!false");
    ASSERT_FAILS(NULL, "!true");
    ASSERT_HOLDS(NULL, "!!true");
    ASSERT_HOLDS(NULL, "false || false || false || true");
    ASSERT_FAILS(NULL, "true && true && true && false");
}

static void and_binds_tighter_than_or(void) {
    ASSERT_HOLDS(NULL, "true || false && false"); /* true || (false && false) */
    ASSERT_HOLDS(NULL, "false && false || true"); /* (false && false) || true */
    ASSERT_FAILS(NULL, "(true || false) && false");
}

static void not_binds_tighter_than_and_and_comparison_binds_tighter_than_not(void) {
    ld_facts *f = sample_facts();
    ASSERT_FAILS(f, "!true && false"); /* (!true) && false */
    ASSERT_HOLDS(f, "!(true && false)");
    ASSERT_HOLDS(f, "!tcp.open_count > 0"); /* !(tcp.open_count > 0) */
    ASSERT_HOLDS(f, "tcp.timeout_count > 0 && dns.rcode == \"NOERROR\" || false");
    ld_facts_free(f);
}

static void whitespace_and_newlines_are_ignored(void) {
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "\n\t tcp.timeout_count>1&&dns.rcode==\"NOERROR\"\r\n");
    ASSERT_HOLDS(f, "dns.rcode in[\"NOERROR\"]");
    ld_facts_free(f);
}

/* --- in -------------------------------------------------------------------------- */

static void in_list_literal_matches_any_item(void) {
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "dns.rcode in [\"NXDOMAIN\", \"NOERROR\"]");
    ASSERT_FAILS(f, "dns.rcode in [\"NXDOMAIN\", \"SERVFAIL\"]");
    ASSERT_HOLDS(f, "target.port in [443, 19530]");
    ASSERT_FAILS(f, "target.port in [443, 19530.5]");
    ASSERT_HOLDS(f, "dns.latency_ms in [1, 12.5]");
    ASSERT_HOLDS(f, "dns.hosts_override in [true]");
    ASSERT_FAILS(f, "dns.hosts_override in [false]");
    ASSERT_HOLDS(f, "\"b\" in [\"a\", \"b\"]");
    ASSERT_HOLDS(f, "!(dns.rcode in [\"NXDOMAIN\"])");
    ld_facts_free(f);
}

static void in_empty_list_literal_is_false(void) {
    ld_facts *f = sample_facts();
    ASSERT_FAILS(f, "dns.rcode in []");
    ASSERT_FAILS(f, "target.port in [ ]");
    ld_facts_free(f);
}

static void in_list_fact_tests_membership(void) {
    ld_facts *f = sample_facts(); /* dns.addresses = [10.0.1.23] */
    ASSERT_HOLDS(f, "\"10.0.1.23\" in dns.addresses");
    ASSERT_FAILS(f, "\"10.0.1.2\" in dns.addresses"); /* whole items, not prefixes */
    ASSERT_HOLDS(f, "\"10.0.2.23\" in target.endpoint_ips");
    ASSERT_HOLDS(f, "tcp.icmp_from in dns.addresses");
    ASSERT_FAILS(f, "dns.rcode in dns.addresses");
    ASSERT_FAILS(f, "\"10.0.1.23\" in dns.public_addresses"); /* recorded, empty */
    ld_facts_free(f);
}

/* --- exists and missing facts ---------------------------------------------------- */

static void exists_is_true_iff_the_fact_was_recorded(void) {
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "exists(dns.rcode)");
    ASSERT_HOLDS(f, "exists(target.host_is_ip)");    /* recorded as false */
    ASSERT_HOLDS(f, "exists(dns.public_addresses)"); /* recorded as empty */
    ASSERT_FAILS(f, "exists(cloud.provider)");
    ASSERT_HOLDS(f, "!exists(tcp.connect_ms)");
    ASSERT_HOLDS(f, "exists( dns.rcode )");
    ld_facts_free(f);
}

static void comparison_with_missing_fact_is_false(void) {
    ld_facts *f = sample_facts();
    ASSERT_FAILS(f, "cloud.provider == \"aws\"");
    ASSERT_FAILS(f, "cloud.provider != \"aws\""); /* also != */
    ASSERT_FAILS(f, "tcp.connect_ms == 0");
    ASSERT_FAILS(f, "tcp.connect_ms != 0");
    ASSERT_FAILS(f, "tcp.connect_ms < 0");
    ASSERT_FAILS(f, "tcp.connect_ms <= 0");
    ASSERT_FAILS(f, "tcp.connect_ms > 0");
    ASSERT_FAILS(f, "tcp.connect_ms >= 0");
    ASSERT_FAILS(f, "tcp.connect_ms == tcp.connect_ms");
    ASSERT_FAILS(f, "dns.attempted == false");
    ld_facts_free(f);
}

static void in_with_missing_fact_is_false(void) {
    ld_facts *f = sample_facts();
    ASSERT_FAILS(f, "cloud.provider in [\"aws\", \"gcp\"]");
    ASSERT_FAILS(f, "\"x\" in dns.cname_chain");
    ASSERT_FAILS(f, "cloud.provider in dns.addresses");
    ld_facts_free(f);
}

static void missing_bool_fact_alone_is_false(void) {
    ld_facts *f = sample_facts();
    ASSERT_FAILS(f, "dns.attempted");
    ld_facts_free(f);
}

static void not_negates_the_false_of_a_missing_fact(void) {
    /* Missing facts make comparisons false; ! is plain negation of that. */
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "!(cloud.provider == \"aws\")");
    ASSERT_HOLDS(f, "!(cloud.provider != \"aws\")");
    ASSERT_HOLDS(f, "!dns.attempted");
    ASSERT_HOLDS(f, "!(cloud.provider in [\"aws\"])");
    ld_facts_free(f);
}

static void condition_over_missing_fact_compares_as_false(void) {
    ld_facts *f = sample_facts();
    ASSERT_HOLDS(f, "(tcp.connect_ms > 0) == false");
    ld_facts_free(f);
}

static void nan_measurement_compares_false(void) {
    ld_facts *f = sample_facts();
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, NAN), LD_OK);
    ASSERT_FAILS(f, "dns.latency_ms == 1");
    ASSERT_FAILS(f, "dns.latency_ms != 1");
    ASSERT_FAILS(f, "dns.latency_ms < 1");
    ASSERT_FAILS(f, "dns.latency_ms >= 1");
    ASSERT_HOLDS(f, "exists(dns.latency_ms)");
    ld_facts_free(f);
}

static void without_facts_every_fact_is_missing(void) {
    ASSERT_FAILS(NULL, "tcp.open_count == 0");
    ASSERT_FAILS(NULL, "exists(tcp.open_count)");
    ASSERT_HOLDS(NULL, "!exists(tcp.open_count)");
}

static void free_and_eval_accept_null(void) {
    ld_err err = {{0}};
    ld_expr *e = NULL;
    ld_expr_free(NULL);
    CU_ASSERT_EQUAL(ld_expr_eval(NULL, NULL), 0);
    CU_ASSERT_EQUAL(ld_expr_parse(NULL, &e, &err), LD_EINVAL);
    CU_ASSERT_PTR_NULL(e);
}

/* --- parse errors ----------------------------------------------------------------- */

static void unknown_fact_is_rejected_at_its_position(void) {
    ASSERT_REJECTED("dns.rcod == \"x\"", 1, "unknown fact 'dns.rcod'");
    ASSERT_REJECTED("true && tcp.nope > 0", 9, "unknown fact 'tcp.nope'");
    ASSERT_REJECTED("dns.", 1, "unknown fact 'dns.'");
    ASSERT_REJECTED("TRUE", 1, "unknown fact 'TRUE'");
}

static void subject_facts_cannot_be_read(void) {
    ASSERT_REJECTED(
        "dns.resolver.rcode == \"NOERROR\"", 1,
        "dns.resolver.rcode is per-resolver evidence; rules can only read target facts");
    ASSERT_REJECTED("true || tcp.attempt.state == \"open\"", 9,
                    "tcp.attempt.state is per-attempt evidence");
}

static void comparing_different_types_is_rejected_at_the_operator(void) {
    ASSERT_REJECTED("(dns.rcode == 3)", 12, "cannot compare string dns.rcode with number 3");
    ASSERT_REJECTED("dns.hosts_override == 1", 20,
                    "cannot compare bool dns.hosts_override with number 1");
    ASSERT_REJECTED("tcp.open_count != \"0\"", 16,
                    "cannot compare int tcp.open_count with string \"0\"");
    ASSERT_REJECTED("dns.rcode == true", 11, "cannot compare string dns.rcode with bool true");
    ASSERT_REJECTED("(tcp.open_count > 0) == 1", 22,
                    "cannot compare condition (tcp.open_count > 0) with number 1");
}

static void lists_only_work_with_in(void) {
    ASSERT_REJECTED("dns.addresses == \"10.0.1.23\"", 15, "use 'in' to test a list");
    ASSERT_REJECTED("dns.addresses == dns.addresses", 15, "cannot compare list dns.addresses");
}

static void only_numbers_are_ordered(void) {
    ASSERT_REJECTED("dns.rcode < \"Z\"", 11, "'<' compares numbers, not string dns.rcode");
    ASSERT_REJECTED("1 >= \"0\"", 3, "'>=' compares numbers, not string \"0\"");
    ASSERT_REJECTED("dns.hosts_override > false", 20, "'>' compares numbers, not bool");
    ASSERT_REJECTED("dns.addresses <= 1", 15, "'<=' compares numbers, not list dns.addresses");
}

static void lone_operand_must_be_a_bool(void) {
    ASSERT_REJECTED("tcp.open_count", 1, "int tcp.open_count is not a condition");
    ASSERT_REJECTED("true && dns.rcode", 9, "string dns.rcode is not a condition");
    ASSERT_REJECTED("\"x\"", 1, "string \"x\" is not a condition");
    ASSERT_REJECTED("!3", 2, "number 3 is not a condition");
    ASSERT_REJECTED("dns.addresses", 1, "list dns.addresses is not a condition");
    ASSERT_REJECTED("(dns.rcode) == \"x\"", 2, "string dns.rcode is not a condition");
}

static void in_list_items_must_have_the_operand_type(void) {
    ASSERT_REJECTED("dns.rcode in [\"A\", 3]", 20, "cannot compare string dns.rcode with number 3");
    ASSERT_REJECTED("target.port in [\"443\"]", 17,
                    "cannot compare int target.port with string \"443\"");
    ASSERT_REJECTED("dns.hosts_override in [1]", 24, "cannot compare bool");
    ASSERT_REJECTED("dns.addresses in [\"a\"]", 15, "'in [...]' tests one value, not list");
}

static void in_list_fact_needs_a_string_and_a_list(void) {
    ASSERT_REJECTED("dns.rcode in dns.rcode", 14, "'in' needs a list fact, not string dns.rcode");
    ASSERT_REJECTED("tcp.open_count in dns.addresses", 16,
                    "'in dns.addresses' looks for a string, not int tcp.open_count");
    ASSERT_REJECTED("\"x\" in dns.nope", 8, "unknown fact 'dns.nope'");
    ASSERT_REJECTED("\"x\" in dns.resolver.addresses", 8, "per-resolver evidence");
}

static void malformed_list_is_rejected(void) {
    ASSERT_REJECTED("dns.rcode in 3", 14, "expected '[' or a list fact after 'in', found '3'");
    ASSERT_REJECTED("dns.rcode in", 13, "expected '[' or a list fact after 'in', found the end");
    ASSERT_REJECTED("dns.rcode in [\"A\" \"B\"]", 19,
                    "expected ',' or ']' in the list, found '\"B\"'");
    ASSERT_REJECTED("dns.rcode in [\"A\",]", 19,
                    "expected a string, number, true or false in the list, found ']'");
    ASSERT_REJECTED("dns.rcode in [dns.rcode]", 15,
                    "expected a string, number, true or false in the list");
    ASSERT_REJECTED("dns.rcode in [\"A\"", 18, "expected ',' or ']' in the list, found the end");
}

static void missing_parenthesis_is_rejected(void) {
    ASSERT_REJECTED("(tcp.open_count > 0", 20, "expected ')' after expression");
    ASSERT_REJECTED("((true) && (false)", 19, "expected ')' after expression");
    ASSERT_REJECTED("(true))", 7, "unexpected ')' after the condition");
}

static void missing_operand_is_rejected(void) {
    ASSERT_REJECTED("tcp.open_count >", 17,
                    "expected a fact name, value, exists(...) or '(', found the end");
    ASSERT_REJECTED("&& true", 1, "found '&&'");
    ASSERT_REJECTED("true || ", 9, "found the end");
    ASSERT_REJECTED("()", 2, "found ')'");
    ASSERT_REJECTED("!", 2, "found the end");
}

static void malformed_exists_is_rejected(void) {
    ASSERT_REJECTED("exists tcp.open_count", 8, "expected '(' after exists");
    ASSERT_REJECTED("exists()", 8, "expected a fact name in exists(...)");
    ASSERT_REJECTED("exists(\"dns.rcode\")", 8, "expected a fact name in exists(...)");
    ASSERT_REJECTED("exists(tcp.nope)", 8, "unknown fact 'tcp.nope'");
    ASSERT_REJECTED("exists(dns.resolver.rcode)", 8, "per-resolver evidence");
    ASSERT_REJECTED("exists(tcp.open_count", 22, "expected ')' to close exists(");
    ASSERT_REJECTED("exists", 7, "expected '(' after exists");
}

static void empty_condition_is_rejected(void) {
    ASSERT_REJECTED("", 1, "empty condition");
    ASSERT_REJECTED("   ", 4, "empty condition");
}

static void trailing_tokens_are_rejected(void) {
    ASSERT_REJECTED("true false", 6, "unexpected 'false' after the condition");
    ASSERT_REJECTED("tcp.open_count > 0 tcp.open_count < 1", 20, "missing '&&' or '||'");
}

static void comparisons_do_not_chain(void) {
    ASSERT_REJECTED("1 < 2 < 3", 7, "comparisons do not chain");
    ASSERT_REJECTED("dns.rcode == \"A\" in [\"A\"]", 18, "comparisons do not chain");
}

static void unterminated_string_is_rejected_at_its_quote(void) {
    ASSERT_REJECTED("dns.rcode == \"NXDOMAIN", 14, "unterminated string");
    ASSERT_REJECTED("dns.rcode == \"ends in a backslash\\", 14, "unterminated string");
    ASSERT_REJECTED("dns.rcode == \"escaped quote\\\"", 14, "unterminated string");
}

static void unknown_escape_is_rejected_at_the_backslash(void) {
    ASSERT_REJECTED("dns.rcode == \"a\\nb\"", 16, "unknown escape '\\n' in string");
}

static void single_character_operators_are_rejected_with_a_hint(void) {
    ASSERT_REJECTED("tcp.open_count = 1", 16, "'=' is not an operator; write '=='");
    ASSERT_REJECTED("true & false", 6, "write '&&'");
    ASSERT_REJECTED("true | false", 6, "write '||'");
}

static void word_operators_are_rejected_with_a_hint(void) {
    ASSERT_REJECTED("true and false", 6, "write '&&', not 'and'");
    ASSERT_REJECTED("true or false", 6, "write '||', not 'or'");
    ASSERT_REJECTED("not true", 1, "write '!', not 'not'");
}

static void stray_characters_are_rejected(void) {
    ASSERT_REJECTED("tcp.open_count > 0 # comment", 20, "unexpected character '#'");
    ASSERT_REJECTED("true && \x01", 9, "unexpected byte 0x01");
    ASSERT_REJECTED("tcp.open_count > -x", 18, "unexpected character '-'");
    ASSERT_REJECTED("tcp.open_count > 'x'", 18, "unexpected character '''");
}

static void malformed_numbers_are_rejected(void) {
    ASSERT_REJECTED("tcp.open_count > 1.", 19, "expected a digit after '.'");
    ASSERT_REJECTED("tcp.open_count > 1.x", 19, "expected a digit after '.'");
    ASSERT_REJECTED("tcp.open_count > 9223372036854775808", 18, "number out of range");
    ASSERT_REJECTED("tcp.open_count > -9223372036854775809", 18, "number out of range");
    char huge[420];
    memset(huge, '9', 400);
    memcpy(huge + 400, ".5 < 1", 7); /* a fraction too large for a double */
    ASSERT_REJECTED(huge, 1, "number out of range");
}

static void lexical_errors_are_reported_wherever_they_occur(void) {
    ASSERT_REJECTED("dns.rcode in @", 14, "unexpected character '@'");
    ASSERT_REJECTED("dns.rcode in [@", 15, "unexpected character '@'");
    ASSERT_REJECTED("dns.rcode in [\"a\" @", 19, "unexpected character '@'");
    ASSERT_REJECTED("dns.rcode in [\"a\", @", 20, "unexpected character '@'");
    ASSERT_REJECTED("\"a\" in dns.addresses @", 22, "unexpected character '@'");
    ASSERT_REJECTED("exists @", 8, "unexpected character '@'");
    ASSERT_REJECTED("exists(@", 8, "unexpected character '@'");
    ASSERT_REJECTED("exists(dns.rcode @", 18, "unexpected character '@'");
    ASSERT_REJECTED("exists(dns.rcode) @", 19, "unexpected character '@'");
    ASSERT_REJECTED("(@", 2, "unexpected character '@'");
    ASSERT_REJECTED("(true @", 7, "unexpected character '@'");
    ASSERT_REJECTED("(true) @", 8, "unexpected character '@'");
    ASSERT_REJECTED("!@", 2, "unexpected character '@'");
    ASSERT_REJECTED("true && @", 9, "unexpected character '@'");
    ASSERT_REJECTED("tcp.open_count > @", 18, "unexpected character '@'");
    ASSERT_REJECTED("tcp.open_count @", 16, "unexpected character '@'");
    ASSERT_REJECTED("1 @", 3, "unexpected character '@'");
}

static void long_names_and_strings_are_clipped_in_messages(void) {
    char src[300];
    memset(src, 'a', 200);
    src[200] = '\0';
    ld_err err = {{0}};
    ld_expr *e = NULL;
    CU_ASSERT_EQUAL(ld_expr_parse(src, &e, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "...'"));
    CU_ASSERT_TRUE(strlen(err.msg) < 100);
}

/* --- limits ------------------------------------------------------------------------- */

/* "true || true || ... " padded with spaces to exactly len bytes (malloc'd). */
static char *long_condition(size_t len) {
    char *s = malloc(len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, ' ', len);
    s[len] = '\0';
    memcpy(s, "true", 4);
    for (size_t at = 4; at + 8 <= len; at += 8)
        memcpy(s + at, " || true", 8);
    return s;
}

static void condition_of_max_length_is_accepted(void) {
    char *s = long_condition(LD_EXPR_MAX_LEN);
    ASSERT_HOLDS(NULL, s);
    free(s);
}

static void condition_over_max_length_is_a_limit_error(void) {
    char *s = long_condition(LD_EXPR_MAX_LEN + 1);
    CU_ASSERT_TRUE(rejected(s, LD_ELIMIT, LD_EXPR_MAX_LEN + 1, "longer than 4096 bytes"));
    free(s);
}

/* depth '(' then "true" then depth ')' (malloc'd). */
static char *nested(size_t depth, char open, const char *close) {
    char *s = malloc(depth * 2 + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++)
        s[n++] = open;
    memcpy(s + n, "true", 4);
    n += 4;
    for (size_t i = 0; close[0] && i < depth; i++)
        s[n++] = close[0];
    s[n] = '\0';
    return s;
}

static void nesting_to_max_depth_is_accepted(void) {
    char *parens = nested(LD_EXPR_MAX_DEPTH, '(', ")");
    char *nots = nested(LD_EXPR_MAX_DEPTH, '!', "");
    ASSERT_HOLDS(NULL, parens);
    ASSERT_HOLDS(NULL, nots); /* an even number of '!' */
    free(parens);
    free(nots);
}

static void nesting_past_max_depth_is_a_limit_error(void) {
    char *parens = nested(LD_EXPR_MAX_DEPTH + 1, '(', ")");
    char *nots = nested(LD_EXPR_MAX_DEPTH + 1, '!', "");
    char *deep = nested(2000, '(', ")"); /* must not recurse 2000 deep */
    CU_ASSERT_TRUE(rejected(parens, LD_ELIMIT, LD_EXPR_MAX_DEPTH + 1, "nested deeper than 64"));
    CU_ASSERT_TRUE(rejected(nots, LD_ELIMIT, LD_EXPR_MAX_DEPTH + 1, "nested deeper than 64"));
    CU_ASSERT_TRUE(rejected(deep, LD_ELIMIT, LD_EXPR_MAX_DEPTH + 1, "nested deeper than 64"));
    free(parens);
    free(nots);
    free(deep);
}

static void long_chains_do_not_count_as_nesting(void) {
    char *s = long_condition(LD_EXPR_MAX_LEN); /* about 500 operands in one || */
    ASSERT_HOLDS(NULL, s);
    free(s);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(strings_compare_for_equality),
        LD_TEST(string_literals_unescape_quotes_and_backslashes),
        LD_TEST(integers_support_every_comparison),
        LD_TEST(ints_and_numbers_compare_numerically),
        LD_TEST(large_integers_compare_exactly),
        LD_TEST(bool_fact_alone_is_a_condition),
        LD_TEST(true_and_false_literals_are_conditions),
        LD_TEST(conditions_compare_with_bools),
        LD_TEST(and_or_not_follow_boolean_logic),
        LD_TEST(and_binds_tighter_than_or),
        LD_TEST(not_binds_tighter_than_and_and_comparison_binds_tighter_than_not),
        LD_TEST(whitespace_and_newlines_are_ignored),
        LD_TEST(in_list_literal_matches_any_item),
        LD_TEST(in_empty_list_literal_is_false),
        LD_TEST(in_list_fact_tests_membership),
        LD_TEST(exists_is_true_iff_the_fact_was_recorded),
        LD_TEST(comparison_with_missing_fact_is_false),
        LD_TEST(in_with_missing_fact_is_false),
        LD_TEST(missing_bool_fact_alone_is_false),
        LD_TEST(not_negates_the_false_of_a_missing_fact),
        LD_TEST(condition_over_missing_fact_compares_as_false),
        LD_TEST(nan_measurement_compares_false),
        LD_TEST(without_facts_every_fact_is_missing),
        LD_TEST(free_and_eval_accept_null),
        LD_TEST(unknown_fact_is_rejected_at_its_position),
        LD_TEST(subject_facts_cannot_be_read),
        LD_TEST(comparing_different_types_is_rejected_at_the_operator),
        LD_TEST(lists_only_work_with_in),
        LD_TEST(only_numbers_are_ordered),
        LD_TEST(lone_operand_must_be_a_bool),
        LD_TEST(in_list_items_must_have_the_operand_type),
        LD_TEST(in_list_fact_needs_a_string_and_a_list),
        LD_TEST(malformed_list_is_rejected),
        LD_TEST(missing_parenthesis_is_rejected),
        LD_TEST(missing_operand_is_rejected),
        LD_TEST(malformed_exists_is_rejected),
        LD_TEST(empty_condition_is_rejected),
        LD_TEST(trailing_tokens_are_rejected),
        LD_TEST(comparisons_do_not_chain),
        LD_TEST(unterminated_string_is_rejected_at_its_quote),
        LD_TEST(unknown_escape_is_rejected_at_the_backslash),
        LD_TEST(single_character_operators_are_rejected_with_a_hint),
        LD_TEST(word_operators_are_rejected_with_a_hint),
        LD_TEST(stray_characters_are_rejected),
        LD_TEST(malformed_numbers_are_rejected),
        LD_TEST(lexical_errors_are_reported_wherever_they_occur),
        LD_TEST(long_names_and_strings_are_clipped_in_messages),
        LD_TEST(condition_of_max_length_is_accepted),
        LD_TEST(condition_over_max_length_is_a_limit_error),
        LD_TEST(nesting_to_max_depth_is_accepted),
        LD_TEST(nesting_past_max_depth_is_a_limit_error),
        LD_TEST(long_chains_do_not_count_as_nesting),
        {0},
    };
    return ld_unit_run("expr", cases);
}
