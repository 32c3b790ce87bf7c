/* cmd_analyze.c - `linkdoctor analyze CAPTURE [--target HOST:PORT]`: the same
 * diagnosis from a pcap/pcapng file, offline. The plan turns the file's TCP
 * handshakes (and the ICMP errors about them) into targets, one per
 * destination port (or the one --target names), finished like live ones;
 * the same rules and reports follow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/emit.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "plan/plan.h"
#include "probes/handshake.h"

static const char analyze_usage[] =
    "usage: linkdoctor analyze CAPTURE [--target HOST:PORT] [options]\n"
    "\n"
    "Diagnoses the TCP connection attempts in a pcap or pcapng file (Ethernet, Linux cooked\n"
    "v1/v2, raw IP or BSD loopback): which SYNs went unanswered, were reset, or were\n"
    "rejected by ICMP - the same rules and reports as `linkdoctor check`.\n"
    "\n"
    "  --target HOST:PORT    only attempts to this address and port (a host name matches\n"
    "                        by port: names cannot be resolved offline). Without it, one\n"
    "                        target per destination port\n"
    "  --cloud NAME          aws, gcp, azure or none (default): remediation text for this cloud\n"
    "  --rules FILE          add rules from FILE (repeatable)\n"
    "  --format FORMAT       text (default), json, markdown, nagios or prometheus\n"
    "  -o, --output FILE     write the report to FILE atomically\n"
    "  --save-json FILE      also write the JSON report to FILE (for `linkdoctor show`)\n"
    "  --redact              replace this host's name (and any cloud IDs) with placeholders\n"
    "\n"
    "Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (unreadable file, nothing to analyze).\n";

/* 1 when the paths name one file: the same text, or (both existing) the
 * same inode, through a hard link or another spelling. */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return 1;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int ld_cmd_analyze(int argc, char **argv, ld_time started) {
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int code = LD_EXIT_UNKNOWN;
    ld_err err;
    ld_opts o = {0};
    ld_ruleset *rules = NULL;
    ld_hs_table *table = NULL;
    ld_plan *plan = NULL;
    ld_run *run = NULL;
    ld_report_out out = {0};
    ld_report_out saved = {0}; /* --save-json */

    if (ld_opts_parse(LD_CMD_ANALYZE, argc, argv, NULL, &o, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    if (o.help) {
        fputs(analyze_usage, stdout);
        code = 0;
        goto out;
    }
    if (o.nargs != 1) {
        ld_msg_error(o.nargs == 0 ? "analyze: no capture file given (see --help)"
                                  : "analyze: one capture file at a time");
        goto out;
    }
    const char *file = o.args[0];
    if (o.output && same_file(file, o.output)) {
        ld_msg_error("-o %s: is the capture file being analyzed", o.output);
        goto out;
    }
    if (o.save_json && same_file(file, o.save_json)) {
        ld_msg_error("--save-json %s: is the capture file being analyzed", o.save_json);
        goto out;
    }
    if (o.output && o.save_json && strcmp(o.output, o.save_json) == 0) {
        ld_msg_error("-o and --save-json name the same file, %s", o.output);
        goto out;
    }
    if (ld_cli_output_open(&out, o.output) != LD_OK ||
        ld_cli_output_open(&saved, o.save_json) != LD_OK)
        goto out;
    if (!(rules = ld_cli_rules(o.rules_files, o.nrules_files, &err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    ld_hs_file_stats stats;
    if (!(table = ld_hs_create(0)) || ld_hs_read_file(table, file, 0, &stats, &err) != LD_OK) {
        ld_msg_error("%s: %s", file, table ? err.msg : "out of memory");
        goto out;
    }
    ld_plan_config cfg = {.started = started, .cloud = o.cloud};
    if (!(plan = ld_plan_create(&cfg, &err)) || !(run = ld_run_create(plan, started, &err)) ||
        ld_run_add_capture(run, table, o.only ? &o.only_target : NULL, file, &err) != LD_OK) {
        ld_msg_error("%s: %s", file, err.msg);
        goto out;
    }
    if (ld_run_count(run) == 0) {
        ld_msg_error("%s: no TCP connection attempts%s%s in %lu packets", file,
                     o.only ? " to " : "", o.only ? o.only_target.input : "", stats.packets);
        goto out;
    }
    ld_report base = {
        .command = "analyze",
        .started_at = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9,
        .capture_file = file,
        .redact = o.redact,
    };
    code = ld_cli_emit(rules, run, &base, started, o.format, &out, &saved);
out:
    ld_cli_output_clear(&out);
    ld_cli_output_clear(&saved);
    ld_run_free(run);
    ld_plan_free(plan);
    ld_hs_free(table);
    ld_ruleset_free(rules);
    ld_opts_clear(&o);
    return code;
}
