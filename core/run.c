/* run.c - the plan: which probe runs after which, for every target. */
#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ifaces.h"
#include "probes/cloud.h"
#include "probes/probe.h"
#include "probes/tcp.h"

/* A probe and the config it reads, allocated together so the config
 * outlives the probe. */
typedef struct probe_slot {
    ld_probe probe;              /* the instance */
    struct target_run *tr;       /* its target */
    ld_capture_watch watch;      /* tcp: the capture's view of this attempt */
    int have_tuple;              /* tcp: watch holds the attempt's addresses */
    union {
        ld_dns_config dns;       /* when probe.ops == &ld_probe_dns */
        ld_tcp_config tcp;       /* when probe.ops == &ld_probe_tcp */
    } cfg;
} probe_slot;

/* An address some probe connects to, and why. */
typedef struct addr_entry {
    ld_addr addr;                /* the address */
    unsigned origin;             /* LD_ORIGIN_* bits */
} addr_entry;

enum target_state { T_PENDING, T_RUNNING, T_DONE };

#define TARGET_MAX_ADDRS 64      /* connects per target (endpoint IPs + answers) */
#define TARGET_MAX_PROBES (TARGET_MAX_ADDRS + 1)

/* The state of one target. */
typedef struct target_run {
    ld_run *run;                          /* owner */
    size_t idx;                           /* position in the run */
    ld_target_spec spec;                  /* what to check */
    ld_facts *facts;                      /* what was seen */
    enum target_state state;              /* pending, running, done */
    probe_slot *active[TARGET_MAX_PROBES];/* probes not yet finished */
    size_t nactive;                       /* how many */
    addr_entry addrs[TARGET_MAX_ADDRS];   /* addresses connected to */
    size_t naddrs;                        /* how many */
    ld_time started;                      /* when it started */
    ld_time ended;                        /* when it finished */
} target_run;

struct ld_run {
    ld_run_config cfg;                    /* options */
    ld_loop *loop;                        /* the one loop */
    target_run *targets;                  /* all targets */
    size_t ntargets;                      /* how many */
    size_t cap;                           /* allocated */
    size_t next;                          /* next target to start */
    size_t running;                       /* targets started, not done */
    int deadline_passed;                  /* --timeout fired */
    ld_timer deadline;                    /* --timeout */
    ld_ifaces ifaces;                     /* local addresses */
    ld_dns_system dns_system;             /* resolv.conf */
    ld_resolver resolvers[2 * LD_DNS_MAX_RESOLVERS]; /* system, then --dns-server */
    size_t nresolvers;                    /* how many */
    char cloud[16];                       /* cloud.provider */
    const char *cloud_source;             /* cloud.provider_source */
};

