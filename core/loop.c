/* loop.c - epoll + timer heap + deferred calls, one thread, never blocks
 * longer than the soonest timer. */
#include "loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64 /* epoll events fetched per wait */

struct ld_loop {
    int epfd;                             /* epoll instance */
    ld_time now;                          /* time at the start of this iteration */
    ld_timer **heap;                      /* min-heap by when */
    size_t nheap;                         /* timers scheduled */
    size_t capheap;                       /* heap slots allocated */
    size_t nio;                           /* ios registered */
    ld_defer *defer_head;                 /* deferred calls, FIFO */
    ld_defer *defer_tail;                 /* last deferred call */
    int stopped;                          /* ld_loop_stop() was called */
    struct epoll_event ready[LOOP_BATCH]; /* the batch being dispatched */
    int nready;                           /* events in ready */
};

ld_time ld_time_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ld_time)ts.tv_sec * LD_SEC + ts.tv_nsec;
}

ld_loop *ld_loop_create(ld_err *err) {
    ld_loop *loop = calloc(1, sizeof *loop);
    if (!loop) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        ld_err_set(err, LD_ESYS, "epoll_create1: %s", strerror(errno));
        free(loop);
        return NULL;
    }
    loop->now = ld_time_now();
    return loop;
}

void ld_loop_free(ld_loop *loop) {
    if (!loop)
        return;
    for (size_t i = 0; i < loop->nheap; i++) {
        loop->heap[i]->active = 0;
        loop->heap[i]->heap_idx = SIZE_MAX;
    }
    for (ld_defer *d = loop->defer_head; d;) {
        ld_defer *next = d->next;
        d->active = 0;
        d->next = NULL;
        d = next;
    }
    close(loop->epfd);
    free(loop->heap);
    free(loop);
}

/* --- file descriptors ---------------------------------------------------- */

static uint32_t io_epoll_bits(unsigned events) {
    uint32_t bits = 0;
    if (events & LD_READ)
        bits |= EPOLLIN | EPOLLRDHUP;
    if (events & LD_WRITE)
        bits |= EPOLLOUT;
    return bits;
}

ld_status ld_io_start(ld_loop *loop, ld_io *io, int fd, unsigned events, ld_io_cb cb, void *data,
                      ld_err *err) {
    struct epoll_event ev = {.events = io_epoll_bits(events), .data.ptr = io};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return ld_err_set(err, LD_ESYS, "epoll_ctl(add fd %d): %s", fd, strerror(errno));
    io->fd = fd;
    io->events = events;
    io->active = 1;
    io->cb = cb;
    io->data = data;
    io->loop = loop;
    loop->nio++;
    return LD_OK;
}

ld_status ld_io_set(ld_io *io, unsigned events, ld_err *err) {
    if (!io->active)
        return ld_err_set(err, LD_ESYS, "ld_io_set on an inactive io");
    if (events == io->events)
        return LD_OK;
    struct epoll_event ev = {.events = io_epoll_bits(events), .data.ptr = io};
    if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
        return ld_err_set(err, LD_ESYS, "epoll_ctl(mod fd %d): %s", io->fd, strerror(errno));
    io->events = events;
    return LD_OK;
}

void ld_io_stop(ld_io *io) {
    if (!io->active)
        return;
    ld_loop *loop = io->loop;
    /* The fd may already be closed by its owner (c-ares does that); then the
     * kernel has dropped it from the epoll set and DEL fails harmlessly. */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    /* Forget any event for this io in the batch being dispatched. */
    for (int i = 0; i < loop->nready; i++)
        if (loop->ready[i].data.ptr == io)
            loop->ready[i].data.ptr = NULL;
    io->active = 0;
    io->fd = -1;
    loop->nio--;
}

/* --- timers: binary min-heap ----------------------------------------------- */

static void heap_swap(ld_loop *loop, size_t a, size_t b) {
    ld_timer *t = loop->heap[a];
    loop->heap[a] = loop->heap[b];
    loop->heap[b] = t;
    loop->heap[a]->heap_idx = a;
    loop->heap[b]->heap_idx = b;
}

static void heap_up(ld_loop *loop, size_t i) {
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->when <= loop->heap[i]->when)
            break;
        heap_swap(loop, i, parent);
        i = parent;
    }
}

static void heap_down(ld_loop *loop, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->nheap && loop->heap[l]->when < loop->heap[m]->when)
            m = l;
        if (r < loop->nheap && loop->heap[r]->when < loop->heap[m]->when)
            m = r;
        if (m == i)
            return;
        heap_swap(loop, i, m);
        i = m;
    }
}

