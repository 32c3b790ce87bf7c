/* utc.h - wall-clock times as reports write them: ISO 8601 in UTC to the
 * second ("2026-11-21T21:42:00Z"), the form of tls.not_after, host.time and
 * the certificate's validity. */
#ifndef LD_UTC_H
#define LD_UTC_H

#include <stddef.h>

/* epoch (seconds since the epoch) as "2026-11-21T21:42:00Z" into buf (at
 * least 21 bytes); "" when it cannot be written. */
void ld_utc_format(double epoch, char *buf, size_t len);
/* "2026-11-21T21:42:00Z" back to seconds since the epoch into *out; 1 when s
 * is one, 0 (and *out untouched) otherwise. */
int ld_utc_parse(const char *s, double *out);
/* The wall clock now, in seconds since the epoch: when a run or round starts
 * (durations use the monotonic ld_time_now()). */
double ld_utc_now(void);

#endif
