/* prometheus.c - the report in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector and `linkdoctor
 * serve`. Every family has # HELP and # TYPE and its samples together; label
 * values escape backslash, double quote and line feed as the format says.
 *
 *   linkdoctor_up{target}                 1 when the service answers as expected
 *                                         (verdict ok or warning), else 0
 *   linkdoctor_verdict{target}            0 ok, 1 warning, 2 critical, 3 unknown
 *   linkdoctor_diagnosis{target,id,severity,confidence}   1 per reported diagnosis
 *   linkdoctor_phase_duration_seconds{target,phase}       dns, connect, tls, ttfb, total
 *   linkdoctor_tcp_syns_sent{target}      most SYNs sent to one silent address
 *   linkdoctor_certificate_expiry_timestamp_seconds{target}
 *   linkdoctor_run_duration_seconds       the whole run
 *   linkdoctor_last_run_timestamp_seconds when the run started
 *
 * A target given twice keeps all its series: the second goes by target="TEXT #2"
 * (the third "#3"), as two identical series would make the exposition invalid
 * and dropping one would hide its diagnosis. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/utc.h"
#include "report/metrics.h"

/* Appends s as a label value: \ " and LF escaped. */
static void put_label_value(ld_buf *out, const char *s) {
    ld_buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '\\')
            ld_buf_puts(out, "\\\\");
        else if (*s == '"')
            ld_buf_puts(out, "\\\"");
        else if (*s == '\n')
            ld_buf_puts(out, "\\n");
        else
            ld_buf_putc(out, *s);
    }
    ld_buf_putc(out, '"');
}

static void put_family(ld_buf *out, const char *name, const char *help) {
    ld_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* Appends a number the way the format reads it. */
static void put_number(ld_buf *out, double v) {
    if (isnan(v))
        ld_buf_puts(out, "NaN");
    else if (isinf(v))
        ld_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        ld_buf_printf(out, "%.0f", v);
    else
        ld_buf_printf(out, "%.15g", v);
}

/* Starts a sample "name{target="..."" - the caller adds labels and "} value". */
static void open_sample(ld_buf *out, const char *name, const char *target) {
    ld_buf_printf(out, "%s{target=", name);
    put_label_value(out, target);
}

/* One sample per target of a per-target value (fact), skipping targets
 * without it. */
static void put_per_target(ld_buf *out, const ld_report *r, const ld_target_labels *labels,
                           const char *name, const char *help, ld_fact_id fact) {
    int any = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        const ld_value *v = ld_facts_get(t->facts, fact);
        double x;
        if (!v)
            continue;
        if (v->type == LD_T_INT)
            x = (double)v->u.i;
        else if (v->type == LD_T_NUM)
            x = v->u.n;
        else if (v->type != LD_T_STR || !ld_utc_parse(v->u.s, &x))
            continue;
        if (!any++)
            put_family(out, name, help);
        open_sample(out, name, labels->names[i]);
        ld_buf_puts(out, "} ");
        put_number(out, x);
        ld_buf_putc(out, '\n');
    }
}

ld_status ld_report_prometheus(const ld_report *r, ld_buf *out, ld_err *err) {
    ld_target_labels labels;
    ld_status st = ld_target_labels_build(&labels, r, NULL, err);
    if (st != LD_OK)
        return st;
    put_family(out, "linkdoctor_up",
               "1 when the target answers as expected (verdict ok or warning), else 0.");
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        open_sample(out, "linkdoctor_up", labels.names[i]);
        ld_buf_printf(out, "} %d\n",
                      t->verdict == LD_VERDICT_OK || t->verdict == LD_VERDICT_WARNING);
    }
    put_family(out, "linkdoctor_verdict",
               "The target's verdict: 0 ok, 1 warning, 2 critical, 3 unknown.");
    for (size_t i = 0; i < r->ntargets; i++) {
        open_sample(out, "linkdoctor_verdict", labels.names[i]);
        ld_buf_printf(out, "} %d\n", (int)r->targets[i].verdict);
    }
    put_family(out, "linkdoctor_diagnosis",
               "1 for each diagnosis reported for the target (see linkdoctor explain ID).");
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        for (size_t k = 0; k < t->diagnoses->nreported; k++) {
            const ld_diagnosis *d = &t->diagnoses->reported[k];
            open_sample(out, "linkdoctor_diagnosis", labels.names[i]);
            ld_buf_puts(out, ",id=");
            put_label_value(out, d->id);
            ld_buf_printf(out, ",severity=\"%s\",confidence=\"%s\"} 1\n",
                          ld_severity_name(d->severity), ld_confidence_name(d->confidence));
        }
    }
    int any = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        for (size_t m = 0; m < ld_nmetrics; m++) {
            double v;
            if (ld_metrics[m].kind != LD_METRIC_PHASE_MS || !ld_metric_value(&ld_metrics[m], t, &v))
                continue;
            if (!any++)
                put_family(out, "linkdoctor_phase_duration_seconds",
                           "How long each phase took: dns, connect, tls, ttfb, total.");
            open_sample(out, "linkdoctor_phase_duration_seconds", labels.names[i]);
            ld_buf_printf(out, ",phase=\"%s\"} ", ld_metrics[m].name);
            put_number(out, v);
            ld_buf_putc(out, '\n');
        }
    }
    put_per_target(out, r, &labels, "linkdoctor_tcp_syns_sent",
                   "Most SYNs sent to one address that never answered (1 + retransmissions).",
                   LD_F_TCP_SYNS_SENT);
    put_per_target(out, r, &labels, "linkdoctor_certificate_expiry_timestamp_seconds",
                   "When the service's TLS certificate expires, in seconds since the epoch.",
                   LD_F_TLS_NOT_AFTER);
    put_family(out, "linkdoctor_run_duration_seconds", "How long the whole run took.");
    ld_buf_puts(out, "linkdoctor_run_duration_seconds ");
    put_number(out, ld_report_kept_ms(r->duration_ms) / 1000.0);
    ld_buf_putc(out, '\n');
    put_family(out, "linkdoctor_last_run_timestamp_seconds",
               "When the run started, in seconds since the epoch.");
    ld_buf_puts(out, "linkdoctor_last_run_timestamp_seconds ");
    put_number(out, ld_report_kept_time(r->started_at));
    ld_buf_putc(out, '\n');
    ld_target_labels_clear(&labels);
    if (out->len >= out->limit)
        return ld_err_set(err, LD_ELIMIT, "the report is larger than %zu bytes", out->limit);
    return LD_OK;
}
