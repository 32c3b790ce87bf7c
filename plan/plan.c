/* plan.c - which probe runs after which, for every target of every run. */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/hostnet.h"
#include "core/ifaces.h"
#include "core/sanitize.h"
#include "core/neigh.h"
#include "plan/registry.h"
#include "probes/cloud.h"
#include "probes/dns.h"
#include "probes/http.h"
#include "probes/metadata.h"
#include "probes/mqtt.h"
#include "probes/redis.h"
#include "probes/tcp.h"
#include "probes/tls.h"

/* A probe and the config it reads, allocated together so the config
 * outlives the probe. */
typedef struct probe_slot {
    ld_probe probe;         /* the instance */
    struct target_run *tr;  /* its target */
    ld_capture_watch watch; /* tcp: the capture's view of this attempt */
    int have_tuple;         /* tcp: watch holds the attempt's addresses */
    ld_timer neigh_poll;    /* tcp: unanswered, its next hop unconfirmed: looks again */
    union {
        ld_dns_config dns;       /* when probe.ops == &ld_probe_dns */
        ld_tcp_config tcp;       /* ... &ld_probe_tcp */
        ld_tls_config tls;       /* ... &ld_probe_tls */
        ld_http_config http;     /* ... &ld_probe_http */
        ld_reqrep_config reqrep; /* ... &ld_probe_redis, &ld_probe_mqtt */
    } cfg;                       /* the config of the probe */
} probe_slot;

/* An address some probe connects to, and why. */
typedef struct addr_entry {
    ld_addr addr;    /* the address */
    unsigned origin; /* LD_ORIGIN_* bits */
} addr_entry;

enum target_state { T_PENDING, T_RUNNING, T_DONE };

#define TARGET_MAX_ADDRS  64 /* connects per target (endpoint IPs + answers) */
#define TARGET_MAX_PROBES (TARGET_MAX_ADDRS + 1)

/* The state of one target. */
typedef struct target_run {
    ld_run *run;                                                      /* owner */
    ld_target_spec spec;                                              /* what to check */
    ld_facts *facts;                                                  /* what was seen */
    enum target_state state;                                          /* pending, running, done */
    probe_slot *active[TARGET_MAX_PROBES];                            /* probes not yet finished */
    size_t nactive;                                                   /* how many */
    addr_entry addrs[TARGET_MAX_ADDRS];                               /* addresses connected to */
    size_t naddrs;                                                    /* how many */
    ld_resolver resolvers[LD_DNS_MAX_RESOLVERS + LD_DNS_SERVERS_MAX]; /* system, then its own */
    size_t nresolvers;                                                /* how many */
    ld_time started;                                                  /* when it started */
    ld_time ended;                                                    /* when it finished */
} target_run;

/* The instance metadata, asked once per plan.
 *
 * Targets do not wait for it: a run's targets start at once, and the cloud.*
 * facts it gives are recorded for each of them when the run ends - the rules
 * read facts only then, and nothing a probe does depends on them (the cloud's
 * resolver is the provider's fixed address). So a metadata service that
 * hangs costs a check nothing unless the check is done sooner than the
 * metadata's deadline (about a second); then the run waits for it, never
 * past its own deadline. The first run that starts asks; runs that start
 * meanwhile wait for that answer, and later ones (serve, --watch) reuse it:
 * the instance's metadata does not change between rounds, so an answer is
 * kept for the life of the process. A failure is not: a service that was
 * turned off, refused (403) or did not answer may be fixed while serve runs,
 * so the first run after a back-off asks again - LD_PLAN_METADATA_BACKOFF
 * after the first failure, doubling after each one that follows, up to
 * LD_PLAN_METADATA_BACKOFF_MAX (a failed lookup costs a probe up to a
 * second; once a minute, then once in ten, is what a fixed service waits).
 * Runs in between reuse the failure. An answer that a run's --timeout cut
 * short says nothing of the service: the next run asks again at once. */
typedef struct plan_metadata {
    enum { MD_IDLE, MD_RUNNING, MD_DONE } state; /* not asked, in flight, answered */
    ld_metadata_config cfg;                      /* what the probe asks */
    ld_probe probe;                              /* the probe, while state is MD_RUNNING */
    ld_facts *facts;                             /* the cloud.* target facts it recorded */
    ld_time ends_at; /* its deadline: its own, or the run's that asked */
    ld_time ask_at;  /* MD_DONE: when a run may ask again; 0: never (it answered) */
    ld_time backoff; /* the wait after the next failure (doubles, up to the max) */
} plan_metadata;

struct ld_plan {
    ld_plan_config cfg;         /* options */
    ld_loop *loop;              /* the one loop */
    ld_cloud cloud;             /* cloud.provider */
    const char *cloud_source;   /* cloud.provider_source */
    int has_cloud_resolver;     /* the cloud's resolver is asked */
    ld_resolver cloud_resolver; /* ... this one */
    plan_metadata md;           /* the instance metadata */
    ld_run *runs;               /* runs started and not finished, by next_run */
};

struct ld_run {
    ld_plan *plan;            /* owner of the loop and the options */
    target_run *targets;      /* all targets */
    size_t ntargets;          /* how many */
    size_t cap;               /* allocated */
    size_t next;              /* next target to start */
    size_t running;           /* targets started, not done */
    int started;              /* ld_run_start was called */
    int finished;             /* done was called, or is queued */
    int deadline_passed;      /* the deadline fired */
    ld_time deadline_at;      /* when the run ends, whatever is pending */
    ld_timer deadline;        /* fires at deadline_at */
    ld_defer done_call;       /* defers the done callback */
    ld_run_done_cb done;      /* called once when all targets are done */
    void *done_arg;           /* passed to done */
    ld_ifaces ifaces;         /* local addresses, read when the run starts */
    ld_route_memo routes;     /* the routes its attempts asked for (core/neigh.h) */
    ld_dns_system dns_system; /* resolv.conf, read when the run starts */
    const char *capture_file; /* offline runs: the capture file read */
    ld_run *next_run;         /* the plan's next run in flight */
};

