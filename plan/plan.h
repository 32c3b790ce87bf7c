/* plan.h - the plan: from targets to facts, for every entry point.
 *
 * The layer between the probes and the front ends. `check`, `analyze`,
 * `--watch` and `serve` all create runs here, and every target's facts are
 * completed by one function (ld_plan_summarize), so that a capture replayed
 * offline and a live run cannot drift apart.
 *
 *   ld_plan   what lives as long as the process: the one event loop, the
 *             packet capture attached to it, the trust store, the cloud, the
 *             run-wide options. One per process; runs come and go on it.
 *   ld_run    one round: targets, their facts, one deadline. Several may be
 *             in flight on one plan at once (serve), or one after the other
 *             (--watch).
 *
 * Per live target: DNS (for a host name) and a direct connect to every
 * --endpoint-ip start at once, so "network fine, DNS broken" is told apart
 * from "network broken"; connects to the addresses the application would use
 * follow DNS; TLS follows an open connection for TLS schemes; the
 * application check (HTTP, Redis, MQTT) follows TLS or TCP. The plan asks
 * the probes typed questions (which addresses DNS gave, how a connect
 * ended) and weighs the packet capture's view of each attempt before its
 * state is recorded. When the run's deadline passes, every probe still
 * running is cancelled and records what it knows.
 *
 * The cloud: decided once per plan from --cloud or DMI. When it is known,
 * each target's DNS probe also asks the cloud's own resolver, and the plan
 * asks the instance metadata service once (the first run that starts asks,
 * later runs reuse the answer; a failure only until its back-off has
 * passed) and records its cloud.* facts for every
 * target when the run ends (see the comment at plan_metadata in plan.c).
 *
 * Layering: core <- probes <- plan. Nothing here knows rules or reports.
 */
#ifndef LD_PLAN_H
#define LD_PLAN_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "core/cloud.h"
#include "core/err.h"
#include "core/facts.h"
#include "core/host.h"
#include "core/loop.h"
#include "core/names.h"
#include "core/proxy.h"
#include "core/range.h"
#include "core/spec.h"
#include "probes/capture.h"
#include "probes/handshake.h"

/* Progress callback for -v: ms since the process started and one line. */
typedef void (*ld_trace_cb)(void *arg, double ms, const char *line);

/* --warning / --critical: thresholds on how long a target's checks take. */
typedef struct ld_plan_thresholds {
    const ld_range *connect_warning;  /* on the fastest connect (seconds), NULL: none */
    const ld_range *connect_critical; /* ... */
    const ld_range *total_warning;    /* on the target's whole check (seconds), NULL: none */
    const ld_range *total_critical;   /* ... */
} ld_plan_thresholds;

/* What every run of the plan shares; parsed once, passed down const. */
typedef struct ld_plan_config {
    ld_time started;           /* when the process started (timeline origin) */
    ld_time connect_timeout;   /* deadline of each probe step: a DNS query, a
                                  connect, a TLS handshake, an HTTP request, a
                                  Redis or MQTT reply (--connect-timeout) */
    int cloud_auto;            /* decide the cloud from DMI (--cloud auto) */
    ld_cloud cloud;            /* else this one (--cloud aws|gcp|azure|none) */
    const char *dmi_dir;       /* where DMI strings are read, NULL: /sys/class/dmi/id */
    int metadata;              /* ask the instance metadata service when the cloud is
                                  known (check does; analyze never: a file's host is
                                  not this one) */
    const char *imds_endpoint; /* its base URL (--imds-endpoint), NULL: the provider's */
    ld_time metadata_timeout;  /* its own deadline, never past a run's; 0:
                                  LD_PLAN_METADATA_TIMEOUT */
    ld_time metadata_backoff;  /* the wait before asking again after its first
                                  failure (doubling after each one, up to
                                  LD_PLAN_METADATA_BACKOFF_MAX); 0:
                                  LD_PLAN_METADATA_BACKOFF */
    int cloud_resolver_off;    /* --cloud-resolver none: the cloud's resolver is not asked */
    const ld_resolver *cloud_resolver; /* --cloud-resolver IP[:PORT], NULL: the provider's */
    ld_capture *capture;               /* open packet capture, NULL when there is none; the
                                          plan attaches it to its loop, the caller frees it */
    ld_capture_mode capture_mode;      /* --capture */
    const char *capture_unavailable;   /* why capture is NULL (recorded as a fact) */
    SSL_CTX *tls_ctx;                  /* client TLS context (trust store), NULL: no TLS */
    const ld_proxy_env *proxy_env;     /* the environment's proxy settings */
    const ld_names *names;             /* the name patterns the DNS probe reads the target's
                                          name and CNAME chain with (core/names.h), NULL:
                                          names are not read */
    size_t max_parallel;               /* targets of one run checked at the same time */
    ld_plan_thresholds thresholds;     /* --warning / --critical */
    ld_trace_cb trace;                 /* -v progress, NULL for none */
    void *trace_arg;                   /* passed to trace */
} ld_plan_config;

