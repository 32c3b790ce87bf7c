/* probe.c - the core side of the probe interface: deadlines, finishing
 * exactly once, and fd dispatch. */
#include "probe.h"

static void probe_deadline_cb(ld_timer *t) {
    ld_probe *p = t->data;
    if (!p->finished)
        p->ops->on_deadline(p);
    /* A probe that forgets to finish at its deadline would hang the target. */
    if (!p->finished)
        ld_probe_finish(p, LD_END_TIMEOUT);
}

static void probe_done_cb(ld_defer *d) {
    ld_probe *p = d->data;
    p->done(p);
}

ld_status ld_probe_start(ld_probe *p, ld_err *err) {
    p->started = ld_time_now();
    p->finished = 0;
    if (p->deadline_at) {
        ld_status st = ld_timer_start(p->loop, &p->deadline, p->deadline_at, probe_deadline_cb, p);
        if (st != LD_OK)
            return ld_err_set(err, st, "out of memory");
    }
    ld_status st = p->ops->start(p, err);
    if (st != LD_OK)
        ld_probe_finish(p, LD_END_ERROR);
    return st;
}

void ld_probe_finish(ld_probe *p, ld_probe_end end) {
    if (p->finished)
        return;
    p->finished = 1;
    p->end = end;
    p->ended = ld_time_now();
    ld_timer_stop(&p->deadline);
    ld_defer_start(p->loop, &p->done_call, probe_done_cb, p);
}

void ld_probe_cancel(ld_probe *p) {
    if (p->finished)
        return;
    p->ops->cancel(p);
    ld_probe_finish(p, LD_END_RUN_DEADLINE);
}

static void probe_io_cb(ld_io *io, unsigned events) {
    ld_probe *p = io->data;
    p->ops->on_io(p, io, events);
}

ld_status ld_probe_watch(ld_probe *p, ld_io *io, int fd, unsigned events, ld_err *err) {
    return ld_io_start(p->loop, io, fd, events, probe_io_cb, p, err);
}

double ld_probe_ms_since_run(const ld_probe *p, ld_time t) {
    return (double)(t - p->run_started) / (double)LD_MS;
}

const char *ld_probe_end_name(ld_probe_end end) {
    switch (end) {
    case LD_END_RESULT:
        return "result";
    case LD_END_TIMEOUT:
        return "timeout";
    case LD_END_RUN_DEADLINE:
        return "run_deadline";
    case LD_END_CAPTURE:
        return "capture";
    case LD_END_ERROR:
        return "error";
    }
    return "error";
}
