/* setup.h - the start-up steps `check` and `serve` share: opening the packet
 * capture beside the rest of the start-up, and how many targets may be in
 * flight within the process's descriptor limit. */
#ifndef LD_CLI_SETUP_H
#define LD_CLI_SETUP_H

#include <pthread.h>
#include <stddef.h>

#include "cli/options.h"
#include "core/loop.h"
#include "core/spec.h"
#include "plan/plan.h"
#include "probes/capture.h"

/* Opening a capture makes the kernel wait for an RCU grace period (5-30 ms,
 * see ld_capture_open): a helper thread opens it while this one loads the
 * rules and the TLS context. It is joined before the plan is built, so no
 * probe starts and no privilege is dropped before the capture is open; the
 * event loop itself stays on this thread. */
typedef struct ld_cli_capture {
    const ld_opts *o;            /* the options it opens for (--capture, --interface) */
    const ld_target_spec *specs; /* the targets whose ports it filters on ... */
    size_t n;                    /* ... how many (0: every TCP port, as serve needs) */
    pthread_t thread;            /* the helper, while `joinable` */
    int joinable;                /* 1 until joined */
    ld_status st;                /* the opening's result ... */
    ld_capture *capture;         /* ... the capture (owned until handed over) ... */
    char why[LD_ERR_MAX];        /* ... why there is none, with auto ... */
    ld_err err;                  /* ... and the error that ends the run */
} ld_cli_capture;

/* Starts opening the capture as --capture asks: an error only when capture
 * was required (on) or the interface named does not exist; with auto, a
 * capture that cannot open leaves `capture` NULL and the reason in `why`. */
void ld_cli_capture_start(ld_cli_capture *c, const ld_opts *o, const ld_target_spec *specs,
                          size_t n);
/* Waits for the opening to end; harmless when not started or joined. */
void ld_cli_capture_join(ld_cli_capture *c);

/* Raises the open-file limit to the hard limit and returns how many targets
 * may run at once within it. */
size_t ld_cli_parallel_limit(void);

/* The plan settings `check` and `serve` take alike from their options and
 * the environment (timeouts, the cloud and its metadata service, the capture
 * the opening c handed over as capture); each adds its own (how many in
 * flight, thresholds, TLS context, proxy, names, trace). The metadata
 * back-off is the plan's unless LINKDOCTOR_METADATA_BACKOFF (seconds > 0)
 * sets one for tests. */
ld_plan_config ld_cli_plan_config(const ld_opts *o, ld_time started, const ld_cli_capture *c,
                                  ld_capture *capture);

#endif
