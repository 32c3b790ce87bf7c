/* loop.h - the one event loop: epoll for file descriptors, a min-heap of timers
 * on the monotonic clock, and a queue of deferred calls.
 *
 * Handles are embedded in their owner's struct (like redis's ae or libuv), so
 * stopping a handle that is not active is harmless and nothing dangles: the
 * loop never frees what it does not allocate. Callbacks may start and stop any
 * handle, including the one being dispatched.
 */
#ifndef LD_LOOP_H
#define LD_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct ld_loop ld_loop;

/* Interest and readiness bits for ld_io. */
#define LD_READ  1u /* readable (or hang-up / error pending) */
#define LD_WRITE 2u /* writable (or error pending) */

/* Monotonic time in nanoseconds. */
typedef int64_t ld_time;
#define LD_MS  ((ld_time)1000000)
#define LD_SEC ((ld_time)1000000000)

typedef struct ld_io ld_io;
typedef struct ld_timer ld_timer;
typedef struct ld_defer ld_defer;
/* Called with the ready bits (LD_READ / LD_WRITE) of io. */
typedef void (*ld_io_cb)(ld_io *io, unsigned events);
typedef void (*ld_timer_cb)(ld_timer *t);
typedef void (*ld_defer_cb)(ld_defer *d);

/* A watched file descriptor; zero-initialise before first use. */
struct ld_io {
    int fd;          /* the descriptor; -1 when inactive */
    unsigned events; /* LD_READ | LD_WRITE interest */
    int active;      /* registered with epoll */
    ld_io_cb cb;     /* called when ready */
    void *data;      /* owner's pointer */
    ld_loop *loop;   /* loop it is registered with */
};

/* A one-shot timer; zero-initialise before first use. */
struct ld_timer {
    ld_time when;    /* absolute monotonic expiry */
    size_t heap_idx; /* position in the heap; SIZE_MAX when inactive */
    int active;      /* 1 while scheduled */
    ld_timer_cb cb;  /* called at expiry */
    void *data;      /* owner's pointer */
    ld_loop *loop;   /* loop it is scheduled on */
};

/* A call to make after the current callback returns; zero-initialise. */
struct ld_defer {
    ld_defer *next; /* queue link */
    int active;     /* 1 while queued */
    ld_defer_cb cb; /* the call */
    void *data;     /* owner's pointer */
    ld_loop *loop;  /* loop it is queued on */
};

/* The current monotonic time. */
ld_time ld_time_now(void);

/* Creates a loop; NULL with err set when epoll cannot be created. */
ld_loop *ld_loop_create(ld_err *err);
/* Frees the loop; handles still active are forgotten, not called. NULL ok. */
void ld_loop_free(ld_loop *loop);

/* Starts watching fd for events; the io must be inactive. */
ld_status ld_io_start(ld_loop *loop, ld_io *io, int fd, unsigned events, ld_io_cb cb, void *data,
                      ld_err *err);
/* Changes the interest set of an active io. */
ld_status ld_io_set(ld_io *io, unsigned events, ld_err *err);
/* Stops watching (the fd is not closed). Harmless on an inactive io. */
void ld_io_stop(ld_io *io);

/* Schedules t at absolute time when (re-arms an active timer). */
ld_status ld_timer_start(ld_loop *loop, ld_timer *t, ld_time when, ld_timer_cb cb, void *data);
/* Cancels t. Harmless on an inactive timer. */
void ld_timer_stop(ld_timer *t);

/* Queues d to run once after the current callback; already queued is a no-op. */
void ld_defer_start(ld_loop *loop, ld_defer *d, ld_defer_cb cb, void *data);
/* Removes d from the queue. Harmless when not queued. */
void ld_defer_stop(ld_defer *d);

/* Runs until nothing is active or ld_loop_stop() is called. Returns LD_ESYS
 * with err set only when epoll itself fails. */
ld_status ld_loop_run(ld_loop *loop, ld_err *err);
/* Makes ld_loop_run() return after the current callback. */
void ld_loop_stop(ld_loop *loop);

#endif
