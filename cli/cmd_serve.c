/* cmd_serve.c - `linkdoctor serve`: a Prometheus exporter with diagnoses, in
 * the blackbox_exporter pattern - Prometheus holds the target list and asks
 * GET /probe?target=T; the answer is the check's metrics, the diagnoses among
 * them.
 *
 * The capture is opened once (every TCP port: the targets come later), the
 * rules loaded once, and privileges dropped before the first request, as
 * `check` does; every probe is a run on the one plan, in the one loop, with
 * the HTTP server (cli/httpd.c) beside it. A probe costs no process start and
 * no capture set-up. At most --max-probes run at once; more are answered 503
 * at once, never queued. SIGHUP reloads the rule files (a bad file keeps the
 * old rules); SIGTERM stops accepting, lets the probes in flight finish
 * (each ends by its deadline) and exits 0. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "cli/allow.h"
#include "cli/commands.h"
#include "cli/emit.h"
#include "cli/httpd.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "cli/privs.h"
#include "cli/query.h"
#include "cli/setup.h"
#include "core/proxy.h"
#include "core/sanitize.h"
#include "core/utc.h"
#include "plan/plan.h"
#include "probes/tls.h"
#include "report/report.h"

#define DEFAULT_LISTEN  "127.0.0.1:9810"
#define SCRAPE_MARGIN   (500 * LD_MS)      /* taken off Prometheus's scrape timeout */
#define MIN_PROBE_TIME  (100 * LD_MS)      /* the shortest deadline a probe gets */
#define QUERY_BYTES_MAX 4096               /* longest /probe query handled (414 past it) */
#define QUERY_ARGS_MAX  LD_QUERY_WORDS_MAX /* most query parameters handled (400 past it) */
/* Connection memory: libmicrohttpd splits the query into records of about
 * 64 bytes in it and, when they do not fit, never answers. A request line
 * at QUERY_BYTES_MAX split into one-byte parameters (2048 records, 128 KiB)
 * and 100 KiB of headers fit; only memory the request uses is touched. */
#define CONNECTION_MEMORY (256 * 1024)
#define DRAIN_GRACE       (300 * LD_MS) /* after the last answer, before exiting */

static const char serve_usage[] =
    "usage: linkdoctor serve [--listen ADDR:PORT] [options]\n"
    "\n"
    "A Prometheus exporter with diagnoses (the blackbox_exporter pattern): Prometheus\n"
    "asks GET /probe?target=T and gets that target's check as metrics, the diagnoses\n"
    "among them (linkdoctor_diagnosis{target,id,severity,confidence} 1).\n"
    "\n"
    "  --listen ADDR:PORT      where to listen (default " DEFAULT_LISTEN ")\n"
    "  --max-probes N          probes at once; more are answered 503 (default 64)\n"
    "  --allow-target PATTERN  only targets in this CIDR block or under this DNS suffix\n"
    "                          (repeatable; without it any target may be probed)\n"
    "\n"
    "Check options (--timeout, --connect-timeout, --cloud, --imds-endpoint,\n"
    "--cloud-resolver, --capture, --interface, --rules, --cacert, --profile,\n"
    "--expect-status, --endpoint-ip, --dns-server, --sni, --cert-warn-days,\n"
    "--expect-az-id, --user, -v) are the defaults of every probe. The cloud's metadata\n"
    "service is asked once; its answer serves every probe.\n"
    "\n"
    "GET /probe?target=T[&profile=P][&expect_status=S][&endpoint_ip=IP...][&sni=N]\n"
    "          [&dns_server=IP...][&cert_warn_days=N][&expect_az_id=ID...][&format=json]\n"
    "    one check; query parameters are the long option names with '_'. Options that\n"
    "    name a local file (--cacert, --rules) are the server's alone. The deadline is\n"
    "    X-Prometheus-Scrape-Timeout-Seconds less 0.5 s, or --timeout.\n"
    "GET /metrics      the exporter's own metrics\n"
    "GET /-/healthy    200 while it runs\n"
    "\n"
    "SIGHUP reloads the --rules files; SIGTERM finishes the probes in flight and exits.\n";

