/* test_http.c - the HTTP probe end to end against servers this test runs on
 * loopback (127.0.0.1 and 127.0.0.2): what each kind of answer becomes as
 * evidence, that the pinned address is used without any name lookup, that
 * the request goes direct whatever the environment's proxy says, and the
 * http.* facts summarize() derives from several addresses.
 *
 * The servers run in one thread that polls its listening sockets and a stop
 * pipe; every wait in it is bounded, so a broken probe fails the test
 * instead of hanging it. Nothing here resolves a name: "svc.lab.test" exists
 * only as the probe's CURLOPT_RESOLVE pin.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "probes/http.h"
#include "unit.h"

#define NAME               "svc.lab.test" /* resolvable nowhere: only the pin makes it work */
#define SERVER_LIFETIME_MS 10000          /* the server thread gives up after this long */
#define IO_WAIT_MS         1000           /* longest a server waits for one read */

/* --- loopback servers ------------------------------------------------------------ */

/* How a listener treats a connection. */
typedef enum srv_mode {
    SRV_ANSWER,  /* reads the request, writes reply, closes */
    SRV_SILENT,  /* reads the request, writes reply (maybe ""), then holds the
                  * connection open until stop: never completes an answer */
    SRV_GARBAGE, /* writes reply (not HTTP) at once, closes */
    SRV_CLOSE,   /* closes at once */
} srv_mode;

/* One listening address. */
typedef struct srv_listener {
    const char *ip;     /* 127.0.0.1 or 127.0.0.2 */
    srv_mode mode;      /* what it does */
    const char *reply;  /* what ANSWER and GARBAGE send */
    size_t reply_len;   /* its length, 0: strlen(reply) (set it for bytes with a NUL) */
    int tls;            /* wrap connections in TLS */
    int fd;             /* listening socket */
    int accepted;       /* connections accepted */
    int requests;       /* complete request heads read */
    char request[2048]; /* the last request head */
    char sni[256];      /* SNI of the last TLS connection, "" when none */
} srv_listener;

/* A set of listeners on one port, served by one thread. */
typedef struct server {
    srv_listener l[2]; /* the listeners */
    size_t n;          /* how many */
    uint16_t port;     /* their common port */
    int stop[2];       /* pipe: a byte ends the thread */
    int held[8];       /* silent connections, closed at stop */
    size_t nheld;      /* how many */
    SSL_CTX *ctx;      /* for tls listeners */
    pthread_t thread;  /* the serving thread */
} server;

static int listen_on(const char *ip, uint16_t port, uint16_t *bound) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
    return fd;
}

/* 1 when this host can listen on ::1 (some containers have no IPv6). */
static int have_ipv6_loopback(void) {
    uint16_t port;
    int fd = listen_on("::1", 0, &port);
    if (fd < 0) {
        fprintf(stderr, "(no IPv6 loopback here: IPv6 case not run) ");
        return 0;
    }
    close(fd);
    return 1;
}

/* Reads a request head (up to the blank line) into buf; 1 when complete. */
static int read_head(int fd, SSL *ssl, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    while (len + 1 < cap) {
        int n = ssl ? SSL_read(ssl, buf + len, (int)(cap - 1 - len))
                    : (int)recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return 1;
    }
    return 0;
}

/* Sends l's reply on fd (or through ssl). */
static void send_reply(const srv_listener *l, int fd, SSL *ssl) {
    size_t len = l->reply_len ? l->reply_len : strlen(l->reply);
    if (ssl) {
        SSL_write(ssl, l->reply, (int)len);
        return;
    }
    ssize_t w = send(fd, l->reply, len, MSG_NOSIGNAL);
    (void)w;
}

static void serve_one(server *s, srv_listener *l) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    l->accepted++;
    struct timeval tv = {.tv_sec = IO_WAIT_MS / 1000, .tv_usec = (IO_WAIT_MS % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (l->mode == SRV_CLOSE) {
        close(fd);
        return;
    }
    if (l->mode == SRV_GARBAGE) {
        send_reply(l, fd, NULL);
        close(fd);
        return;
    }
    SSL *ssl = NULL;
    if (l->tls) {
        ssl = SSL_new(s->ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            SSL_free(ssl);
            close(fd);
            return;
        }
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        snprintf(l->sni, sizeof l->sni, "%s", sni ? sni : "");
    }
    if (read_head(fd, ssl, l->request, sizeof l->request))
        l->requests++;
    if (l->mode == SRV_SILENT && !ssl && s->nheld < sizeof s->held / sizeof s->held[0]) {
        send_reply(l, fd, NULL);
        s->held[s->nheld++] = fd;
        return;
    }
    send_reply(l, fd, ssl);
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    close(fd);
}

static void *serve(void *arg) {
    server *s = arg;
    for (int waited = 0; waited < SERVER_LIFETIME_MS; waited += 50) {
        struct pollfd pfd[3];
        for (size_t i = 0; i < s->n; i++)
            pfd[i] = (struct pollfd){.fd = s->l[i].fd, .events = POLLIN};
        pfd[s->n] = (struct pollfd){.fd = s->stop[0], .events = POLLIN};
        int r = poll(pfd, (nfds_t)s->n + 1, 50);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && pfd[s->n].revents)
            break;
        for (size_t i = 0; r > 0 && i < s->n; i++)
            if (pfd[i].revents & POLLIN)
                serve_one(s, &s->l[i]);
    }
    for (size_t i = 0; i < s->nheld; i++)
        close(s->held[i]);
    return NULL;
}

