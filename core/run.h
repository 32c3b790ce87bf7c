/* run.h - one run: many targets, their probes, one loop, one deadline.
 *
 * The plan per target: DNS for a host name and a direct connect to every
 * --endpoint-ip start at once (so "network fine, DNS broken" is told apart
 * from "network broken"); connects to the addresses the application would
 * use follow DNS. Targets run concurrently up to a cap. When --timeout
 * passes, every probe still running is cancelled and records what it knows.
 * The run produces facts per target; rules and reports come after.
 */
#ifndef LD_RUN_H
#define LD_RUN_H

#include <stddef.h>

#include "core/addr.h"
#include "core/expect.h"
#include "core/proxy.h"
#include "core/err.h"
#include "core/facts.h"
#include "core/loop.h"
#include "core/target.h"
#include "probes/capture.h"
#include "probes/dns.h"

#define LD_ENDPOINT_IPS_MAX 16 /* most --endpoint-ip addresses per target */

/* Progress callback for -v: ms since the run started and one line of text. */
typedef void (*ld_trace_cb)(void *arg, double ms, const char *line);

/* Run options, parsed once and passed down const. */
typedef struct ld_run_config {
    ld_time started;                 /* when the process started (monotonic) */
    ld_time timeout;                 /* --timeout: the whole run */
    ld_time connect_timeout;         /* --connect-timeout: each DNS query and connect */
    const ld_resolver *dns_servers;  /* --dns-server, in order */
    size_t ndns_servers;             /* how many */
    const char *cloud;               /* --cloud: auto, aws, gcp, azure or none */
    const char *dmi_dir;             /* where DMI strings are read for --cloud auto */
    size_t max_parallel;             /* targets checked at the same time */
    ld_capture *capture;             /* open packet capture, NULL when there is none */
    const char *capture_mode;        /* --capture: auto, on or off */
    const char *capture_unavailable; /* why capture is NULL (recorded as a fact) */
    struct ssl_ctx_st *tls_ctx;      /* client TLS context (trust store), NULL: no TLS targets */
    const char *sni;                 /* --sni, NULL for the host name */
    int cert_warn_days;              /* --cert-warn-days */
    const ld_proxy_env *proxy_env;   /* the environment's proxy settings */
    ld_trace_cb trace;               /* -v progress, NULL for none */
    void *trace_arg;                 /* passed to trace */
} ld_run_config;

/* One target and what the user expects of it. */
typedef struct ld_target_spec {
    ld_target target;                              /* where */
    ld_addr endpoint_ips[LD_ENDPOINT_IPS_MAX];     /* --endpoint-ip */
    size_t nendpoint_ips;                          /* how many */
    ld_expect_status expect;                       /* expected HTTP statuses */
    char profile[32];                              /* --profile that preset it, "" for none */
} ld_target_spec;

typedef struct ld_run ld_run;

/* Creates a run; cfg is copied (pointed-to arrays must outlive the run). */
ld_run *ld_run_create(const ld_run_config *cfg, ld_err *err);
/* Frees the run and every target's facts; NULL is harmless. */
void ld_run_free(ld_run *run);
/* Queues a target (copied). */
ld_status ld_run_add(ld_run *run, const ld_target_spec *spec, ld_err *err);
/* Checks every target; returns when all are done or the deadline passed. */
ld_status ld_run_execute(ld_run *run, ld_err *err);

size_t ld_run_count(const ld_run *run);
const ld_target_spec *ld_run_spec(const ld_run *run, size_t i);
/* The facts of target i (valid until ld_run_free). */
const ld_facts *ld_run_facts(const ld_run *run, size_t i);
/* Milliseconds target i took, 0 when it never started. */
double ld_run_target_ms(const ld_run *run, size_t i);

#endif
