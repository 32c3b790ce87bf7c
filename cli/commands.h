/* commands.h - the subcommands; each returns the process exit code.
 *
 * Layer: cli/ is the top: it parses options (options.h), builds runs through
 * the plan (plan/), evaluates rules and writes reports; main() alone exits.
 */
#ifndef LD_COMMANDS_H
#define LD_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

#include "core/loop.h"
#include "core/names.h"
#include "core/profile.h"
#include "rules/rules.h"

/* Exit code for bad usage, bad input and internal errors (Nagios UNKNOWN). */
#define LD_EXIT_UNKNOWN 3

/* The built-in rules plus the rule files given (--rules), or NULL with err
 * naming the file and the problem. The caller frees the set. */
ld_ruleset *ld_cli_rules(const char *const *files, size_t nfiles, ld_err *err);

/* The built-in service profiles (rules/profiles.json). */
ld_status ld_cli_profiles(ld_profiles *out, ld_err *err);
/* The built-in name patterns: the providers' (rules/names.json), then the
 * profiles' "names". NULL with err naming the file and the pattern; the
 * caller frees the table (ld_names_free). */
ld_names *ld_cli_names(ld_err *err);
/* Prints one profile as `linkdoctor profiles` lists it: its name, then
 * indented its target, expected AZ IDs, the name patterns of names whose
 * vendor is this profile (NULL: none), description and docs. */
void ld_cli_profile_print(FILE *out, const ld_profile *p, const ld_names *names);
/* linkdoctor profiles */
int ld_cmd_profiles(int argc, char **argv);

/* linkdoctor check TARGET... [options]; started is the process start. */
int ld_cmd_check(int argc, char **argv, ld_time started);
/* linkdoctor analyze CAPTURE [--target HOST:PORT] [options] */
int ld_cmd_analyze(int argc, char **argv, ld_time started);
/* linkdoctor rules list | lint FILE... | facts */
int ld_cmd_rules(int argc, char **argv);
/* linkdoctor serve [--listen ADDR:PORT] [options]; started is the process start. */
int ld_cmd_serve(int argc, char **argv, ld_time started);
/* linkdoctor explain ID [--rules FILE] */
int ld_cmd_explain(int argc, char **argv);
/* linkdoctor show REPORT.json [--format F] [-o FILE] */
int ld_cmd_show(int argc, char **argv);

#endif
