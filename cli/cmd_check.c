/* cmd_check.c - `linkdoctor check`: options, run, rules, report, exit code. */
#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "core/run.h"
#include "report/report.h"
#include "rules/rules.h"

/* Descriptors each target may hold at once: resolvers plus connects. */
#define FDS_PER_TARGET 8
#define MAX_PARALLEL 256

static void trace_to_stderr(void *arg, double ms, const char *line) {
    (void)arg;
    ld_msg_trace(ms, "%s", line);
}

/* Raises the open-file limit to the hard limit and returns how many targets
 * may run at once within it. */
static size_t parallel_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 16;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t usable = rl.rlim_cur > 64 ? rl.rlim_cur - 32 : 32;
    size_t n = (size_t)(usable / FDS_PER_TARGET);
    return n < 1 ? 1 : n > MAX_PARALLEL ? MAX_PARALLEL : n;
}

int ld_cmd_check(int argc, char **argv, ld_time started) {
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int code = LD_EXIT_UNKNOWN;
    ld_err err = {{0}};
    ld_check_opts o;
    ld_ruleset *rules = NULL;
    ld_run *run = NULL;
    ld_diagnoses *diags = NULL;
    ld_report_target *rt = NULL;
    ld_buf out;
    ld_buf_init(&out, 0);

    if (ld_check_opts_parse(argc, argv, &o, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    if (o.help) {
        fputs(ld_check_usage, stdout);
        code = 0;
        goto out;
    }
    if (!(rules = ld_cli_rules(o.rules_files, o.nrules_files, &err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }

    ld_run_config cfg = {
        .started = started,
        .timeout = (ld_time)(o.timeout_s * (double)LD_SEC),
        .connect_timeout = (ld_time)(o.connect_timeout_s * (double)LD_SEC),
        .dns_servers = o.dns_servers,
        .ndns_servers = o.ndns_servers,
        .cloud = o.cloud,
        .dmi_dir = getenv("LINKDOCTOR_DMI_DIR"),
        .max_parallel = parallel_limit(),
        .trace = o.verbose ? trace_to_stderr : NULL,
    };
    if (!(run = ld_run_create(&cfg, &err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < o.ntargets; i++) {
        if (ld_run_add(run, &o.targets[i], &err) != LD_OK) {
            ld_msg_error("%s", err.msg);
            goto out;
        }
    }
    if (ld_run_execute(run, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }

    size_t n = ld_run_count(run);
    diags = calloc(n, sizeof *diags);
    rt = calloc(n, sizeof *rt);
    if (!diags || !rt) {
        ld_msg_error("out of memory");
        goto out;
    }
    ld_report report = {
        .started_at = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9,
        .timeout_ms = o.timeout_s * 1000.0,
        .connect_timeout_ms = o.connect_timeout_s * 1000.0,
        .verdict = LD_VERDICT_OK,
        .targets = rt,
        .ntargets = n,
    };
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
    char hostname[256] = "";
    gethostname(hostname, sizeof hostname - 1);
    report.hostname = hostname;
    if (n > 0) {
        const ld_value *v = ld_facts_get(rt[0].facts, LD_F_CLOUD_PROVIDER);
        report.cloud_provider = v ? v->u.s : NULL;
        v = ld_facts_get(rt[0].facts, LD_F_CLOUD_PROVIDER_SOURCE);
        report.cloud_source = v ? v->u.s : NULL;
    }
    report.duration_ms = (double)(ld_time_now() - started) / (double)LD_MS;

    ld_status st = o.format == LD_FORMAT_JSON ? ld_report_json(&report, &out, &err)
                                              : ld_report_text(&report, &out, &err);
    if (st == LD_OK)
        st = ld_report_write(o.output, out.data, out.len, &err);
    if (st != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    code = (int)report.verdict;
out:
    for (size_t i = 0; diags && run && i < ld_run_count(run); i++)
        ld_diagnoses_clear(&diags[i]);
    free(diags);
    free(rt);
    ld_buf_free(&out);
    ld_run_free(run);
    ld_ruleset_free(rules);
    ld_check_opts_clear(&o);
    return code;
}
