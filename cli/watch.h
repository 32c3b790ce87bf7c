/* watch.h - `linkdoctor check --watch SEC`: the same check every SEC seconds
 * on one plan (the capture stays open: no set-up cost per round), until
 * SIGINT or SIGTERM.
 *
 * Text: one line per round and target (time, verdict, diagnosis ids, key
 * timings), and the full report only when a target's diagnoses change - so
 * whoever is fixing a security group sees the moment it starts working.
 * JSON: one report per round and line (JSON Lines). Other formats: their
 * whole output each round. Every round is flushed as it ends. */
#ifndef LD_CLI_WATCH_H
#define LD_CLI_WATCH_H

#include <stddef.h>

#include "core/spec.h"
#include "plan/plan.h"
#include "report/report.h"
#include "rules/rules.h"

/* How to watch. */
typedef struct ld_watch_config {
    ld_time interval;      /* from the start of one round to the next */
    ld_time timeout;       /* each round's --timeout */
    ld_time started;       /* the process start (for durations) */
    ld_format format;      /* --format */
    const ld_report *base; /* the run-wide report fields */
} ld_watch_config;

/* Runs rounds of specs[0..n) on plan until SIGINT or SIGTERM; returns the
 * last finished round's exit code (3 when none finished), or 3 with one
 * error line. */
int ld_cli_watch(ld_plan *plan, const ld_ruleset *rules, const ld_target_spec *specs, size_t n,
                 const ld_watch_config *cfg);

#endif
