/* nagios.c - the report as a monitoring plugin prints it (Monitoring Plugins
 * Development Guidelines): one status line with performance data, then the
 * long text. The process exit code (the verdict) is the plugin's state.
 *
 *   LINKDOCTOR CRITICAL - tcp.syn_dropped on svc:19530: SYNs to ... | 'connect'=...
 *   svc:19530: CRITICAL
 *     [CRITICAL] tcp.syn_dropped (confidence high): SYNs to 10.0.1.23 ...
 *       Fix: Two security groups must allow this connection: ...
 *
 * Perfdata follows the guidelines' 'label'=value[UOM];[warn];[crit];[min];[max]:
 * times in seconds ("s"), counts without a unit; a label is the metric's name
 * for one target and "TARGET metric" for several; a target given twice (or
 * two whose texts differ only in characters a label cannot hold: ' = |)
 * goes by "TARGET #2" the second time, so labels stay unique. The
 * text before the '|' must not contain one, and no line may break inside a
 * field: both are replaced. */
#include "report.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/target.h"
#include "report/metrics.h"

#define SUMMARY_TARGETS_MAX 3   /* failing targets named on the status line */
#define FIX_MAX             240 /* characters of a fix in the long text */

/* Appends s with '|' and line breaks replaced, at most max bytes (0: all). */
static void put_field(ld_buf *out, const char *s, size_t max) {
    size_t n = strlen(s);
    int cut = max && n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* never half a UTF-8 character */
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        ld_buf_putc(out, c == '|' ? '/' : c == '\n' || c == '\r' ? ' ' : c);
    }
    if (cut)
        ld_buf_puts(out, "...");
}

static const char *state_name(ld_verdict v) {
    switch (v) {
    case LD_VERDICT_OK:
        return "OK";
    case LD_VERDICT_WARNING:
        return "WARNING";
    case LD_VERDICT_CRITICAL:
        return "CRITICAL";
    case LD_VERDICT_UNKNOWN:
        break;
    }
    return "UNKNOWN";
}

static const char *target_name(const ld_report_target *t) {
    const ld_value *v = ld_facts_get(t->facts, LD_F_TARGET_INPUT);
    return v ? v->u.s : "?";
}

/* Appends "id, id on TARGET" (what is wrong with one target), or TARGET
 * alone when nothing is. */
static void put_target_summary(ld_buf *out, const ld_report_target *t) {
    int n = 0;
    for (size_t i = 0; i < t->diagnoses->nreported; i++) {
        const ld_diagnosis *d = &t->diagnoses->reported[i];
        if (d->severity < LD_SEV_WARNING)
            continue;
        ld_buf_printf(out, "%s%s", n++ ? ", " : "", d->id);
    }
    if (n == 0 && t->verdict == LD_VERDICT_UNKNOWN)
        ld_buf_puts(out, "no conclusion");
    if (n || t->verdict == LD_VERDICT_UNKNOWN)
        ld_buf_puts(out, " on ");
    put_field(out, target_name(t), 0);
}

/* The status line's text after "LINKDOCTOR STATE - ". */
static void put_summary(ld_buf *out, const ld_report *r) {
    if (r->ntargets == 1) {
        const ld_report_target *t = &r->targets[0];
        put_target_summary(out, t);
        if (t->diagnoses->nreported) {
            ld_buf_puts(out, ": ");
            put_field(out, t->diagnoses->reported[0].title, 0);
        }
        return;
    }
    size_t bad = 0, named = 0;
    for (size_t i = 0; i < r->ntargets; i++)
        bad += r->targets[i].verdict != LD_VERDICT_OK;
    if (bad == 0) {
        ld_buf_printf(out, "all %zu targets ok", r->ntargets);
        return;
    }
    ld_buf_printf(out, "%zu of %zu targets not ok: ", bad, r->ntargets);
    /* Worst first: critical targets, then warnings, then unknown. */
    static const ld_verdict order[] = {LD_VERDICT_CRITICAL, LD_VERDICT_WARNING, LD_VERDICT_UNKNOWN};
    for (size_t o = 0; o < 3; o++) {
        for (size_t i = 0; i < r->ntargets; i++) {
            const ld_report_target *t = &r->targets[i];
            if (t->verdict != order[o])
                continue;
            if (named == SUMMARY_TARGETS_MAX) {
                ld_buf_printf(out, "; and %zu more", bad - named);
                return;
            }
            ld_buf_puts(out, named++ ? "; " : "");
            put_target_summary(out, t);
        }
    }
}