/* The exporter. */
typedef struct server {
    const ld_opts *o;            /* the options: every probe's defaults */
    const ld_profiles *profiles; /* for profile= */
    ld_plan *plan;               /* every probe runs on it */
    ld_loop *loop;               /* its loop */
    ld_httpd *httpd;             /* the HTTP server */
    ld_ruleset *rules;           /* the rules now (SIGHUP replaces them) */
    ld_names *names;             /* the name patterns every probe's names are read with */
    ld_time timeout;             /* --timeout */
    ld_time started;             /* process start */
    double started_wall;         /* ... on the wall clock */
    unsigned in_flight;          /* probes running */
    int stopping;                /* SIGTERM: no new probes, exit when done */
    int sigfd;                   /* SIGHUP, SIGTERM, SIGINT */
    ld_io sig;                   /* its watch */
    ld_timer drain;              /* stops the loop once the last answer is out */
    uint64_t answered[4];        /* probes answered, by verdict */
    uint64_t rejected[4];        /* requests refused: busy, bad, denied, stopping */
    double duration_sum;         /* seconds the answered probes took */
    uint64_t reloads[2];         /* SIGHUP reloads: succeeded, failed */
} server;

enum { REJ_BUSY, REJ_BAD, REJ_DENIED, REJ_STOPPING };
static const char *const rejected_names[] = {"busy", "bad_request", "denied", "stopping"};

/* One probe in flight. */
typedef struct probe {
    server *s;             /* the server */
    ld_httpd_request *req; /* its request, answered when the run is done */
    ld_run *run;           /* the check */
    int json;              /* format=json */
    ld_time started;       /* when the request came */
    double started_wall;   /* ... on the wall clock */
    ld_target_spec spec;   /* what it checks */
} probe;