static void trace(ld_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(ld_run *run, const char *fmt, ...) {
    if (!run->cfg.trace)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    run->cfg.trace(run->cfg.trace_arg, (double)(ld_time_now() - run->cfg.started) / (double)LD_MS,
                   line);
}

ld_run *ld_run_create(const ld_run_config *cfg, ld_err *err) {
    ld_run *run = calloc(1, sizeof *run);
    if (!run) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    run->cfg = *cfg;
    if (run->cfg.max_parallel == 0)
        run->cfg.max_parallel = 1;
    run->deadline.heap_idx = SIZE_MAX;
    return run;
}

void ld_run_free(ld_run *run) {
    if (!run)
        return;
    for (size_t i = 0; i < run->ntargets; i++)
        ld_facts_free(run->targets[i].facts);
    free(run->targets);
    ld_ifaces_clear(&run->ifaces);
    ld_dns_system_clear(&run->dns_system);
    ld_loop_destroy(run->loop);
    free(run);
}

ld_status ld_run_add(ld_run *run, const ld_target_spec *spec, ld_err *err) {
    if (run->ntargets == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 8;
        target_run *t = realloc(run->targets, cap * sizeof *t);
        if (!t)
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        run->targets = t;
        run->cap = cap;
    }
    target_run *tr = &run->targets[run->ntargets];
    memset(tr, 0, sizeof *tr);
    tr->facts = ld_facts_create();
    if (!tr->facts)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    tr->run = run;
    tr->idx = run->ntargets;
    tr->spec = *spec;
    tr->state = T_PENDING;
    run->ntargets++;
    return LD_OK;
}

size_t ld_run_count(const ld_run *run) {
    return run->ntargets;
}

const ld_target_spec *ld_run_spec(const ld_run *run, size_t i) {
    return &run->targets[i].spec;
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

static void record_target_facts(ld_run *run, target_run *tr, int checked) {
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
    if (run->cloud[0]) {
        ld_bag_set_str(t, LD_F_CLOUD_PROVIDER, run->cloud);
        ld_bag_set_str(t, LD_F_CLOUD_PROVIDER_SOURCE, run->cloud_source);
    }
    const ld_run_config *c = &run->cfg;
    ld_bag_set_str(t, LD_F_CAPTURE_MODE, c->capture_mode ? c->capture_mode : "off");
    ld_bag_set_bool(t, LD_F_CAPTURE_AVAILABLE, c->capture != NULL);
    if (c->capture) {
        ld_bag_set_str(t, LD_F_CAPTURE_SOURCE, "live");
        ld_bag_set_str(t, LD_F_CAPTURE_INTERFACE, ld_capture_interface(c->capture));
    } else {
        ld_bag_set_str(t, LD_F_CAPTURE_UNAVAILABLE_REASON,
                       c->capture_unavailable ? c->capture_unavailable : "turned off");
    }
}

/* --- probes ------------------------------------------------------------------ */

static void target_done(target_run *tr);
static void start_pending(ld_run *run);

static void probe_done(ld_probe *p);

/* The capture proved an attempt's SYNs unanswered: end it now rather than
 * at --connect-timeout. */
static void attempt_unanswered(ld_capture_watch *w) {
    probe_slot *slot = w->data;
    ld_tcp_conclude_unanswered(&slot->probe);
}

/* Starts the capture's watch of a TCP attempt whose SYN has left. */
static void watch_attempt(ld_run *run, probe_slot *slot) {
    ld_capture_watch *w = &slot->watch;
    if (!run->cfg.capture || ld_tcp_local(&slot->probe, &w->client, &w->client_port) != LD_OK)
        return;
    w->server = slot->cfg.tcp.addr;
    w->server_port = slot->cfg.tcp.port;
    w->unanswered = attempt_unanswered;
    w->absence_proves =
        ld_capture_covers(run->cfg.capture, ld_ifaces_name_of(&run->ifaces, &w->client));
    w->data = slot;
    w->grace.heap_idx = SIZE_MAX;
    slot->have_tuple = 1;
    if (!slot->probe.finished)
        ld_capture_watch_start(run->cfg.capture, w);
}

/* Adds what the capture saw of an ended TCP attempt to its evidence. */
static void record_capture(ld_run *run, probe_slot *slot) {
    ld_capture *cap = run->cfg.capture;
    ld_capture_watch_stop(&slot->watch);
    if (!cap || !slot->have_tuple)
        return;
    char key[LD_ADDR_STRLEN];
    ld_addr_format(&slot->cfg.tcp.addr, key);
    ld_bag *a = ld_facts_subject(slot->tr->facts, "tcp", key);
    if (!a)
        return;
    ld_capture_drain(cap); /* packets of the attempt's last moments */
    slot->watch.cap = cap;
    /* Absence of the SYN proves something only where the capture looks. */
    int blind = ld_capture_lossy(cap) || !slot->watch.absence_proves;
    ld_capture_record_attempt(a, ld_capture_watch_flow(&slot->watch), blind);
}

/* Starts a probe of ops with slot->cfg already filled. */
static void launch(target_run *tr, probe_slot *slot, const ld_probe_ops *ops) {
    ld_run *run = tr->run;
    ld_probe *p = &slot->probe;
    slot->tr = tr;
    p->ops = ops;
    p->config = ops == &ld_probe_dns ? (const void *)&slot->cfg.dns : (const void *)&slot->cfg.tcp;
    p->loop = run->loop;
    p->facts = tr->facts;
    p->run_started = run->cfg.started;
    p->deadline_at = ld_time_now() + run->cfg.connect_timeout;
    p->done = probe_done;
    p->owner = slot;
    p->deadline.heap_idx = SIZE_MAX;
    tr->active[tr->nactive++] = slot;
    ld_err err;
    if (ld_probe_start(p, &err) != LD_OK)
        trace(run, "%s: %s probe could not start: %s", tr->spec.target.input, ops->name, err.msg);
    else if (ops == &ld_probe_tcp)
        watch_attempt(run, slot);
}

/* Adds addr to the target's address list (merging origins) and connects to
 * it when it is new. */
static void connect_to(target_run *tr, const ld_addr *addr, unsigned origin) {
    ld_run *run = tr->run;
    for (size_t i = 0; i < tr->naddrs; i++) {
        if (ld_addr_equal(&tr->addrs[i].addr, addr)) {
            tr->addrs[i].origin |= origin;
            return; /* already being probed; the origin shows in its facts */
        }
    }
    if (tr->naddrs >= TARGET_MAX_ADDRS || tr->nactive >= TARGET_MAX_PROBES)
        return;
    addr_entry *e = &tr->addrs[tr->naddrs++];
    e->addr = *addr;
    e->origin = origin;
    probe_slot *slot = calloc(1, sizeof *slot);
    if (!slot)
        return;
    ld_tcp_config *c = &slot->cfg.tcp;
    c->addr = *addr;
    c->port = tr->spec.target.port;
    c->origin = origin;
    /* Expected addresses: the endpoint IPs when given, else what the
     * application resolves (see facts.def). */
    c->expected = tr->spec.nendpoint_ips ? (origin & (LD_ORIGIN_ENDPOINT | LD_ORIGIN_LITERAL)) != 0
                                         : 1;
    c->ifaces = &run->ifaces;
    launch(tr, slot, &ld_probe_tcp);
}

/* Reads the addresses the application would use from the DNS facts and
 * connects to them: /etc/hosts when it has the name, else DNS. */
static void connect_to_answer(target_run *tr) {
    const ld_value *hosts = ld_facts_get(tr->facts, LD_F_DNS_HOSTS_OVERRIDE);
    int use_hosts = hosts && hosts->u.b;
    const ld_value *list =
        ld_facts_get(tr->facts, use_hosts ? LD_F_DNS_HOSTS_ADDRESSES : LD_F_DNS_ADDRESSES);
    unsigned origin = use_hosts ? LD_ORIGIN_HOSTS : LD_ORIGIN_DNS;
    ld_bag *t = ld_facts_target(tr->facts);
    ld_bag_set_empty_list(t, LD_F_TCP_SKIPPED_ADDRESSES);
    for (size_t i = 0; list && list->type == LD_T_LIST && i < list->u.list.len; i++) {
        ld_addr a;
        if (ld_addr_parse(list->u.list.items[i], &a, NULL) != LD_OK)
            continue;
        int endpoint = 0;
        for (size_t k = 0; k < tr->spec.nendpoint_ips; k++)
            endpoint |= ld_addr_equal(&a, &tr->spec.endpoint_ips[k]);
        if (!endpoint && ld_addr_scope_of(&a) != LD_AS_LOOPBACK &&
            !ld_ifaces_family_usable(&tr->run->ifaces, a.family)) {
            ld_bag_list_add(t, LD_F_TCP_SKIPPED_ADDRESSES, list->u.list.items[i]);
            continue;
        }
        connect_to(tr, &a, origin);
    }
}

static void probe_done(ld_probe *p) {
    probe_slot *slot = p->owner;
    target_run *tr = slot->tr;
    ld_run *run = tr->run;
    trace(run, "%s: %s ended (%s) after %.1f ms", tr->spec.target.input, p->ops->name,
          ld_probe_end_name(p->end), (double)(p->ended - p->started) / (double)LD_MS);
    int was_dns = p->ops == &ld_probe_dns;
    if (p->ops == &ld_probe_tcp)
        record_capture(run, slot);
    p->ops->destroy(p);
    for (size_t i = 0; i < tr->nactive; i++) {
        if (tr->active[i] == slot) {
            tr->active[i] = tr->active[--tr->nactive];
            break;
        }
    }
    free(slot);
    if (was_dns && !run->deadline_passed)
        connect_to_answer(tr);
    if (tr->nactive == 0)
        target_done(tr);
}

/* --- targets ------------------------------------------------------------------ */

static void start_target(ld_run *run, target_run *tr) {
    tr->state = T_RUNNING;
    tr->started = ld_time_now();
    run->running++;
    record_target_facts(run, tr, 1);
    trace(run, "%s: started", tr->spec.target.input);

    for (size_t i = 0; i < tr->spec.nendpoint_ips; i++)
        connect_to(tr, &tr->spec.endpoint_ips[i], LD_ORIGIN_ENDPOINT);
    if (tr->spec.target.host_is_ip) {
        connect_to(tr, &tr->spec.target.ip, LD_ORIGIN_LITERAL);
    } else {
        probe_slot *slot = calloc(1, sizeof *slot);
        if (slot) {
            ld_dns_config *c = &slot->cfg.dns;
            c->name = tr->spec.target.host;
            c->resolvers = run->resolvers;
            c->nresolvers = run->nresolvers;
            c->system = &run->dns_system;
            c->endpoint_ips = tr->spec.endpoint_ips;
            c->nendpoint_ips = tr->spec.nendpoint_ips;
            c->query_timeout = run->cfg.connect_timeout;
            launch(tr, slot, &ld_probe_dns);
        }
    }
    if (tr->nactive == 0)
        target_done(tr);
}

static void target_done(target_run *tr) {
    ld_run *run = tr->run;
    if (tr->state == T_DONE)
        return;
    ld_capture_summarize(tr->facts);
    for (const ld_probe_ops *const *ops = ld_probe_registry; *ops; ops++)
        if ((*ops)->summarize)
            (*ops)->summarize(tr->facts);
    tr->state = T_DONE;
    tr->ended = ld_time_now();
    run->running--;
    trace(run, "%s: done in %.1f ms", tr->spec.target.input,
          (double)(tr->ended - tr->started) / (double)LD_MS);
    start_pending(run);
    if (run->running == 0 && (run->next >= run->ntargets || run->deadline_passed)) {
        /* Nothing left to check. Long-lived watchers (the capture's fd) would
         * keep the loop waiting: end it explicitly. */
        ld_timer_stop(&run->deadline);
        ld_loop_stop(run->loop);
    }
}

static void start_pending(ld_run *run) {
    while (!run->deadline_passed && run->next < run->ntargets &&
           run->running < run->cfg.max_parallel) {
        target_run *tr = &run->targets[run->next++];
        start_target(run, tr);
    }
}

static void deadline_cb(ld_timer *t) {
    ld_run *run = t->data;
    run->deadline_passed = 1;
    trace(run, "--timeout reached: cancelling what is still running");
    for (size_t i = 0; i < run->ntargets; i++) {
        target_run *tr = &run->targets[i];
        /* Cancelling finishes each probe; its done call comes deferred. */
        for (size_t k = 0; tr->state == T_RUNNING && k < tr->nactive; k++)
            ld_probe_cancel(&tr->active[k]->probe);
    }
}

/* Decides cloud.provider once for the run. */
static void decide_cloud(ld_run *run) {
    const char *c = run->cfg.cloud ? run->cfg.cloud : "auto";
    if (strcmp(c, "auto") == 0) {
        ld_cloud cl = ld_cloud_detect_dmi(run->cfg.dmi_dir ? run->cfg.dmi_dir : "/sys/class/dmi/id");
        snprintf(run->cloud, sizeof run->cloud, "%s",
                 cl == LD_CLOUD_GENERIC ? "none" : ld_cloud_name(cl));
        run->cloud_source = "dmi";
    } else {
        snprintf(run->cloud, sizeof run->cloud, "%s", c);
        run->cloud_source = "option";
    }
}

ld_status ld_run_execute(ld_run *run, ld_err *err) {
    ld_status st;
    run->loop = ld_loop_create(err);
    if (!run->loop)
        return LD_ESYS;
    if ((st = ld_ifaces_load(&run->ifaces, err)) != LD_OK)
        return st;
    int need_dns = 0;
    for (size_t i = 0; i < run->ntargets; i++)
        need_dns |= !run->targets[i].spec.target.host_is_ip;
    if (need_dns) {
        if ((st = ld_dns_system_load(&run->dns_system, err)) != LD_OK)
            return st;
        for (size_t i = 0; i < run->dns_system.nresolvers; i++)
            run->resolvers[run->nresolvers++] = run->dns_system.resolvers[i];
        for (size_t i = 0; i < run->cfg.ndns_servers && i < LD_DNS_MAX_RESOLVERS; i++) {
            run->resolvers[run->nresolvers] = run->cfg.dns_servers[i];
            run->resolvers[run->nresolvers++].system = 0;
        }
    }
    decide_cloud(run);
    if (run->cfg.capture && (st = ld_capture_attach(run->cfg.capture, run->loop, err)) != LD_OK)
        return st;

    ld_timer_start(run->loop, &run->deadline, run->cfg.started + run->cfg.timeout, deadline_cb,
                   run);
    start_pending(run);
    st = ld_loop_run(run->loop, err);
    for (size_t i = 0; i < run->ntargets; i++)
        if (run->targets[i].state == T_PENDING)
            record_target_facts(run, &run->targets[i], 0);
    return st;
}
