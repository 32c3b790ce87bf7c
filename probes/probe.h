/* probe.h - the one interface every probe implements.
 *
 * Layer: probes/ sees only core/. A probe never includes another probe's
 * header; the plan (plan/) owns the registry and chains probes together.
 *
 * A probe is a state machine driven by the loop: start() registers file
 * descriptors (ld_probe_watch) and returns; on_io() and on_deadline() advance
 * it; cancel() is the run ending early. A probe records what it saw as facts
 * and calls ld_probe_finish() when it is done. It never prints, never exits,
 * and reads nothing but its own config struct.
 *
 * The core guarantees that every probe finishes exactly once: on its own, at
 * its deadline, or when cancelled; the owner's done callback runs once, after
 * the callback in which the probe finished has returned.
 */
#ifndef LD_PROBE_H
#define LD_PROBE_H

#include "core/err.h"
#include "core/facts.h"
#include "core/loop.h"
#include "core/spec.h"

typedef struct ld_probe ld_probe;

/* How a probe instance ended. */
typedef enum ld_probe_end {
    LD_END_RESULT = 0,   /* it got its answer */
    LD_END_TIMEOUT,      /* its own deadline (--connect-timeout) passed */
    LD_END_RUN_DEADLINE, /* the run's deadline (--timeout) cancelled it */
    LD_END_CAPTURE,      /* packet evidence decided it early (SYNs proven unanswered) */
    LD_END_ERROR,        /* it could not run (detail recorded as a fact) */
} ld_probe_end;

/* What a kind of probe does; one const table per probe file. */
typedef struct ld_probe_ops {
    const char *name; /* "dns", "tcp": also the subject kind of its evidence */
    /* Allocates p->priv and begins; may finish at once. Errors are recorded as
     * facts and end the probe with LD_END_ERROR; a non-OK return means the
     * probe could not even record that (out of memory). */
    ld_status (*start)(ld_probe *p, ld_err *err);
    /* An fd registered with ld_probe_watch() is ready. */
    void (*on_io)(ld_probe *p, ld_io *io, unsigned events);
    /* p->deadline_at passed: record what is known and finish. */
    void (*on_deadline)(ld_probe *p);
    /* The run is ending: record what is known, release fds and timers. The
     * core finishes the probe with LD_END_RUN_DEADLINE afterwards. */
    void (*cancel)(ld_probe *p);
    /* Frees p->priv; called once, after the probe finished. */
    void (*clear)(ld_probe *p);
    /* Optional: after every probe of a target finished, derive the target
     * facts that aggregate this probe's evidence (counts, lists) for the
     * target spec describes. Runs on evidence alone (no instance), so that a
     * capture file read offline is summarized like a live run. */
    ld_status (*summarize)(ld_facts *facts, const ld_target_spec *spec);
} ld_probe_ops;

typedef void (*ld_probe_done_cb)(ld_probe *p);

/* One running probe instance. The owner (the plan) fills the fields marked
 * "in"; the probe owns priv; the core helpers below own the rest. */
struct ld_probe {
    const ld_probe_ops *ops; /* in: what kind of probe */
    const void *config;      /* in: the probe's config struct, outlives the probe */
    ld_loop *loop;           /* in: the loop to run in */
    ld_facts *facts;         /* in: the target's fact store */
    ld_time run_started;     /* in: when the run started (for timeline offsets) */
    ld_time deadline_at;     /* in: absolute deadline, 0 for none */
    ld_probe_done_cb done;   /* in: called once when the probe finished */
    void *owner;             /* in: the owner's pointer */
    void *priv;              /* the probe's private state */
    ld_time started;         /* when start() was called */
    ld_time ended;           /* when it finished */
    ld_probe_end end;        /* how it finished */
    int finished;            /* ld_probe_finish() was called */
    ld_timer deadline;       /* fires on_deadline at deadline_at */
    ld_defer done_call;      /* defers the done callback */
};

/* Starts p (arms its deadline, calls ops->start). */
ld_status ld_probe_start(ld_probe *p, ld_err *err);
/* Marks p finished with end (only the first call counts), stops its
 * deadline and schedules the done callback. */
void ld_probe_finish(ld_probe *p, ld_probe_end end);
/* Cancels p if it is still running (ops->cancel, then finish). */
void ld_probe_cancel(ld_probe *p);
/* Registers fd with the loop so that readiness calls p->ops->on_io(p, io, ev). */
ld_status ld_probe_watch(ld_probe *p, ld_io *io, int fd, unsigned events, ld_err *err);
/* Milliseconds since the run started, for timeline facts. */
double ld_probe_ms_since_run(const ld_probe *p, ld_time t);
/* "result", "timeout", "run_deadline", "capture", "error": the values of
 * *.ended_by facts. */
const char *ld_probe_end_name(ld_probe_end end);

#endif
