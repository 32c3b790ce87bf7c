/* buf.c - bounded growable string. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ld_buf_init(ld_buf *b, size_t limit) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : LD_BUF_DEFAULT_LIMIT;
}

void ld_buf_clear(ld_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ld_buf_reset(ld_buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static ld_status buf_reserve(ld_buf *b, size_t extra) {
    if (extra > b->limit - b->len)
        return LD_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return LD_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->limit + 1)
        cap = b->limit + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return LD_ENOMEM;
    b->data = p;
    b->cap = cap;
    return LD_OK;
}

ld_status ld_buf_append(ld_buf *b, const char *s, size_t n) {
    ld_status st = buf_reserve(b, n);
    if (st != LD_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return LD_OK;
}

ld_status ld_buf_puts(ld_buf *b, const char *s) {
    return ld_buf_append(b, s, strlen(s));
}

ld_status ld_buf_putc(ld_buf *b, char c) {
    return ld_buf_append(b, &c, 1);
}

ld_status ld_buf_vprintf(ld_buf *b, const char *fmt, va_list ap) {
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0)
        return LD_EINVAL;
    if ((size_t)n < sizeof small)
        return ld_buf_append(b, small, (size_t)n);
    ld_status st = buf_reserve(b, (size_t)n);
    if (st != LD_OK)
        return st;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return LD_OK;
}

ld_status ld_buf_printf(ld_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ld_status st = ld_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

const char *ld_buf_str(const ld_buf *b) {
    return b->data ? b->data : "";
}

char *ld_buf_take(ld_buf *b) {
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
