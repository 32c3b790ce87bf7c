/* cmd_check.c - `linkdoctor check`: options, run, rules, report, exit code. */
#include <ares.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "cli/commands.h"
#include "cli/emit.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "cli/privs.h"
#include "cli/setup.h"
#include "cli/targets.h"
#include "cli/watch.h"
#include "core/path.h"
#include "core/proxy.h"
#include "plan/plan.h"
#include "probes/tls.h"
#include "report/report.h"
#include "rules/rules.h"

static const char check_usage[] =
    "usage: linkdoctor check TARGET... [options]\n"
    "       linkdoctor check --targets FILE [TARGET...] [options]\n"
    "\n"
    "Diagnoses why TARGET cannot be reached through a private link, and how to fix it.\n"
    "\n"
    "TARGET is HOST:PORT, [IPv6]:PORT, or a URL: tcp://, http://, https://, redis://,\n"
    "rediss://, mqtt://, mqtts:// (the port defaults per scheme).\n"
    "  --targets FILE          more targets, one per line, each optionally followed by its\n"
    "                          own options (--endpoint-ip, --dns-server, --profile,\n"
    "                          --expect-status, --sni, --cert-warn-days, --cacert,\n"
    "                          --expect-az-id); '#'\n"
    "                          comments; the command line's options are the defaults.\n"
    "                          FILE - reads standard input (repeatable)\n"
    "\n"
    "What you expect:\n"
    "  --profile NAME          preset scheme, port and expectations for a known service\n"
    "                          (zilliz, emqx-redis, emqx-mqtt: see `linkdoctor profiles`)\n"
    "  --expect-status SPEC    HTTP statuses that mean the service works: 400, 200-399,\n"
    "                          2xx,400 (default: any response)\n"
    "  --endpoint-ip IP        an address the private endpoint has (repeatable, or\n"
    "                          comma-separated); it is also connected to directly, so that\n"
    "                          \"network fine, DNS wrong\" is told apart from \"network broken\"\n"
    "  --dns-server IP[:PORT]  also ask this resolver and compare its answer with the\n"
    "                          system's (repeatable)\n"
    "  --expect-az-id ID[,ID]  the availability zone IDs the service side uses (use1-az1;\n"
    "                          repeatable): cloud.az_mismatch when this instance's is not one\n"
    "  --rules FILE            add the rules in FILE (repeatable); see `linkdoctor rules`\n"
    "\n"
    "The cloud:\n"
    "  --cloud NAME            auto (default: from DMI), aws, gcp, azure or none: whose\n"
    "                          metadata service and resolver to ask, whose fixes to print\n"
    "  --imds-endpoint URL     the metadata service's base URL (default: the provider's,\n"
    "                          or " LD_IMDS_ENDPOINT_ENV "); never through a proxy\n"
    "  --cloud-resolver IP[:PORT]|none   the cloud's own resolver, asked beside the\n"
    "                          system's (default: the provider's; none: do not ask it)\n"
    "\n"
    "TLS (https://, rediss://, mqtts://):\n"
    "  --cacert FILE           trust only the CA certificates in FILE (PEM), not the system's\n"
    "  --sni NAME              send NAME as the server name and check the certificate for it\n"
    "  --cert-warn-days N      warn when the certificate expires within N days (default 14)\n"
    "\n"
    "Evidence:\n"
    "  --capture MODE          auto (default: capture packets when permitted), on (fail\n"
    "                          without), off. Capture proves each SYN's fate and ends a\n"
    "                          dropped attempt after the first retransmission (~1.2 s)\n"
    "  --interface IFACE       capture on IFACE only (default: all interfaces)\n"
    "\n"
    "Time:\n"
    "  --connect-timeout SEC   the deadline of each step, counted from when it starts: each\n"
    "                          DNS lookup, each connect, each TLS handshake, each HTTP\n"
    "                          request, each Redis or MQTT reply (default 2)\n"
    "  --timeout SEC           the whole run ends by then, whatever is pending (default 10)\n"
    "\n"
    "Privileges:\n"
    "  --user NAME             started as root, become NAME once the capture is open\n"
    "                          (default: the user who ran sudo, else nobody)\n"
    "\n"
    "Monitoring:\n"
    "  --warning [connect=|total=]RANGE   WARNING when the fastest connect, or the\n"
    "                          target's whole check (total, the default), takes a time in\n"
    "                          seconds outside RANGE (Monitoring Plugins syntax: 0.5, 1:,\n"
    "                          ~:2, @0:0.001)\n"
    "  --critical [connect=|total=]RANGE  the same for CRITICAL\n"
    "  --watch SEC             check again every SEC seconds until interrupted: a line per\n"
    "                          round, the full report when a diagnosis changes (json: one\n"
    "                          report per line); the capture stays open between rounds\n"
    "\n"
    "Output:\n"
    "  --format FORMAT         text (default), json (schema linkdoctor.report/1), nagios\n"
    "                          (plugin output with perfdata; the exit code is the state),\n"
    "                          prometheus (text exposition, e.g. for node_exporter's\n"
    "                          textfile collector) or markdown (for a ticket or chat)\n"
    "  -o, --output FILE       write the report to FILE (atomically) instead of stdout\n"
    "  --save-json FILE        also write the JSON report to FILE (atomically), whatever\n"
    "                          --format prints: the file to attach to a ticket, which\n"
    "                          `linkdoctor show` renders as printed here\n"
    "  --redact                replace account, project and subscription IDs, instance IDs\n"
    "                          and names and this host's name with placeholders (tickets)\n"
    "  -v, --verbose           print progress on stderr\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (bad input, nothing concluded).\n"
    "\n"
    "Examples:\n"
    "  linkdoctor check in01-abc.aws-us-west-2.vectordb.zillizcloud.com:19530\n"
    "  linkdoctor check redis.internal:6379 --endpoint-ip 10.0.1.23 --format json -o report.json\n";

