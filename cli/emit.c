/* emit.c - from facts to the written report and the exit code. */
#include "emit.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/msg.h"
#include "core/proxy.h"

extern char **environ;

/* The signals after which a report file must be left whole or not at all. */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* The report files being prepared (-o and --save-json), for the handler of
 * those signals: the one piece of process-wide mutable state, as a signal
 * handler reaches no other. It changes only while the signals are blocked. */
#define PENDING_MAX 2
static const ld_report_out *volatile pending_out[PENDING_MAX];

static void on_fatal_signal(int sig) {
    for (int i = 0; i < PENDING_MAX; i++) {
        const ld_report_out *out = pending_out[i];
        if (out)
            ld_report_out_abandon(out); /* returns once the temporary file is gone */
    }
    /* Die of the signal, as the one who sent it expects: it is delivered again,
     * with the default action, when this handler returns. */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Blocks (how = SIG_BLOCK) or unblocks (SIG_UNBLOCK) the fatal signals. */
static void fatal_signals_mask(int how) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaddset(&set, fatal_signals[i]);
    sigprocmask(how, &set, NULL);
}

/* Replaces the pending file was (NULL: a free place) by now (NULL: none);
 * the fatal signals must be blocked. */
static void pending_set(const ld_report_out *was, const ld_report_out *now) {
    for (int i = 0; i < PENDING_MAX; i++) {
        if (pending_out[i] == was) {
            pending_out[i] = now;
            return;
        }
    }
}

ld_status ld_cli_output_open(ld_report_out *out, const char *path) {
    ld_err err;
    ld_status st = ld_report_out_open(out, path, &err);
    if (st != LD_OK) {
        ld_msg_error("-o %s: %s", path, err.msg);
        return st;
    }
    if (!path)
        return LD_OK;
    fatal_signals_mask(SIG_BLOCK);
    pending_set(NULL, out);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction sa, old;
        if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* nohup and background jobs keep ignoring them */
        sa = (struct sigaction){.sa_handler = on_fatal_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
    fatal_signals_mask(SIG_UNBLOCK);
    return LD_OK;
}

void ld_cli_output_clear(ld_report_out *out) {
    fatal_signals_mask(SIG_BLOCK);
    if (out)
        pending_set(out, NULL);
    ld_report_out_clear(out);
    fatal_signals_mask(SIG_UNBLOCK);
}

/* The host context of the report: best effort, as a report without it is
 * still the report (a part that cannot be read stays empty). None for a
 * capture file: this machine's interfaces and resolver are not those of the
 * one that captured it, and a support engineer analysing a customer's pcap
 * would read them as the customer's. */
static void collect_host(ld_cli_report *out, const ld_run *run, const ld_report *base) {
    if (base->capture_file)
        return;
    ld_proxy_env proxy;
    ld_proxy_env_read(&proxy, environ);
    ld_host_sources src = {.proxy = &proxy, .started_at = base->started_at};
    ld_err ignored;
    if (!(out->host = ld_host_create()))
        return;
    ld_host_collect(out->host, &src, &ignored);
    ld_run_host_dns(run, out->host);
}

ld_status ld_cli_report_build(const ld_ruleset *rules, const ld_run *run, const ld_report *base,
                              ld_time started, ld_cli_report *out, ld_err *err) {
    size_t n = ld_run_count(run);
    memset(out, 0, sizeof *out);
    out->diagnoses = calloc(n ? n : 1, sizeof *out->diagnoses);
    out->targets = calloc(n ? n : 1, sizeof *out->targets);
    out->n = n;
    if (!out->diagnoses || !out->targets)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_report *report = &out->report;
    *report = *base;
    report->targets = out->targets;
    report->ntargets = n;
    report->verdict = LD_VERDICT_OK;
    for (size_t i = 0; i < n; i++) {
        ld_report_target *rt = &out->targets[i];
        rt->facts = ld_run_facts(run, i);
        if (ld_rules_eval(rules, rt->facts, &out->diagnoses[i], err) != LD_OK) {
            ld_err_prefix(err, "evaluating rules: ");
            return LD_EINVAL;
        }
        rt->diagnoses = &out->diagnoses[i];
        rt->verdict = ld_verdict_of(&out->diagnoses[i]);
        rt->duration_ms = ld_run_target_ms(run, i);
        report->verdict = i == 0 ? rt->verdict : ld_verdict_worse(report->verdict, rt->verdict);
    }
    gethostname(out->hostname, sizeof out->hostname - 1);
    report->hostname = out->hostname;
    if (n > 0) {
        const ld_value *v = ld_facts_get(out->targets[0].facts, LD_F_CLOUD_PROVIDER);
        report->cloud_provider = v ? v->u.s : NULL;
        v = ld_facts_get(out->targets[0].facts, LD_F_CLOUD_PROVIDER_SOURCE);
        report->cloud_source = v ? v->u.s : NULL;
    }
    collect_host(out, run, base);
    report->host = out->host;
    report->duration_ms = (double)(ld_time_now() - started) / (double)LD_MS;
    if (!report->redact)
        return LD_OK;
    ld_status st = ld_report_redact(report, &out->redacted, err);
    if (st == LD_OK)
        *report = out->redacted.report;
    return st;
}

void ld_cli_report_clear(ld_cli_report *r) {
    ld_redacted_clear(&r->redacted);
    for (size_t i = 0; r->diagnoses && i < r->n; i++)
        ld_diagnoses_clear(&r->diagnoses[i]);
    free(r->diagnoses);
    free(r->targets);
    ld_host_free(r->host);
    memset(r, 0, sizeof *r);
}

/* Renders r in format and writes it to output; a signal waits until the
 * file is whole and in place (or gone). */
static ld_status emit_one(const ld_report *r, ld_format format, ld_report_out *output,
                          ld_err *err) {
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_status st = ld_report_render(r, format, &out, err);
    if (st == LD_OK) {
        fatal_signals_mask(SIG_BLOCK);
        st = ld_report_out_write(output, out.data, out.len, err);
        pending_set(output, NULL);
        fatal_signals_mask(SIG_UNBLOCK);
    }
    ld_buf_clear(&out);
    return st;
}

int ld_cli_emit(const ld_ruleset *rules, const ld_run *run, const ld_report *base, ld_time started,
                ld_format format, ld_report_out *output, ld_report_out *json) {
    int code = LD_EXIT_UNKNOWN;
    ld_err err;
    ld_cli_report cr;
    ld_status st = ld_cli_report_build(rules, run, base, started, &cr, &err);
    if (st == LD_OK)
        st = emit_one(&cr.report, format, output, &err);
    /* The same report, the same model: what `show` renders from this file is
     * what was just printed. */
    if (st == LD_OK && json && json->path)
        st = emit_one(&cr.report, LD_FORMAT_JSON, json, &err);
    if (st != LD_OK)
        ld_msg_error("%s", err.msg);
    else
        code = (int)cr.report.verdict;
    ld_cli_report_clear(&cr);
    return code;
}
