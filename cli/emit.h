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

/* Evaluates rules for each target of run, renders the report (base gives
 * the run-wide fields; targets, verdicts, host and duration are filled in)
 * and writes it. Returns the exit code: the verdict, or 3 with one error
 * line printed. */
int ld_cli_emit(const ld_ruleset *rules, const ld_run *run, const ld_report *base,
                ld_time started, ld_format format, const char *output);

#endif
