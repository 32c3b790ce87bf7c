/* msg.c - user-facing messages. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/sanitize.h"

#define MSG_MAX 2048 /* longest message written; the rest is cut */

/* Writes "linkdoctor: " + prefix + the message and a newline to stderr. */
static void msg_vprint(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* With plugin set, the line also goes to stdout as a plugin's UNKNOWN status
 * line, its '|' (where perfdata would start) shown as '/'. */
static void msg_vprint_to(int plugin, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void msg_vprint_to(int plugin, const char *prefix, const char *fmt, va_list ap) {
    /* Messages echo what the user typed and what the network sent: one line,
     * no control character reaches the terminal or the log. */
    char raw[MSG_MAX], clean[MSG_MAX];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    ld_sanitize_to(raw, len, clean, sizeof clean);
    fprintf(stderr, "linkdoctor: %s%s\n", prefix, clean);
    fflush(stderr);
    if (!plugin)
        return;
    for (char *c = clean; *c; c++)
        if (*c == '|')
            *c = '/';
    printf("LINKDOCTOR UNKNOWN - %s%s\n", prefix, clean);
}

static void msg_vprint(const char *prefix, const char *fmt, va_list ap) {
    msg_vprint_to(0, prefix, fmt, ap);
}

void ld_msg_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    msg_vprint("", fmt, ap);
    va_end(ap);
}

void ld_msg_error_plugin(int plugin, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    msg_vprint_to(plugin, "", fmt, ap);
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

void ld_msg_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    msg_vprint("", fmt, ap);
    va_end(ap);
}