/* What a perfdata label cannot hold: its quote, '=', the '|' before perfdata
 * and a line break. */
static char label_char(char c) {
    return c == '\'' || c == '=' || c == '|' || c == '\n' ? '_' : c;
}

/* A perfdata label: the metric, prefixed by the target's label when there
 * are several. */
static void put_label(ld_buf *out, const ld_report *r, const char *target, const char *metric) {
    ld_buf_putc(out, '\'');
    if (r->ntargets > 1)
        ld_buf_printf(out, "%s ", target);
    ld_buf_printf(out, "%s'", metric);
}

static const char *fact_str(const ld_report_target *t, ld_fact_id id) {
    if (id >= LD_F__COUNT)
        return "";
    const ld_value *v = ld_facts_get(t->facts, id);
    return v && v->type == LD_T_STR ? v->u.s : "";
}

static ld_status put_perfdata(ld_buf *out, const ld_report *r, ld_err *err) {
    ld_target_labels labels;
    ld_status st = ld_target_labels_build(&labels, r, label_char, err);
    if (st != LD_OK)
        return st;
    int first = 1;
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        for (size_t m = 0; m < ld_nmetrics; m++) {
            const ld_metric *mt = &ld_metrics[m];
            double v;
            if (!ld_metric_value(mt, t, &v))
                continue;
            ld_buf_puts(out, first ? " | " : " ");
            first = 0;
            put_label(out, r, labels.names[i], mt->name);
            if (mt->kind == LD_METRIC_PHASE_MS)
                ld_buf_printf(out, "=%.6fs;%s;%s;0;", v, fact_str(t, mt->warning),
                              fact_str(t, mt->critical));
            else if (mt->fact == LD_F_TCP_SYNS_SENT)
                ld_buf_printf(out, "=%.0f;;;0;", v);
            else
                ld_buf_printf(out, "=%.0f;;;;", v);
        }
    }
    ld_target_labels_clear(&labels);
    return LD_OK;
}

/* The first line of a fix, up to FIX_MAX characters. */
static void put_fix(ld_buf *out, const char *fix) {
    char line[FIX_MAX * 4 + 8];
    size_t n = strcspn(fix, "\n");
    if (n >= sizeof line)
        n = sizeof line - 1;
    memcpy(line, fix, n);
    line[n] = '\0';
    put_field(out, line, FIX_MAX);
}

static void put_long_text(ld_buf *out, const ld_report *r) {
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        ld_buf_putc(out, '\n');
        put_field(out, target_name(t), 0);
        ld_buf_printf(out, ": %s", state_name(t->verdict));
        for (size_t k = 0; k < t->diagnoses->nreported; k++) {
            const ld_diagnosis *d = &t->diagnoses->reported[k];
            char sev[16];
            snprintf(sev, sizeof sev, "%s", ld_severity_name(d->severity));
            for (char *p = sev; *p; p++)
                *p = (char)toupper((unsigned char)*p);
            ld_buf_printf(out, "\n  [%s] %s (confidence %s): ", sev, d->id,
                          ld_confidence_name(d->confidence));
            put_field(out, d->title, 0);
            if (d->severity >= LD_SEV_WARNING && d->remediation && *d->remediation) {
                ld_buf_puts(out, "\n    Fix: ");
                put_fix(out, d->remediation);
            }
        }
    }
    ld_buf_putc(out, '\n');
}

ld_status ld_report_nagios(const ld_report *r, ld_buf *out, ld_err *err) {
    ld_buf_printf(out, "LINKDOCTOR %s - ", state_name(r->verdict));
    put_summary(out, r);
    ld_status st = put_perfdata(out, r, err);
    if (st != LD_OK)
        return st;
    put_long_text(out, r);
    if (out->len >= out->limit)
        return ld_err_set(err, LD_ELIMIT, "the report is larger than %zu bytes", out->limit);
    return LD_OK;
}
