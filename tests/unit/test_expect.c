/* test_expect.c - expected HTTP statuses: what a spec accepts, how it reads
 * back, and that every refusal names the item at fault. */
#include <stdio.h>
#include <string.h>

#include "core/expect.h"
#include "unit.h"

/* Parses spec, which must be valid. */
static ld_expect_status ok(const char *spec) {
    ld_expect_status e;
    ld_err err = {{0}};
    ld_status st = ld_expect_parse(spec, &e, &err);
    if (st != LD_OK)
        fprintf(stderr, "'%s': %s\n", spec ? spec : "(null)", err.msg);
    CU_ASSERT_EQUAL_FATAL(st, LD_OK);
    return e;
}

/* Parses spec, which must be refused with st and a message containing part. */
static void refused(const char *spec, ld_status want, const char *part) {
    ld_expect_status e;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_expect_parse(spec, &e, &err), want);
    if (!strstr(err.msg, part))
        fprintf(stderr, "'%s': message '%s' lacks '%s'\n", spec, err.msg, part);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, part));
    /* A refused spec never half-applies. */
    CU_ASSERT_EQUAL(e.n, 0);
    CU_ASSERT_STRING_EQUAL(e.text, "any");
}

static void single_status_matches_only_itself(void) {
    ld_expect_status e = ok("400");
    CU_ASSERT_EQUAL(e.n, 1);
    CU_ASSERT_STRING_EQUAL(e.text, "400");
    CU_ASSERT_TRUE(ld_expect_match(&e, 400));
    CU_ASSERT_FALSE(ld_expect_match(&e, 401));
    CU_ASSERT_FALSE(ld_expect_match(&e, 399));
}

static void range_includes_both_ends(void) {
    ld_expect_status e = ok("200-399");
    CU_ASSERT_STRING_EQUAL(e.text, "200-399");
    CU_ASSERT_TRUE(ld_expect_match(&e, 200));
    CU_ASSERT_TRUE(ld_expect_match(&e, 301));
    CU_ASSERT_TRUE(ld_expect_match(&e, 399));
    CU_ASSERT_FALSE(ld_expect_match(&e, 199));
    CU_ASSERT_FALSE(ld_expect_match(&e, 400));
}

static void class_covers_its_hundred(void) {
    ld_expect_status e = ok("2XX");
    CU_ASSERT_STRING_EQUAL(e.text, "2xx");
    CU_ASSERT_TRUE(ld_expect_match(&e, 200));
    CU_ASSERT_TRUE(ld_expect_match(&e, 299));
    CU_ASSERT_FALSE(ld_expect_match(&e, 300));
    CU_ASSERT_FALSE(ld_expect_match(&e, 199));
}

static void list_matches_any_item_and_normalizes_white_space(void) {
    ld_expect_status e = ok("  2xx , 400,\t301-302 ");
    CU_ASSERT_EQUAL(e.n, 3);
    CU_ASSERT_STRING_EQUAL(e.text, "2xx,400,301-302");
    CU_ASSERT_TRUE(ld_expect_match(&e, 204));
    CU_ASSERT_TRUE(ld_expect_match(&e, 400));
    CU_ASSERT_TRUE(ld_expect_match(&e, 302));
    CU_ASSERT_FALSE(ld_expect_match(&e, 303));
    CU_ASSERT_FALSE(ld_expect_match(&e, 404));
}

static void any_empty_and_null_accept_every_status(void) {
    const char *specs[] = {NULL, "", "   ", "any", "ANY", " any "};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        ld_expect_status e = ok(specs[i]);
        CU_ASSERT_EQUAL(e.n, 0);
        CU_ASSERT_STRING_EQUAL(e.text, "any");
        CU_ASSERT_TRUE(ld_expect_match(&e, 100));
        CU_ASSERT_TRUE(ld_expect_match(&e, 599));
    }
    CU_ASSERT_TRUE(ld_expect_match(NULL, 500));
}

static void normalized_text_parses_back_to_the_same_spec(void) {
    ld_expect_status e = ok("1xx, 200-204 ,5xx");
    ld_expect_status back = ok(e.text);
    CU_ASSERT_STRING_EQUAL(back.text, e.text);
    CU_ASSERT_EQUAL(back.n, e.n);
    for (int i = 0; i < e.n; i++) {
        CU_ASSERT_EQUAL(back.items[i].lo, e.items[i].lo);
        CU_ASSERT_EQUAL(back.items[i].hi, e.items[i].hi);
    }
}