/* Starts listeners l[0..n) on one port of 127.0.0.1 / 127.0.0.2; ctx serves
 * the TLS ones. */
static void server_start(server *s, size_t n, const srv_listener *ls, SSL_CTX *ctx) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->ctx = ctx;
    for (size_t i = 0; i < n; i++)
        s->l[i] = ls[i];
    for (int attempt = 0; attempt < 20; attempt++) {
        uint16_t port = 0;
        s->l[0].fd = listen_on(s->l[0].ip, 0, &port);
        CU_ASSERT_FATAL(s->l[0].fd >= 0);
        s->port = port;
        if (n < 2 || (s->l[1].fd = listen_on(s->l[1].ip, port, &port)) >= 0)
            break;
        close(s->l[0].fd); /* that port is taken on the other address: try another */
        s->l[0].fd = -1;
    }
    CU_ASSERT_FATAL(s->l[0].fd >= 0);
    CU_ASSERT_FATAL(pipe(s->stop) == 0);
    CU_ASSERT_FATAL(pthread_create(&s->thread, NULL, serve, s) == 0);
}

/* Ends the thread and closes everything; afterwards the counters are stable. */
static void server_stop(server *s) {
    ssize_t w = write(s->stop[1], "x", 1);
    (void)w;
    pthread_join(s->thread, NULL);
    for (size_t i = 0; i < s->n; i++)
        close(s->l[i].fd);
    close(s->stop[0]);
    close(s->stop[1]);
}

/* A self-signed certificate for NAME, made here: no fixture to expire. */
static SSL_CTX *tls_server_ctx(void) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    CU_ASSERT_FATAL(key && x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)NAME, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CU_ASSERT_FATAL(ctx != NULL);
    CU_ASSERT_FATAL(SSL_CTX_use_certificate(ctx, x) == 1);
    CU_ASSERT_FATAL(SSL_CTX_use_PrivateKey(ctx, key) == 1);
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}

/* --- running probes -------------------------------------------------------------- */

/* Up to two HTTP probes of one target in one loop. */
typedef struct harness {
    ld_loop *loop;           /* the loop */
    ld_facts *facts;         /* the target's facts */
    ld_http_config cfg[2];   /* per address */
    ld_probe probes[2];      /* per address */
    size_t n;                /* how many */
    size_t done;             /* probes that called done */
    ld_expect_status expect; /* the expectation all share */
    ld_timer cancel;         /* optional: cancels the probes, as the run deadline does */
    ld_time ran_ms;          /* how long the loop ran (ms) */
    ld_time started;         /* when the last probe's start returned */
    ld_time cancelled;       /* when cancel_all ran, 0 if it did not */
    ld_target_spec spec;     /* the target the summary judges for */
} harness;

static void harness_init(harness *h, const char *expect, char *const *envp) {
    memset(h, 0, sizeof *h);
    ld_err err = {{0}};
    h->loop = ld_loop_create(&err);
    h->facts = ld_facts_create();
    CU_ASSERT_FATAL(h->loop && h->facts);
    CU_ASSERT_EQUAL_FATAL(ld_expect_parse(expect, &h->expect, &err), LD_OK);
    h->spec.target.scheme = LD_SCHEME_HTTP;
    h->spec.expect = h->expect;
    (void)envp; /* the plan, not the probe, reads the environment's proxy settings */
    ld_bag *t = ld_facts_target(h->facts);
    ld_bag_set_str(t, LD_F_TARGET_SCHEME, "http");
    /* The plan records the expectation; summarize() judges by the spec's. */
    ld_bag_set_str(t, LD_F_HTTP_EXPECTED_STATUS, h->expect.text);
}

/* Adds a probe of host:port sent to ip. */
static ld_http_config *harness_add(harness *h, const char *host, uint16_t port, const char *ip) {
    ld_http_config *c = &h->cfg[h->n++];
    ld_err err = {{0}};
    c->https = 0;
    c->host = host;
    c->port = port;
    c->path = "/";
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse(ip, &c->addr, &err), LD_OK);
    return c;
}

static void probe_done(ld_probe *p) {
    harness *h = p->owner;
    if (++h->done == h->n)
        ld_loop_stop(h->loop);
}

static void cancel_all(ld_timer *t) {
    harness *h = t->data;
    h->cancelled = ld_time_now();
    for (size_t i = 0; i < h->n; i++)
        ld_probe_cancel(&h->probes[i]);
}

/* Runs the probes to their end (each within deadline_ms), destroys them and
 * summarizes. cancel_ms > 0 cancels them then. */
static void harness_run(harness *h, int deadline_ms, int cancel_ms) {
    ld_err err = {{0}};
    ld_time now = ld_time_now();
    for (size_t i = 0; i < h->n; i++) {
        h->probes[i] = (ld_probe){.ops = &ld_probe_http,
                                  .config = &h->cfg[i],
                                  .loop = h->loop,
                                  .facts = h->facts,
                                  .run_started = now,
                                  .deadline_at = now + deadline_ms * LD_MS,
                                  .done = probe_done,
                                  .owner = h};
        CU_ASSERT_EQUAL_FATAL(ld_probe_start(&h->probes[i], &err), LD_OK);
    }
    h->started = ld_time_now();
    if (cancel_ms > 0)
        ld_timer_start(h->loop, &h->cancel, now + cancel_ms * LD_MS, cancel_all, h);
    CU_ASSERT_EQUAL(ld_loop_run(h->loop, &err), LD_OK);
    ld_timer_stop(&h->cancel);
    h->ran_ms = (ld_time_now() - now) / LD_MS;
    CU_ASSERT_EQUAL(h->done, h->n);
    for (size_t i = 0; i < h->n; i++) {
        CU_ASSERT_TRUE(h->probes[i].finished);
        h->probes[i].ops->clear(&h->probes[i]);
    }
    CU_ASSERT_EQUAL(ld_probe_http.summarize(h->facts, &h->spec), LD_OK);
}

