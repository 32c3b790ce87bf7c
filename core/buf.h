/* buf.h - a growable byte string with a hard size limit.
 *
 * Used for everything we assemble (reports, rendered templates). Appends past
 * the limit fail with LD_ELIMIT and leave the buffer truncated but valid, so
 * no input can grow memory without bound.
 */
#ifndef LD_BUF_H
#define LD_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

/* A NUL-terminated, length-counted string under construction. */
typedef struct ld_buf {
    char *data;   /* NUL-terminated contents, NULL until the first append */
    size_t len;   /* bytes used, not counting the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* most bytes the buffer may ever hold */
} ld_buf;

/* Default limit for buffers that have no better one: 64 MiB. */
#define LD_BUF_DEFAULT_LIMIT ((size_t)64 << 20)

/* Starts an empty buffer that may grow to limit bytes (0: the default). */
void ld_buf_init(ld_buf *b, size_t limit);
/* Frees what the buffer holds and leaves it empty; harmless when cleared. */
void ld_buf_clear(ld_buf *b);
/* Empties the buffer, keeping its allocation. */
void ld_buf_reset(ld_buf *b);
ld_status ld_buf_append(ld_buf *b, const char *s, size_t n);
ld_status ld_buf_puts(ld_buf *b, const char *s);
ld_status ld_buf_putc(ld_buf *b, char c);
ld_status ld_buf_printf(ld_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ld_status ld_buf_vprintf(ld_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Returns the contents ("" when empty); valid until the next append. */
const char *ld_buf_str(const ld_buf *b);
/* Hands the contents to the caller (free() it) and resets the buffer. */
char *ld_buf_take(ld_buf *b);

#endif
