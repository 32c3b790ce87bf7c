/* emit.c - from facts to the written report and the exit code. */
#include "emit.h"

#include <stdlib.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/msg.h"

int ld_cli_emit(const ld_ruleset *rules, const ld_run *run, const ld_report *base,
                ld_time started, ld_format format, const char *output) {
    int code = LD_EXIT_UNKNOWN;
    size_t n = ld_run_count(run);
    ld_err err;
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_diagnoses *diags = calloc(n ? n : 1, sizeof *diags);
    ld_report_target *rt = calloc(n ? n : 1, sizeof *rt);
    char hostname[256] = "";
    if (!diags || !rt) {
        ld_msg_error("out of memory");
        goto out;
    }
    ld_report report = *base;
    report.targets = rt;
    report.ntargets = n;
    report.verdict = LD_VERDICT_OK;
    for (size_t i = 0; i < n; i++) {
        rt[i].facts = ld_run_facts(run, i);
        if (ld_rules_eval(rules, rt[i].facts, &diags[i], &err) != LD_OK) {
            ld_msg_error("evaluating rules: %s", err.msg);
            goto out;
        }
        rt[i].diagnoses = &diags[i];
        rt[i].verdict = ld_verdict_of(&diags[i]);
        rt[i].duration_ms = ld_run_target_ms(run, i);
        report.verdict = i == 0 ? rt[i].verdict : ld_verdict_worse(report.verdict, rt[i].verdict);
    }
    gethostname(hostname, sizeof hostname - 1);
    report.hostname = hostname;
    if (n > 0) {
        const ld_value *v = ld_facts_get(rt[0].facts, LD_F_CLOUD_PROVIDER);
        report.cloud_provider = v ? v->u.s : NULL;
        v = ld_facts_get(rt[0].facts, LD_F_CLOUD_PROVIDER_SOURCE);
        report.cloud_source = v ? v->u.s : NULL;
    }
    report.duration_ms = (double)(ld_time_now() - started) / (double)LD_MS;
    ld_status st = format == LD_FORMAT_JSON ? ld_report_json(&report, &out, &err)
                                            : ld_report_text(&report, &out, &err);
    if (st == LD_OK)
        st = ld_report_write(output, out.data, out.len, &err);
    if (st != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    code = (int)report.verdict;
out:
    for (size_t i = 0; diags && i < n; i++)
        ld_diagnoses_clear(&diags[i]);
    free(diags);
    free(rt);
    ld_buf_clear(&out);
    return code;
}
