/* reply.h - a peer's first reply bytes as evidence: whether they start a TLS
 * record, and how they are quoted in a fact (a line of text, or hex when the
 * bytes are not text). Pure: any byte string is safe to pass.
 */
#ifndef LD_REPLY_H
#define LD_REPLY_H

#include <stddef.h>

/* Bytes of a reply quoted as hex, at most: "15 03 03 00 02 02 46". */
#define LD_REPLY_HEX_MAX 16

/* 1 when b[0..n) can start a TLS record: a content type (change_cipher_spec
 * 0x14 .. heartbeat 0x18) then major version 3; with one byte, the type
 * alone decides. 0 for n == 0. */
int ld_reply_is_tls_record(const unsigned char *b, size_t n);
/* 1 when the start of b[0..n) reads as text: of its first LD_REPLY_HEX_MAX
 * bytes, at least three quarters are printable ASCII, tab, CR or LF. */
int ld_reply_is_text(const unsigned char *b, size_t n);
/* The first line of b[0..n) without its line end into out (outsz > 0),
 * bytes that are not printable ASCII as '.', cut to fit. */
void ld_reply_quote_line(const unsigned char *b, size_t n, char *out, size_t outsz);
/* The first LD_REPLY_HEX_MAX bytes of b[0..n) as lower-case hex pairs joined
 * by spaces into out (outsz > 0), as many as fit. */
void ld_reply_quote_hex(const unsigned char *b, size_t n, char *out, size_t outsz);

#endif
