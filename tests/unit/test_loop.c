/* test_loop.c - the event loop: timers in order, cancellation, deferred calls,
 * fd readiness, and handles stopped from inside callbacks. */
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "unit.h"

/* Records the order callbacks ran in. */
typedef struct trace {
    int order[16];    /* callback ids, in order */
    int n;            /* how many */
    ld_timer *victim; /* a timer to cancel from a callback */
    ld_io *io_victim; /* an io to stop from a callback */
    ld_loop *loop;    /* for stop */
} trace;

typedef struct tagged_timer {
    ld_timer t; /* the timer */
    int id;     /* what it records */
    trace *tr;  /* where */
} tagged_timer;

static void record_timer(ld_timer *t) {
    tagged_timer *tt = t->data;
    tt->tr->order[tt->tr->n++] = tt->id;
    if (tt->tr->victim) {
        ld_timer_stop(tt->tr->victim);
        tt->tr->victim = NULL;
    }
}

static void timers_fire_in_deadline_order(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(loop);
    trace tr = {0};
    tagged_timer t[5];
    memset(t, 0, sizeof t);
    int delays_ms[5] = {30, 10, 50, 20, 40};
    ld_time now = ld_time_now();
    for (int i = 0; i < 5; i++) {
        t[i].id = delays_ms[i];
        t[i].tr = &tr;
        CU_ASSERT_EQUAL(
            ld_timer_start(loop, &t[i].t, now + delays_ms[i] * LD_MS, record_timer, &t[i]), LD_OK);
    }
    CU_ASSERT_EQUAL(ld_loop_run(loop, &err), LD_OK);
    CU_ASSERT_EQUAL(tr.n, 5);
    int expect[5] = {10, 20, 30, 40, 50};
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(tr.order[i], expect[i]);
    CU_ASSERT_TRUE(ld_time_now() - now >= 50 * LD_MS);
    ld_loop_free(loop);
}

static void timer_stopped_by_an_earlier_callback_never_fires(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    trace tr = {0};
    tagged_timer a = {.id = 1, .tr = &tr}, b = {.id = 2, .tr = &tr}, c = {.id = 3, .tr = &tr};
    ld_time now = ld_time_now();
    ld_timer_start(loop, &a.t, now + 1 * LD_MS, record_timer, &a);
    ld_timer_start(loop, &b.t, now + 5 * LD_MS, record_timer, &b);
    ld_timer_start(loop, &c.t, now + 10 * LD_MS, record_timer, &c);
    tr.victim = &b.t;
    ld_loop_run(loop, &err);
    CU_ASSERT_EQUAL(tr.n, 2);
    CU_ASSERT_EQUAL(tr.order[0], 1);
    CU_ASSERT_EQUAL(tr.order[1], 3);
    CU_ASSERT_FALSE(b.t.active);
    ld_timer_stop(&b.t); /* stopping an inactive timer is harmless */
    ld_loop_free(loop);
}

static void restarting_a_timer_moves_it(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    trace tr = {0};
    tagged_timer a = {.id = 1, .tr = &tr}, b = {.id = 2, .tr = &tr};
    ld_time now = ld_time_now();
    ld_timer_start(loop, &a.t, now + 1 * LD_MS, record_timer, &a);
    ld_timer_start(loop, &b.t, now + 5 * LD_MS, record_timer, &b);
    ld_timer_start(loop, &a.t, now + 20 * LD_MS, record_timer, &a);
    ld_loop_run(loop, &err);
    CU_ASSERT_EQUAL(tr.n, 2);
    CU_ASSERT_EQUAL(tr.order[0], 2);
    CU_ASSERT_EQUAL(tr.order[1], 1);
    ld_loop_free(loop);
}

typedef struct tagged_defer {
    ld_defer d;                 /* the call */
    int id;                     /* what it records */
    trace *tr;                  /* where */
    struct tagged_defer *chain; /* queued from inside this one */
} tagged_defer;

static void record_defer(ld_defer *d) {
    tagged_defer *td = d->data;
    td->tr->order[td->tr->n++] = td->id;
    if (td->chain)
        ld_defer_start(td->tr->loop, &td->chain->d, record_defer, td->chain);
}

