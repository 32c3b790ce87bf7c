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

/* Opens the report's destination (ld_report_out_open(): for -o, the
 * temporary file and its helper) and, for a file, lets SIGINT, SIGTERM and
 * SIGHUP end the process only once that file is gone: a run interrupted,
 * even while writing, leaves the old report or the whole new one, and no
 * temporary file. The process still dies by the signal (a shell shows exit
 * status 130, 143 or 129). Prints one line and returns non-LD_OK on failure;
 * out must be cleared with ld_cli_output_clear() either way. */
ld_status ld_cli_output_open(ld_report_out *out, const char *path);
/* ld_report_out_clear(), out of the signal handler's way. */
void ld_cli_output_clear(ld_report_out *out);

/* Evaluates rules for each target of run, renders the report (base gives
 * the run-wide fields; targets, verdicts, host and duration are filled in)
 * and writes it to out. Returns the exit code: the verdict, or 3 with one
 * error line printed. */
int ld_cli_emit(const ld_ruleset *rules, const ld_run *run, const ld_report *base,
                ld_time started, ld_format format, ld_report_out *out);

#endif
