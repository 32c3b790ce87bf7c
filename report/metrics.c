/* metrics.c - the monitoring table. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One target while the labels are numbered: its mapped text and place. */
typedef struct label_entry {
    char *name;   /* the mapped text, in the labels' block */
    size_t index; /* the target's place in the report */
} label_entry;

/* Same texts together, each group in target order. */
static int label_entry_cmp(const void *a, const void *b) {
    const label_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

#define LABEL_SUFFIX_MAX 24 /* " #" and a size_t */

static const char *label_target_text(const ld_report_target *t) {
    const ld_value *v = ld_facts_get(t->facts, LD_F_TARGET_INPUT);
    return v && v->type == LD_T_STR ? v->u.s : "?";
}

ld_status ld_target_labels_build(ld_target_labels *labels, const ld_report *r, char (*map)(char),
                                 ld_err *err) {
    ld_status st = LD_OK;
    label_entry *order = NULL;
    size_t n = r->ntargets, size = 0;
    memset(labels, 0, sizeof *labels);
    for (size_t i = 0; i < n; i++)
        size += strlen(label_target_text(&r->targets[i])) + LABEL_SUFFIX_MAX + 1;
    /* The pointers first, then the texts, so one free releases both. */
    labels->names = malloc(n * sizeof *labels->names + size + 1);
    order = malloc((n ? n : 1) * sizeof *order);
    if (!labels->names || !order) {
        st = ld_err_set(err, LD_ENOMEM, "out of memory for the targets' labels");
        goto out;
    }
    labels->n = n;
    char *text = (char *)(labels->names + n);
    for (size_t i = 0; i < n; i++) {
        const char *s = label_target_text(&r->targets[i]);
        size_t len = strlen(s);
        labels->names[i] = text;
        for (size_t k = 0; k < len; k++)
            text[k] = map ? map(s[k]) : s[k];
        text[len] = '\0';
        order[i] = (label_entry){.name = text, .index = i};
        text += len + LABEL_SUFFIX_MAX + 1;
    }
    qsort(order, n, sizeof *order, label_entry_cmp);
    /* Compared with its group's first entry, which keeps its text unsuffixed. */
    for (size_t i = 1, first = 0; i < n; i++) {
        if (strcmp(order[i].name, order[first].name) != 0) {
            first = i;
            continue;
        }
        /* room was kept after every text */
        snprintf(order[i].name + strlen(order[i].name), LABEL_SUFFIX_MAX + 1, " #%zu",
                 i - first + 1);
    }
out:
    free(order);
    if (st != LD_OK)
        ld_target_labels_clear(labels);
    return st;
}

void ld_target_labels_clear(ld_target_labels *labels) {
    free(labels->names);
    memset(labels, 0, sizeof *labels);
}