static void trace(const ld_plan *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(const ld_plan *plan, const char *fmt, ...) {
    if (!plan->cfg.trace)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    plan->cfg.trace(plan->cfg.trace_arg,
                    (double)(ld_time_now() - plan->cfg.started) / (double)LD_MS, line);
}

/* --- the plan ------------------------------------------------------------------ */

ld_plan *ld_plan_create(const ld_plan_config *cfg, ld_err *err) {
    ld_plan *plan = calloc(1, sizeof *plan);
    if (!plan) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    plan->cfg = *cfg;
    if (plan->cfg.max_parallel == 0)
        plan->cfg.max_parallel = 1;
    if (cfg->cloud_auto) {
        plan->cloud = ld_cloud_detect_dmi(cfg->dmi_dir ? cfg->dmi_dir : "/sys/class/dmi/id");
        plan->cloud_source = "dmi";
    } else {
        plan->cloud = cfg->cloud;
        plan->cloud_source = "option";
    }
    if (plan->cloud != LD_CLOUD_GENERIC && !cfg->cloud_resolver_off) {
        plan->has_cloud_resolver = 1;
        if (cfg->cloud_resolver) {
            plan->cloud_resolver = *cfg->cloud_resolver;
            plan->cloud_resolver.source = LD_RESOLVER_CLOUD;
        } else {
            ld_cloud_resolver(plan->cloud, &plan->cloud_resolver);
        }
    }
    plan->md.cfg = (ld_metadata_config){.cloud = plan->cloud, .endpoint = cfg->imds_endpoint};
    plan->md.backoff = cfg->metadata_backoff ? cfg->metadata_backoff : LD_PLAN_METADATA_BACKOFF;
    plan->md.probe.deadline.heap_idx = SIZE_MAX;
    if (!(plan->loop = ld_loop_create(err)))
        goto fail;
    if (cfg->capture && ld_capture_attach(cfg->capture, plan->loop, err) != LD_OK)
        goto fail;
    return plan;
fail:
    ld_plan_free(plan);
    return NULL;
}

static void metadata_stop(ld_plan *plan);

void ld_plan_free(ld_plan *plan) {
    if (!plan)
        return;
    metadata_stop(plan);
    ld_facts_free(plan->md.facts);
    if (plan->cfg.capture)
        ld_capture_detach(plan->cfg.capture);
    ld_loop_free(plan->loop);
    free(plan);
}

ld_loop *ld_plan_loop(ld_plan *plan) {
    return plan->loop;
}

ld_capture *ld_plan_capture(const ld_plan *plan) {
    return plan->cfg.capture;
}

ld_cloud ld_plan_cloud(const ld_plan *plan, const char **source) {
    if (source)
        *source = plan->cloud_source;
    return plan->cloud;
}

/* --- the instance metadata (see plan_metadata) ------------------------------------ */

static void maybe_finish_run(ld_run *run);

/* 1 while the metadata probe runs and its facts are not final. */
static int metadata_pending(const ld_plan *plan) {
    return plan->md.state == MD_RUNNING && !plan->md.probe.finished;
}

/* The metadata probe ended: its facts are final, so the runs that waited
 * for them may end. */
static void metadata_done(ld_probe *p) {
    ld_plan *plan = p->owner;
    plan_metadata *md = &plan->md;
    const ld_value *ok = ld_facts_get(md->facts, LD_F_CLOUD_METADATA_AVAILABLE);
    const ld_value *failure = ld_facts_get(md->facts, LD_F_CLOUD_METADATA_FAILURE);
    const ld_value *error = ld_facts_get(md->facts, LD_F_CLOUD_METADATA_ERROR);
    trace(plan, "cloud metadata: %s after %.1f ms%s%s", ok && ok->u.b ? "answered" : "unavailable",
          (double)(p->ended - p->started) / (double)LD_MS, error ? ": " : "",
          error ? error->u.s : "");
    if (ok && ok->u.b) {
        md->ask_at = 0;
    } else if (failure && strcmp(failure->u.s, "cut") == 0) {
        md->ask_at = p->ended;
    } else {
        md->ask_at = p->ended + md->backoff;
        trace(plan, "cloud metadata: asking again in %.0f s", (double)md->backoff / (double)LD_SEC);
        md->backoff = md->backoff > LD_PLAN_METADATA_BACKOFF_MAX / 2 ? LD_PLAN_METADATA_BACKOFF_MAX
                                                                     : md->backoff * 2;
    }
    p->ops->clear(p);
    md->state = MD_DONE;
    for (ld_run *run = plan->runs, *next; run; run = next) {
        next = run->next_run; /* finishing unlinks it */
        maybe_finish_run(run);
    }
}

/* Asks the metadata service, when the plan wants it and has no answer yet
 * (none, one a run's --timeout cut, or a failure whose back-off has passed),
 * with a deadline that never passes run's. */
static void metadata_start(ld_plan *plan, const ld_run *run) {
    plan_metadata *md = &plan->md;
    if (!plan->cfg.metadata || plan->cloud == LD_CLOUD_GENERIC || md->state == MD_RUNNING ||
        (md->state == MD_DONE && (md->ask_at == 0 || ld_time_now() < md->ask_at)))
        return;
    ld_facts_free(md->facts);
    if (!(md->facts = ld_facts_create()))
        return; /* out of memory: no cloud.* facts beyond the provider */
    ld_time timeout =
        plan->cfg.metadata_timeout ? plan->cfg.metadata_timeout : LD_PLAN_METADATA_TIMEOUT;
    ld_time deadline = ld_time_now() + timeout;
    ld_probe *p = &md->probe;
    /* A run that ends sooner ends it, as cut (deadline_cb): the probe then
     * has no deadline of its own, so that which of two timers due at the
     * same instant fires first cannot decide how it ended. */
    md->ends_at = deadline < run->deadline_at ? deadline : run->deadline_at;
    memset(p, 0, sizeof *p);
    p->ops = &ld_probe_metadata;
    p->config = &md->cfg;
    p->loop = plan->loop;
    p->facts = md->facts;
    p->run_started = plan->cfg.started;
    p->deadline_at = deadline < run->deadline_at ? deadline : 0;
    p->done = metadata_done;
    p->owner = plan;
    p->deadline.heap_idx = SIZE_MAX;
    md->state = MD_RUNNING;
    trace(plan, "cloud metadata: asking %s's service", ld_cloud_name(plan->cloud));
    ld_err err;
    if (ld_probe_start(p, &err) != LD_OK)
        trace(plan, "cloud metadata: could not start: %s", err.msg);
}

/* Ends a metadata probe still running (the plan is going away) without
 * its done call. */
static void metadata_stop(ld_plan *plan) {
    plan_metadata *md = &plan->md;
    if (md->state != MD_RUNNING)
        return;
    ld_probe_cancel(&md->probe);
    ld_defer_stop(&md->probe.done_call);
    md->probe.ops->clear(&md->probe);
    md->state = MD_DONE;
}

/* Records the metadata's cloud.* facts for a target of run: what the
 * service said, or that run's --timeout came first. DMI's guess that the
 * service confirmed becomes provider_source "metadata". */
static void record_cloud_facts(ld_run *run, target_run *tr) {
    const ld_plan *plan = run->plan;
    const plan_metadata *md = &plan->md;
    ld_bag *t = ld_facts_target(tr->facts);
    if (md->state == MD_IDLE || !md->facts)
        return;
    if (metadata_pending(plan)) {
        ld_bag_set_bool(t, LD_F_CLOUD_METADATA_AVAILABLE, 0);
        ld_bag_set_str(t, LD_F_CLOUD_METADATA_FAILURE, "cut");
        ld_bag_set_str(t, LD_F_CLOUD_METADATA_ERROR,
                       "--timeout ended the run before the metadata service answered");
        return;
    }
    const ld_bag *b = ld_facts_target_const(md->facts);
    for (size_t i = 0; i < ld_bag_len(b); i++)
        ld_bag_set_value(t, ld_bag_id_at(b, i), ld_bag_value_at(b, i));
    const ld_value *ok = ld_bag_get(b, LD_F_CLOUD_METADATA_AVAILABLE);
    if (ok && ok->u.b && plan->cfg.cloud_auto)
        ld_bag_set_str(t, LD_F_CLOUD_PROVIDER_SOURCE, "metadata");
}

/* Takes run out of its plan's list of runs in flight (when it is in it). */
static void run_unlink(ld_run *run) {
    for (ld_run **pp = &run->plan->runs; *pp; pp = &(*pp)->next_run) {
        if (*pp == run) {
            *pp = run->next_run;
            break;
        }
    }
    run->next_run = NULL;
}

/* --- runs ---------------------------------------------------------------------- */

ld_run *ld_run_create(ld_plan *plan, ld_time deadline, ld_err *err) {
    ld_run *run = calloc(1, sizeof *run);
    if (!run) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    run->plan = plan;
    run->deadline_at = deadline;
    run->deadline.heap_idx = SIZE_MAX;
    return run;
}

static void cancel_all(ld_run *run);

void ld_run_free(ld_run *run) {
    if (!run)
        return;
    run_unlink(run);
    /* A run freed in flight (a server shutting down) ends its probes first;
     * their done calls are never delivered. */
    for (size_t i = 0; i < run->ntargets; i++) {
        target_run *tr = &run->targets[i];
        for (size_t k = 0; k < tr->nactive; k++) {
            probe_slot *slot = tr->active[k];
            ld_probe_cancel(&slot->probe);
            ld_defer_stop(&slot->probe.done_call);
            ld_capture_watch_stop(&slot->watch);
            ld_timer_stop(&slot->neigh_poll);
            slot->probe.ops->clear(&slot->probe);
            free(slot);
        }
        tr->nactive = 0;
        ld_facts_free(tr->facts);
    }
    ld_timer_stop(&run->deadline);
    ld_defer_stop(&run->done_call);
    free(run->targets);
    ld_ifaces_clear(&run->ifaces);
    ld_dns_system_clear(&run->dns_system);
    free(run);
}

/* Appends an empty target for spec. */
static target_run *add_target(ld_run *run, const ld_target_spec *spec, ld_err *err) {
    if (run->ntargets == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 8;
        target_run *t = realloc(run->targets, cap * sizeof *t);
        if (!t) {
            ld_err_set(err, LD_ENOMEM, "out of memory");
            return NULL;
        }
        run->targets = t;
        run->cap = cap;
    }
    target_run *tr = &run->targets[run->ntargets];
    memset(tr, 0, sizeof *tr);
    if (!(tr->facts = ld_facts_create())) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    tr->run = run;
    tr->spec = *spec;
    tr->state = T_PENDING;
    run->ntargets++;
    return tr;
}

ld_status ld_run_add(ld_run *run, const ld_target_spec *spec, ld_err *err) {
    return add_target(run, spec, err) ? LD_OK : LD_ENOMEM;
}

size_t ld_run_count(const ld_run *run) {
    return run->ntargets;
}

const ld_facts *ld_run_facts(const ld_run *run, size_t i) {
    return run->targets[i].facts;
}

double ld_run_target_ms(const ld_run *run, size_t i) {
    const target_run *tr = &run->targets[i];
    if (!tr->started)
        return 0;
    return (double)(tr->ended - tr->started) / (double)LD_MS;
}

/* --- facts the plan itself records ------------------------------------------- */

/* target.*, the expectations, the proxy an application would use, the cloud
 * and the capture: what is known before (and whatever) the probes find. */
static void record_target_facts(ld_run *run, target_run *tr, int checked) {
    const ld_plan *plan = run->plan;
    const ld_plan_config *c = &plan->cfg;
    ld_bag *t = ld_facts_target(tr->facts);
    const ld_target *tg = &tr->spec.target;
    ld_bag_set_str(t, LD_F_TARGET_INPUT, tg->input);
    ld_bag_set_str(t, LD_F_TARGET_SCHEME, ld_scheme_name(tg->scheme));
    ld_bag_set_str(t, LD_F_TARGET_HOST, tg->host);
    ld_bag_set_int(t, LD_F_TARGET_PORT, tg->port);
    ld_bag_set_bool(t, LD_F_TARGET_HOST_IS_IP, tg->host_is_ip);
    ld_bag_set_empty_list(t, LD_F_TARGET_ENDPOINT_IPS);
    for (size_t i = 0; i < tr->spec.nendpoint_ips; i++) {
        char text[LD_ADDR_STRLEN];
        ld_addr_format(&tr->spec.endpoint_ips[i], text);
        ld_bag_list_add(t, LD_F_TARGET_ENDPOINT_IPS, text);
    }
    ld_bag_set_int(t, LD_F_TARGET_ENDPOINT_IP_COUNT, (int64_t)tr->spec.nendpoint_ips);
    ld_bag_set_bool(t, LD_F_TARGET_CHECKED, checked);
    if (tg->scheme == LD_SCHEME_HTTP || tg->scheme == LD_SCHEME_HTTPS) {
        char path[sizeof tg->path];
        ld_target_mask(tg->path, 1, path, sizeof path); /* what is sent, shown without secrets */
        ld_bag_set_str(t, LD_F_TARGET_PATH, path);
        ld_bag_set_str(t, LD_F_HTTP_EXPECTED_STATUS, tr->spec.expect.text);
        /* What an application honouring the environment would do: known
         * before, and whatever, the probes find. */
        ld_proxy_decision d =
            ld_proxy_for(c->proxy_env, tg->scheme == LD_SCHEME_HTTPS ? "https" : "http", tg->host);
        ld_bag_set_bool(t, LD_F_HTTP_PROXY_WOULD_BE_USED, d.use);
        if (d.use) {
            char masked[512];
            ld_proxy_mask(d.proxy, masked, sizeof masked);
            ld_bag_set_str(t, LD_F_HTTP_PROXY, masked);
            ld_bag_set_str(t, LD_F_HTTP_PROXY_VARIABLE, d.variable);
        }
        if (d.no_proxy)
            ld_bag_set_str(t, LD_F_HTTP_NO_PROXY, d.no_proxy);
    }
    if (tr->spec.profile[0])
        ld_bag_set_str(t, LD_F_TARGET_PROFILE, tr->spec.profile);
    for (size_t i = 0; i < tr->spec.nexpected_az_ids; i++)
        ld_bag_list_add(t, LD_F_TARGET_EXPECTED_AZ_IDS, tr->spec.expected_az_ids[i]);
    ld_bag_set_str(t, LD_F_CLOUD_PROVIDER, ld_cloud_provider_name(plan->cloud));
    ld_bag_set_str(t, LD_F_CLOUD_PROVIDER_SOURCE, plan->cloud_source);
    if (run->capture_file) {
        ld_bag_set_str(t, LD_F_CAPTURE_MODE, ld_capture_mode_name(LD_CAPTURE_MODE_FILE));
        ld_bag_set_bool(t, LD_F_CAPTURE_AVAILABLE, 1);
        ld_bag_set_str(t, LD_F_CAPTURE_SOURCE, "file");
        ld_bag_set_str(t, LD_F_CAPTURE_FILE, run->capture_file);
        return;
    }
    ld_bag_set_str(t, LD_F_CAPTURE_MODE, ld_capture_mode_name(c->capture_mode));
    ld_bag_set_bool(t, LD_F_CAPTURE_AVAILABLE, c->capture != NULL);
    if (c->capture) {
        ld_bag_set_str(t, LD_F_CAPTURE_SOURCE, "live");
        ld_bag_set_str(t, LD_F_CAPTURE_INTERFACE, ld_capture_interface(c->capture));
    } else {
        ld_bag_set_str(t, LD_F_CAPTURE_UNAVAILABLE_REASON,
                       c->capture_unavailable ? c->capture_unavailable : "turned off");
    }
}

ld_status ld_plan_summarize(ld_facts *facts, const ld_target_spec *spec) {
    ld_status st = ld_capture_summarize(facts);
    for (const ld_probe_ops *const *ops = ld_plan_probes; *ops && st == LD_OK; ops++)
        if ((*ops)->summarize)
            st = (*ops)->summarize(facts, spec);
    return st;
}

/* --- probes ------------------------------------------------------------------ */

static void target_done(target_run *tr);
static void start_pending(ld_run *run);
static void probe_done(ld_probe *p);

/* How often an unanswered attempt whose next hop is unconfirmed looks at
 * the neighbour entry again: a fraction of the kernel's 1 s between probes,
 * so that the attempt ends soon after the entry settles. */
#define NEIGH_POLL (250 * LD_MS)

/* 1 when an unanswered attempt should wait for its next hop's neighbour
 * entry to settle before it ends.
 *
 * SYNs the capture saw leave and nothing answered prove a drop on the path
 * only when they reached someone: an entry in STALE, DELAY or PROBE holds a
 * MAC address that answered once but not lately, and the kernel sends to it
 * until its unicast probes fail - the usual state shortly after an endpoint
 * interface was deleted. The kernel decides that (FAILED, or REACHABLE when
 * the neighbour answers) only after delay_first_probe_time plus its probes:
 * about 8 s from the first SYN by default. Waiting for it gives the right
 * answer (tcp.no_route, or a proven drop) but only when it comes before the
 * attempt's own --connect-timeout; otherwise the attempt ends now, at the
 * first retransmission as before, and the unconfirmed state it records
 * lowers the drop's confidence (rules/tcp.json) - the wait would end at the
 * deadline undecided anyway. */
static int neighbour_unsettled(probe_slot *slot) {
    ld_probe *p = &slot->probe;
    ld_neigh nb;
    ld_err err;
    if (ld_neigh_query(&slot->cfg.tcp.addr, &nb, &err) != LD_OK ||
        !ld_neigh_unconfirmed_since(nb.state, nb.have_confirmed ? nb.confirmed_ms : -1))
        return 0;
    ld_time now = ld_time_now();
    if (slot->neigh_poll.cb)
        return now + NEIGH_POLL < p->deadline_at; /* waiting already */
    /* DELAY began with the first SYN at the latest; STALE (not used yet)
     * and PROBE (begun at an unknown time) count from now. */
    int probing = nb.state == LD_NEIGH_PROBE;
    double give_up_ms =
        ld_hostnet_neigh_give_up_ms("/proc", nb.next_hop.family, nb.ifname, probing);
    ld_time from = nb.state == LD_NEIGH_DELAY ? p->started : now;
    ld_time settled = from + (ld_time)(give_up_ms * (double)LD_MS) + NEIGH_POLL;
    return settled < p->deadline_at;
}

static void attempt_unanswered(ld_capture_watch *w);

/* Looks again at the next hop of an unanswered attempt (see
 * neighbour_unsettled()). */
static void neighbour_poll(ld_timer *t) {
    attempt_unanswered(&((probe_slot *)t->data)->watch);
}

/* The capture proved an attempt's SYNs unanswered: end it now rather than
 * at --connect-timeout - unless its next hop is still to be confirmed and
 * the kernel will have settled that before then. */
static void attempt_unanswered(ld_capture_watch *w) {
    probe_slot *slot = w->data;
    if (!slot->probe.finished && neighbour_unsettled(slot) &&
        ld_timer_start(slot->probe.loop, &slot->neigh_poll, ld_time_now() + NEIGH_POLL,
                       neighbour_poll, slot) == LD_OK)
        return;
    ld_tcp_conclude_unanswered(&slot->probe);
}

/* Starts the capture's watch of a TCP attempt whose SYN has left. */
static void watch_attempt(ld_run *run, probe_slot *slot) {
    ld_capture *cap = run->plan->cfg.capture;
    ld_capture_watch *w = &slot->watch;
    if (!cap || ld_tcp_local(&slot->probe, &w->client, &w->client_port) != LD_OK)
        return;
    w->server = slot->cfg.tcp.addr;
    w->server_port = slot->cfg.tcp.port;
    w->unanswered = attempt_unanswered;
    w->absence_proves = ld_capture_covers(cap, ld_ifaces_name_of(&run->ifaces, &w->client));
    w->data = slot;
    w->grace.heap_idx = SIZE_MAX;
    slot->have_tuple = 1;
    if (!slot->probe.finished)
        ld_capture_watch_start(cap, w);
}

/* 1 when the capture saw the attempt's SYN leave and no answer of any kind. */
static int syns_unanswered(const ld_hs_flow *f) {
    return f && f->nsyn > 0 && !f->synack_seen && !f->rst_from_server && !f->icmp_seen;
}

/* Records an ended TCP attempt's final state: what its socket said, weighed
 * against what the capture saw of it and, when its SYN never showed on the
 * wire, against the kernel's neighbour entry for its next hop. Returns that
 * state. */
static ld_tcp_state settle_attempt(ld_run *run, probe_slot *slot) {
    ld_capture *cap = run->plan->cfg.capture;
    ld_probe *p = &slot->probe;
    ld_tcp_state st = ld_tcp_outcome(p);
    ld_bag *a = ld_tcp_evidence(p);
    const ld_hs_flow *flow = NULL;
    int watched = cap && slot->have_tuple && a;
    /* Absence proves nothing where the capture does not look. */
    int blind = 1;
    if (watched) {
        /* The watch stays until the flow is read: a full table evicts only
         * flows no watch needs. */
        ld_capture_drain(cap); /* packets of the attempt's last moments */
        slot->watch.cap = cap;
        flow = ld_capture_watch_flow(&slot->watch);
        blind = ld_capture_watch_lost(&slot->watch) > 0 || !slot->watch.absence_proves;
        ld_capture_record_flow(a, flow);
        ld_capture_record_watch(a, &slot->watch);
    }
    int unresolved = 0;
    int syn_unseen = !flow || flow->nsyn == 0;
    if (a && ((syn_unseen && (st == LD_TCP_TIMEOUT || st == LD_TCP_NO_ROUTE ||
                              st == LD_TCP_LOCAL_BLOCK || (st == LD_TCP_REFUSED && !blind))) ||
              (st == LD_TCP_TIMEOUT && syns_unanswered(flow)))) {
        /* Nothing of it reached the wire (as far as anyone can tell): was the
         * SYN waiting for a neighbour that never answered? Or its SYNs left
         * and nothing answered: did they reach anyone (a neighbour entry
         * that FAILED since, or is still unconfirmed, says perhaps not)? */
        ld_neigh nb;
        ld_err err;
        ld_neigh_query(&slot->cfg.tcp.addr, &nb, &err);
        ld_capture_record_neighbour(watched ? cap : NULL, a, &nb);
        unresolved = ld_neigh_unresolved(nb.state);
    }
    if (watched || unresolved) {
        const ld_value *waited = ld_bag_get(a, LD_F_TCP_A_ELAPSED_MS);
        ld_capture_judge_args args = {
            .blind = blind,
            .neighbour_unresolved = unresolved,
            .waited_ms = waited ? waited->u.n : -1,
        };
        st = ld_capture_judge(st, flow, &args);
    }
    if (st == LD_TCP_REPLY_DROPPED)
        ld_capture_record_reply(a, ld_facts_target(slot->tr->facts), flow, "/proc");
    ld_timer_stop(&slot->neigh_poll);
    ld_capture_watch_stop(&slot->watch);
    ld_tcp_record_state(p, st);
    return st;
}

/* Starts a probe of ops with slot->cfg already filled. */
static void launch(target_run *tr, probe_slot *slot, const ld_probe_ops *ops) {
    ld_run *run = tr->run;
    ld_plan *plan = run->plan;
    ld_probe *p = &slot->probe;
    slot->tr = tr;
    p->ops = ops;
    p->config = &slot->cfg; /* every member of the union starts there */
    p->loop = plan->loop;
    p->facts = tr->facts;
    p->run_started = plan->cfg.started;
    p->deadline_at = ld_time_now() + plan->cfg.connect_timeout;
    p->done = probe_done;
    p->owner = slot;
    p->deadline.heap_idx = SIZE_MAX;
    tr->active[tr->nactive++] = slot;
    ld_err err;
    if (ld_probe_start(p, &err) != LD_OK)
        trace(plan, "%s: %s probe could not start: %s", tr->spec.target.input, ops->name, err.msg);
    else if (ops == &ld_probe_tcp)
        watch_attempt(run, slot);
}

/* A slot for one more probe of tr, or NULL when it has as many as it may. */
static probe_slot *new_slot(target_run *tr) {
    return tr->nactive < TARGET_MAX_PROBES ? calloc(1, sizeof(probe_slot)) : NULL;
}

/* Whether an address of this origin is one the verdict rests on: the
 * endpoint IPs when given, else what the application resolves (see
 * facts.def). */
static int origin_expected(const target_run *tr, unsigned origin) {
    return tr->spec.nendpoint_ips ? (origin & (LD_ORIGIN_ENDPOINT | LD_ORIGIN_LITERAL)) != 0 : 1;
}

/* Adds addr to the target's address list (merging origins) and connects to
 * it when it is new; an attempt that is not expected is evidence only. */
static void connect_to(target_run *tr, const ld_addr *addr, unsigned origin, int expected) {
    for (size_t i = 0; i < tr->naddrs; i++) {
        if (ld_addr_equal(&tr->addrs[i].addr, addr)) {
            tr->addrs[i].origin |= origin;
            ld_tcp_add_origin(tr->facts, addr, origin); /* probed once, for both reasons */
            return;
        }
    }
    probe_slot *slot = tr->naddrs < TARGET_MAX_ADDRS ? new_slot(tr) : NULL;
    if (!slot)
        return;
    addr_entry *e = &tr->addrs[tr->naddrs++];
    e->addr = *addr;
    e->origin = origin;
    ld_tcp_config *c = &slot->cfg.tcp;
    c->addr = *addr;
    c->port = tr->spec.target.port;
    c->origin = origin;
    c->expected = expected;
    c->ifaces = &tr->run->ifaces;
    c->routes = &tr->run->routes;
    /* A TLS or application probe continues on the connection; HTTP makes its own. */
    ld_scheme sc = tr->spec.target.scheme;
    c->keep = c->expected && sc != LD_SCHEME_TCP && sc != LD_SCHEME_HTTP;
    launch(tr, slot, &ld_probe_tcp);
}

/* --- the layers above TCP ---------------------------------------------------- */

/* Starts the application probe of the target's scheme on stream (owned). */
static void launch_app(target_run *tr, const ld_addr *addr, ld_stream stream) {
    ld_scheme sc = tr->spec.target.scheme;
    const ld_probe_ops *ops = sc == LD_SCHEME_REDIS || sc == LD_SCHEME_REDISS ? &ld_probe_redis
                              : sc == LD_SCHEME_MQTT || sc == LD_SCHEME_MQTTS ? &ld_probe_mqtt
                                                                              : NULL;
    probe_slot *slot = ops ? new_slot(tr) : NULL;
    if (!slot) {
        ld_stream_close(&stream);
        return;
    }
    slot->cfg.reqrep = (ld_reqrep_config){.stream = stream, .addr = *addr};
    launch(tr, slot, ops);
}

/* Starts the TLS probe on fd (owned); keep hands the connection on. */
static void launch_tls(target_run *tr, const ld_addr *addr, int fd, int keep) {
    const ld_plan_config *pc = &tr->run->plan->cfg;
    SSL_CTX *ctx = tr->spec.tls_ctx ? tr->spec.tls_ctx : pc->tls_ctx;
    probe_slot *slot = ctx ? new_slot(tr) : NULL;
    if (!slot) {
        close(fd);
        return;
    }
    ld_tls_config *c = &slot->cfg.tls;
    c->fd = fd;
    c->addr = *addr;
    c->host = tr->spec.target.host;
    c->sni = tr->spec.sni[0] ? tr->spec.sni : NULL;
    c->alpn = tr->spec.target.scheme == LD_SCHEME_HTTPS ? "h2,http/1.1" : NULL;
    c->ctx = ctx;
    c->warn_days = tr->spec.cert_warn_days;
    c->keep = keep;
    launch(tr, slot, &ld_probe_tls);
}

/* Starts the HTTP probe for one address; it makes its own connection. */
static void launch_http(target_run *tr, const ld_addr *addr) {
    probe_slot *slot = new_slot(tr);
    if (!slot)
        return;
    ld_http_config *c = &slot->cfg.http;
    c->https = tr->spec.target.scheme == LD_SCHEME_HTTPS;
    c->host = tr->spec.target.host;
    c->port = tr->spec.target.port;
    c->path = tr->spec.target.path;
    c->addr = *addr;
    c->sni = tr->spec.sni[0] ? tr->spec.sni : NULL;
    launch(tr, slot, &ld_probe_http);
}

/* An expected address opened (fd is its connection when the TCP probe kept
 * one, else -1): starts what the scheme checks next. */
static void next_layer(target_run *tr, const ld_addr *addr, int fd) {
    switch (tr->spec.target.scheme) {
    case LD_SCHEME_HTTP:
        launch_http(tr, addr);
        break;
    case LD_SCHEME_HTTPS:
        /* In parallel: a stalled handshake must not double the time. */
        if (fd >= 0)
            launch_tls(tr, addr, fd, 0);
        launch_http(tr, addr);
        return;
    case LD_SCHEME_REDISS:
    case LD_SCHEME_MQTTS:
        if (fd >= 0)
            launch_tls(tr, addr, fd, 1);
        return;
    case LD_SCHEME_REDIS:
    case LD_SCHEME_MQTT:
        if (fd >= 0)
            launch_app(tr, addr, (ld_stream){.fd = fd, .ssl = NULL});
        return;
    case LD_SCHEME_TCP:
        break;
    }
    if (fd >= 0)
        close(fd);
}

/* 1 when an application resolving the name could get address a: a family
 * this host has an address of (getaddrinfo's AI_ADDRCONFIG), or loopback. */
static int family_usable(const target_run *tr, const ld_addr *a) {
    return ld_addr_scope_of(a) == LD_AS_LOOPBACK ||
           ld_ifaces_family_usable(&tr->run->ifaces, a->family);
}

/* DNS is done: connects to the addresses the application would use (the
 * hosts file's when it has the name, else DNS's), as getaddrinfo with
 * AI_ADDRCONFIG would offer them. When the hosts file decides, DNS's own
 * addresses are tried too, as evidence only: whether the entry is stale
 * (DNS's address works where the pinned one fails) is what decides that the
 * entry, not the network, is the fault. */
static void connect_to_answer(target_run *tr, const ld_probe *dns) {
    ld_addr addrs[TARGET_MAX_ADDRS];
    unsigned origin;
    size_t n = ld_dns_addresses(dns, addrs, TARGET_MAX_ADDRS, &origin);
    ld_bag *t = ld_facts_target(tr->facts);
    /* The resolver's answer time bounds a round trip inside this network:
     * it sizes the capture's grace after a SYN retransmission. */
    const ld_value *latency = ld_bag_get(t, LD_F_DNS_LATENCY_MS);
    if (latency && latency->type == LD_T_NUM)
        ld_capture_note_rtt(tr->run->plan->cfg.capture, (ld_time)(latency->u.n * (double)LD_MS));
    ld_bag_set_empty_list(t, LD_F_TCP_SKIPPED_ADDRESSES);
    int64_t skipped = 0, usable = 0;
    for (size_t i = 0; i < n; i++) {
        const ld_addr *a = &addrs[i];
        int endpoint = 0;
        for (size_t k = 0; k < tr->spec.nendpoint_ips; k++)
            endpoint |= ld_addr_equal(a, &tr->spec.endpoint_ips[k]);
        if (!family_usable(tr, a)) {
            /* An application resolving the name would not get this address
             * (AI_ADDRCONFIG); an --endpoint-ip one is still tried. */
            if (!endpoint) {
                char text[LD_ADDR_STRLEN];
                ld_addr_format(a, text);
                ld_bag_list_add(t, LD_F_TCP_SKIPPED_ADDRESSES, text);
                skipped++;
                continue;
            }
        } else {
            usable++;
        }
        connect_to(tr, a, origin, origin_expected(tr, origin));
    }
    ld_bag_set_int(t, LD_F_TCP_SKIPPED_COUNT, skipped);
    ld_bag_set_int(t, LD_F_TCP_ANSWER_USABLE_COUNT, usable);
    if (origin != LD_ORIGIN_HOSTS)
        return;
    n = ld_dns_answer(dns, addrs, TARGET_MAX_ADDRS);
    for (size_t i = 0; i < n; i++)
        if (family_usable(tr, &addrs[i]))
            connect_to(tr, &addrs[i], LD_ORIGIN_DNS, 0);
}

static void probe_done(ld_probe *p) {
    probe_slot *slot = p->owner;
    target_run *tr = slot->tr;
    ld_run *run = tr->run;
    trace(run->plan, "%s: %s ended (%s) after %.1f ms", tr->spec.target.input, p->ops->name,
          ld_probe_end_name(p->end), (double)(p->ended - p->started) / (double)LD_MS);
    /* What continues after this probe: an opened address, a kept connection. */
    int opened = 0, tls_done = p->ops == &ld_probe_tls;
    ld_stream kept = LD_STREAM_NONE;
    ld_addr addr;
    memset(&addr, 0, sizeof addr);
    if (p->ops == &ld_probe_tcp) {
        addr = slot->cfg.tcp.addr;
        opened = settle_attempt(run, slot) == LD_TCP_OPEN && slot->cfg.tcp.expected;
        kept.fd = ld_tcp_take(p);
    } else if (tls_done) {
        addr = slot->cfg.tls.addr;
        kept = ld_tls_take(p);
    } else if (p->ops == &ld_probe_dns && !slot->cfg.dns.compare_only && !run->deadline_passed) {
        connect_to_answer(tr, p);
    }
    p->ops->clear(p);
    for (size_t i = 0; i < tr->nactive; i++) {
        if (tr->active[i] == slot) {
            tr->active[i] = tr->active[--tr->nactive];
            break;
        }
    }
    free(slot);
    if (run->deadline_passed) {
        ld_stream_close(&kept);
    } else if (opened) {
        next_layer(tr, &addr, kept.fd);
    } else if (tls_done && kept.fd >= 0) {
        launch_app(tr, &addr, kept);
    } else {
        ld_stream_close(&kept);
    }
    if (tr->nactive == 0)
        target_done(tr);
}

/* --- targets ------------------------------------------------------------------ */

/* Asks the cloud's own resolver about the name of sys, the target's DNS
 * probe config, in a probe of its own: evidence only, compared with the
 * system's answer when the target is done, so that a cloud resolver that
 * does not answer (--cloud given on another cloud) never holds up the
 * connects that follow the system's answer. Not when it is one of the
 * target's resolvers already (on GCP the system's nameserver usually is the
 * metadata server itself): the same server asked twice only agrees with
 * itself. It answers in milliseconds where it exists, so it gets the
 * metadata's deadline when that is shorter than --connect-timeout. */
static void ask_cloud_resolver(target_run *tr, const ld_dns_config *sys) {
    const ld_plan *plan = tr->run->plan;
    const ld_resolver *cloud = &plan->cloud_resolver;
    if (!plan->has_cloud_resolver)
        return;
    for (size_t i = 0; i < tr->nresolvers; i++)
        if (ld_addr_equal(&tr->resolvers[i].addr, &cloud->addr) &&
            tr->resolvers[i].port == cloud->port)
            return;
    probe_slot *slot = new_slot(tr);
    if (!slot)
        return;
    ld_dns_config *c = &slot->cfg.dns;
    *c = *sys;
    c->resolvers = cloud;
    c->nresolvers = 1;
    c->compare_only = 1;
    if (c->query_timeout > LD_PLAN_METADATA_TIMEOUT)
        c->query_timeout = LD_PLAN_METADATA_TIMEOUT;
    launch(tr, slot, &ld_probe_dns);
}

static void start_target(ld_run *run, target_run *tr) {
    tr->state = T_RUNNING;
    tr->started = ld_time_now();
    run->running++;
    record_target_facts(run, tr, 1);
    trace(run->plan, "%s: started", tr->spec.target.input);

    for (size_t i = 0; i < tr->spec.nendpoint_ips; i++)
        connect_to(tr, &tr->spec.endpoint_ips[i], LD_ORIGIN_ENDPOINT,
                   origin_expected(tr, LD_ORIGIN_ENDPOINT));
    if (tr->spec.target.host_is_ip) {
        connect_to(tr, &tr->spec.target.ip, LD_ORIGIN_LITERAL,
                   origin_expected(tr, LD_ORIGIN_LITERAL));
    } else {
        probe_slot *slot = new_slot(tr);
        if (slot) {
            const ld_dns_system *sys = &run->dns_system;
            for (size_t i = 0; i < sys->nresolvers; i++)
                tr->resolvers[tr->nresolvers++] = sys->resolvers[i];
            for (size_t i = 0; i < tr->spec.ndns_servers; i++)
                tr->resolvers[tr->nresolvers++] = tr->spec.dns_servers[i];
            ld_dns_config *c = &slot->cfg.dns;
            c->name = tr->spec.target.host;
            c->resolvers = tr->resolvers;
            c->nresolvers = tr->nresolvers;
            c->system = sys;
            c->endpoint_ips = tr->spec.endpoint_ips;
            c->nendpoint_ips = tr->spec.nendpoint_ips;
            c->query_timeout = run->plan->cfg.connect_timeout;
            c->names = run->plan->cfg.names;
            launch(tr, slot, &ld_probe_dns);
            ask_cloud_resolver(tr, c);
        }
    }
    if (tr->nactive == 0)
        target_done(tr);
}

static void run_done_cb(ld_defer *d) {
    ld_run *run = d->data;
    if (run->done)
        run->done(run, run->done_arg);
}

/* Ends the run when nothing is left to check: the done call is deferred, so
 * that a run finishing inside ld_run_start returns first. */
static void maybe_finish_run(ld_run *run) {
    if (run->finished || run->running > 0 || (run->next < run->ntargets && !run->deadline_passed))
        return;
    /* The metadata's facts come with the targets': wait for them, never
     * past the deadline. */
    if (metadata_pending(run->plan) && !run->deadline_passed)
        return;
    run->finished = 1;
    run_unlink(run);
    ld_timer_stop(&run->deadline);
    /* Targets the deadline left unstarted still say what they were. */
    for (size_t i = 0; i < run->ntargets; i++)
        if (run->targets[i].state == T_PENDING)
            record_target_facts(run, &run->targets[i], 0);
    for (size_t i = 0; i < run->ntargets; i++)
        record_cloud_facts(run, &run->targets[i]);
    ld_defer_start(run->plan->loop, &run->done_call, run_done_cb, run);
}

/* Records one measurement against its --warning / --critical ranges: the
 * ranges as given and the state they put it in. */
static void record_threshold(ld_bag *t, double seconds, const ld_range *warning,
                             const ld_range *critical, ld_fact_id warning_fact,
                             ld_fact_id critical_fact, ld_fact_id state_fact) {
    if (!warning && !critical)
        return;
    if (warning)
        ld_bag_set_str(t, warning_fact, warning->text);
    if (critical)
        ld_bag_set_str(t, critical_fact, critical->text);
    const char *state = critical && ld_range_alerts(critical, seconds) ? "critical"
                        : warning && ld_range_alerts(warning, seconds) ? "warning"
                                                                       : "ok";
    ld_bag_set_str(t, state_fact, state);
}

/* The target's duration, and where it and its fastest connect stand against
 * the thresholds (a connect that never happened has no time to judge). */
static void record_timing(target_run *tr) {
    const ld_plan_thresholds *th = &tr->run->plan->cfg.thresholds;
    ld_bag *t = ld_facts_target(tr->facts);
    double total_ms = (double)(tr->ended - tr->started) / (double)LD_MS;
    ld_bag_set_num(t, LD_F_TARGET_DURATION_MS, total_ms);
    record_threshold(t, total_ms / 1000.0, th->total_warning, th->total_critical,
                     LD_F_THRESHOLD_TOTAL_WARNING, LD_F_THRESHOLD_TOTAL_CRITICAL,
                     LD_F_THRESHOLD_TOTAL_STATE);
    const ld_value *connect = ld_facts_get(tr->facts, LD_F_TCP_CONNECT_MS);
    if (connect)
        record_threshold(t, connect->u.n / 1000.0, th->connect_warning, th->connect_critical,
                         LD_F_THRESHOLD_CONNECT_WARNING, LD_F_THRESHOLD_CONNECT_CRITICAL,
                         LD_F_THRESHOLD_CONNECT_STATE);
}

static void target_done(target_run *tr) {
    ld_run *run = tr->run;
    if (tr->state == T_DONE)
        return;
    tr->ended = ld_time_now();
    ld_plan_summarize(tr->facts, &tr->spec);
    record_timing(tr);
    tr->state = T_DONE;
    run->running--;
    trace(run->plan, "%s: done in %.1f ms", tr->spec.target.input,
          (double)(tr->ended - tr->started) / (double)LD_MS);
    start_pending(run);
    maybe_finish_run(run);
}

static void start_pending(ld_run *run) {
    while (!run->deadline_passed && run->next < run->ntargets &&
           run->running < run->plan->cfg.max_parallel) {
        target_run *tr = &run->targets[run->next++];
        start_target(run, tr);
    }
}

/* Cancels every probe still running; each one's done call comes deferred. */
static void cancel_all(ld_run *run) {
    for (size_t i = 0; i < run->ntargets; i++) {
        target_run *tr = &run->targets[i];
        for (size_t k = 0; tr->state == T_RUNNING && k < tr->nactive; k++)
            ld_probe_cancel(&tr->active[k]->probe);
    }
}

static void deadline_cb(ld_timer *t) {
    ld_run *run = t->data;
    plan_metadata *md = &run->plan->md;
    run->deadline_passed = 1;
    trace(run->plan, "--timeout reached: cancelling what is still running");
    /* A metadata lookup whose deadline has come (a run's) ends now, as cut. */
    if (metadata_pending(run->plan) && md->ends_at <= ld_time_now())
        ld_probe_cancel(&md->probe);
    cancel_all(run);
    maybe_finish_run(run);
}

ld_status ld_run_start(ld_run *run, ld_run_done_cb done, void *arg, ld_err *err) {
    ld_status st;
    if (run->started)
        return ld_err_set(err, LD_EINVAL, "run started twice");
    run->started = 1;
    run->done = done;
    run->done_arg = arg;
    if ((st = ld_ifaces_load(&run->ifaces, err)) != LD_OK)
        return st;
    int need_dns = 0;
    for (size_t i = 0; i < run->ntargets; i++)
        need_dns |= !run->targets[i].spec.target.host_is_ip;
    if (need_dns && (st = ld_dns_system_load(&run->dns_system, NULL, err)) != LD_OK)
        return st;
    if ((st = ld_timer_start(run->plan->loop, &run->deadline, run->deadline_at, deadline_cb,
                             run)) != LD_OK)
        return ld_err_set(err, st, "out of memory");
    run->next_run = run->plan->runs;
    run->plan->runs = run;
    metadata_start(run->plan, run);
    start_pending(run);
    maybe_finish_run(run);
    return LD_OK;
}

/* ld_run_execute's done callback: the loop has nothing more to do for it. */
static void stop_loop(ld_run *run, void *arg) {
    (void)arg;
    ld_loop_stop(run->plan->loop);
}

ld_status ld_run_execute(ld_run *run, ld_err *err) {
    ld_status st = ld_run_start(run, stop_loop, NULL, err);
    if (st != LD_OK)
        return st;
    /* Long-lived watchers (the capture's fd) keep the loop going: the run's
     * done call stops it. */
    return ld_loop_run(run->plan->loop, err);
}

/* --- offline: a capture file --------------------------------------------------- */

/* One offline target: the attempts to one destination port. */
typedef struct flow_group {
    uint16_t port;            /* destination port */
    const ld_hs_flow **flows; /* latest decided attempt per server address (the latest
                                 undecided one when none was decided) */
    size_t nflows;            /* how many */
} flow_group;

#define CAPTURE_MAX_TARGETS 256 /* destination ports reported from one file */

/* 1 when the flow is an attempt to what `only` names (anything without it). */
static int flow_matches(const ld_target *only, const ld_hs_flow *f) {
    if (!only)
        return 1;
    if (f->server_port != only->port)
        return 0;
    return !only->host_is_ip || ld_addr_equal(&f->server, &only->ip);
}

/* Adds f to its port's group, keeping the latest attempt per address - of
 * those the file decides (t_end is its last packet): a lone SYN at the end
 * of a capture says nothing of the address, so it must not hide an earlier
 * attempt that opened or failed. */
static ld_status group_add(flow_group *groups, size_t *ngroups, const ld_hs_flow *f, double t_end) {
    size_t g = 0;
    while (g < *ngroups && groups[g].port != f->server_port)
        g++;
    if (g == *ngroups) {
        if (*ngroups == CAPTURE_MAX_TARGETS)
            return LD_ELIMIT;
        groups[g].port = f->server_port;
        (*ngroups)++;
    }
    flow_group *gr = &groups[g];
    for (size_t i = 0; i < gr->nflows; i++) {
        if (ld_addr_equal(&gr->flows[i]->server, &f->server)) {
            int kept_undecided = ld_capture_flow_state(gr->flows[i], t_end) == LD_TCP_UNDECIDED;
            int new_undecided = ld_capture_flow_state(f, t_end) == LD_TCP_UNDECIDED;
            /* A decided attempt wins over an undecided one; else the later. */
            if ((kept_undecided && !new_undecided) ||
                (kept_undecided == new_undecided && f->first_ts >= gr->flows[i]->first_ts))
                gr->flows[i] = f;
            return LD_OK;
        }
    }
    const ld_hs_flow **n = realloc(gr->flows, (gr->nflows + 1) * sizeof *n);
    if (!n)
        return LD_ENOMEM;
    gr->flows = n;
    gr->flows[gr->nflows++] = f;
    return LD_OK;
}

/* The spec of one offline target: --target as given, else the first
 * address and the port, with how many more addresses were tried. */
static void group_spec(const flow_group *gr, const ld_target *only, ld_target_spec *spec) {
    memset(spec, 0, sizeof *spec);
    ld_target *t = &spec->target;
    ld_expect_parse(NULL, &spec->expect, NULL);
    if (only) {
        *t = *only;
        return;
    }
    char first[LD_ADDR_STRLEN];
    ld_addr_format(&gr->flows[0]->server, first);
    t->scheme = LD_SCHEME_TCP;
    t->host_is_ip = 1;
    t->ip = gr->flows[0]->server;
    t->port = gr->port;
    t->port_given = 1;
    snprintf(t->host, sizeof t->host, "%s", first);
    snprintf(t->path, sizeof t->path, "/");
    int n =
        snprintf(t->input, sizeof t->input,
                 gr->flows[0]->server.family == AF_INET6 ? "[%s]:%u" : "%s:%u", first, gr->port);
    if (gr->nflows > 1 && n > 0 && (size_t)n < sizeof t->input)
        snprintf(t->input + n, sizeof t->input - (size_t)n, " (+%zu more address%s)",
                 gr->nflows - 1, gr->nflows > 2 ? "es" : "");
}

ld_status ld_run_add_capture(ld_run *run, const ld_hs_table *flows, const ld_target *only,
                             const char *file, ld_err *err) {
    ld_status st = LD_OK;
    size_t ngroups = 0;
    flow_group *groups = calloc(CAPTURE_MAX_TARGETS, sizeof *groups);
    if (!groups)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    run->capture_file = file;
    /* What the file shows after an attempt: any flow's packets, to its end. */
    double t0 = 0, t_end = 0;
    for (size_t i = 0; i < ld_hs_count(flows); i++)
        if (ld_hs_at(flows, i)->last_ts > t_end)
            t_end = ld_hs_at(flows, i)->last_ts;
    for (size_t i = 0; i < ld_hs_count(flows); i++) {
        const ld_hs_flow *f = ld_hs_at(flows, i);
        if (f->nsyn == 0 && !f->synack_seen && !f->icmp_seen)
            continue; /* midstream traffic: no handshake to judge */
        if (!flow_matches(only, f))
            continue;
        if (t0 == 0 || f->first_ts < t0)
            t0 = f->first_ts;
        if ((st = group_add(groups, &ngroups, f, t_end)) == LD_ELIMIT) {
            st =
                ld_err_set(err, LD_ELIMIT, "attempts to more than %d ports; pick one with --target",
                           CAPTURE_MAX_TARGETS);
            goto out;
        } else if (st != LD_OK) {
            st = ld_err_set(err, st, "out of memory");
            goto out;
        }
    }
    for (size_t g = 0; g < ngroups; g++) {
        ld_target_spec spec;
        group_spec(&groups[g], only, &spec);
        target_run *tr = add_target(run, &spec, err);
        if (!tr) {
            st = LD_ENOMEM;
            goto out;
        }
        record_target_facts(run, tr, 1);
        for (size_t i = 0; i < groups[g].nflows && st == LD_OK; i++)
            st = ld_capture_attempt_from_flow(tr->facts, groups[g].flows[i], t0, t_end);
        if (st == LD_OK)
            st = ld_plan_summarize(tr->facts, &tr->spec);
        if (st != LD_OK) {
            st = ld_err_set(err, st, "out of memory");
            goto out;
        }
        tr->state = T_DONE;
    }
    run->next = run->ntargets;
out:
    for (size_t g = 0; g < ngroups; g++)
        free(groups[g].flows);
    free(groups);
    return st;
}

/* --- the host context: what the DNS probe read -------------------------------- */

/* ld_dns_hosts_entries' callback: a hosts-file line into the ld_host arg. */
static void add_hosts_line(void *arg, int number, const char *text) {
    ld_host_add_hosts_line(arg, number, text);
}

void ld_run_host_dns(const ld_run *run, ld_host *h) {
    /* The run's own reading when its probes needed one: what they asked. */
    int loaded = 0;
    for (size_t i = 0; run->started && i < run->ntargets; i++)
        loaded |= !run->targets[i].spec.target.host_is_ip;
    ld_dns_system fresh = {0};
    const ld_dns_system *sys = loaded ? &run->dns_system : &fresh;
    ld_err err;
    snprintf(h->resolv_path, sizeof h->resolv_path, "%s", LD_DNS_RESOLV_CONF);
    h->resolv_read = loaded || ld_dns_system_load(&fresh, NULL, &err) == LD_OK;
    if (!h->resolv_read)
        ld_sanitize_to(err.msg, strlen(err.msg), h->resolv_error, sizeof h->resolv_error);
    for (size_t i = 0; h->resolv_read && i < sys->nresolvers; i++) {
        char server[LD_ADDR_STRLEN + 8];
        ld_resolver_format(&sys->resolvers[i], server, sizeof server);
        ld_host_add_nameserver(h, server);
    }
    for (size_t i = 0; h->resolv_read && i < sys->ndomains; i++)
        ld_host_add_search(h, sys->domains[i]);
    char word[32];
    if (h->resolv_read && sys->ndots != 1) {
        snprintf(word, sizeof word, "ndots:%d", sys->ndots);
        ld_host_add_option(h, word);
    }
    for (unsigned bit = LD_DNS_OPT_TIMEOUT; h->resolv_read && bit <= LD_DNS_OPT_USE_VC; bit <<= 1) {
        ld_dns_option_word(sys, bit, word, sizeof word);
        if (word[0])
            ld_host_add_option(h, word);
    }
    ld_dns_system_clear(&fresh);

    /* The hosts-file lines of the targets' names (each name once). */
    const char *names[LD_HOST_LIST_MAX];
    size_t n = 0;
    for (size_t i = 0; i < run->ntargets && n < LD_HOST_LIST_MAX; i++) {
        const ld_target *t = &run->targets[i].spec.target;
        size_t k = 0;
        while (!t->host_is_ip && k < n && strcasecmp(names[k], t->host) != 0)
            k++;
        if (!t->host_is_ip && k == n)
            names[n++] = t->host;
    }
    snprintf(h->hosts_path, sizeof h->hosts_path, "%s", LD_DNS_HOSTS_FILE);
    ld_dns_hosts_entries(LD_DNS_HOSTS_FILE, names, n, LD_HOST_LIST_MAX, add_hosts_line, h);
}