/* What the end of a run costs per target once its deadline has come: the
 * loop's wrap-up of what is pending, rules, rendering, writing (fsync
 * included), freeing and exiting. Measured with 10,000 targets cut by
 * --timeout 1 (release build, 2-core VM, 2026-11-29, with the host context,
 * names and cloud facts): ~25 us a target with --format json, ~10 us with
 * text; a busy machine stretches it by a fifth. The run's own
 * deadline comes that much before --timeout, so that the process has
 * written its report and exited by --timeout + 0.1 s however many targets
 * it had (the lab's process.deadline_many_targets). */
#define END_COST_JSON ((ld_time)30 * 1000 * END_COST_SLOWDOWN)
#define END_COST_TEXT ((ld_time)12 * 1000 * END_COST_SLOWDOWN)
/* And what cancelling costs for each target still in flight then: its
 * sockets and transfers closed (~25 us measured with 2,500 HTTP targets in
 * flight; every target of a run is in flight at once, up to the descriptor
 * limit). */
#define END_COST_IN_FLIGHT ((ld_time)40 * 1000 * END_COST_SLOWDOWN)
/* An AddressSanitizer build (tests/run --sanitize) does all that ~4 times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define END_COST_SLOWDOWN 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define END_COST_SLOWDOWN 4
#endif
#endif
#ifndef END_COST_SLOWDOWN
#define END_COST_SLOWDOWN 1
#endif

static void trace_to_stderr(void *arg, double ms, const char *line) {
    (void)arg;
    ld_msg_trace(ms, "%s", line);
}

/* --- targets: the command line's and the targets files' ------------------------ */

#define CACERT_MAX 16 /* distinct --cacert files among the targets */

/* The targets of a check being gathered, and the trust stores they name. */
typedef struct gathered {
    ld_target_spec *specs;        /* the targets, owned */
    const char **cacerts;         /* per target: its --cacert, NULL for none */
    size_t n;                     /* how many */
    size_t cap;                   /* allocated */
    char *texts[LD_OPT_LIST_MAX]; /* the targets files read (cacert names point in) */
    size_t ntexts;                /* how many */
    const ld_opts *o;             /* the options (defaults of every line) */
    const ld_profiles *profiles;  /* for --profile on a line */
} gathered;