/* How long the metadata service may take: it answers in milliseconds on
 * the instance it serves, so a second tells "not there" without delaying a
 * check much. */
#define LD_PLAN_METADATA_TIMEOUT LD_SEC
/* After a failure (refused, turned off, no answer), serve and --watch ask
 * again a minute later, then after 2, 4, 8 and at most every 10 minutes; an
 * answer is kept for the life of the process. */
#define LD_PLAN_METADATA_BACKOFF     (60 * LD_SEC)
#define LD_PLAN_METADATA_BACKOFF_MAX (600 * LD_SEC)

typedef struct ld_plan ld_plan;
typedef struct ld_run ld_run;

/* Creates the plan: its loop, the capture attached to it, the cloud decided.
 * cfg is copied; what it points to must outlive the plan. */
ld_plan *ld_plan_create(const ld_plan_config *cfg, ld_err *err);
/* Frees the plan and its loop (not the capture, not the TLS context). Every
 * run must be freed first. NULL is harmless. */
void ld_plan_free(ld_plan *plan);
/* The plan's event loop, for other watchers (a server, signals). */
ld_loop *ld_plan_loop(ld_plan *plan);
/* The plan's packet capture, NULL when there is none. */
ld_capture *ld_plan_capture(const ld_plan *plan);
/* The cloud the plan decided, and how ("dmi" or "option"; a run's facts say
 * "metadata" once the metadata service confirmed DMI's guess). */
ld_cloud ld_plan_cloud(const ld_plan *plan, const char **source);

/* Called once when every target of a run is done (deferred, in the loop). */
typedef void (*ld_run_done_cb)(ld_run *run, void *arg);

/* Creates an empty run on plan that ends by the absolute time deadline. */
ld_run *ld_run_create(ld_plan *plan, ld_time deadline, ld_err *err);
/* Frees the run and every target's facts; a run in flight is cancelled
 * first. NULL is harmless. */
void ld_run_free(ld_run *run);
/* Queues a target (copied). */
ld_status ld_run_add(ld_run *run, const ld_target_spec *spec, ld_err *err);
/* Starts checking the queued targets; done is called once all are done or
 * the deadline passed. Returns at once. */
ld_status ld_run_start(ld_run *run, ld_run_done_cb done, void *arg, ld_err *err);
/* ld_run_start, then runs the plan's loop until this run is done. */
ld_status ld_run_execute(ld_run *run, ld_err *err);
/* Offline: one target per destination port of the connection attempts in
 * flows (or only the attempts to what `only` names, when not NULL), each
 * finished at once like a live one, its capture facts naming file. */
ld_status ld_run_add_capture(ld_run *run, const ld_hs_table *flows, const ld_target *only,
                             const char *file, ld_err *err);

/* Targets in the run, in the order added. */
size_t ld_run_count(const ld_run *run);
/* The facts of target i (valid until ld_run_free). */
const ld_facts *ld_run_facts(const ld_run *run, size_t i);
/* Milliseconds target i took, 0 when it never started. */
double ld_run_target_ms(const ld_run *run, size_t i);

/* Adds to h what the run's DNS probes read of this host: the resolver
 * configuration (resolv.conf: nameservers, search list, options, as glibc
 * applies them) and the hosts-file lines that name its targets. The run's
 * own reading when it made one, else a fresh one; nothing is sent. */
void ld_run_host_dns(const ld_run *run, ld_host *h);

/* Completes a target's facts once its probes are done: the capture's counts,
 * then every probe's summary, in registry order. The one place a target is
 * finished, live or offline. */
ld_status ld_plan_summarize(ld_facts *facts, const ld_target_spec *spec);

#endif
