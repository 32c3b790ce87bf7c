/* reply.c - a peer's first reply bytes as evidence. */
#include "reply.h"

#include <string.h>

int ld_reply_is_tls_record(const unsigned char *b, size_t n) {
    if (n < 1 || b[0] < 0x14 || b[0] > 0x18)
        return 0;
    return n < 2 || b[1] == 0x03;
}

int ld_reply_is_text(const unsigned char *b, size_t n) {
    size_t look = n < LD_REPLY_HEX_MAX ? n : LD_REPLY_HEX_MAX, text = 0;
    for (size_t i = 0; i < look; i++)
        text += (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\t' || b[i] == '\r' || b[i] == '\n';
    return look > 0 && text * 4 >= look * 3;
}

void ld_reply_quote_line(const unsigned char *b, size_t n, char *out, size_t outsz) {
    const unsigned char *lf = n ? memchr(b, '\n', n) : NULL;
    size_t end = lf ? (size_t)(lf - b) : n;
    if (lf && end > 0 && b[end - 1] == '\r')
        end--;
    if (end > outsz - 1)
        end = outsz - 1;
    for (size_t i = 0; i < end; i++)
        out[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
    out[end] = '\0';
}

void ld_reply_quote_hex(const unsigned char *b, size_t n, char *out, size_t outsz) {
    static const char digits[] = "0123456789abcdef";
    size_t len = 0;
    for (size_t i = 0; i < n && i < LD_REPLY_HEX_MAX && len + (i ? 3 : 2) < outsz; i++) {
        if (i)
            out[len++] = ' ';
        out[len++] = digits[b[i] >> 4];
        out[len++] = digits[b[i] & 0x0f];
    }
    out[len] = '\0';
}