static void harness_free(harness *h) {
    ld_facts_free(h->facts);
    ld_loop_free(h->loop);
}

/* The http subject of ip. */
static const ld_bag *attempt(const harness *h, const char *ip) {
    for (size_t i = 0; i < ld_facts_subject_count(h->facts); i++) {
        const ld_bag *b = ld_facts_subject_at(h->facts, i);
        if (strcmp(ld_bag_kind(b), "http") == 0 && strcmp(ld_bag_key(b), ip) == 0)
            return b;
    }
    CU_FAIL_FATAL("no http subject for the address");
    return NULL;
}

static const char *str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

static int64_t num_int(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_INT ? v->u.i : -1;
}

static double ms(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_NUM ? v->u.n : -1;
}

/* A bool fact: 1 or 0, or -1 when it was not recorded (so a missing fact
 * fails an assertion instead of crashing the suite). */
static int flag(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = b ? ld_bag_get(b, id) : NULL;
    return v && v->type == LD_T_BOOL ? v->u.b : -1;
}

static const ld_bag *target(const harness *h) {
    return ld_facts_target_const(h->facts);
}

/* 1 when list fact id holds exactly the items given (in order). */
static int list_is(const ld_bag *b, ld_fact_id id, size_t n, const char *const *items) {
    const ld_value *v = ld_bag_get(b, id);
    if (!v || v->type != LD_T_LIST || v->u.list.len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v->u.list.items[i], items[i]) != 0)
            return 0;
    return 1;
}

/* --- one address ----------------------------------------------------------------- */

static void status_400_is_a_response_with_ordered_timings(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_ANSWER,
                      .reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n"
                               "Connection: close\r\n\r\nbad request"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, "400", NULL);
    ld_http_config *c = harness_add(&h, NAME, s.port, "127.0.0.1");
    c->path = "/health?probe=1";
    harness_run(&h, 2000, 0);
    server_stop(&s);

    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ADDRESS), "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), 400);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_VERSION), "1.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "result");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_ERROR));
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_REDIRECT));
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_TLS_MS)); /* plain http */
    double conn = ms(a, LD_F_HTTP_A_CONNECT_MS), ttfb = ms(a, LD_F_HTTP_A_TTFB_MS),
           total = ms(a, LD_F_HTTP_A_TOTAL_MS);
    CU_ASSERT_TRUE(conn > 0);
    CU_ASSERT_TRUE(conn <= ttfb);
    CU_ASSERT_TRUE(ttfb <= total);
    CU_ASSERT_TRUE(total < 2000);

    /* The server saw one direct request for the path, naming the host. */
    CU_ASSERT_EQUAL(s.l[0].requests, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, "GET /health?probe=1 HTTP/1.1\r\n"));
    char host[64];
    snprintf(host, sizeof host, "Host: " NAME ":%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, "User-Agent: linkdoctor/" LD_VERSION "\r\n"));

    const ld_bag *t = target(&h);
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_ATTEMPTED), 1);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "response");
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_STATUS), 400);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_EXPECTED_STATUS), "400");
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_STATUS_MATCHES), 1);
    CU_ASSERT_EQUAL(ms(t, LD_F_HTTP_TOTAL_MS), total);
    harness_free(&h);
}

static void http_1_0_answer_records_version_1_0(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_ANSWER,
                      .reply = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfine\n"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), 200);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_VERSION), "1.0");
    CU_ASSERT_STRING_EQUAL(str(target(&h), LD_F_HTTP_EXPECTED_STATUS), "any");
    CU_ASSERT_STRING_EQUAL(str(target(&h), LD_F_HTTP_VERSION), "1.0");
    harness_free(&h);
}

static void large_body_is_read_to_the_end_and_not_kept(void) {
    enum { BODY = 256 * 1024 };
    static char reply[BODY + 128];
    int head = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BODY);
    memset(reply + head, 'b', BODY);
    reply[head + BODY] = '\0';
    server s;
    srv_listener l = {.ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = reply};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "result");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_ERROR)); /* discarding is not failing */
    harness_free(&h);
}

static void redirect_is_reported_and_not_followed(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_ANSWER,
                      .reply = "HTTP/1.1 301 Moved Permanently\r\nLocation: /elsewhere\r\n"
                               "Content-Length: 0\r\nConnection: close\r\n\r\n"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, "2xx", NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), 301);
    char want[96];
    snprintf(want, sizeof want, "http://" NAME ":%u/elsewhere", s.port);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_REDIRECT), want);
    CU_ASSERT_EQUAL(s.l[0].accepted, 1); /* never followed */
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_REDIRECT), want);
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_STATUS_MATCHES), 0);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_EXPECTED_STATUS), "2xx");
    harness_free(&h);
}

