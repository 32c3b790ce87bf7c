/* range.c - Monitoring Plugins threshold ranges. */
#include "range.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a finite number that fills all of s[0..n). */
static int number(const char *s, size_t n, double *out) {
    char buf[LD_RANGE_TEXT_MAX];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

ld_status ld_range_parse(const char *s, ld_range *out, ld_err *err) {
    memset(out, 0, sizeof *out);
    size_t len = strlen(s);
    if (len == 0)
        return ld_err_set(err, LD_EINVAL, "empty range");
    if (len >= sizeof out->text)
        return ld_err_set(err, LD_EINVAL, "range is too long");
    memcpy(out->text, s, len + 1);
    const char *p = s;
    if (*p == '@') {
        out->inside = 1;
        p++;
    }
    const char *colon = strchr(p, ':');
    if (!colon) {
        /* "10": from 0 to 10. */
        if (!number(p, strlen(p), &out->end))
            return ld_err_set(err, LD_EINVAL,
                              "not a number or a range (e.g. 10, 10:, ~:10, 5:10, @5:10)");
        out->start = 0;
        return out->end < 0 ? ld_err_set(err, LD_EINVAL,
                                         "a single number means 0 to it: it must not be negative")
                            : LD_OK;
    }
    size_t slen = (size_t)(colon - p);
    if (slen == 1 && p[0] == '~')
        out->start_inf = 1;
    else if (!number(p, slen, &out->start))
        return ld_err_set(err, LD_EINVAL, "the start of the range is not a number (or ~ for none)");
    const char *e = colon + 1;
    if (!*e)
        out->end_inf = 1;
    else if (!number(e, strlen(e), &out->end))
        return ld_err_set(err, LD_EINVAL, "the end of the range is not a number");
    if (!out->start_inf && !out->end_inf && out->start > out->end)
        return ld_err_set(err, LD_EINVAL, "the start of the range is above its end");
    return LD_OK;
}

int ld_range_alerts(const ld_range *r, double value) {
    int in = (r->start_inf || value >= r->start) && (r->end_inf || value <= r->end);
    return r->inside ? in : !in;
}
