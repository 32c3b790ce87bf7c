/* httpd.h - the exporter's HTTP server: libmicrohttpd driven by our event
 * loop, so that a probe and the request that asked for it share one thread.
 *
 * libmicrohttpd parses HTTP (we write no HTTP parser): it runs in "external"
 * mode with its own epoll set, whose one fd sits in our loop; readiness and
 * its timeouts call MHD_run(). A request is handed to the handler once its
 * headers are in. The handler answers at once (ld_httpd_respond) or keeps
 * the request: the connection is suspended (it costs nothing while a probe
 * runs) and resumed when the answer comes. Connections, request sizes and
 * idle time are bounded: a request line or headers past the memory limit
 * are refused by libmicrohttpd itself (414 / 431). A query past
 * max_query_bytes or max_query_args is seen before libmicrohttpd splits it
 * and handed over marked (ld_httpd_refusal), for the handler to refuse and
 * count. libmicrohttpd 0.9.75 keeps every query parameter in the
 * connection's memory (48 bytes each) and, when they do not fit, never
 * answers: the memory limit must hold a request line at the query limit
 * split into one-byte parameters (see cmd_serve.c).
 */
#ifndef LD_CLI_HTTPD_H
#define LD_CLI_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/err.h"
#include "core/loop.h"

typedef struct ld_httpd ld_httpd;
typedef struct ld_httpd_request ld_httpd_request;

/* Called once per request, in the loop. req stays valid until it is
 * answered (or the server is freed). */
typedef void (*ld_httpd_handler)(void *arg, ld_httpd_request *req);

/* Limits of the server. */
typedef struct ld_httpd_limits {
    unsigned max_connections;     /* open connections at once; more are refused */
    unsigned idle_seconds;        /* a connection idle this long is closed */
    size_t memory_per_connection; /* bytes a request (line and headers) may use */
    size_t max_query_bytes;       /* longest query (after '?') handled: longer is 414 */
    unsigned max_query_args;      /* most query parameters handled: more is 400 */
} ld_httpd_limits;

/* Listens on addr and serves requests in loop. NULL with err naming the
 * address and the problem (in use, no permission). */
ld_httpd *ld_httpd_create(ld_loop *loop, const struct sockaddr *addr, socklen_t addrlen,
                          const ld_httpd_limits *limits, ld_httpd_handler handler, void *arg,
                          ld_err *err);
/* Closes every connection (requests not answered are dropped) and the
 * listening socket. NULL is harmless. */
void ld_httpd_free(ld_httpd *h);
/* Stops accepting new connections (for a graceful stop); requests already
 * in are still served. */
void ld_httpd_stop_accepting(ld_httpd *h);
/* Requests handed to the handler and not answered yet. */
size_t ld_httpd_pending(const ld_httpd *h);
/* The port the server listens on (useful with port 0). */
unsigned ld_httpd_port(const ld_httpd *h);

/* The request's method ("GET") and path ("/probe", without the query). */
const char *ld_httpd_method(const ld_httpd_request *req);
const char *ld_httpd_path(const ld_httpd_request *req);
/* Calls fn for every query argument in order (a name may repeat; value is
 * NULL for "?flag"); stops when fn returns non-zero, and returns that. */
int ld_httpd_args(ld_httpd_request *req, int (*fn)(void *arg, const char *name, const char *value),
                  void *arg);
/* 0 when the request's query is within the limits; else the status it
 * deserves (414, 400) with *why saying so in one line (static text). */
unsigned ld_httpd_refusal(const ld_httpd_request *req, const char **why);
/* A request header's value, or NULL. */
const char *ld_httpd_header(ld_httpd_request *req, const char *name);
/* The peer's address as text ("10.0.0.5:41234"), for logs. */
const char *ld_httpd_peer(const ld_httpd_request *req);

/* Answers req with status and body (copied); content_type NULL means
 * "text/plain; charset=utf-8". req must not be used afterwards. */
void ld_httpd_respond(ld_httpd_request *req, unsigned status, const char *content_type,
                      const char *body, size_t len);

#endif