/* Answers with one line of text (network input in it is sanitized). */
static void answer_line(ld_httpd_request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void answer_line(ld_httpd_request *req, unsigned status, const char *fmt, ...) {
    char raw[600], line[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    ld_sanitize_to(raw, strlen(raw), line, sizeof line - 1);
    size_t n = strlen(line);
    line[n++] = '\n';
    ld_httpd_respond(req, status, NULL, line, n);
}

static void reject(server *s, ld_httpd_request *req, int why, unsigned status, const char *text) {
    s->rejected[why]++;
    answer_line(req, status, "%s", text);
}

static void maybe_stop(server *s);

/* The run of a probe is done: its metrics (or JSON report) go back. */
static void probe_done(ld_run *run, void *arg) {
    probe *p = arg;
    server *s = p->s;
    ld_err err;
    ld_cli_report cr;
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_report base = {.command = "check",
                      .started_at = p->started_wall,
                      .timeout_ms = (double)s->timeout / (double)LD_MS,
                      .connect_timeout_ms = s->o->connect_timeout_s * 1000.0};
    ld_status st = ld_cli_report_build(s->rules, run, &base, p->started, &cr, &err);
    double seconds = (double)(ld_time_now() - p->started) / (double)LD_SEC;
    if (st == LD_OK)
        st = p->json ? ld_report_json(&cr.report, &out, &err)
                     : ld_report_prometheus(&cr.report, &out, &err);
    if (st == LD_OK && !p->json)
        st = ld_buf_printf(&out,
                           "# HELP linkdoctor_probe_duration_seconds How long this probe took.\n"
                           "# TYPE linkdoctor_probe_duration_seconds gauge\n"
                           "linkdoctor_probe_duration_seconds %.6f\n",
                           seconds);
    if (st == LD_OK) {
        ld_verdict v = cr.report.verdict;
        s->answered[v]++;
        s->duration_sum += seconds;
        ld_httpd_respond(p->req, 200,
                         p->json ? "application/json" : "text/plain; version=0.0.4; charset=utf-8",
                         out.data, out.len);
        /* One structured line per probe: what Prometheus asked, and what came of it. */
        char ids[512] = "";
        const ld_diagnoses *d = cr.report.ntargets ? cr.report.targets[0].diagnoses : NULL;
        for (size_t i = 0; d && i < d->nreported; i++) {
            size_t used = strlen(ids);
            snprintf(ids + used, sizeof ids - used, "%s%s", i ? "," : "",
                     ld_rule_id(d->reported[i].rule));
        }
        ld_msg_log("probe target=%s verdict=%s ids=%s duration_ms=%.1f peer=%s",
                   p->spec.target.input, ld_verdict_name(v), ids[0] ? ids : "-", seconds * 1000.0,
                   ld_httpd_peer(p->req));
    } else {
        answer_line(p->req, 500, "%s", err.msg);
        ld_msg_log("probe target=%s failed: %s", p->spec.target.input, err.msg);
    }
    ld_cli_report_clear(&cr);
    ld_buf_clear(&out);
    ld_run_free(run);
    free(p);
    s->in_flight--;
    maybe_stop(s);
}

static int collect_arg(void *arg, const char *name, const char *value) {
    return ld_query_add(arg, name, value);
}

/* The probe's deadline: Prometheus's scrape timeout less a margin, within
 * --timeout. */
static ld_time probe_deadline(server *s, ld_httpd_request *req) {
    ld_time budget = s->timeout;
    const char *h = ld_httpd_header(req, "X-Prometheus-Scrape-Timeout-Seconds");
    char *end;
    double secs = h ? strtod(h, &end) : 0;
    if (h && *h && !*end && isfinite(secs) && secs > 0 && secs < 86400) {
        ld_time scrape = (ld_time)(secs * (double)LD_SEC) - SCRAPE_MARGIN;
        if (scrape < budget)
            budget = scrape;
    }
    if (budget < MIN_PROBE_TIME)
        budget = MIN_PROBE_TIME;
    return ld_time_now() + budget;
}

/* 1 when every address the probe would reach is allowed by --allow-target:
 * the target, and each endpoint_ip and dns_server the request added (the
 * check connects to those instead of, or besides, the target's own). The
 * server's own --endpoint-ip/--dns-server defaults are the admin's choice.
 * Else 0 with why naming the parameter. */
static int request_allowed(const server *s, const ld_target_spec *spec, char *why, size_t len) {
    const char *const *allow = s->o->allow;
    const ld_target_opts *own = &s->o->target;
    char shown[LD_ADDR_STRLEN];
    if (!ld_allow_match(allow, s->o->nallow, &spec->target)) {
        snprintf(why, len, "target not allowed by --allow-target");
        return 0;
    }
    for (size_t i = 0; i < spec->nendpoint_ips; i++) {
        const ld_addr *a = &spec->endpoint_ips[i];
        int own_default = 0;
        for (size_t k = 0; k < own->nendpoint_ips; k++)
            own_default |= ld_addr_equal(a, &own->endpoint_ips[k]);
        if (!own_default && !ld_allow_match_addr(allow, s->o->nallow, a)) {
            ld_addr_format(a, shown);
            snprintf(why, len, "endpoint_ip %s not allowed by --allow-target", shown);
            return 0;
        }
    }
    for (size_t i = 0; i < spec->ndns_servers; i++) {
        const ld_addr *a = &spec->dns_servers[i].addr;
        int own_default = 0;
        for (size_t k = 0; k < own->ndns_servers; k++)
            own_default |= ld_addr_equal(a, &own->dns_servers[k].addr);
        if (!own_default && !ld_allow_match_addr(allow, s->o->nallow, a)) {
            ld_addr_format(a, shown);
            snprintf(why, len, "dns_server %s not allowed by --allow-target", shown);
            return 0;
        }
    }
    return 1;
}

static void handle_probe(server *s, ld_httpd_request *req) {
    ld_query q = {0};
    ld_err err;
    if (s->stopping) {
        reject(s, req, REJ_STOPPING, 503, "shutting down");
        return;
    }
    ld_httpd_args(req, collect_arg, &q);
    probe *p = calloc(1, sizeof *p);
    ld_status st = p ? ld_query_spec(&q, s->profiles, &s->o->target, &p->spec, &err)
                     : ld_err_set(&err, LD_ENOMEM, "out of memory");
    int json = q.json;
    ld_query_clear(&q);
    if (st != LD_OK) {
        free(p);
        reject(s, req, REJ_BAD, st == LD_ENOMEM ? 500 : 400, err.msg);
        return;
    }
    char why[160];
    if (!request_allowed(s, &p->spec, why, sizeof why)) {
        free(p);
        reject(s, req, REJ_DENIED, 403, why);
        return;
    }
    if (s->in_flight >= s->o->max_probes) {
        free(p);
        reject(s, req, REJ_BUSY, 503, "too many probes in flight (--max-probes)");
        return;
    }
    p->s = s;
    p->req = req;
    p->json = json;
    p->started = ld_time_now();
    p->started_wall = ld_utc_now();
    if (!(p->run = ld_run_create(s->plan, probe_deadline(s, req), &err)) ||
        ld_run_add(p->run, &p->spec, &err) != LD_OK ||
        ld_run_start(p->run, probe_done, p, &err) != LD_OK) {
        ld_run_free(p->run);
        free(p);
        answer_line(req, 500, "%s", err.msg);
        return;
    }
    s->in_flight++;
}

/* The exporter's own metrics. */
static void handle_metrics(server *s, ld_httpd_request *req) {
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_buf_printf(&out,
                  "# HELP linkdoctor_build_info The running linkdoctor.\n"
                  "# TYPE linkdoctor_build_info gauge\n"
                  "linkdoctor_build_info{version=\"%s\"} 1\n"
                  "# HELP linkdoctor_serve_start_time_seconds When the exporter started.\n"
                  "# TYPE linkdoctor_serve_start_time_seconds gauge\n"
                  "linkdoctor_serve_start_time_seconds %.3f\n"
                  "# HELP linkdoctor_serve_probes_total Probes answered, by verdict.\n"
                  "# TYPE linkdoctor_serve_probes_total counter\n",
                  LD_VERSION, s->started_wall);
    for (int v = 0; v < 4; v++)
        ld_buf_printf(&out, "linkdoctor_serve_probes_total{verdict=\"%s\"} %llu\n",
                      ld_verdict_name((ld_verdict)v), (unsigned long long)s->answered[v]);
    ld_buf_puts(&out, "# HELP linkdoctor_serve_requests_rejected_total Probe requests refused, "
                      "by reason.\n# TYPE linkdoctor_serve_requests_rejected_total counter\n");
    for (int r = 0; r < 4; r++)
        ld_buf_printf(&out, "linkdoctor_serve_requests_rejected_total{reason=\"%s\"} %llu\n",
                      rejected_names[r], (unsigned long long)s->rejected[r]);
    uint64_t count = s->answered[0] + s->answered[1] + s->answered[2] + s->answered[3];
    ld_buf_printf(&out,
                  "# HELP linkdoctor_serve_probes_in_flight Probes running now.\n"
                  "# TYPE linkdoctor_serve_probes_in_flight gauge\n"
                  "linkdoctor_serve_probes_in_flight %u\n"
                  "# HELP linkdoctor_serve_probe_duration_seconds How long answered probes took.\n"
                  "# TYPE linkdoctor_serve_probe_duration_seconds summary\n"
                  "linkdoctor_serve_probe_duration_seconds_sum %.6f\n"
                  "linkdoctor_serve_probe_duration_seconds_count %llu\n"
                  "# HELP linkdoctor_serve_rules_reloads_total SIGHUP reloads of the rules.\n"
                  "# TYPE linkdoctor_serve_rules_reloads_total counter\n"
                  "linkdoctor_serve_rules_reloads_total{result=\"success\"} %llu\n"
                  "linkdoctor_serve_rules_reloads_total{result=\"failure\"} %llu\n"
                  "# HELP linkdoctor_serve_rules Rules loaded.\n"
                  "# TYPE linkdoctor_serve_rules gauge\n"
                  "linkdoctor_serve_rules %zu\n",
                  s->in_flight, s->duration_sum, (unsigned long long)count,
                  (unsigned long long)s->reloads[0], (unsigned long long)s->reloads[1],
                  ld_ruleset_count(s->rules));
    ld_capture *cap = ld_plan_capture(s->plan);
    if (cap)
        ld_buf_printf(&out,
                      "# HELP linkdoctor_serve_capture_lost_packets_total Packets the capture "
                      "lost (kernel drops, or no room to track them).\n"
                      "# TYPE linkdoctor_serve_capture_lost_packets_total counter\n"
                      "linkdoctor_serve_capture_lost_packets_total %lu\n",
                      ld_capture_lost(cap));
    ld_httpd_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    ld_buf_clear(&out);
}

static void on_request(void *arg, ld_httpd_request *req) {
    server *s = arg;
    const char *path = ld_httpd_path(req), *why;
    unsigned refusal = ld_httpd_refusal(req, &why);
    if (refusal)
        reject(s, req, REJ_BAD, refusal, why);
    else if (strcmp(ld_httpd_method(req), "GET") != 0 && strcmp(ld_httpd_method(req), "HEAD") != 0)
        answer_line(req, 405, "only GET");
    else if (strcmp(path, "/probe") == 0)
        handle_probe(s, req);
    else if (strcmp(path, "/metrics") == 0)
        handle_metrics(s, req);
    else if (strcmp(path, "/-/healthy") == 0)
        answer_line(req, 200, "OK");
    else
        answer_line(req, 404, "not found: use /probe?target=HOST:PORT, /metrics or /-/healthy");
}

static void drain_done(ld_timer *t) {
    ld_loop_stop(((server *)t->data)->loop);
}

/* Stopping, and nothing in flight: exit once the last answers are sent. */
static void maybe_stop(server *s) {
    if (s->stopping && s->in_flight == 0 && !s->drain.active)
        ld_timer_start(s->loop, &s->drain, ld_time_now() + DRAIN_GRACE, drain_done, s);
}

static void reload_rules(server *s) {
    ld_err err;
    ld_ruleset *rs = ld_cli_rules(s->o->rules_files, s->o->nrules_files, &err);
    if (!rs) {
        s->reloads[1]++;
        ld_msg_log("SIGHUP: rules not reloaded, the old ones stay: %s", err.msg);
        return;
    }
    ld_ruleset_free(s->rules);
    s->rules = rs; /* probes in flight evaluate rules only when they end: the new ones */
    s->reloads[0]++;
    ld_msg_log("SIGHUP: %zu rules loaded", ld_ruleset_count(rs));
}

static void on_signal(ld_io *io, unsigned events) {
    server *s = io->data;
    struct signalfd_siginfo si;
    (void)events;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            reload_rules(s);
        } else if (!s->stopping) {
            s->stopping = 1;
            ld_httpd_stop_accepting(s->httpd);
            ld_msg_log("%s: no new probes; %u in flight", strsignal((int)si.ssi_signo),
                       s->in_flight);
            maybe_stop(s);
        }
    }
}