static void edges_of_the_status_space_are_accepted(void) {
    ld_expect_status e = ok("100,599,100-599,1xx,5xx");
    CU_ASSERT_EQUAL(e.n, 5);
    CU_ASSERT_TRUE(ld_expect_match(&e, 100));
    CU_ASSERT_TRUE(ld_expect_match(&e, 599));
}

static void unknown_class_is_refused_by_name(void) {
    refused("2xx,6xx", LD_EINVAL, "'6xx' is not a status, a range (200-399) or a class (2xx)");
    refused("0xx", LD_EINVAL, "'0xx'");
    refused("2x5", LD_EINVAL, "'2x5'");
}

static void out_of_range_status_is_refused_by_name(void) {
    refused("600", LD_EINVAL, "'600'");
    refused("099", LD_EINVAL, "'099'");
    refused("200-600", LD_EINVAL, "'200-600'");
    refused("200,42", LD_EINVAL, "'42'");
    refused("2000", LD_EINVAL, "'2000'");
}

static void backwards_range_is_refused_by_name(void) {
    refused("399-200", LD_EINVAL, "'399-200': a range goes from low to high");
}

static void garbage_items_are_refused_by_name(void) {
    refused("ok", LD_EINVAL, "'ok'");
    refused("200-", LD_EINVAL, "'200-'");
    refused("-200", LD_EINVAL, "'-200'");
    refused("200-300-400", LD_EINVAL, "'200-300-400'");
    refused("+200", LD_EINVAL, "'+200'");
    refused("200 300", LD_EINVAL, "'200 300'");
    refused("200 - 300", LD_EINVAL, "'200 - 300'");
    refused("any,200", LD_EINVAL, "'any'");
}

static void empty_items_are_refused(void) {
    refused("200,,300", LD_EINVAL, "empty item");
    refused("200,", LD_EINVAL, "empty item");
    refused(",200", LD_EINVAL, "empty item");
}

static void more_items_than_the_limit_are_refused(void) {
    char spec[256] = "";
    for (int i = 0; i < LD_EXPECT_MAX; i++)
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%d", i ? "," : "", 200 + i);
    ld_expect_status e = ok(spec);
    CU_ASSERT_EQUAL(e.n, LD_EXPECT_MAX);
    snprintf(spec + strlen(spec), sizeof spec - strlen(spec), ",%d", 300);
    refused(spec, LD_ELIMIT, "at most 16");
}

static void sixteen_ranges_fit_the_normalized_text(void) {
    /* The longest spec the item limit allows, 16 ranges (127 characters),
     * fills the normalized text exactly: no accepted spec is ever cut. */
    char spec[256] = "";
    for (int i = 0; i < LD_EXPECT_MAX; i++)
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%d-%d", i ? "," : "",
                 100 + 2 * i, 101 + 2 * i);
    ld_expect_status e = ok(spec);
    CU_ASSERT_EQUAL(e.n, LD_EXPECT_MAX);
    CU_ASSERT_EQUAL(strlen(e.text), sizeof e.text - 1);
    CU_ASSERT_STRING_EQUAL(e.text, spec);
}

static void long_bad_item_is_quoted_shortened(void) {
    char spec[200];
    memset(spec, '9', sizeof spec - 1);
    spec[sizeof spec - 1] = '\0';
    ld_expect_status e;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_expect_parse(spec, &e, &err), LD_EINVAL);
    CU_ASSERT_TRUE(strlen(err.msg) < 120);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(single_status_matches_only_itself),
        LD_TEST(range_includes_both_ends),
        LD_TEST(class_covers_its_hundred),
        LD_TEST(list_matches_any_item_and_normalizes_white_space),
        LD_TEST(any_empty_and_null_accept_every_status),
        LD_TEST(normalized_text_parses_back_to_the_same_spec),
        LD_TEST(edges_of_the_status_space_are_accepted),
        LD_TEST(unknown_class_is_refused_by_name),
        LD_TEST(out_of_range_status_is_refused_by_name),
        LD_TEST(backwards_range_is_refused_by_name),
        LD_TEST(garbage_items_are_refused_by_name),
        LD_TEST(empty_items_are_refused),
        LD_TEST(more_items_than_the_limit_are_refused),
        LD_TEST(sixteen_ranges_fit_the_normalized_text),
        LD_TEST(long_bad_item_is_quoted_shortened),
        {0},
    };
    return ld_unit_run("expect", cases);
}
