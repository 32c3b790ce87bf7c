/* emit.h - the end every subcommand that diagnoses shares: rules per target,
 * the report in the chosen format, written to stdout or atomically to -o. */
#ifndef LD_EMIT_H
#define LD_EMIT_H

#include <stddef.h>

#include "cli/options.h"
#include "core/loop.h"
#include "plan/plan.h"
#include "report/report.h"
#include "rules/rules.h"

/* Opens the report's destination (ld_report_out_open(): for -o or
 * --save-json, the temporary file and its helper; two at most may be open)
 * and, for a file, lets SIGINT, SIGTERM and
 * SIGHUP end the process only once that file is gone: a run interrupted,
 * even while writing, leaves the old report or the whole new one, and no
 * temporary file. The process still dies by the signal (a shell shows exit
 * status 130, 143 or 129). Prints one line and returns non-LD_OK on failure;
 * out must be cleared with ld_cli_output_clear() either way. */
ld_status ld_cli_output_open(ld_report_out *out, const char *path);
/* ld_report_out_clear(), out of the signal handler's way. */
void ld_cli_output_clear(ld_report_out *out);

/* A run's report: the rules evaluated for each target, ready to render. */
typedef struct ld_cli_report {
    ld_report report;          /* what the renderers read */
    ld_report_target *targets; /* owned, one per target */
    ld_diagnoses *diagnoses;   /* owned, one per target */
    size_t n;                  /* how many */
    char hostname[256];        /* this host's name */
    ld_host *host;             /* its context (OS, interfaces, resolver...), owned; NULL
                                  when out of memory */
    ld_redacted redacted;      /* with base->redact: the copies report points to */
} ld_cli_report;

/* Evaluates rules for every target of run into *out (base gives the
 * run-wide fields) and collects the host context; with base->redact,
 * out->report is the redacted view (ld_report_redact, which redacts the host
 * context too), so that every format and every round hides the same.
 * *out must be cleared with ld_cli_report_clear() either way. */
ld_status ld_cli_report_build(const ld_ruleset *rules, const ld_run *run, const ld_report *base,
                              ld_time started, ld_cli_report *out, ld_err *err);
/* Frees what building allocated; harmless twice. */
void ld_cli_report_clear(ld_cli_report *r);

/* Evaluates rules for each target of run, renders the report (base gives
 * the run-wide fields; targets, verdicts, host and duration are filled in)
 * and writes it to out, then the same report as JSON to json (--save-json;
 * NULL or not opened: none). Returns the exit code: the verdict, or 3 with
 * one error line printed. */
int ld_cli_emit(const ld_ruleset *rules, const ld_run *run, const ld_report *base, ld_time started,
                ld_format format, ld_report_out *out, ld_report_out *json);

#endif
