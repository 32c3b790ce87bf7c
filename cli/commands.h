/* commands.h - the subcommands; each returns the process exit code. */
#ifndef LD_COMMANDS_H
#define LD_COMMANDS_H

#include "core/loop.h"

/* Exit code for bad usage, bad input and internal errors (Nagios UNKNOWN). */
#define LD_EXIT_UNKNOWN 3

/* linkdoctor check TARGET... [options]; started is the process start. */
int ld_cmd_check(int argc, char **argv, ld_time started);
/* linkdoctor rules list | lint FILE... | facts */
int ld_cmd_rules(int argc, char **argv);
/* linkdoctor explain ID [--rules FILE] */
int ld_cmd_explain(int argc, char **argv);

#endif
