/* sanitize.h - the one sanitizer every string from the network or the user
 * passes before it can reach a report, a terminal or a log line.
 *
 * The result is valid UTF-8 (strict: no overlong forms, no surrogates,
 * nothing above U+10FFFF) without control characters: C0 and C1 controls,
 * DEL, and the Unicode bidirectional overrides and isolates (which can make
 * a terminal show text in another order than it has) are written as visible
 * escapes - "\x1b", "\u202e" - and so are bytes that are not UTF-8 ("\xff").
 * A backslash stays a backslash; clean text comes out unchanged, so the
 * sanitizer is idempotent. The fact store applies it to every string it
 * keeps; messages apply it to everything they echo.
 */
#ifndef LD_SANITIZE_H
#define LD_SANITIZE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Appends the sanitized form of s[0..n) to out. */
ld_status ld_sanitize_append(ld_buf *out, const char *s, size_t n);
/* The sanitized form of the NUL-terminated s, allocated (the caller frees
 * it); NULL when out of memory. */
char *ld_sanitize_dup(const char *s);
/* The same with its line feeds kept: each line sanitized, for text the user
 * wrote to span lines (a rule's remediation). Allocated, NULL when out of
 * memory. */
char *ld_sanitize_lines_dup(const char *s);
/* The sanitized form of s[0..n) into out (outlen > 0), cut at a character
 * boundary when it does not fit. Returns out. */
char *ld_sanitize_to(const char *s, size_t n, char *out, size_t outlen);
/* 1 when s[0..n) is already clean (the sanitizer would leave it as is). */
int ld_sanitize_is_clean(const char *s, size_t n);
/* The length of the longest clean prefix of s[0..n): n when all of it is
 * clean, else the offset of the first character it would escape. */
size_t ld_sanitize_clean_prefix(const char *s, size_t n);
/* The length of the longest prefix of s[0..n) that is valid UTF-8 (control
 * characters included): n when all of it is. */
size_t ld_utf8_valid_prefix(const char *s, size_t n);

#endif