int ld_cmd_serve(int argc, char **argv, ld_time started) {
    int code = LD_EXIT_UNKNOWN;
    ld_err err = {{0}};
    ld_opts o = {0};
    server s = {.sigfd = -1};
    ld_capture *capture = NULL;
    SSL_CTX *tls_ctx = NULL;
    ld_profiles *profiles = malloc(sizeof *profiles); /* ~140 KiB: not for the stack */
    ld_proxy_env proxy_env;
    ld_proxy_env_read(&proxy_env, environ);
    ld_cli_capture opening = {0};
    ld_privs privs;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, &old);
    s.drain.heap_idx = SIZE_MAX;
    s.started = started;
    s.started_wall = ld_utc_now();

    if (!profiles || ld_cli_profiles(profiles, &err) != LD_OK) {
        ld_msg_error("built-in profiles: %s", profiles ? err.msg : "out of memory");
        goto out;
    }
    if (ld_opts_parse(LD_CMD_SERVE, argc, argv, profiles, &o, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    if (o.help) {
        fputs(serve_usage, stdout);
        code = 0;
        goto out;
    }
    if (o.nargs) {
        ld_msg_error("serve: unexpected argument '%s' (targets come in requests)", o.args[0]);
        goto out;
    }
    if (!o.listen)
        ld_hostport_parse_ip(DEFAULT_LISTEN, 0, &o.listen_addr, &o.listen_port, NULL);
    if (ld_privs_plan(&privs, o.user, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    s.o = &o;
    s.profiles = profiles;
    s.timeout = (ld_time)(o.timeout_s * (double)LD_SEC);
    ld_cli_capture_start(&opening, &o, NULL, 0);
    if (!(s.rules = ld_cli_rules(o.rules_files, o.nrules_files, &err)) ||
        !(s.names = ld_cli_names(&err)) || !(tls_ctx = ld_tls_ctx_create(o.target.cacert, &err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    ld_cli_capture_join(&opening);
    capture = opening.capture;
    opening.capture = NULL;
    if (opening.st != LD_OK) {
        ld_msg_error("%s", opening.err.msg);
        goto out;
    }
    ld_plan_config cfg = ld_cli_plan_config(&o, started, &opening, capture);
    cfg.max_parallel = 1;
    cfg.tls_ctx = tls_ctx;
    cfg.proxy_env = &proxy_env;
    cfg.names = s.names;
    ld_cli_parallel_limit(); /* raises the descriptor limit for many probes at once */
    if (!(s.plan = ld_plan_create(&cfg, &err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    s.loop = ld_plan_loop(s.plan);
    struct sockaddr_storage ss;
    socklen_t sl = ld_addr_to_sockaddr(&o.listen_addr, o.listen_port, &ss);
    /* Connections: the probes at once, and room for /metrics and refusals. */
    ld_httpd_limits lim = {.max_connections = o.max_probes * 2 + 16,
                           .idle_seconds = 30,
                           .memory_per_connection = CONNECTION_MEMORY,
                           .max_query_bytes = QUERY_BYTES_MAX,
                           .max_query_args = QUERY_ARGS_MAX};
    char where[LD_ADDR_STRLEN + 8];
    ld_resolver listen_as = {.addr = o.listen_addr, .port = o.listen_port};
    ld_resolver_format(&listen_as, where, sizeof where);
    /* The listening socket is made before the privileges go (a port below
     * 1024 needs them). */
    if (!(s.httpd =
              ld_httpd_create(s.loop, (struct sockaddr *)&ss, sl, &lim, on_request, &s, &err))) {
        ld_msg_error("--listen %s: %s", where, err.msg);
        goto out;
    }
    char dropped[160];
    if (ld_privs_drop(&privs, dropped, sizeof dropped, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    s.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s.sigfd < 0 ||
        ld_io_start(s.loop, &s.sig, s.sigfd, LD_READ, on_signal, &s, &err) != LD_OK) {
        ld_msg_error("signals: %s", s.sigfd < 0 ? strerror(errno) : err.msg);
        goto out;
    }
    ld_msg_log("serving on %s (capture %s; %s; %zu rules; at most %u probes at once%s)", where,
               capture ? ld_capture_interface(capture) : opening.why, dropped,
               ld_ruleset_count(s.rules), o.max_probes,
               o.nallow ? "; --allow-target applies" : "; any target allowed");
    if (ld_loop_run(s.loop, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    ld_msg_log("stopped");
    code = 0;
out:
    ld_cli_capture_join(&opening);
    ld_capture_free(opening.capture);
    ld_io_stop(&s.sig);
    if (s.sigfd >= 0)
        close(s.sigfd);
    ld_timer_stop(&s.drain);
    ld_httpd_free(s.httpd);
    ld_plan_free(s.plan);
    ld_capture_free(capture);
    SSL_CTX_free(tls_ctx);
    ld_ruleset_free(s.rules);
    ld_names_free(s.names);
    free(profiles);
    ld_opts_clear(&o);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return code;
}