static void silent_server_is_no_response_at_the_deadline(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1", .mode = SRV_SILENT, .reply = ""};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 600, 0);
    server_stop(&s);
    CU_ASSERT_TRUE(h.ran_ms >= 550);
    CU_ASSERT_TRUE(h.ran_ms < 2000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "no_response");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "timeout");
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_STATUS));
    CU_ASSERT_TRUE(ms(a, LD_F_HTTP_A_CONNECT_MS) > 0); /* it connected, then silence */
    CU_ASSERT_TRUE(ms(a, LD_F_HTTP_A_TOTAL_MS) >= 550);
    CU_ASSERT_EQUAL(s.l[0].requests, 1);
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "no_response");
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_RESPONDED_COUNT), 0);
    static const char *const silent[] = {"127.0.0.1"};
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_NO_RESPONSE_ADDRESSES, 1, silent));
    CU_ASSERT_PTR_NULL(ld_bag_get(t, LD_F_HTTP_STATUS));
    CU_ASSERT_PTR_NULL(ld_bag_get(t, LD_F_HTTP_STATUS_MATCHES));
    CU_ASSERT_TRUE(ms(t, LD_F_HTTP_CONNECT_MS) > 0);
    harness_free(&h);
}

static void status_line_then_silence_is_a_response_cut_by_the_deadline(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_SILENT,
                      .reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.."};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, "200", NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    /* Long enough for the status line to arrive under load. */
    harness_run(&h, 800, 0);
    server_stop(&s);
    CU_ASSERT_TRUE(h.ran_ms < 2500);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    /* The service answered: what went wrong later does not unsay that. */
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), 200);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "timeout");
    CU_ASSERT_TRUE(ms(a, LD_F_HTTP_A_TTFB_MS) > 0);
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "response");
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_STATUS_MATCHES), 1);
    CU_ASSERT_PTR_NULL(
        ld_bag_get(t, LD_F_HTTP_ERROR)); /* the error of an answer is evidence only */
    /* A body still coming at the deadline is no broken body (a stream is fine). */
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_BODY_ERROR));
    CU_ASSERT_PTR_NULL(ld_bag_get(t, LD_F_HTTP_BODY_ERROR));
    harness_free(&h);
}

static void run_deadline_cancel_records_no_response_and_run_deadline(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1", .mode = SRV_SILENT, .reply = ""};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 5000, 100);
    server_stop(&s);
    CU_ASSERT_TRUE(h.ran_ms < 1000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "no_response");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "run_deadline");
    CU_ASSERT_EQUAL(h.probes[0].end, LD_END_RUN_DEADLINE);
    /* Cut short, the total is the time it waited (at least from the end of
     * start() to the cancel), not curl's last progress update. */
    CU_ASSERT_TRUE(h.cancelled > h.started);
    CU_ASSERT_TRUE(ms(a, LD_F_HTTP_A_TOTAL_MS) >= (double)(h.cancelled - h.started) / LD_MS);
    harness_free(&h);
}

/* Runs one probe of NAME against one listener l (deadline_ms) and returns
 * its harness, for the tests of what one kind of answer becomes. */
static void run_one(harness *h, srv_listener l, int deadline_ms) {
    server s;
    server_start(&s, 1, &l, NULL);
    harness_init(h, NULL, NULL);
    harness_add(h, NAME, s.port, "127.0.0.1");
    harness_run(h, deadline_ms, 0);
    server_stop(&s);
}

static void answer_that_is_not_http_is_not_http_and_quoted(void) {
    harness h;
    run_one(&h,
            (srv_listener){.ip = "127.0.0.1",
                           .mode = SRV_GARBAGE,
                           .reply = "SSH-2.0-OpenSSH_9.2p1\r\nmore\r\n"},
            2000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "not_http");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "result");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_REPLY), "SSH-2.0-OpenSSH_9.2p1"); /* its first line */
    CU_ASSERT_EQUAL(flag(a, LD_F_HTTP_A_TLS_REPLY), 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_STATUS));
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "not_http");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_REPLY), "SSH-2.0-OpenSSH_9.2p1");
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_TLS_REPLY), 0);
    static const char *const failed[] = {"127.0.0.1"};
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_FAILED_ADDRESSES, 1, failed));
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_RESPONDED_COUNT), 0);
    harness_free(&h);
}

static void tls_alert_from_a_tls_port_is_not_http_and_says_tls(void) {
    /* What a TLS-only port answers a plain GET with: a fatal alert record. */
    harness h;
    run_one(&h,
            (srv_listener){.ip = "127.0.0.1",
                           .mode = SRV_ANSWER,
                           .reply = "\x15\x03\x03\x00\x02\x02\x46",
                           .reply_len = 7},
            2000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "not_http");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_REPLY), "15 03 03 00 02 02 46");
    CU_ASSERT_EQUAL(flag(a, LD_F_HTTP_A_TLS_REPLY), 1);
    CU_ASSERT_EQUAL(flag(target(&h), LD_F_HTTP_TLS_REPLY), 1);
    harness_free(&h);
}

static void binary_flood_is_quoted_in_hex_and_not_read_to_the_end(void) {
    enum { FLOOD = 64 * 1024 };
    static char flood[FLOOD];
    for (size_t i = 0; i < FLOOD; i++)
        flood[i] = (char)(0x80 | (i * 7 % 0x80));
    harness h;
    /* Held open after the flood: only the probe's own stop ends it early. */
    run_one(
        &h,
        (srv_listener){.ip = "127.0.0.1", .mode = SRV_SILENT, .reply = flood, .reply_len = FLOOD},
        3000);
    CU_ASSERT_TRUE(h.ran_ms < 1500);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "not_http");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), "result");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_REPLY),
                           "80 87 8e 95 9c a3 aa b1 b8 bf c6 cd d4 db e2 e9");
    /* Stopping was the probe's own doing, not a failure to report. */
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_ERROR));
    harness_free(&h);
}