static ld_status gather_one(gathered *g, const char *input, const ld_target_opts *t, ld_err *err) {
    if (g->n >= LD_OPT_TARGETS_MAX)
        return ld_err_set(err, LD_ELIMIT, "more than %d targets", LD_OPT_TARGETS_MAX);
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        ld_target_spec *s = realloc(g->specs, cap * sizeof *s);
        if (s)
            g->specs = s;
        const char **c = s ? realloc(g->cacerts, cap * sizeof *c) : NULL;
        if (!c)
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        g->cacerts = c;
        g->cap = cap;
    }
    ld_err inner;
    if (ld_opts_spec(input, t, &g->specs[g->n], &inner) != LD_OK) {
        char shown[LD_TARGET_INPUT_MAX + 1];
        ld_target_mask(input, 0, shown, sizeof shown);
        return ld_err_set(err, LD_EINVAL, "target '%.200s': %s", shown, inner.msg);
    }
    g->cacerts[g->n++] = t->cacert;
    return LD_OK;
}

/* One line of a targets file. */
static ld_status gather_line(void *arg, int argc, char **argv, ld_err *err) {
    gathered *g = arg;
    ld_target_opts t;
    const char *input;
    ld_status st = ld_opts_line(argc, argv, g->profiles, &g->o->target, &t, &input, err);
    return st == LD_OK ? gather_one(g, input, &t, err) : st;
}

