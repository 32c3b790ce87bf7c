/* metrics.h - the numbers of a target that monitoring formats show, in one
 * table: Nagios perfdata and Prometheus samples are both rendered from it, so
 * the two never disagree on what a phase is or which fact measures it. */
#ifndef LD_REPORT_METRICS_H
#define LD_REPORT_METRICS_H

#include <stddef.h>

#include "core/facts.h"
#include "report/report.h"

/* What a metric measures. */
typedef enum ld_metric_kind {
    LD_METRIC_PHASE_MS, /* a phase's duration, a fact in ms (shown in seconds) */
    LD_METRIC_COUNT,    /* a plain number */
} ld_metric_kind;

/* One metric of a target. */
typedef struct ld_metric {
    const char *name;    /* phase or metric name: "dns", "connect", "syns" */
    ld_metric_kind kind; /* how to read and show it */
    ld_fact_id fact;     /* the target fact holding it */
    ld_fact_id warning;  /* the threshold fact of its warning range, or LD_F__COUNT */
    ld_fact_id critical; /* ... critical */
    const char *help;    /* one line for people */
} ld_metric;

/* The table, and how many rows it has. */
extern const ld_metric ld_metrics[];
extern const size_t ld_nmetrics;

/* The metric's value for target t into *value (seconds for phases); 0 when
 * the target has none. */
int ld_metric_value(const ld_metric *m, const ld_report_target *t, double *value);

/* A duration in ms, and a wall-clock time in seconds since the epoch, as the
 * JSON report keeps them: to the microsecond, and to the millisecond. Every
 * format that shows one shows it so, or a report read back by `show` would
 * not print what the run printed. */
double ld_report_kept_ms(double ms);
double ld_report_kept_time(double epoch);

#endif
