/* utc.c - ISO 8601 UTC times to and from seconds since the epoch. */
#include "utc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void ld_utc_format(double epoch, char *buf, size_t len) {
    time_t secs = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%s", "");
}

int ld_utc_parse(const char *s, double *out) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    char z = 0;
    if (!s ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &z) != 7 ||
        z != 'Z')
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (double)timegm(&tm);
    return 1;
}

double ld_utc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