static void deferred_calls_run_once_in_fifo_order(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    trace tr = {.loop = loop};
    tagged_defer c = {.id = 3, .tr = &tr};
    tagged_defer a = {.id = 1, .tr = &tr, .chain = &c};
    tagged_defer b = {.id = 2, .tr = &tr};
    tagged_defer x = {.id = 9, .tr = &tr};
    ld_defer_start(loop, &a.d, record_defer, &a);
    ld_defer_start(loop, &a.d, record_defer, &a); /* queued twice: runs once */
    ld_defer_start(loop, &b.d, record_defer, &b);
    ld_defer_start(loop, &x.d, record_defer, &x);
    ld_defer_stop(&x.d);
    ld_loop_run(loop, &err);
    CU_ASSERT_EQUAL(tr.n, 3);
    CU_ASSERT_EQUAL(tr.order[0], 1);
    CU_ASSERT_EQUAL(tr.order[1], 2);
    CU_ASSERT_EQUAL(tr.order[2], 3);
    ld_loop_free(loop);
}

typedef struct pipe_io {
    ld_io io;              /* the watch */
    int fired;             /* times called */
    unsigned ev;           /* last events */
    struct pipe_io *other; /* stopped from this one's callback */
} pipe_io;

static void on_pipe(ld_io *io, unsigned events) {
    pipe_io *p = io->data;
    p->fired++;
    p->ev = events;
    ld_io_stop(io);
    if (p->other)
        ld_io_stop(&p->other->io);
}

static void readable_fd_calls_back_and_the_loop_ends_when_idle(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    int fds[2];
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    pipe_io p = {0};
    CU_ASSERT_EQUAL(ld_io_start(loop, &p.io, fds[0], LD_READ, on_pipe, &p, &err), LD_OK);
    CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
    CU_ASSERT_EQUAL(ld_loop_run(loop, &err), LD_OK); /* returns: nothing left active */
    CU_ASSERT_EQUAL(p.fired, 1);
    CU_ASSERT_TRUE(p.ev & LD_READ);
    CU_ASSERT_FALSE(p.io.active);
    close(fds[0]);
    close(fds[1]);
    ld_loop_free(loop);
}

static void io_stopped_in_the_same_batch_is_not_called(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    int a[2], b[2];
    CU_ASSERT_EQUAL_FATAL(pipe(a), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(b), 0);
    pipe_io pa = {0}, pb = {0};
    pa.other = &pb;
    pb.other = &pa;
    ld_io_start(loop, &pa.io, a[0], LD_READ, on_pipe, &pa, &err);
    ld_io_start(loop, &pb.io, b[0], LD_READ, on_pipe, &pb, &err);
    /* Both are ready in one epoll batch; whichever runs first stops the other,
     * whose pending event must then be dropped. */
    CU_ASSERT_EQUAL(write(a[1], "x", 1), 1);
    CU_ASSERT_EQUAL(write(b[1], "x", 1), 1);
    ld_loop_run(loop, &err);
    CU_ASSERT_EQUAL(pa.fired + pb.fired, 1);
    CU_ASSERT_FALSE(pa.io.active);
    CU_ASSERT_FALSE(pb.io.active);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
    ld_loop_free(loop);
}

static void stop_loop(ld_timer *t) {
    ld_loop_stop(t->data);
}

static void stop_from_a_callback_returns_without_waiting_for_later_timers(void) {
    ld_err err;
    ld_loop *loop = ld_loop_create(&err);
    ld_timer stopper = {0}, far = {0};
    ld_time now = ld_time_now();
    ld_timer_start(loop, &stopper, now + 5 * LD_MS, stop_loop, loop);
    ld_timer_start(loop, &far, now + 60 * LD_SEC, stop_loop, loop);
    CU_ASSERT_EQUAL(ld_loop_run(loop, &err), LD_OK);
    CU_ASSERT_TRUE(far.active);
    CU_ASSERT_FALSE(stopper.active);
    CU_ASSERT_TRUE(ld_time_now() - now < LD_SEC);
    ld_loop_free(loop);
    CU_ASSERT_FALSE(far.active); /* destroy forgets what is left */
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(timers_fire_in_deadline_order),
        LD_TEST(timer_stopped_by_an_earlier_callback_never_fires),
        LD_TEST(restarting_a_timer_moves_it),
        LD_TEST(deferred_calls_run_once_in_fifo_order),
        LD_TEST(readable_fd_calls_back_and_the_loop_ends_when_idle),
        LD_TEST(io_stopped_in_the_same_batch_is_not_called),
        LD_TEST(stop_from_a_callback_returns_without_waiting_for_later_timers),
        {0},
    };
    return ld_unit_run("loop", cases);
}
