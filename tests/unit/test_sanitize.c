/* test_sanitize.c - the one sanitizer: strict UTF-8, control characters and
 * bidirectional overrides made visible, clean text untouched, and the fact
 * store applying it to every string it keeps. */
#include <stdlib.h>
#include <string.h>

#include "core/facts.h"
#include "core/sanitize.h"
#include "unit.h"

/* The sanitized form of n bytes of s, in a static buffer. */
static const char *clean(const char *s, size_t n) {
    static char out[256];
    return ld_sanitize_to(s, n, out, sizeof out);
}

#define CLEAN(lit) clean(lit, sizeof(lit) - 1)

static void clean_text_is_left_alone(void) {
    CU_ASSERT_STRING_EQUAL(CLEAN("HTTP/1.1 400 Bad Request"), "HTTP/1.1 400 Bad Request");
    CU_ASSERT_STRING_EQUAL(CLEAN("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x94\x92"),
                           "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x94\x92");
    CU_ASSERT_STRING_EQUAL(CLEAN("back\\slash"), "back\\slash");
    CU_ASSERT_TRUE(ld_sanitize_is_clean("plain", 5));
}

static void control_characters_become_visible_escapes(void) {
    CU_ASSERT_STRING_EQUAL(CLEAN("\x1b[31mred"), "\\x1b[31mred");
    CU_ASSERT_STRING_EQUAL(CLEAN("a\r\nb\tc"), "a\\x0d\\x0ab\\x09c");
    CU_ASSERT_STRING_EQUAL(CLEAN("nul\0after"), "nul\\x00after");
    CU_ASSERT_STRING_EQUAL(CLEAN("del\x7f"), "del\\x7f");
    CU_ASSERT_STRING_EQUAL(CLEAN("c1 \xc2\x9b"), "c1 \\x9b"); /* U+009B, the 8-bit CSI */
    CU_ASSERT_FALSE(ld_sanitize_is_clean("\x1b", 1));
}

static void bidirectional_overrides_become_visible(void) {
    CU_ASSERT_STRING_EQUAL(CLEAN("a\xe2\x80\xae"
                                 "b"),
                           "a\\u202eb");                        /* RIGHT-TO-LEFT OVERRIDE */
    CU_ASSERT_STRING_EQUAL(CLEAN("\xe2\x81\xa6x"), "\\u2066x"); /* LEFT-TO-RIGHT ISOLATE */
}

static void invalid_utf8_becomes_byte_escapes(void) {
    CU_ASSERT_STRING_EQUAL(CLEAN("\xff\xfe"), "\\xff\\xfe");
    CU_ASSERT_STRING_EQUAL(CLEAN("\xc0\xaf"), "\\xc0\\xaf");                   /* overlong '/' */
    CU_ASSERT_STRING_EQUAL(CLEAN("\xed\xa0\x80"), "\\xed\\xa0\\x80");          /* a surrogate */
    CU_ASSERT_STRING_EQUAL(CLEAN("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
    CU_ASSERT_STRING_EQUAL(CLEAN("ok\xe2\x82"), "ok\\xe2\\x82");               /* cut sequence */
}

static void sanitizing_twice_changes_nothing(void) {
    const char *once = CLEAN("\x1b\xff\xe2\x80\xae");
    char copy[256];
    strcpy(copy, once);
    CU_ASSERT_STRING_EQUAL(clean(copy, strlen(copy)), copy);
    CU_ASSERT_TRUE(ld_sanitize_is_clean(copy, strlen(copy)));
}

static void a_small_buffer_is_cut_at_a_character_boundary(void) {
    char out[6];
    ld_sanitize_to("ab\xc3\xa9\xc3\xa9", 6, out, sizeof out); /* a b e e: 6 bytes, room for 5 */
    CU_ASSERT_STRING_EQUAL(out, "ab\xc3\xa9");
    ld_sanitize_to("\x1b\x1b", 2, out, sizeof out); /* an escape never half-written */
    CU_ASSERT_STRING_EQUAL(out, "\\x1b");
}

static void multi_line_text_keeps_its_line_feeds(void) {
    static const struct {
        const char *in;   /* text the user wrote */
        const char *want; /* what may be shown */
    } cases[] = {
        {"1. one\n2. two", "1. one\n2. two"},
        {"a\x1b[2J\r\nb\xff", "a\\x1b[2J\\x0d\nb\\xff"}, /* the CR is no line end */
        {"\n\nend\n", "\n\nend\n"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = ld_sanitize_lines_dup(cases[i].in);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, cases[i].want);
        free(got);
    }
}

static void prefixes_end_at_the_first_unclean_or_invalid_character(void) {
    CU_ASSERT_EQUAL(ld_sanitize_clean_prefix("plain", 5), 5);
    CU_ASSERT_EQUAL(ld_sanitize_clean_prefix("ab\x1b[31m", 7), 2);
    CU_ASSERT_EQUAL(ld_sanitize_clean_prefix("caf\xc3\xa9\n", 6), 5);
    CU_ASSERT_EQUAL(ld_utf8_valid_prefix("caf\xc3\xa9\n\t", 7), 7); /* controls are UTF-8 */
    CU_ASSERT_EQUAL(ld_utf8_valid_prefix("ab\xff", 3), 2);
    CU_ASSERT_EQUAL(ld_utf8_valid_prefix("\xc3", 1), 0);         /* cut short */
    CU_ASSERT_EQUAL(ld_utf8_valid_prefix("\xed\xa0\x80", 3), 0); /* a surrogate */
}

static void the_fact_store_keeps_only_clean_strings(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *t = ld_facts_target(f);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_HTTP_REDIRECT, "http://x/\x1b[2J\xff"), LD_OK);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_HTTP_REDIRECT)->u.s, "http://x/\\x1b[2J\\xff");
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_DNS_CNAME_CHAIN, "a\nb.example"), LD_OK);
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_DNS_CNAME_CHAIN)->u.list.items[0],
                           "a\\x0ab.example");
    ld_bag *s = ld_facts_subject(f, "tcp", "key\x1b");
    CU_ASSERT_STRING_EQUAL(ld_bag_key(s), "key\\x1b");
    ld_facts_free(f);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(clean_text_is_left_alone),
        LD_TEST(control_characters_become_visible_escapes),
        LD_TEST(bidirectional_overrides_become_visible),
        LD_TEST(invalid_utf8_becomes_byte_escapes),
        LD_TEST(sanitizing_twice_changes_nothing),
        LD_TEST(a_small_buffer_is_cut_at_a_character_boundary),
        LD_TEST(multi_line_text_keeps_its_line_feeds),
        LD_TEST(prefixes_end_at_the_first_unclean_or_invalid_character),
        LD_TEST(the_fact_store_keeps_only_clean_strings),
        {0},
    };
    return ld_unit_run("sanitize", cases);
}
