/* msg.c - user-facing messages. */
#include "msg.h"

#include <stdio.h>

#include <stdarg.h>

/* Writes "linkdoctor: " + prefix + the message and a newline to stderr. */
static void msg_vprint(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void msg_vprint(const char *prefix, const char *fmt, va_list ap) {
    FILE *f = stderr;
    fprintf(f, "linkdoctor: %s", prefix);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void ld_msg_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    msg_vprint("", fmt, ap);
    va_end(ap);
}

void ld_msg_trace(double since_start_ms, const char *fmt, ...) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "+%.3f ", since_start_ms / 1000.0);
    va_list ap;
    va_start(ap, fmt);
    msg_vprint(prefix, fmt, ap);
    va_end(ap);
}