/* The targets of the command line, then those of each --targets file. */
static ld_status gather(gathered *g, ld_time deadline, ld_err *err) {
    const ld_opts *o = g->o;
    for (size_t i = 0; i < o->nargs; i++)
        if (gather_one(g, o->args[i], &o->target, err) != LD_OK)
            return LD_EINVAL;
    for (size_t f = 0; f < o->ntargets_files; f++) {
        const char *path = o->targets_files[f];
        const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
        size_t len;
        ld_err inner;
        if (ld_targets_read(path, deadline, &g->texts[g->ntexts], &len, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--targets %s: %s", name, inner.msg);
        if (ld_targets_parse(g->texts[g->ntexts++], len, gather_line, g, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "%s:%s", name, inner.msg);
    }
    if (g->n == 0)
        return ld_err_set(err, LD_EINVAL,
                          o->ntargets_files ? "no target in the --targets file"
                                            : "no target given (see linkdoctor "
                                              "check --help)");
    return LD_OK;
}

/* 1 when some target is a name: only then is there a name to read (the name
 * table takes a few milliseconds to compile, which an IP-only run skips). */
static int gathered_names(const gathered *g) {
    for (size_t i = 0; i < g->n; i++)
        if (!g->specs[i].target.host_is_ip)
            return 1;
    return 0;
}

static void gathered_clear(gathered *g) {
    free(g->specs);
    free(g->cacerts);
    for (size_t i = 0; i < g->ntexts; i++)
        free(g->texts[i]);
    memset(g, 0, sizeof *g);
}

/* The trust stores: one per distinct --cacert among the TLS targets (the
 * command line's, or a targets-file line's), and the system's for TLS
 * targets without one (*system, NULL when none needs it). Every spec gets
 * its store; ctxs[0..*n) are the caller's to free. */
static ld_status trust_stores(gathered *g, SSL_CTX **system, SSL_CTX *ctxs[CACERT_MAX],
                              const char *paths[CACERT_MAX], size_t *n, ld_err *err) {
    *system = NULL;
    *n = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (!ld_scheme_uses_tls(g->specs[i].target.scheme))
            continue;
        const char *path = g->cacerts[i];
        if (!path) {
            if (!*system && !(*system = ld_tls_ctx_create(NULL, err)))
                return LD_EINVAL;
            continue; /* the plan's */
        }
        size_t k = 0;
        while (k < *n && strcmp(paths[k], path) != 0)
            k++;
        if (k == *n) {
            if (*n == CACERT_MAX)
                return ld_err_set(err, LD_ELIMIT, "more than %d different --cacert files",
                                  CACERT_MAX);
            if (!(ctxs[k] = ld_tls_ctx_create(path, err)))
                return LD_EINVAL;
            paths[k] = path;
            (*n)++;
        }
        g->specs[i].tls_ctx = ctxs[k];
    }
    return LD_OK;
}

/* Under sudo, hands a report file opened for path (NULL: stdout) to the
 * user who ran sudo (ld_privs_give_report). */
static void give_report(const ld_privs *privs, const ld_report_out *out, const char *path) {
    if (!path)
        return;
    char dir[LD_REPORT_PATH_MAX];
    ld_path_dir(path, dir, sizeof dir);
    ld_privs_give_report(privs, ld_report_out_fd(out), dir);
}

/* 1 when argv asks for --format nagios: an error found while the options
 * are still being parsed must reach Nagios too (see ld_msg_error_plugin). */
static int wants_nagios(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--format=nagios") == 0)
            return 1;
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            if (strcmp(argv[++i], "nagios") == 0)
                return 1;
    }
    return 0;
}

int ld_cmd_check(int argc, char **argv, ld_time started) {
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int code = LD_EXIT_UNKNOWN;
    ld_err err = {{0}};
    ld_opts o = {0};
    gathered g = {0};
    ld_ruleset *rules = NULL;
    ld_names *names = NULL;
    ld_plan *plan = NULL;
    ld_run *run = NULL;
    ld_capture *capture = NULL;
    SSL_CTX *tls_ctx = NULL, *cacert_ctxs[CACERT_MAX];
    const char *cacert_paths[CACERT_MAX];
    size_t ncacerts = 0;
    ld_profiles *profiles = malloc(sizeof *profiles); /* ~140 KiB: not for the stack */
    ld_proxy_env proxy_env;
    ld_proxy_env_read(&proxy_env, environ);
    ld_cli_capture opening = {0};
    ld_privs privs;
    ld_report_out out = {0};
    ld_report_out saved = {0};             /* --save-json */
    int plugin = wants_nagios(argc, argv); /* known before the options parse */

    if (!profiles || ld_cli_profiles(profiles, &err) != LD_OK) {
        ld_msg_error_plugin(plugin, "built-in profiles: %s", profiles ? err.msg : "out of memory");
        free(profiles);
        return LD_EXIT_UNKNOWN;
    }
    if (ld_opts_parse(LD_CMD_CHECK, argc, argv, profiles, &o, &err) != LD_OK) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    plugin = o.format == LD_FORMAT_NAGIOS;
    if (o.help) {
        fputs(check_usage, stdout);
        code = 0;
        goto out;
    }
    if (o.watch_s > 0 && (o.output || o.save_json)) {
        ld_msg_error_plugin(plugin,
                            "--watch prints each round on standard output: it does not take %s",
                            o.output ? "-o" : "--save-json");
        goto out;
    }
    if (o.output && o.save_json && strcmp(o.output, o.save_json) == 0) {
        ld_msg_error_plugin(plugin, "-o and --save-json name the same file, %s", o.output);
        goto out;
    }
    ld_time timeout = (ld_time)(o.timeout_s * (double)LD_SEC);
    g.o = &o;
    g.profiles = profiles;
    if (gather(&g, started + timeout, &err) != LD_OK ||
        ld_privs_plan(&privs, o.user, &err) != LD_OK) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    /* The report's file exists before the privileges go (and before a thread
     * does: its rename helper is forked here). */
    if (ld_cli_output_open(&out, o.output) != LD_OK ||
        ld_cli_output_open(&saved, o.save_json) != LD_OK)
        goto out;
    give_report(&privs, &out, o.output);
    give_report(&privs, &saved, o.save_json);
    ld_cli_capture_start(&opening, &o, g.specs, g.n);
    if (!(rules = ld_cli_rules(o.rules_files, o.nrules_files, &err)) ||
        (gathered_names(&g) && !(names = ld_cli_names(&err))) ||
        trust_stores(&g, &tls_ctx, cacert_ctxs, cacert_paths, &ncacerts, &err) != LD_OK) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    if (o.verbose)
        ld_msg_trace((double)(ld_time_now() - started) / (double)LD_MS,
                     "%zu rules loaded, %zu targets%s%s", ld_ruleset_count(rules), g.n,
                     tls_ctx ? "; TLS trusts the system store" : "",
                     ncacerts ? "; TLS trusts --cacert files" : "");
    /* The only privileged step; everything after it runs with less. */
    ld_cli_capture_join(&opening);
    capture = opening.capture;
    opening.capture = NULL;
    if (opening.st != LD_OK) {
        ld_msg_error_plugin(plugin, "%s", opening.err.msg);
        goto out;
    }
    char dropped[160];
    if (ld_privs_drop(&privs, dropped, sizeof dropped, &err) != LD_OK) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    if (o.verbose)
        ld_msg_trace((double)(ld_time_now() - started) / (double)LD_MS, "capture %s; %s",
                     capture ? ld_capture_interface(capture) : opening.why, dropped);

    const ld_opt_thresholds *th = &o.thresholds;
    ld_plan_config cfg = ld_cli_plan_config(&o, started, &opening, capture);
    cfg.max_parallel = ld_cli_parallel_limit();
    cfg.thresholds = (ld_plan_thresholds){
        .connect_warning = th->set & 1u ? &th->connect_warning : NULL,
        .connect_critical = th->set & 2u ? &th->connect_critical : NULL,
        .total_warning = th->set & 4u ? &th->total_warning : NULL,
        .total_critical = th->set & 8u ? &th->total_critical : NULL,
    };
    cfg.tls_ctx = tls_ctx;
    cfg.proxy_env = &proxy_env;
    cfg.names = names;
    cfg.trace = o.verbose ? trace_to_stderr : NULL;
    /* No more in flight than the run can cancel in an eighth of --timeout:
     * a short --timeout over many targets must still end in time. */
    size_t cancellable = (size_t)(timeout / 8 / END_COST_IN_FLIGHT);
    if (cfg.max_parallel > cancellable)
        cfg.max_parallel = cancellable ? cancellable : 1;
    ld_report base = {
        .command = "check",
        .started_at = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9,
        .timeout_ms = o.timeout_s * 1000.0,
        .connect_timeout_ms = o.connect_timeout_s * 1000.0,
        .redact = o.redact,
    };
    if (!(plan = ld_plan_create(&cfg, &err))) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    if (o.watch_s > 0) {
        ld_watch_config wc = {.interval = (ld_time)(o.watch_s * (double)LD_SEC),
                              .timeout = timeout,
                              .started = started,
                              .format = o.format,
                              .base = &base};
        code = ld_cli_watch(plan, rules, g.specs, g.n, &wc);
        goto out;
    }
    size_t in_flight = g.n < cfg.max_parallel ? g.n : cfg.max_parallel;
    ld_time end_cost = (ld_time)g.n * (o.format == LD_FORMAT_JSON ? END_COST_JSON : END_COST_TEXT) +
                       (ld_time)in_flight * END_COST_IN_FLIGHT;
    if (o.save_json) /* the JSON report too */
        end_cost += (ld_time)g.n * END_COST_JSON;
    /* A short --timeout still leaves the checks two thirds of it (an
     * instrumented build, whose end is that much slower, half of it). */
    ld_time most = END_COST_SLOWDOWN > 1 ? timeout / 2 : timeout / 3;
    if (end_cost > most)
        end_cost = most;
    if (!(run = ld_run_create(plan, started + timeout - end_cost, &err))) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < g.n; i++) {
        if (ld_run_add(run, &g.specs[i], &err) != LD_OK) {
            ld_msg_error_plugin(plugin, "%s", err.msg);
            goto out;
        }
    }
    if (ld_run_execute(run, &err) != LD_OK) {
        ld_msg_error_plugin(plugin, "%s", err.msg);
        goto out;
    }
    code = ld_cli_emit(rules, run, &base, started, o.format, &out, &saved);
out:
    ld_cli_output_clear(&out); /* the temporary file, unless the report was written */
    ld_cli_output_clear(&saved);
    ld_cli_capture_join(&opening);
    ld_capture_free(opening.capture); /* opened, never handed over */
    ld_run_free(run);
    ld_plan_free(plan);
    ld_capture_free(capture);
    SSL_CTX_free(tls_ctx);
    for (size_t i = 0; i < ncacerts; i++)
        SSL_CTX_free(cacert_ctxs[i]);
    free(profiles);
    gathered_clear(&g);
    ld_ruleset_free(rules);
    ld_names_free(names);
    if (o.verbose)
        ld_msg_trace((double)(ld_time_now() - started) / (double)LD_MS, "exit %d", code);
    ld_opts_clear(&o);
    return code;
}
