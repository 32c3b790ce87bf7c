/* range.h - thresholds in the Monitoring Plugins range syntax, as check_tcp's
 * -w and -c take them.
 *
 *   10      alert when the value is < 0 or > 10
 *   10:     alert when < 10
 *   ~:10    alert when > 10
 *   10:20   alert when < 10 or > 20
 *   @10:20  alert when 10 <= value <= 20
 *
 * (Monitoring Plugins Development Guidelines, "Threshold and ranges".)
 */
#ifndef LD_RANGE_H
#define LD_RANGE_H

#include "err.h"

#define LD_RANGE_TEXT_MAX 64 /* longest range text kept */

/* A parsed range. */
typedef struct ld_range {
    double start;                 /* lower bound (when !start_inf) */
    double end;                   /* upper bound (when !end_inf) */
    int start_inf;                /* no lower bound (~) */
    int end_inf;                  /* no upper bound ("10:") */
    int inside;                   /* '@': alert inside the range, not outside */
    char text[LD_RANGE_TEXT_MAX]; /* as given, for perfdata */
} ld_range;

/* Parses s; err says what is wrong without repeating s. */
ld_status ld_range_parse(const char *s, ld_range *out, ld_err *err);
/* 1 when value must raise an alert under r. */
int ld_range_alerts(const ld_range *r, double value);

#endif