static void status_lines_curl_refuses_are_not_http(void) {
    static const char *const replies[] = {
        "HTTP/1.1 abc\r\n\r\n",
        "HTTP/9.9 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        harness h;
        run_one(&h, (srv_listener){.ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = replies[i]},
                2000);
        const ld_bag *a = attempt(&h, "127.0.0.1");
        CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "not_http");
        CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_STATUS));
        CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_HTTP_A_REPLY));  /* curl keeps the line */
        CU_ASSERT_TRUE(strlen(str(a, LD_F_HTTP_A_ERROR)) > 0); /* it says what is wrong */
        CU_ASSERT_STRING_EQUAL(str(target(&h), LD_F_HTTP_ERROR), str(a, LD_F_HTTP_A_ERROR));
        harness_free(&h);
    }
}

static void connection_closed_at_once_is_closed(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1", .mode = SRV_CLOSE, .reply = ""};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "closed");
    CU_ASSERT_TRUE(strlen(str(a, LD_F_HTTP_A_ERROR)) > 0);
    CU_ASSERT_TRUE(h.ran_ms < 1000);
    CU_ASSERT_EQUAL(s.l[0].accepted, 1);
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "closed");
    static const char *const closed[] = {"127.0.0.1"};
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_CLOSED_ADDRESSES, 1, closed));
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_NO_RESPONSE_ADDRESSES, 0, NULL));
    harness_free(&h);
}

static void empty_reply_after_the_request_is_closed(void) {
    harness h;
    run_one(&h, (srv_listener){.ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = ""}, 2000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "closed");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ERROR), "Empty reply from server");
    harness_free(&h);
}

/* The attempt of a one-listener run whose reply is an incomplete response:
 * checks the result, how it broke off, its status (-1: none) and its end. */
static void assert_incomplete(const harness *h, const char *how, int status, const char *ended_by) {
    const ld_bag *a = attempt(h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "incomplete");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ENDED_BY), ended_by);
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_INCOMPLETE), how);
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), status);
    const ld_bag *t = target(h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "incomplete");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_INCOMPLETE), how);
    /* Not a response: no status to judge, nothing counted as answered. */
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_RESPONDED_COUNT), 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(t, LD_F_HTTP_STATUS));
    CU_ASSERT_PTR_NULL(ld_bag_get(t, LD_F_HTTP_STATUS_MATCHES));
}

static void only_interim_statuses_are_incomplete(void) {
    harness h;
    run_one(&h,
            (srv_listener){
                .ip = "127.0.0.1", .mode = SRV_SILENT, .reply = "HTTP/1.1 100 Continue\r\n\r\n"},
            600);
    assert_incomplete(&h, "interim_only", 100, "timeout");
    harness_free(&h);
    run_one(&h,
            (srv_listener){
                .ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = "HTTP/1.1 100 Continue\r\n\r\n"},
            2000);
    assert_incomplete(&h, "interim_only", 100, "result");
    harness_free(&h);
}

static void headers_cut_by_a_close_are_incomplete(void) {
    harness h;
    run_one(&h,
            (srv_listener){
                .ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = "HTTP/1.1 200 OK\r\nContent-Ty"},
            2000);
    assert_incomplete(&h, "cut", 200, "result");
    harness_free(&h);
}

static void headers_unfinished_at_the_deadline_are_incomplete(void) {
    harness h;
    run_one(&h,
            (srv_listener){
                .ip = "127.0.0.1", .mode = SRV_SILENT, .reply = "HTTP/1.1 200 OK\r\nX-A: b\r\n"},
            600);
    assert_incomplete(&h, "stalled", 200, "timeout");
    harness_free(&h);
}

static void part_of_a_status_line_is_incomplete_not_silence(void) {
    /* A reply dripped too slowly: two bytes by the deadline are not "no
     * response" (the report must not say the peer sent nothing). */
    harness h;
    run_one(&h, (srv_listener){.ip = "127.0.0.1", .mode = SRV_SILENT, .reply = "HT"}, 600);
    assert_incomplete(&h, "stalled", -1, "timeout");
    CU_ASSERT_TRUE(ms(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_TTFB_MS) > 0);
    CU_ASSERT_TRUE(list_is(target(&h), LD_F_HTTP_NO_RESPONSE_ADDRESSES, 0, NULL));
    harness_free(&h);
}

/* A reply: "HTTP/1.1 200 OK", then n header bytes made of lines of width
 * bytes each (one line when width is 0), then the end of the headers. */
static char *big_headers(size_t n, size_t width) {
    size_t lines = width ? (n + width - 1) / width : 1;
    char *r = malloc(n + lines * 8 + 64); /* each line adds "X-H: " and CR LF */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    size_t len = (size_t)sprintf(r, "HTTP/1.1 200 OK\r\n");
    for (size_t done = 0; done < n;) {
        size_t line = width && width < n - done ? width : n - done;
        len += (size_t)sprintf(r + len, "X-H: ");
        memset(r + len, 'h', line);
        len += line;
        len += (size_t)sprintf(r + len, "\r\n");
        done += line;
    }
    sprintf(r + len, "Content-Length: 0\r\n\r\n");
    return r;
}

static void header_flood_stops_at_the_limit_as_too_large(void) {
    char *flood = big_headers(300 * 1024, 60);
    harness h;
    run_one(&h, (srv_listener){.ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = flood}, 2000);
    assert_incomplete(&h, "too_large", 200, "result");
    CU_ASSERT_PTR_NULL(ld_bag_get(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_ERROR)); /* ours */
    harness_free(&h);
    free(flood);
    /* Headers under the limit are a response. */
    char *many = big_headers(100 * 1024, 60);
    run_one(&h, (srv_listener){.ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = many}, 2000);
    CU_ASSERT_STRING_EQUAL(str(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_RESULT), "response");
    harness_free(&h);
    free(many);
}

