/* run.c - the plan: which probe runs after which, for every target. */
#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ifaces.h"
#include "probes/cloud.h"
#include "probes/probe.h"
#include "probes/http.h"
#include "probes/mqtt.h"
#include "probes/redis.h"
#include "probes/tcp.h"
#include "probes/tls.h"

/* A probe and the config it reads, allocated together so the config
 * outlives the probe. */
typedef struct probe_slot {
    ld_probe probe;              /* the instance */
    struct target_run *tr;       /* its target */
    ld_capture_watch watch;      /* tcp: the capture's view of this attempt */
    int have_tuple;              /* tcp: watch holds the attempt's addresses */
    union {
        ld_dns_config dns;       /* when probe.ops == &ld_probe_dns */
        ld_tcp_config tcp;       /* ... &ld_probe_tcp */
        ld_tls_config tls;       /* ... &ld_probe_tls */
        ld_http_config http;     /* ... &ld_probe_http */
        ld_reqrep_config reqrep; /* ... &ld_probe_redis or &ld_probe_mqtt */
    } cfg;                       /* the config of the probe */
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
    if (tg->scheme == LD_SCHEME_HTTP || tg->scheme == LD_SCHEME_HTTPS) {
        ld_bag_set_str(t, LD_F_TARGET_PATH, tg->path);
        const ld_expect_status *e = &tr->spec.expect;
        ld_bag_set_str(t, LD_F_HTTP_EXPECTED_STATUS, e->n > 0 ? e->text : "any");
        /* What an application honouring the environment would do: known
         * before, and whatever, the probes find. */
        ld_proxy_decision d =
            ld_proxy_for(run->cfg.proxy_env, tg->scheme == LD_SCHEME_HTTPS ? "https" : "http",
                         tg->host);
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
    p->config = &slot->cfg; /* every member of the union starts there */
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
    /* A TLS or application probe continues on the connection; HTTP makes its own. */
    ld_scheme sc = tr->spec.target.scheme;
    c->keep = c->expected && sc != LD_SCHEME_TCP && sc != LD_SCHEME_HTTP;
    launch(tr, slot, &ld_probe_tcp);
}

/* --- the layers above TCP ---------------------------------------------------- */

/* Starts the application probe of the target's scheme on stream (owned). */
static void launch_app(target_run *tr, const ld_addr *addr, ld_stream stream) {
    ld_scheme sc = tr->spec.target.scheme;
    int redis = sc == LD_SCHEME_REDIS || sc == LD_SCHEME_REDISS;
    int mqtt = sc == LD_SCHEME_MQTT || sc == LD_SCHEME_MQTTS;
    probe_slot *slot = (redis || mqtt) && tr->nactive < TARGET_MAX_PROBES ? calloc(1, sizeof *slot)
                                                                          : NULL;
    if (!slot) {
        ld_stream_close(&stream);
        return;
    }
    slot->cfg.reqrep.stream = stream;
    slot->cfg.reqrep.addr = *addr;
    launch(tr, slot, redis ? &ld_probe_redis : &ld_probe_mqtt);
}

/* Starts the TLS probe on fd (owned); keep hands the connection on. */
static void launch_tls(target_run *tr, const ld_addr *addr, int fd, int keep) {
    ld_run *run = tr->run;
    probe_slot *slot = run->cfg.tls_ctx && tr->nactive < TARGET_MAX_PROBES ? calloc(1, sizeof *slot)
                                                                           : NULL;
    if (!slot) {
        close(fd);
        return;
    }
    ld_tls_config *c = &slot->cfg.tls;
    c->fd = fd;
    c->addr = *addr;
    c->host = tr->spec.target.host;
    c->sni = run->cfg.sni;
    c->alpn = tr->spec.target.scheme == LD_SCHEME_HTTPS ? "h2,http/1.1" : NULL;
    c->ctx = run->cfg.tls_ctx;
    c->warn_days = run->cfg.cert_warn_days;
    c->keep = keep;
    launch(tr, slot, &ld_probe_tls);
}

/* Starts the HTTP probe for one address; it makes its own connection. */
static void launch_http(target_run *tr, const ld_addr *addr) {
    ld_run *run = tr->run;
    if (tr->nactive >= TARGET_MAX_PROBES)
        return;
    probe_slot *slot = calloc(1, sizeof *slot);
    if (!slot)
        return;
    ld_http_config *c = &slot->cfg.http;
    c->https = tr->spec.target.scheme == LD_SCHEME_HTTPS;
    c->host = tr->spec.target.host;
    c->port = tr->spec.target.port;
    c->path = tr->spec.target.path;
    c->addr = *addr;
    c->sni = run->cfg.sni;
    c->expect = &tr->spec.expect;
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
    int64_t skipped = 0, usable = 0;
    for (size_t i = 0; list && list->type == LD_T_LIST && i < list->u.list.len; i++) {
        ld_addr a;
        if (ld_addr_parse(list->u.list.items[i], &a, NULL) != LD_OK)
            continue;
        int endpoint = 0;
        for (size_t k = 0; k < tr->spec.nendpoint_ips; k++)
            endpoint |= ld_addr_equal(&a, &tr->spec.endpoint_ips[k]);
        if (ld_addr_scope_of(&a) != LD_AS_LOOPBACK &&
            !ld_ifaces_family_usable(&tr->run->ifaces, a.family)) {
            /* An application resolving the name would not get this address
             * (AI_ADDRCONFIG); an --endpoint-ip one is still tried. */
            if (!endpoint) {
                ld_bag_list_add(t, LD_F_TCP_SKIPPED_ADDRESSES, list->u.list.items[i]);
                skipped++;
                continue;
            }
        } else {
            usable++;
        }
        connect_to(tr, &a, origin);
    }
    ld_bag_set_int(t, LD_F_TCP_SKIPPED_COUNT, skipped);
    ld_bag_set_int(t, LD_F_TCP_ANSWER_USABLE_COUNT, usable);
}

/* 1 when the TCP attempt to addr ended open. */
static int attempt_open(target_run *tr, const ld_addr *addr) {
    char key[LD_ADDR_STRLEN];
    ld_addr_format(addr, key);
    ld_bag *b = ld_facts_subject(tr->facts, "tcp", key);
    const ld_value *st = b ? ld_bag_get(b, LD_F_TCP_A_STATE) : NULL;
    return st && strcmp(st->u.s, "open") == 0;
}

static void probe_done(ld_probe *p) {
    probe_slot *slot = p->owner;
    target_run *tr = slot->tr;
    ld_run *run = tr->run;
    trace(run, "%s: %s ended (%s) after %.1f ms", tr->spec.target.input, p->ops->name,
          ld_probe_end_name(p->end), (double)(p->ended - p->started) / (double)LD_MS);
    int was_dns = p->ops == &ld_probe_dns;
    /* What continues after this probe: an opened address, a kept connection. */
    int opened = 0, tls_done = p->ops == &ld_probe_tls;
    ld_stream kept = LD_STREAM_NONE;
    ld_addr addr;
    memset(&addr, 0, sizeof addr);
    if (p->ops == &ld_probe_tcp) {
        record_capture(run, slot);
        addr = slot->cfg.tcp.addr;
        opened = slot->cfg.tcp.expected && attempt_open(tr, &addr);
        kept.fd = ld_tcp_take(p);
    } else if (tls_done) {
        addr = slot->cfg.tls.addr;
        kept = ld_tls_take(p);
    }
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
