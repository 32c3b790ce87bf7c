/* httpd.c - libmicrohttpd in our loop: its epoll fd is one of our watches,
 * its timeouts one of our timers, and a request waiting for a probe is a
 * suspended connection. */
#include "httpd.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"

#define REFUSED_IDLE_SECONDS 2 /* idle time left to a connection whose query is refused */

/* One request, from its headers to its answer. */
struct ld_httpd_request {
    ld_httpd *h;                   /* the server */
    struct MHD_Connection *conn;   /* its connection */
    const char *method;            /* borrowed from libmicrohttpd, valid with the connection */
    const char *path;              /* ... */
    char peer[LD_ADDR_STRLEN + 8]; /* "addr:port" */
    int handed;                    /* the handler has it */
    int suspended;                 /* its connection waits for the answer */
    int answered;                  /* ld_httpd_respond was called */
    unsigned refusal;              /* 414/400 when the query is past the limits, else 0 */
    const char *refusal_why;       /* ... why, static text */
    unsigned status;               /* the answer ... */
    char content_type[64];         /* ... */
    char *body;                    /* ... owned */
    size_t len;                    /* ... */
    struct ld_httpd_request *next; /* the server's list of unanswered ones */
    struct ld_httpd_request *prev; /* ... */
};

struct ld_httpd {
    struct MHD_Daemon *daemon; /* libmicrohttpd */
    ld_loop *loop;             /* our loop */
    ld_io io;                  /* libmicrohttpd's epoll fd */
    ld_timer timer;            /* its next timeout */
    ld_defer resume;           /* runs libmicrohttpd after a connection was resumed */
    ld_httpd_handler handler;  /* where requests go */
    void *arg;                 /* passed to handler */
    ld_httpd_request *waiting; /* handed, not answered yet */
    size_t pending;            /* how many */
    int in_run;                /* inside MHD_run: do not re-enter */
    ld_httpd_limits limits;    /* as created */
};

static void unlink_waiting(ld_httpd_request *r) {
    ld_httpd *h = r->h;
    if (r->prev)
        r->prev->next = r->next;
    else if (h->waiting == r)
        h->waiting = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

static void arm_timer(ld_httpd *h);

/* Lets libmicrohttpd do what is ready, then sets the timer to its next
 * timeout. */
static void run(ld_httpd *h) {
    if (h->in_run)
        return;
    h->in_run = 1;
    MHD_run(h->daemon);
    h->in_run = 0;
    arm_timer(h);
}

static void on_timer(ld_timer *t) {
    run(t->data);
}

static void arm_timer(ld_httpd *h) {
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
        ld_timer_start(h->loop, &h->timer, ld_time_now() + (ld_time)ms * LD_MS, on_timer, h);
    else
        ld_timer_stop(&h->timer);
}

static void on_resume(ld_defer *d) {
    run(d->data);
}

static void on_io(ld_io *io, unsigned events) {
    (void)events;
    run(io->data);
}

/* Queues the stored answer of r on its connection. */
static enum MHD_Result queue_answer(ld_httpd_request *r) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The request line's URI, before libmicrohttpd splits its query: the
 * request starts here, measured against the query limits. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    ld_httpd *h = cls;
    ld_httpd_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL; /* on_request tries again, and refuses the connection */
    r->h = h;
    r->conn = conn;
    const char *query = strchr(uri, '?');
    if (!query)
        return r;
    size_t len = strlen(query + 1), args = 1;
    for (const char *c = query + 1; *c; c++)
        args += *c == '&';
    if (len > h->limits.max_query_bytes) {
        r->refusal = 414;
        r->refusal_why = "query too long";
    } else if (args > h->limits.max_query_args) {
        r->refusal = 400;
        r->refusal_why = "too many query parameters";
    }
    /* Past a limit that far, the query may not fit the connection's memory
     * once split, and then libmicrohttpd sends nothing: the connection
     * should not hold its place for the whole idle time. */
    if (r->refusal)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, REFUSED_IDLE_SECONDS);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    ld_httpd *h = cls;
    ld_httpd_request *r = *con_cls;
    (void)version;
    (void)upload_data;
    if (!r || !r->method) {
        /* The headers are in: complete the request, answer on the next call. */
        if (!r && !(r = on_uri(h, "", conn)))
            return MHD_NO;
        r->method = method;
        r->path = url;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        ld_addr a;
        uint16_t port = 0;
        if (ci && ld_addr_from_sockaddr(ci->client_addr, &a, &port) == LD_OK) {
            char text[LD_ADDR_STRLEN];
            ld_addr_format(&a, text);
            snprintf(r->peer, sizeof r->peer, a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", text,
                     port);
        }
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body is read and ignored: only GET means anything */
        return MHD_YES;
    }
    if (r->answered)
        return queue_answer(r);
    if (r->handed)
        return MHD_YES;
    r->handed = 1;
    h->pending++;
    r->next = h->waiting;
    if (h->waiting)
        h->waiting->prev = r;
    h->waiting = r;
    h->handler(h->arg, r);
    if (r->answered)
        return queue_answer(r);
    MHD_suspend_connection(conn);
    r->suspended = 1;
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    ld_httpd_request *r = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    if (r->handed && !r->answered) {
        unlink_waiting(r);
        r->h->pending--;
    }
    free(r->body);
    free(r);
    *con_cls = NULL;
}