static void heap_remove(ld_loop *loop, size_t i) {
    loop->nheap--;
    if (i != loop->nheap) {
        loop->heap[i] = loop->heap[loop->nheap];
        loop->heap[i]->heap_idx = i;
        heap_down(loop, i);
        heap_up(loop, i);
    }
}

ld_status ld_timer_start(ld_loop *loop, ld_timer *t, ld_time when, ld_timer_cb cb, void *data) {
    if (t->active)
        ld_timer_stop(t);
    if (loop->nheap == loop->capheap) {
        size_t cap = loop->capheap ? loop->capheap * 2 : 64;
        ld_timer **h = realloc(loop->heap, cap * sizeof *h);
        if (!h)
            return LD_ENOMEM;
        loop->heap = h;
        loop->capheap = cap;
    }
    t->when = when;
    t->cb = cb;
    t->data = data;
    t->loop = loop;
    t->active = 1;
    t->heap_idx = loop->nheap;
    loop->heap[loop->nheap++] = t;
    heap_up(loop, t->heap_idx);
    return LD_OK;
}

void ld_timer_stop(ld_timer *t) {
    if (!t->active)
        return;
    heap_remove(t->loop, t->heap_idx);
    t->active = 0;
    t->heap_idx = SIZE_MAX;
}

/* --- deferred calls -------------------------------------------------------- */

void ld_defer_start(ld_loop *loop, ld_defer *d, ld_defer_cb cb, void *data) {
    if (d->active)
        return;
    d->cb = cb;
    d->data = data;
    d->loop = loop;
    d->active = 1;
    d->next = NULL;
    if (loop->defer_tail)
        loop->defer_tail->next = d;
    else
        loop->defer_head = d;
    loop->defer_tail = d;
}

void ld_defer_stop(ld_defer *d) {
    if (!d->active)
        return;
    ld_loop *loop = d->loop;
    ld_defer *prev = NULL;
    for (ld_defer *it = loop->defer_head; it; prev = it, it = it->next) {
        if (it != d)
            continue;
        if (prev)
            prev->next = d->next;
        else
            loop->defer_head = d->next;
        if (loop->defer_tail == d)
            loop->defer_tail = prev;
        break;
    }
    d->active = 0;
    d->next = NULL;
}

/* Runs every deferred call, including ones queued while running. */
static void run_deferred(ld_loop *loop) {
    while (loop->defer_head && !loop->stopped) {
        ld_defer *d = loop->defer_head;
        loop->defer_head = d->next;
        if (!loop->defer_head)
            loop->defer_tail = NULL;
        d->active = 0;
        d->next = NULL;
        d->cb(d);
    }
}

/* --- running ------------------------------------------------------------- */

void ld_loop_stop(ld_loop *loop) {
    loop->stopped = 1;
}

/* Milliseconds epoll may sleep: until the soonest timer, rounded up so we
 * never wake before it and spin; -1 (forever) when no timer is set. */
static int wait_ms(const ld_loop *loop) {
    if (loop->defer_head)
        return 0;
    if (loop->nheap == 0)
        return -1;
    ld_time left = loop->heap[0]->when - ld_time_now();
    if (left <= 0)
        return 0;
    ld_time ms = (left + LD_MS - 1) / LD_MS;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void run_timers(ld_loop *loop) {
    while (loop->nheap > 0 && !loop->stopped) {
        ld_timer *t = loop->heap[0];
        if (t->when > loop->now)
            break;
        heap_remove(loop, 0);
        t->active = 0;
        t->heap_idx = SIZE_MAX;
        t->cb(t);
        run_deferred(loop);
    }
}

ld_status ld_loop_run(ld_loop *loop, ld_err *err) {
    loop->stopped = 0;
    loop->now = ld_time_now();
    run_deferred(loop);
    while (!loop->stopped && (loop->nio > 0 || loop->nheap > 0 || loop->defer_head)) {
        int n = epoll_wait(loop->epfd, loop->ready, LOOP_BATCH, wait_ms(loop));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ld_err_set(err, LD_ESYS, "epoll_wait: %s", strerror(errno));
        }
        loop->now = ld_time_now();
        loop->nready = n;
        for (int i = 0; i < n && !loop->stopped; i++) {
            ld_io *io = loop->ready[i].data.ptr;
            if (!io)
                continue; /* stopped by an earlier callback in this batch */
            uint32_t ev = loop->ready[i].events;
            unsigned bits = 0;
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                bits |= LD_READ;
            if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                bits |= LD_WRITE;
            bits &= io->events ? io->events : bits;
            if (bits)
                io->cb(io, bits);
            run_deferred(loop);
        }
        loop->nready = 0;
        run_timers(loop);
        run_deferred(loop);
    }
    return LD_OK;
}
