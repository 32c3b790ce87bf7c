/* test_range.c - the Monitoring Plugins range syntax, case by case from the
 * Development Guidelines' table. */
#include "core/range.h"
#include "unit.h"

/* 1 when spec alerts for value. */
static int alerts(const char *spec, double value) {
    ld_range r;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_range_parse(spec, &r, &err), LD_OK);
    return ld_range_alerts(&r, value);
}

static void plain_number_alerts_outside_zero_to_it(void) {
    CU_ASSERT_FALSE(alerts("10", 0));
    CU_ASSERT_FALSE(alerts("10", 10));
    CU_ASSERT_TRUE(alerts("10", 10.001));
    CU_ASSERT_TRUE(alerts("10", -1));
    CU_ASSERT_TRUE(alerts("0.5", 0.62)); /* check_tcp -w 0.5 with a 0.62 s connect */
}

static void open_ended_ranges(void) {
    CU_ASSERT_TRUE(alerts("10:", 9.9));
    CU_ASSERT_FALSE(alerts("10:", 1e9));
    CU_ASSERT_FALSE(alerts("~:10", -1e9));
    CU_ASSERT_TRUE(alerts("~:10", 11));
}

static void bounded_and_inside_ranges(void) {
    CU_ASSERT_TRUE(alerts("10:20", 9));
    CU_ASSERT_FALSE(alerts("10:20", 15));
    CU_ASSERT_TRUE(alerts("10:20", 21));
    CU_ASSERT_TRUE(alerts("@10:20", 10));
    CU_ASSERT_TRUE(alerts("@10:20", 20));
    CU_ASSERT_FALSE(alerts("@10:20", 21));
}

static void bad_ranges_are_refused_with_a_reason(void) {
    static const char *const bad[] = {"",    "abc", "-1",    "20:10", "1:x",
                                      "x:1", "@",   "1e999", "nan",   ":"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ld_range r;
        ld_err err = {{0}};
        CU_ASSERT_EQUAL(ld_range_parse(bad[i], &r, &err), LD_EINVAL);
        CU_ASSERT_TRUE(err.msg[0] != '\0');
    }
}

static void the_text_is_kept_for_perfdata(void) {
    ld_range r;
    ld_err err;
    CU_ASSERT_EQUAL(ld_range_parse("@0.5:2", &r, &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(r.text, "@0.5:2");
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(plain_number_alerts_outside_zero_to_it),
        LD_TEST(open_ended_ranges),
        LD_TEST(bounded_and_inside_ranges),
        LD_TEST(bad_ranges_are_refused_with_a_reason),
        LD_TEST(the_text_is_kept_for_perfdata),
        {0},
    };
    return ld_unit_run("range", cases);
}
