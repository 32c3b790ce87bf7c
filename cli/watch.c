/* watch.c - rounds of one check on one plan, until a signal ends them. */
#include "watch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/emit.h"
#include "cli/msg.h"
#include "core/utc.h"

#define IDS_MAX 512 /* characters of one target's diagnosis ids remembered */

/* The state of a watch. */
typedef struct watch {
    ld_plan *plan;               /* the plan every round runs on */
    ld_loop *loop;               /* its loop */
    const ld_ruleset *rules;     /* the rules */
    const ld_target_spec *specs; /* the targets */
    size_t n;                    /* how many */
    const ld_watch_config *cfg;  /* how */
    ld_run *run;                 /* the round in flight, NULL between rounds */
    ld_time round_started;       /* when it started */
    double round_started_wall;   /* ... by the wall clock: the round's started_at, host.time */
    ld_timer next;               /* starts the next round */
    int sigfd;                   /* SIGINT and SIGTERM, read from the loop */
    ld_io sig;                   /* its watch */
    int code;                    /* the last finished round's exit code */
    int failed;                  /* an error ended the watch */
    char (*ids)[IDS_MAX];        /* per target: its diagnosis ids last round */
    int rounds;                  /* rounds finished */
} watch;

static void start_round(watch *w);

/* Ends the watch with one error line. */
static void fail(watch *w, const char *what) {
    ld_msg_error("%s", what);
    w->failed = 1;
    ld_loop_stop(w->loop);
}

/* "id, id" of a target's reported diagnoses, into buf. */
static void ids_of(const ld_report_target *t, char *buf, size_t len) {
    buf[0] = '\0';
    for (size_t i = 0; i < t->diagnoses->nreported; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t->diagnoses->reported[i].id);
    }
}

/* A phase's time for the round line: "12.3 ms", "1.23 s" or "-". */
static void put_phase(ld_buf *out, const char *name, const ld_report_target *t, ld_fact_id id) {
    const ld_value *v = ld_facts_get(t->facts, id);
    if (!v || v->type != LD_T_NUM) {
        ld_buf_printf(out, "  %s -", name);
        return;
    }
    double ms = v->u.n;
    ld_buf_printf(out, ms < 1000 ? "  %s %.1f ms" : "  %s %.2f s", name, ms < 1000 ? ms : ms / 1e3);
}

/* The text of one round: a line per target, then the full report of the
 * targets whose diagnoses changed. */
static ld_status render_text(watch *w, const ld_report *r, ld_buf *out, ld_err *err) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%SZ", &tm);
    ld_report_target *changed = calloc(r->ntargets ? r->ntargets : 1, sizeof *changed);
    if (!changed)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    size_t nchanged = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        const ld_report_target *t = &r->targets[i];
        char ids[IDS_MAX];
        ids_of(t, ids, sizeof ids);
        const ld_value *input = ld_facts_get(t->facts, LD_F_TARGET_INPUT);
        const char *verdict = ld_verdict_name(t->verdict);
        ld_buf_printf(out, "%s  %-8s %s  %s", when, verdict, input ? input->u.s : "?",
                      ids[0] ? ids : "(no diagnosis)");
        put_phase(out, "dns", t, LD_F_DNS_LATENCY_MS);
        put_phase(out, "connect", t, LD_F_TCP_CONNECT_MS);
        put_phase(out, "total", t, LD_F_TARGET_DURATION_MS);
        ld_buf_putc(out, '\n');
        if (w->rounds == 0 || strcmp(ids, w->ids[i]) != 0)
            changed[nchanged++] = *t;
        snprintf(w->ids[i], IDS_MAX, "%s", ids);
    }
    ld_status st = LD_OK;
    if (nchanged) {
        ld_report sub = *r;
        sub.host = w->rounds == 0 ? r->host : NULL; /* the host once, not every round */
        sub.targets = changed;
        sub.ntargets = nchanged;
        sub.verdict = changed[0].verdict;
        for (size_t i = 1; i < nchanged; i++)
            sub.verdict = ld_verdict_worse(sub.verdict, changed[i].verdict);
        st = ld_report_text(&sub, out, err);
        if (st == LD_OK)
            st = ld_buf_putc(out, '\n');
    }
    free(changed);
    return st;
}

