/* setup.c - the start-up steps check and serve share. */
#include "setup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Descriptors each target may hold at once: resolvers plus connects. */
#define FDS_PER_TARGET 8
#define MAX_PARALLEL   65536

/* Opens packet capture as --capture asks. Returns the exit-worthy status only
 * when capture was required (on) or the interface named does not exist; with
 * auto, a capture that cannot open leaves *cap NULL and the reason in why. */
static ld_status open_capture(const ld_opts *o, const ld_target_spec *specs, size_t n,
                              ld_capture **cap, char *why, size_t whylen, ld_err *err) {
    uint16_t ports[32];
    size_t nports = 0;
    int all_tcp = 0;
    *cap = NULL;
    if (o->capture == LD_CAPTURE_MODE_OFF) {
        snprintf(why, whylen, "turned off (--capture off)");
        return LD_OK;
    }
    for (size_t i = 0; i < n && !all_tcp; i++) {
        size_t k = 0;
        while (k < nports && ports[k] != specs[i].target.port)
            k++;
        if (k == nports && nports < sizeof ports / sizeof ports[0])
            ports[nports++] = specs[i].target.port;
        else if (k == nports)
            all_tcp = 1; /* too many ports to list: capture all TCP */
    }
    ld_capture_failure fail;
    ld_err cerr;
    if (ld_capture_open(cap, o->interface, ports, all_tcp ? 0 : nports, &fail, &cerr) == LD_OK)
        return LD_OK;
    if (fail == LD_CAPTURE_NO_INTERFACE)
        return ld_err_set(err, LD_EINVAL, "--interface %s: %s", o->interface, cerr.msg);
    if (o->capture == LD_CAPTURE_MODE_ON)
        return ld_err_set(err, LD_EINVAL, "--capture on: %s", cerr.msg);
    snprintf(why, whylen, "%s", cerr.msg);
    return LD_OK;
}

static void *capture_main(void *arg) {
    ld_cli_capture *c = arg;
    c->st = open_capture(c->o, c->specs, c->n, &c->capture, c->why, sizeof c->why, &c->err);
    return NULL;
}

void ld_cli_capture_start(ld_cli_capture *c, const ld_opts *o, const ld_target_spec *specs,
                          size_t n) {
    c->o = o;
    c->specs = specs;
    c->n = n;
    c->joinable = pthread_create(&c->thread, NULL, capture_main, c) == 0;
    if (!c->joinable) /* no thread: open it here */
        capture_main(c);
}

void ld_cli_capture_join(ld_cli_capture *c) {
    if (c->joinable)
        pthread_join(c->thread, NULL);
    c->joinable = 0;
}

size_t ld_cli_parallel_limit(void) {
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

static ld_time metadata_backoff(void) {
    const char *v = getenv("LINKDOCTOR_METADATA_BACKOFF");
    char *end = NULL;
    double s = v && *v ? strtod(v, &end) : 0.0;
    if (!v || !*v || *end || !(s > 0.0) || s > 86400.0)
        return 0;
    return (ld_time)(s * (double)LD_SEC);
}

ld_plan_config ld_cli_plan_config(const ld_opts *o, ld_time started, const ld_cli_capture *c,
                                  ld_capture *capture) {
    return (ld_plan_config){
        .started = started,
        .connect_timeout = (ld_time)(o->connect_timeout_s * (double)LD_SEC),
        .cloud_auto = o->cloud_auto,
        .cloud = o->cloud,
        .dmi_dir = getenv("LINKDOCTOR_DMI_DIR"),
        .metadata = 1, /* asked once, for every round or probe of the plan */
        .imds_endpoint = o->imds_endpoint,
        .metadata_backoff = metadata_backoff(),
        .cloud_resolver_off = o->cloud_resolver_off,
        .cloud_resolver = o->cloud_resolver_given ? &o->cloud_resolver : NULL,
        .capture = capture,
        .capture_mode = o->capture,
        .capture_unavailable = c->why,
    };
}
