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

/* The name each target of a report goes by in a format's labels, unique in
 * the report: the target's text passed through the format's character map,
 * with " #N" appended to its Nth occurrence (N >= 2, in target order) among
 * targets whose mapped text is the same - so a target given twice keeps all
 * of its series (a second `--expect-status` may fail where the first did
 * not). Target texts hold no white space, so a suffixed name never equals
 * another target's. */
typedef struct ld_target_labels {
    char **names; /* names[i] for target i, owned (one block with the texts) */
    size_t n;     /* how many: the report's ntargets */
} ld_target_labels;

/* Fills labels (caller-owned) for r; map (NULL: keep) replaces characters a
 * format cannot hold. LD_ENOMEM with err set when memory runs out. */
ld_status ld_target_labels_build(ld_target_labels *labels, const ld_report *r, char (*map)(char),
                                 ld_err *err);

/* Frees what labels holds; a zeroed labels is harmless. */
void ld_target_labels_clear(ld_target_labels *labels);

#endif