static void schedule_next(watch *w);

static void round_done(ld_run *run, void *arg) {
    watch *w = arg;
    ld_err err;
    ld_cli_report cr;
    ld_buf out;
    ld_buf_init(&out, 0);
    /* Each round reports its own start, or a monitor would see one stale run. */
    ld_report base = *w->cfg->base;
    base.started_at = w->round_started_wall;
    ld_status st = ld_cli_report_build(w->rules, run, &base, w->round_started, &cr, &err);
    if (st == LD_OK) {
        if (w->cfg->format == LD_FORMAT_TEXT)
            st = render_text(w, &cr.report, &out, &err);
        else if (w->cfg->format == LD_FORMAT_JSON)
            st = ld_report_json_line(&cr.report, &out, &err);
        else
            st = ld_report_render(&cr.report, w->cfg->format, &out, &err);
    }
    if (st == LD_OK) {
        w->code = (int)cr.report.verdict;
        w->rounds++;
    }
    ld_cli_report_clear(&cr);
    ld_run_free(run);
    w->run = NULL;
    /* Past stdio, as check's report goes: a failed write is this one line,
     * and stdio keeps no error for main() to report a second time. */
    if (st == LD_OK)
        st = ld_report_write(NULL, out.data, out.len, &err);
    if (st != LD_OK)
        fail(w, err.msg);
    else
        schedule_next(w);
    ld_buf_clear(&out);
}

static void next_cb(ld_timer *t) {
    start_round(t->data);
}

static void schedule_next(watch *w) {
    ld_time at = w->round_started + w->cfg->interval;
    ld_time now = ld_time_now();
    ld_timer_start(w->loop, &w->next, at > now ? at : now, next_cb, w);
}

static void start_round(watch *w) {
    ld_err err;
    w->round_started = ld_time_now();
    w->round_started_wall = ld_utc_now();
    w->run = ld_run_create(w->plan, w->round_started + w->cfg->timeout, &err);
    for (size_t i = 0; w->run && i < w->n; i++)
        if (ld_run_add(w->run, &w->specs[i], &err) != LD_OK) {
            ld_run_free(w->run);
            w->run = NULL;
        }
    if (!w->run || ld_run_start(w->run, round_done, w, &err) != LD_OK)
        fail(w, err.msg);
}

/* SIGINT or SIGTERM: the round in flight is cancelled, the watch ends. */
static void on_signal(ld_io *io, unsigned events) {
    watch *w = io->data;
    struct signalfd_siginfo si;
    (void)events;
    if (read(w->sigfd, &si, sizeof si) != (ssize_t)sizeof si)
        return;
    ld_run_free(w->run);
    w->run = NULL;
    ld_timer_stop(&w->next);
    ld_loop_stop(w->loop);
}

int ld_cli_watch(ld_plan *plan, const ld_ruleset *rules, const ld_target_spec *specs, size_t n,
                 const ld_watch_config *cfg) {
    watch w = {.plan = plan,
               .loop = ld_plan_loop(plan),
               .rules = rules,
               .specs = specs,
               .n = n,
               .cfg = cfg,
               .code = LD_EXIT_UNKNOWN,
               .sigfd = -1};
    w.next.heap_idx = SIZE_MAX;
    ld_err err;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    w.ids = calloc(n ? n : 1, sizeof *w.ids);
    w.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (!w.ids || w.sigfd < 0 ||
        ld_io_start(w.loop, &w.sig, w.sigfd, LD_READ, on_signal, &w, &err) != LD_OK) {
        ld_msg_error("--watch: %s", w.ids && w.sigfd >= 0 ? err.msg : strerror(errno));
        w.failed = 1;
    } else {
        start_round(&w);
        if (!w.failed && ld_loop_run(w.loop, &err) != LD_OK) {
            ld_msg_error("%s", err.msg);
            w.failed = 1;
        }
    }
    ld_run_free(w.run);
    ld_timer_stop(&w.next);
    ld_io_stop(&w.sig);
    if (w.sigfd >= 0)
        close(w.sigfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(w.ids);
    return w.failed ? LD_EXIT_UNKNOWN : w.code;
}