ld_httpd *ld_httpd_create(ld_loop *loop, const struct sockaddr *addr, socklen_t addrlen,
                          const ld_httpd_limits *limits, ld_httpd_handler handler, void *arg,
                          ld_err *err) {
    (void)addrlen;
    ld_httpd *h = calloc(1, sizeof *h);
    if (!h) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    h->loop = loop;
    h->handler = handler;
    h->arg = arg;
    h->timer.heap_idx = SIZE_MAX;
    h->limits = *limits;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (addr->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, addr,
                                 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                                 MHD_OPTION_CONNECTION_LIMIT, limits->max_connections,
                                 MHD_OPTION_CONNECTION_TIMEOUT, limits->idle_seconds,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits->memory_per_connection,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_END);
    if (!h->daemon) {
        ld_err_set(err, LD_EINVAL,
                   "cannot listen there (in use, not an address of this host, "
                   "or a port below 1024 without permission)");
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di || ld_io_start(loop, &h->io, di->epoll_fd, LD_READ, on_io, h, err) != LD_OK) {
        if (!di)
            ld_err_set(err, LD_ESYS, "libmicrohttpd has no epoll descriptor");
        goto fail;
    }
    arm_timer(h);
    return h;
fail:
    ld_httpd_free(h);
    return NULL;
}

void ld_httpd_free(ld_httpd *h) {
    if (!h)
        return;
    ld_io_stop(&h->io);
    ld_timer_stop(&h->timer);
    ld_defer_stop(&h->resume);
    /* Suspended connections must be resumed before the daemon can stop. */
    for (ld_httpd_request *r = h->waiting; r; r = r->next)
        if (r->suspended)
            MHD_resume_connection(r->conn);
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    free(h);
}

void ld_httpd_stop_accepting(ld_httpd *h) {
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

size_t ld_httpd_pending(const ld_httpd *h) {
    return h->pending;
}

unsigned ld_httpd_port(const ld_httpd *h) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : 0;
}

const char *ld_httpd_method(const ld_httpd_request *req) {
    return req->method;
}

const char *ld_httpd_path(const ld_httpd_request *req) {
    return req->path;
}

/* The arguments iterator's state. */
typedef struct args_walk {
    int (*fn)(void *arg, const char *name, const char *value); /* the caller's */
    void *arg;                                                 /* ... */
    int result;                                                /* what it returned last */
} args_walk;

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value) {
    args_walk *w = cls;
    (void)kind;
    w->result = w->fn(w->arg, key, value);
    return w->result ? MHD_NO : MHD_YES;
}

int ld_httpd_args(ld_httpd_request *req, int (*fn)(void *arg, const char *name, const char *value),
                  void *arg) {
    args_walk w = {.fn = fn, .arg = arg};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, on_arg, &w);
    return w.result;
}

unsigned ld_httpd_refusal(const ld_httpd_request *req, const char **why) {
    *why = req->refusal_why;
    return req->refusal;
}

const char *ld_httpd_header(ld_httpd_request *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *ld_httpd_peer(const ld_httpd_request *req) {
    return req->peer;
}

void ld_httpd_respond(ld_httpd_request *req, unsigned status, const char *content_type,
                      const char *body, size_t len) {
    ld_httpd *h = req->h;
    req->status = status;
    snprintf(req->content_type, sizeof req->content_type, "%s",
             content_type ? content_type : "text/plain; charset=utf-8");
    req->body = malloc(len ? len : 1);
    req->len = req->body ? len : 0;
    if (req->body && len)
        memcpy(req->body, body, len);
    if (!req->body)
        req->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    req->answered = 1;
    unlink_waiting(req);
    h->pending--;
    if (req->suspended) {
        req->suspended = 0;
        /* The next MHD_run answers it; run it now rather than wait for a
         * wake-up libmicrohttpd may not give in external mode. */
        MHD_resume_connection(req->conn);
        ld_defer_start(h->loop, &h->resume, on_resume, h);
    }
}
