/* test_reply.c - a peer's first reply bytes as evidence: what starts a TLS
 * record, what reads as text, and how each is quoted. */
#include <string.h>

#include "core/reply.h"
#include "unit.h"

#define B(s) ((const unsigned char *)(s)), (sizeof(s) - 1)

static void tls_records_are_told_by_type_and_major_version(void) {
    CU_ASSERT_TRUE(ld_reply_is_tls_record(B("\x15\x03\x03\x00\x02\x02\x46"))); /* alert */
    CU_ASSERT_TRUE(ld_reply_is_tls_record(B("\x16\x03\x01\x02\x00")));         /* handshake */
    CU_ASSERT_TRUE(ld_reply_is_tls_record(B("\x14\x03")));      /* change_cipher_spec */
    CU_ASSERT_TRUE(ld_reply_is_tls_record(B("\x18\x03\x03")));  /* heartbeat */
    CU_ASSERT_TRUE(ld_reply_is_tls_record(B("\x16")));          /* the type alone */
    CU_ASSERT_FALSE(ld_reply_is_tls_record(B("\x13\x03\x03"))); /* below the types */
    CU_ASSERT_FALSE(ld_reply_is_tls_record(B("\x19\x03\x03"))); /* above them */
    CU_ASSERT_FALSE(ld_reply_is_tls_record(B("\x16\x02\x00"))); /* SSL 2 / other */
    CU_ASSERT_FALSE(ld_reply_is_tls_record(B("HTTP/1.1 400 Bad Request")));
    CU_ASSERT_FALSE(ld_reply_is_tls_record(B("")));
}

static void text_is_told_from_binary_by_the_first_bytes(void) {
    CU_ASSERT_TRUE(ld_reply_is_text(B("SSH-2.0-OpenSSH_9.2p1\r\n")));
    CU_ASSERT_TRUE(ld_reply_is_text(B("-ERR\tunknown\r\n")));
    /* Terminal escapes among text: still text (four of sixteen are not). */
    CU_ASSERT_TRUE(ld_reply_is_text(B("\x1b[2J\x1b]0;pwned\x07\x1b[31mRED")));
    CU_ASSERT_FALSE(ld_reply_is_text(B("\x1b\x1b\x1b\x1b\x1b[2J\x1b]0;pwned")));
    CU_ASSERT_FALSE(ld_reply_is_text(B("\x15\x03\x03\x00\x02\x02\x46")));
    CU_ASSERT_FALSE(ld_reply_is_text(B("\x7b\x61\x4e\x42\x8a\x18\x6f\x4a\x4c\x11\x6d\xaf")));
    CU_ASSERT_FALSE(ld_reply_is_text(B("")));
}

static void a_line_quote_is_the_first_line_printable_and_cut_to_fit(void) {
    char out[16];
    ld_reply_quote_line(B("+PONG\r\nmore"), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "+PONG");
    ld_reply_quote_line(B("a\x1b[31mb\xff\x00z\n"), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "a.[31mb..z");
    ld_reply_quote_line(B("0123456789abcdefghij"), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "0123456789abcde"); /* 15 characters and the NUL */
    ld_reply_quote_line(B("\r\n"), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "");
    ld_reply_quote_line(B(""), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void a_hex_quote_is_the_first_sixteen_bytes_as_fit(void) {
    char out[64];
    ld_reply_quote_hex(B("\x20\x02\x00\x05"), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "20 02 00 05");
    ld_reply_quote_hex(
        B("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xff\xfe"), out,
        sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
    char small[9]; /* room for three pairs, not four */
    ld_reply_quote_hex(B("\xab\xcd\xef\x01"), small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "ab cd ef");
    ld_reply_quote_hex(B(""), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "");
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(tls_records_are_told_by_type_and_major_version),
        LD_TEST(text_is_told_from_binary_by_the_first_bytes),
        LD_TEST(a_line_quote_is_the_first_line_printable_and_cut_to_fit),
        LD_TEST(a_hex_quote_is_the_first_sixteen_bytes_as_fit),
        {0},
    };
    return ld_unit_run("reply", cases);
}