static void header_line_over_curls_limit_is_too_large(void) {
    char *huge = big_headers(150 * 1024, 0);
    harness h;
    run_one(&h, (srv_listener){.ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = huge}, 2000);
    assert_incomplete(&h, "too_large", 200, "result");
    harness_free(&h);
    free(huge);
}

static void body_cut_short_is_a_response_with_a_body_error(void) {
    harness h;
    run_one(&h,
            (srv_listener){.ip = "127.0.0.1",
                           .mode = SRV_ANSWER,
                           .reply = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.."},
            2000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(str(a, LD_F_HTTP_A_BODY_ERROR), "90 bytes remaining"));
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "response");
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_STATUS_MATCHES), 1);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_BODY_ERROR), str(a, LD_F_HTTP_A_BODY_ERROR));
    harness_free(&h);
}

static void bad_chunked_encoding_is_a_response_with_a_body_error(void) {
    harness h;
    run_one(&h,
            (srv_listener){.ip = "127.0.0.1",
                           .mode = SRV_ANSWER,
                           .reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "zz\r\nbody\r\n0\r\n\r\n"},
            2000);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_PTR_NOT_NULL(strstr(str(a, LD_F_HTTP_A_BODY_ERROR), "chunked"));
    harness_free(&h);
}

static void trailing_dot_name_is_pinned_without_it(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_ANSWER,
                      .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME ".", s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    CU_ASSERT_EQUAL(num_int(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_STATUS), 200);
    char host[64];
    snprintf(host, sizeof host, "Host: " NAME ":%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    harness_free(&h);
}

static void ip_literal_host_needs_no_pin(void) {
    server s;
    srv_listener l = {
        .ip = "127.0.0.1", .mode = SRV_ANSWER, .reply = "HTTP/1.1 204 No Content\r\n\r\n"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, "127.0.0.1", s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    CU_ASSERT_EQUAL(num_int(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_STATUS), 204);
    char host[64];
    snprintf(host, sizeof host, "Host: 127.0.0.1:%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    harness_free(&h);
}

static void ipv6_address_is_pinned_in_brackets(void) {
    if (!have_ipv6_loopback())
        return;
    server s;
    srv_listener l = {
        .ip = "::1", .mode = SRV_ANSWER, .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "::1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    const ld_bag *a = attempt(&h, "::1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_ADDRESS), "::1");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS), 200);
    char host[64];
    snprintf(host, sizeof host, "Host: " NAME ":%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    harness_free(&h);
}

static void ipv6_literal_host_goes_in_brackets(void) {
    if (!have_ipv6_loopback())
        return;
    server s;
    srv_listener l = {
        .ip = "::1", .mode = SRV_ANSWER, .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, "::1", s.port, "::1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    CU_ASSERT_EQUAL(num_int(attempt(&h, "::1"), LD_F_HTTP_A_STATUS), 200);
    char host[64];
    snprintf(host, sizeof host, "Host: [::1]:%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    harness_free(&h);
}

/* --- several addresses ----------------------------------------------------------- */

static void first_unexpected_status_is_the_one_reported(void) {
    server s;
    srv_listener ls[2] = {
        {.ip = "127.0.0.1",
         .mode = SRV_ANSWER,
         .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
        {.ip = "127.0.0.2",
         .mode = SRV_ANSWER,
         .reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"},
    };
    server_start(&s, 2, ls, NULL);
    harness h;
    harness_init(&h, "2xx", NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_add(&h, NAME, s.port, "127.0.0.2");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    /* Each pin sent its request to its own address. */
    CU_ASSERT_EQUAL(s.l[0].requests, 1);
    CU_ASSERT_EQUAL(s.l[1].requests, 1);
    const ld_bag *t = target(&h);
    static const char *const statuses[] = {"200", "503"};
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_STATUSES, 2, statuses));
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_STATUS), 503);
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_STATUS_MATCHES), 0);
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_RESPONDED_COUNT), 2);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "response");
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_NO_RESPONSE_ADDRESSES, 0, NULL));
    /* The timings are those of the attempt whose status is reported. */
    const ld_bag *bad = attempt(&h, "127.0.0.2");
    CU_ASSERT_EQUAL(ms(t, LD_F_HTTP_TOTAL_MS), ms(bad, LD_F_HTTP_A_TOTAL_MS));
    CU_ASSERT_EQUAL(ms(t, LD_F_HTTP_TTFB_MS), ms(bad, LD_F_HTTP_A_TTFB_MS));
    CU_ASSERT_EQUAL(ms(t, LD_F_HTTP_CONNECT_MS), ms(bad, LD_F_HTTP_A_CONNECT_MS));
    harness_free(&h);
}

static void silent_address_makes_the_result_no_response(void) {
    server s;
    srv_listener ls[2] = {
        {.ip = "127.0.0.1",
         .mode = SRV_ANSWER,
         .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
        {.ip = "127.0.0.2", .mode = SRV_SILENT, .reply = ""},
    };
    server_start(&s, 2, ls, NULL);
    harness h;
    harness_init(&h, "200", NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_add(&h, NAME, s.port, "127.0.0.2");
    /* Long enough for the answering server under load (ASan, parallel runs). */
    harness_run(&h, 1500, 0);
    server_stop(&s);
    const ld_bag *t = target(&h);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "no_response");
    static const char *const silent[] = {"127.0.0.2"};
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_NO_RESPONSE_ADDRESSES, 1, silent));
    static const char *const statuses[] = {"200"};
    CU_ASSERT_TRUE(list_is(t, LD_F_HTTP_STATUSES, 1, statuses));
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_STATUS), 200);
    CU_ASSERT_EQUAL(flag(t, LD_F_HTTP_STATUS_MATCHES), 1);
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_RESPONDED_COUNT), 1);
    harness_free(&h);
}

