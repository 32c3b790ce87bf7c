/* curlmulti.c - libcurl's socket and timer callbacks mirrored onto the loop. */
#include "curlmulti.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static ld_curl_sock *sock_find(ld_curl_multi *m, curl_socket_t fd) {
    for (size_t i = 0; i < LD_CURL_SOCKS_MAX; i++)
        if (m->socks[i].fd == fd)
            return &m->socks[i];
    return NULL;
}

/* CURLMOPT_SOCKETFUNCTION: mirrors curl's interest in fd onto an ld_io. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    ld_curl_multi *m = userp;
    (void)easy;
    (void)socketp;
    if (m->stopped)
        return 0;
    ld_curl_sock *slot = sock_find(m, fd);
    if (what == CURL_POLL_REMOVE) {
        if (slot) {
            ld_io_stop(&slot->io);
            slot->fd = CURL_SOCKET_BAD;
        }
        return 0;
    }
    unsigned ev = ((what & CURL_POLL_IN) ? LD_READ : 0) | ((what & CURL_POLL_OUT) ? LD_WRITE : 0);
    ld_err err = {{0}};
    if (slot) {
        if (ld_io_set(&slot->io, ev, &err) == LD_OK)
            return 0;
    } else if ((slot = sock_find(m, CURL_SOCKET_BAD)) != NULL) {
        if (ld_probe_watch(m->probe, &slot->io, fd, ev, &err) == LD_OK) {
            slot->fd = fd;
            return 0;
        }
    } else {
        snprintf(err.msg, sizeof err.msg, "curl opened more than %d sockets", LD_CURL_SOCKS_MAX);
    }
    /* -1 makes curl fail the transfer (CURLM_ABORTED_BY_CALLBACK): the
     * request ends as an error naming this cause instead of hanging. */
    snprintf(m->watch_error, sizeof m->watch_error, "%s", err.msg);
    return -1;
}

static void on_timer(ld_timer *t) {
    ld_curl_multi *m = t->data;
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    m->after(m->probe, mc);
}

/* CURLMOPT_TIMERFUNCTION: one loop timer; curl may not be called from here,
 * so even "0 ms" goes through the loop. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
    ld_curl_multi *m = userp;
    (void)multi;
    if (m->stopped)
        return 0;
    if (timeout_ms < 0) {
        ld_timer_stop(&m->timer);
        return 0;
    }
    ld_time when = ld_time_now() + (ld_time)timeout_ms * LD_MS;
    return ld_timer_start(m->probe->loop, &m->timer, when, on_timer, m) == LD_OK ? 0 : -1;
}

CURLcode ld_curl_easy_defaults(CURL *easy, const ld_probe *p, char *errbuf,
                               curl_write_callback on_header, curl_write_callback on_body,
                               void *data) {
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(easy, opt, val)) != CURLE_OK)                                   \
            return rc;                                                                             \
    } while (0)
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    /* A host name curl resolves itself (--imds-endpoint http://NAME) goes to
     * its threaded resolver: a getaddrinfo() thread the loop never waits for,
     * but which curl_easy_cleanup() joins when the lookup is still running -
     * up to the resolver's own time-outs (resolv.conf: 5 s a try), long past
     * --timeout. QUICK_EXIT makes curl detach that thread instead of joining
     * it; the thread frees its own data when getaddrinfo() returns, or dies
     * with the process. Pinning every name with CURLOPT_RESOLVE would need a
     * lookup of our own first (c-ares, a stage more in every HTTP probe); the
     * one option covers every easy handle, the names nobody pinned too. */
    SET(CURLOPT_QUICK_EXIT, 1L);
    SET(CURLOPT_USERAGENT, "linkdoctor/" LD_VERSION);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, data);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, data);
    if (p->deadline_at) {
        ld_time left = p->deadline_at - ld_time_now();
        long ms = left > LD_MS ? (long)(left / LD_MS) : 1L;
        SET(CURLOPT_CONNECTTIMEOUT_MS, ms);
        SET(CURLOPT_TIMEOUT_MS, ms);
    }
#undef SET
    return rc;
}

ld_status ld_curl_multi_init(ld_curl_multi *m, ld_probe *p, ld_curl_after_cb after, ld_err *err) {
    m->probe = p;
    m->after = after;
    m->timer.heap_idx = SIZE_MAX;
    for (size_t i = 0; i < LD_CURL_SOCKS_MAX; i++)
        m->socks[i].fd = CURL_SOCKET_BAD;
    if (!(m->multi = curl_multi_init()))
        return ld_err_set(err, LD_ENOMEM, "libcurl: cannot create a handle");
    if (curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m) != CURLM_OK)
        return ld_err_set(err, LD_ESYS, "libcurl: cannot set the multi callbacks");
    return LD_OK;
}

int ld_curl_multi_on_io(ld_curl_multi *m, ld_io *io, unsigned events) {
    const char *lo = (const char *)m->socks, *hi = (const char *)(m->socks + LD_CURL_SOCKS_MAX);
    if (m->stopped || (const char *)io < lo || (const char *)io >= hi)
        return 0;
    ld_curl_sock *slot = (ld_curl_sock *)((char *)io - offsetof(ld_curl_sock, io));
    if (slot->fd == CURL_SOCKET_BAD)
        return 1;
    int flags =
        ((events & LD_READ) ? CURL_CSELECT_IN : 0) | ((events & LD_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(m->multi, slot->fd, flags, &running);
    m->after(m->probe, mc);
    return 1;
}

void ld_curl_multi_stop(ld_curl_multi *m) {
    m->stopped = 1;
    for (size_t i = 0; i < LD_CURL_SOCKS_MAX; i++)
        ld_io_stop(&m->socks[i].io);
    ld_timer_stop(&m->timer);
}

void ld_curl_multi_cleanup(ld_curl_multi *m) {
    ld_curl_multi_stop(m);
    if (m->multi)
        curl_multi_cleanup(m->multi);
    m->multi = NULL;
}
