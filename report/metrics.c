/* metrics.c - the monitoring table. */
#include "metrics.h"

#include <math.h>

const ld_metric ld_metrics[] = {
    {"dns", LD_METRIC_PHASE_MS, LD_F_DNS_LATENCY_MS, LD_F__COUNT, LD_F__COUNT,
     "the answering resolver's lookup"},
    {"connect", LD_METRIC_PHASE_MS, LD_F_TCP_CONNECT_MS, LD_F_THRESHOLD_CONNECT_WARNING,
     LD_F_THRESHOLD_CONNECT_CRITICAL, "the fastest TCP connect"},
    {"tls", LD_METRIC_PHASE_MS, LD_F_TLS_HANDSHAKE_MS, LD_F__COUNT, LD_F__COUNT,
     "the fastest TLS handshake"},
    {"ttfb", LD_METRIC_PHASE_MS, LD_F_HTTP_TTFB_MS, LD_F__COUNT, LD_F__COUNT,
     "HTTP request to its first response byte"},
    {"total", LD_METRIC_PHASE_MS, LD_F_TARGET_DURATION_MS, LD_F_THRESHOLD_TOTAL_WARNING,
     LD_F_THRESHOLD_TOTAL_CRITICAL, "the target's whole check"},
    {"syns", LD_METRIC_COUNT, LD_F_TCP_SYNS_SENT, LD_F__COUNT, LD_F__COUNT,
     "most SYNs sent to one silent address"},
    {"cert_days", LD_METRIC_COUNT, LD_F_TLS_DAYS_LEFT, LD_F__COUNT, LD_F__COUNT,
     "whole days until the certificate expires"},
};
const size_t ld_nmetrics = sizeof ld_metrics / sizeof ld_metrics[0];

int ld_metric_value(const ld_metric *m, const ld_report_target *t, double *value) {
    const ld_value *v = ld_facts_get(t->facts, m->fact);
    if (!v)
        return 0;
    double x = v->type == LD_T_NUM ? v->u.n : v->type == LD_T_INT ? (double)v->u.i : 0;
    if (v->type != LD_T_NUM && v->type != LD_T_INT)
        return 0;
    *value = m->kind == LD_METRIC_PHASE_MS ? x / 1000.0 : x;
    return 1;
}

double ld_report_kept_ms(double ms) {
    return round(ms * 1000.0) / 1000.0;
}

double ld_report_kept_time(double epoch) {
    return epoch > 0 ? (double)llround(epoch * 1000.0) / 1000.0 : 0;
}
