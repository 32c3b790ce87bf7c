/* cmd_show.c - `linkdoctor show REPORT.json`: a saved report rendered again,
 * by the renderers `check` uses, from the same model (report/read.c) - so a
 * support engineer reads what the user saw, in the format they want. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/emit.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "cli/targets.h"
#include "report/report.h"

#define SHOW_FILE_MAX ((size_t)256 << 20) /* largest report read (10,000 targets: ~100 MiB) */

static const char show_usage[] =
    "usage: linkdoctor show REPORT.json [--format FORMAT] [--redact] [-o FILE]\n"
    "\n"
    "Renders a saved JSON report (linkdoctor check --format json, or --save-json) again, as\n"
    "`check` printed it or in another format - for the support engineer a report is sent to.\n"
    "REPORT.json - reads standard input.\n"
    "\n"
    "  --format FORMAT       text (default), markdown (for a ticket), json, nagios or\n"
    "                        prometheus\n"
    "  --redact              replace account, project and subscription IDs, instance IDs\n"
    "                        and names and the host's name with placeholders, as\n"
    "                        `check --redact` does: a report saved without it can still\n"
    "                        go into a ticket\n"
    "  -o, --output FILE     write to FILE atomically instead of stdout\n"
    "\n"
    "Exit status: the report's verdict - 0 ok, 1 warning, 2 critical, 3 unknown; 3 too for a\n"
    "file that is not a report this linkdoctor reads (corrupt, or of a newer schema).\n";

int ld_cmd_show(int argc, char **argv) {
    int code = LD_EXIT_UNKNOWN;
    ld_err err;
    ld_opts o = {0};
    char *text = NULL;
    size_t len = 0;
    ld_saved_report *saved = NULL;
    ld_report_out out = {0};
    ld_redacted redacted = {0};
    ld_buf rendered;
    ld_buf_init(&rendered, 0);

    if (ld_opts_parse(LD_CMD_SHOW, argc, argv, NULL, &o, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    if (o.help) {
        fputs(show_usage, stdout);
        code = 0;
        goto out;
    }
    if (o.nargs != 1) {
        ld_msg_error(o.nargs == 0 ? "show: no report given (see --help)"
                                  : "show: one report at a time");
        goto out;
    }
    const char *path = o.args[0];
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    if (ld_cli_read_file(path, 0, SHOW_FILE_MAX, &text, &len, &err) != LD_OK ||
        !(saved = ld_saved_report_parse(text, len, &err))) {
        ld_msg_error("%s: %s", name, err.msg);
        goto out;
    }
    const ld_report *r = ld_saved_report_get(saved);
    /* The saved report holds the cloud facts and the host context: the same
     * values to hide as the run had, so the same placeholders. */
    if (o.redact) {
        if (ld_report_redact(r, &redacted, &err) != LD_OK) {
            ld_msg_error("%s", err.msg);
            goto out;
        }
        r = &redacted.report;
    }
    if (ld_cli_output_open(&out, o.output) != LD_OK)
        goto out;
    if (ld_report_render(r, o.format, &rendered, &err) != LD_OK ||
        ld_report_out_write(&out, rendered.data, rendered.len, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    code = (int)r->verdict;
out:
    ld_cli_output_clear(&out);
    ld_buf_clear(&rendered);
    ld_redacted_clear(&redacted);
    ld_saved_report_free(saved);
    free(text);
    ld_opts_clear(&o);
    return code;
}