static void error_outranks_response_but_not_no_response(void) {
    /* Summaries from recorded evidence alone: no network needed. */
    ld_facts *f = ld_facts_create();
    ld_bag *t = ld_facts_target(f);
    ld_target_spec spec = {.target.scheme = LD_SCHEME_HTTP};
    ld_bag_set_str(t, LD_F_HTTP_EXPECTED_STATUS, "any");
    const char *results[] = {"response", "error"};
    const char *addrs[] = {"10.0.0.1", "10.0.0.2"};
    for (int i = 0; i < 2; i++) {
        ld_bag *a = ld_facts_subject(f, "http", addrs[i]);
        ld_bag_set_str(a, LD_F_HTTP_A_ADDRESS, addrs[i]);
        ld_bag_set_str(a, LD_F_HTTP_A_RESULT, results[i]);
        if (i == 0)
            ld_bag_set_int(a, LD_F_HTTP_A_STATUS, 200);
        else
            ld_bag_set_str(a, LD_F_HTTP_A_ERROR, "Empty reply from server");
    }
    ld_probe_http.summarize(f, &spec);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "error");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_ERROR), "Empty reply from server");
    CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_STATUS), 200);
    ld_bag *c = ld_facts_subject(f, "http", "10.0.0.3");
    ld_bag_set_str(c, LD_F_HTTP_A_ADDRESS, "10.0.0.3");
    ld_bag_set_str(c, LD_F_HTTP_A_RESULT, "no_response");
    ld_probe_http.summarize(f, &spec);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), "no_response");
    ld_facts_free(f);
}

static void summary_takes_the_worst_outcome_and_its_details(void) {
    /* A failure on this side ranks below every finding about the peer. */
    static const char *const order[] = {"response", "error",  "incomplete",
                                        "not_http", "closed", "no_response"};
    enum { N = sizeof order / sizeof order[0] };
    ld_target_spec spec = {.target.scheme = LD_SCHEME_HTTP};
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            ld_facts *f = ld_facts_create();
            const char *results[2] = {order[i], order[j]};
            const char *addrs[2] = {"10.0.0.1", "10.0.0.2"};
            for (int k = 0; k < 2; k++) {
                ld_bag *a = ld_facts_subject(f, "http", addrs[k]);
                ld_bag_set_str(a, LD_F_HTTP_A_ADDRESS, addrs[k]);
                ld_bag_set_str(a, LD_F_HTTP_A_RESULT, results[k]);
                ld_bag_set_str(a, LD_F_HTTP_A_REPLY, addrs[k]); /* marks whose details win */
                if (strcmp(results[k], "response") == 0)
                    ld_bag_set_int(a, LD_F_HTTP_A_STATUS, 200);
                else
                    ld_bag_set_str(a, LD_F_HTTP_A_ERROR, addrs[k]);
            }
            CU_ASSERT_EQUAL(ld_probe_http.summarize(f, &spec), LD_OK);
            const ld_bag *t = ld_facts_target_const(f);
            CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_RESULT), order[i > j ? i : j]);
            /* The worst attempt's details and error; on a tie, the first's. */
            const char *worst = j > i ? "10.0.0.2" : "10.0.0.1";
            CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_REPLY), worst);
            if (i > 0 || j > 0)
                CU_ASSERT_STRING_EQUAL(str(t, LD_F_HTTP_ERROR), worst);
            size_t failed = (i > 0) + (j > 0);
            CU_ASSERT_EQUAL(ld_bag_get(t, LD_F_HTTP_FAILED_ADDRESSES)->u.list.len, failed);
            CU_ASSERT_EQUAL(num_int(t, LD_F_HTTP_RESPONDED_COUNT), 2 - (int64_t)failed);
            ld_facts_free(f);
        }
    }
}

static void no_http_facts_for_targets_that_are_not_http(void) {
    ld_facts *f = ld_facts_create();
    ld_target_spec spec = {.target.scheme = LD_SCHEME_REDIS};
    ld_probe_http.summarize(f, &spec);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_HTTP_ATTEMPTED));
    spec.target.scheme = LD_SCHEME_HTTPS;
    ld_probe_http.summarize(f, &spec);
    /* An https target none of whose addresses was asked. */
    CU_ASSERT_FALSE(ld_facts_get(f, LD_F_HTTP_ATTEMPTED)->u.b);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_HTTP_RESULT));
    ld_facts_free(f);
}

/* --- proxy environment and TLS ----------------------------------------------------- */

static void process_proxy_variables_do_not_divert_the_request(void) {
    /* libcurl reads the process environment itself: only CURLOPT_NOPROXY
     * keeps these from sending the request to a proxy nobody runs. */
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_ANSWER,
                      .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
    CU_ASSERT_EQUAL_FATAL(setenv("http_proxy", "http://127.0.0.9:9", 1), 0);
    CU_ASSERT_EQUAL_FATAL(setenv("all_proxy", "http://127.0.0.9:9", 1), 0);
    server_start(&s, 1, &l, NULL);
    harness h;
    harness_init(&h, NULL, NULL);
    harness_add(&h, NAME, s.port, "127.0.0.1");
    harness_run(&h, 2000, 0);
    server_stop(&s);
    unsetenv("http_proxy");
    unsetenv("all_proxy");
    CU_ASSERT_EQUAL(num_int(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_STATUS), 200);
    CU_ASSERT_EQUAL(s.l[0].requests, 1);
    harness_free(&h);
}

