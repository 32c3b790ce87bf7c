/* sanitize.c - strict UTF-8 with visible escapes for what is not text. */
#include "sanitize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s[0..n); returns its length and the code
 * point in *cp, or 0 when the bytes there are not a valid sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t min, c;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, c = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, c = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Bytes from s[i] on that are printable ASCII (clean and valid as they
 * are): most text is, and skipping it needs no decoding. */
static size_t ascii_run(const unsigned char *s, size_t i, size_t n) {
    while (i < n && s[i] >= 0x20 && s[i] < 0x7f)
        i++;
    return i;
}

/* 1 when a code point must not reach a terminal as is. */
static int is_control(uint32_t c) {
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
           (c >= 0x202a && c <= 0x202e) || /* bidirectional embeddings and overrides */
           (c >= 0x2066 && c <= 0x2069) || /* bidirectional isolates */
           c == 0x200e || c == 0x200f ||   /* direction marks */
           c == 0xfeff;                    /* byte order mark, zero width */
}

/* Calls put(piece) for each clean run and each escape of s[0..n); an
 * escape is atomic: written whole or not at all. */
typedef ld_status (*put_fn)(void *arg, const char *p, size_t len, int atomic);

static ld_status walk(const char *s, size_t n, put_fn put, void *arg) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    ld_status st = LD_OK;
    while (i < n && st == LD_OK) {
        i = ascii_run(u, i, n);
        if (i == n)
            break;
        uint32_t c;
        size_t len = utf8_decode(u + i, n - i, &c);
        if (len && !is_control(c)) {
            i += len;
            continue;
        }
        if (i > run)
            st = put(arg, s + run, i - run, 0);
        char esc[16];
        if (len)
            snprintf(esc, sizeof esc, c < 0x100 ? "\\x%02x" : "\\u%04x", (unsigned)c);
        else
            snprintf(esc, sizeof esc, "\\x%02x", u[i]);
        if (st == LD_OK)
            st = put(arg, esc, strlen(esc), 1);
        i += len ? len : 1;
        run = i;
    }
    if (st == LD_OK && n > run)
        st = put(arg, s + run, n - run, 0);
    return st;
}

static ld_status put_buf(void *arg, const char *p, size_t len, int atomic) {
    (void)atomic;
    return ld_buf_append(arg, p, len);
}

ld_status ld_sanitize_append(ld_buf *out, const char *s, size_t n) {
    return walk(s, n, put_buf, out);
}

char *ld_sanitize_dup(const char *s) {
    size_t n = strlen(s);
    if (ld_sanitize_is_clean(s, n))
        return strdup(s);
    ld_buf b;
    ld_buf_init(&b, 0);
    if (ld_sanitize_append(&b, s, n) != LD_OK) {
        ld_buf_clear(&b);
        return NULL;
    }
    char *r = ld_buf_take(&b);
    ld_buf_clear(&b);
    return r ? r : strdup("");
}

char *ld_sanitize_lines_dup(const char *s) {
    ld_buf b;
    ld_buf_init(&b, 0);
    ld_status st = LD_OK;
    for (const char *line = s; st == LD_OK;) {
        size_t n = strcspn(line, "\n");
        st = ld_sanitize_append(&b, line, n);
        if (line[n] == '\0')
            break;
        if (st == LD_OK)
            st = ld_buf_putc(&b, '\n');
        line += n + 1;
    }
    char *r = st == LD_OK ? ld_buf_take(&b) : NULL;
    ld_buf_clear(&b);
    return r || st != LD_OK ? r : strdup("");
}

/* A fixed output buffer being filled. */
typedef struct fixed {
    char *out;  /* the buffer */
    size_t cap; /* its size, the NUL included */
    size_t len; /* bytes written */
    int full;   /* a piece did not fit: nothing more is written */
} fixed;

static ld_status put_fixed(void *arg, const char *p, size_t len, int atomic) {
    fixed *f = arg;
    if (f->full)
        return LD_OK;
    size_t room = f->cap - 1 - f->len;
    if (len > room) {
        /* Cut at a character boundary: never half a UTF-8 sequence, never
         * half an escape. */
        len = atomic ? 0 : room;
        while (len > 0 && ((unsigned char)p[len] & 0xc0) == 0x80)
            len--;
        f->full = 1;
    }
    memcpy(f->out + f->len, p, len);
    f->len += len;
    return LD_OK;
}

char *ld_sanitize_to(const char *s, size_t n, char *out, size_t outlen) {
    fixed f = {.out = out, .cap = outlen};
    walk(s, n, put_fixed, &f);
    out[f.len] = '\0';
    return out;
}

/* The bytes of s[0..n) before the first invalid UTF-8 sequence or, with
 * controls, the first control character. */
static size_t valid_prefix(const char *s, size_t n, int controls) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while ((i = ascii_run(u, i, n)) < n) {
        uint32_t c;
        size_t len = utf8_decode(u + i, n - i, &c);
        if (!len || (controls && is_control(c)))
            break;
        i += len;
    }
    return i;
}

size_t ld_sanitize_clean_prefix(const char *s, size_t n) {
    return valid_prefix(s, n, 1);
}

int ld_sanitize_is_clean(const char *s, size_t n) {
    return ld_sanitize_clean_prefix(s, n) == n;
}

size_t ld_utf8_valid_prefix(const char *s, size_t n) {
    return valid_prefix(s, n, 0);
}
