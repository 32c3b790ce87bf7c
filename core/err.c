/* err.c - error detail formatting. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ld_status ld_err_set(ld_err *err, ld_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void ld_err_prefix(ld_err *err, const char *fmt, ...) {
    if (!err)
        return;
    char out[LD_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, sizeof out, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
    size_t room = sizeof out - 1 - used;
    size_t old = strlen(err->msg);
    if (old > room)
        old = room;
    memcpy(out + used, err->msg, old);
    out[used + old] = '\0';
    memcpy(err->msg, out, used + old + 1);
}