static void https_records_tls_time_and_sends_the_name_as_sni(void) {
    server s;
    srv_listener l = {
        .ip = "127.0.0.1",
        .mode = SRV_ANSWER,
        .tls = 1,
        .reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
    SSL_CTX *ctx = tls_server_ctx();
    server_start(&s, 1, &l, ctx);
    harness h;
    harness_init(&h, NULL, NULL);
    ld_http_config *c = harness_add(&h, NAME, s.port, "127.0.0.1");
    c->https = 1;
    harness_run(&h, 2000, 0);
    server_stop(&s);
    SSL_CTX_free(ctx);
    const ld_bag *a = attempt(&h, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_HTTP_A_RESULT), "response");
    CU_ASSERT_EQUAL(num_int(a, LD_F_HTTP_A_STATUS),
                    400); /* self-signed: verification is the TLS probe's */
    double conn = ms(a, LD_F_HTTP_A_CONNECT_MS), tls = ms(a, LD_F_HTTP_A_TLS_MS),
           ttfb = ms(a, LD_F_HTTP_A_TTFB_MS);
    CU_ASSERT_TRUE(conn > 0 && conn <= tls && tls <= ttfb);
    CU_ASSERT_STRING_EQUAL(s.l[0].sni, NAME);
    char host[64];
    snprintf(host, sizeof host, "Host: " NAME ":%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    CU_ASSERT_TRUE(ms(target(&h), LD_F_HTTP_TLS_MS) > 0);
    harness_free(&h);
}

static void sni_option_changes_sni_but_not_the_host_header(void) {
    server s;
    srv_listener l = {.ip = "127.0.0.1",
                      .mode = SRV_ANSWER,
                      .tls = 1,
                      .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
    SSL_CTX *ctx = tls_server_ctx();
    server_start(&s, 1, &l, ctx);
    harness h;
    harness_init(&h, NULL, NULL);
    ld_http_config *c = harness_add(&h, NAME, s.port, "127.0.0.1");
    c->https = 1;
    c->sni = "front.lab.test";
    harness_run(&h, 2000, 0);
    server_stop(&s);
    SSL_CTX_free(ctx);
    CU_ASSERT_EQUAL(num_int(attempt(&h, "127.0.0.1"), LD_F_HTTP_A_STATUS), 200);
    CU_ASSERT_STRING_EQUAL(s.l[0].sni, "front.lab.test");
    char host[64];
    snprintf(host, sizeof host, "Host: " NAME ":%u\r\n", s.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.l[0].request, host));
    harness_free(&h);
}

int main(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    static const ld_test_case cases[] = {
        LD_TEST(status_400_is_a_response_with_ordered_timings),
        LD_TEST(http_1_0_answer_records_version_1_0),
        LD_TEST(large_body_is_read_to_the_end_and_not_kept),
        LD_TEST(redirect_is_reported_and_not_followed),
        LD_TEST(silent_server_is_no_response_at_the_deadline),
        LD_TEST(status_line_then_silence_is_a_response_cut_by_the_deadline),
        LD_TEST(run_deadline_cancel_records_no_response_and_run_deadline),
        LD_TEST(answer_that_is_not_http_is_not_http_and_quoted),
        LD_TEST(tls_alert_from_a_tls_port_is_not_http_and_says_tls),
        LD_TEST(binary_flood_is_quoted_in_hex_and_not_read_to_the_end),
        LD_TEST(status_lines_curl_refuses_are_not_http),
        LD_TEST(connection_closed_at_once_is_closed),
        LD_TEST(empty_reply_after_the_request_is_closed),
        LD_TEST(only_interim_statuses_are_incomplete),
        LD_TEST(headers_cut_by_a_close_are_incomplete),
        LD_TEST(headers_unfinished_at_the_deadline_are_incomplete),
        LD_TEST(part_of_a_status_line_is_incomplete_not_silence),
        LD_TEST(header_flood_stops_at_the_limit_as_too_large),
        LD_TEST(header_line_over_curls_limit_is_too_large),
        LD_TEST(body_cut_short_is_a_response_with_a_body_error),
        LD_TEST(bad_chunked_encoding_is_a_response_with_a_body_error),
        LD_TEST(trailing_dot_name_is_pinned_without_it),
        LD_TEST(ip_literal_host_needs_no_pin),
        LD_TEST(ipv6_address_is_pinned_in_brackets),
        LD_TEST(ipv6_literal_host_goes_in_brackets),
        LD_TEST(first_unexpected_status_is_the_one_reported),
        LD_TEST(silent_address_makes_the_result_no_response),
        LD_TEST(error_outranks_response_but_not_no_response),
        LD_TEST(summary_takes_the_worst_outcome_and_its_details),
        LD_TEST(no_http_facts_for_targets_that_are_not_http),
        LD_TEST(process_proxy_variables_do_not_divert_the_request),
        LD_TEST(https_records_tls_time_and_sends_the_name_as_sni),
        LD_TEST(sni_option_changes_sni_but_not_the_host_header),
        {0},
    };
    int rc = ld_unit_run("http", cases);
    curl_global_cleanup();
    return rc;
}
