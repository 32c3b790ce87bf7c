/* loopback.c - scripted loopback servers and a probe runner (see loopback.h). */
#include "loopback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

void lb_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static ssize_t srv_read(int fd, SSL *ssl, void *b, size_t n) {
    if (!ssl)
        return read(fd, b, n);
    int r = SSL_read(ssl, b, (int)n);
    if (r > 0)
        return r;
    return SSL_get_error(ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static void srv_write(int fd, SSL *ssl, const void *b, size_t n) {
    if (ssl) {
        size_t w;
        SSL_write_ex(ssl, b, n, &w);
    } else if (write(fd, b, n) < 0) {
        /* the test notices through what the probe saw */
    }
}

static void *server_main(void *arg) {
    lb_server *s = arg;
    SSL *ssl = NULL;
    int fd = -1;
    if (s->delay_ms)
        lb_sleep_ms(s->delay_ms);
    struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
    if (poll(&pfd, 1, LB_WAIT_MS) != 1)
        goto out;
    fd = accept(s->lfd, NULL, NULL);
    if (fd < 0 || s->mode == LB_CLOSE)
        goto out;
    struct timeval tv = {LB_WAIT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s->tls) {
        ssl = SSL_new(s->tls);
        if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
            goto out;
    }
    size_t skipped = 0;
    int replied = 0;
    for (;;) {
        unsigned char b[65536];
        ssize_t n = srv_read(fd, ssl, b, sizeof b);
        if (n <= 0) {
            s->got_eof = n == 0;
            break;
        }
        size_t off = 0;
        if (skipped < s->skip) {
            off = (size_t)n < s->skip - skipped ? (size_t)n : s->skip - skipped;
            skipped += off;
        }
        size_t take = (size_t)n - off;
        if (take > sizeof s->got - s->got_len)
            take = sizeof s->got - s->got_len;
        memcpy(s->got + s->got_len, b + off, take);
        s->got_len += take;
        if (replied || !s->request_complete(s->got, s->got_len))
            continue;
        replied = 1;
        if (s->mode == LB_SILENT)
            continue;
        for (const lb_piece *p = s->reply; p->bytes; p++) {
            if (p != s->reply)
                lb_sleep_ms(LB_PIECE_GAP_MS);
            srv_write(fd, ssl, p->bytes, p->len);
        }
        if (s->mode == LB_REPLY_CLOSE)
            break;
    }
out:
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* Listens on 127.0.0.1 (an ephemeral port). */
void lb_listen(lb_server *s) {
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(s->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CU_ASSERT_FATAL(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CU_ASSERT_FATAL(listen(s->lfd, 4) == 0);
    socklen_t len = sizeof sa;
    CU_ASSERT_FATAL(getsockname(s->lfd, (struct sockaddr *)&sa, &len) == 0);
    s->port = ntohs(sa.sin_port);
}

void lb_run(lb_server *s) {
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->request_complete); /* the script needs to know */
    CU_ASSERT_FATAL(pthread_create(&s->thread, NULL, server_main, s) == 0);
}

/* Waits for the lb_server thread (bounded: all its waits are) and closes it. */
void lb_join(lb_server *s) {
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

/* A blocking TCP connection to the server. */
int lb_connect(const lb_server *s) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(s->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    struct timeval tv = {LB_WAIT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

void lb_set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    CU_ASSERT_FATAL(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

/* A plain stream to the server, as the TCP probe hands it over. */
ld_stream lb_plain_stream(const lb_server *s) {
    int fd = lb_connect(s);
    lb_set_nonblocking(fd);
    return (ld_stream){.fd = fd, .ssl = NULL};
}

/* A throwaway self-signed P-256 certificate for "localhost" in a lb_server context. */
SSL_CTX *lb_tls_server_ctx(void) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CU_ASSERT_FATAL(key && x && ctx);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    CU_ASSERT_FATAL(X509_sign(x, key, EVP_sha256()) > 0);
    CU_ASSERT_FATAL(SSL_CTX_use_certificate(ctx, x) == 1);
    CU_ASSERT_FATAL(SSL_CTX_use_PrivateKey(ctx, key) == 1);
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}

/* A TLS stream to the server: the handshake done here, blocking and bounded,
 * as the TLS probe would hand it over. */
ld_stream lb_tls_stream(const lb_server *s, SSL_CTX *client_ctx) {
    int fd = lb_connect(s);
    SSL *ssl = SSL_new(client_ctx);
    CU_ASSERT_FATAL(ssl != NULL);
    SSL_set_fd(ssl, fd);
    CU_ASSERT_FATAL(SSL_connect(ssl) == 1);
    lb_set_nonblocking(fd);
    return (ld_stream){.fd = fd, .ssl = ssl};
}

/* --- running the probe ------------------------------------------------------- */

static void stop_loop(ld_probe *p) {
    ld_loop_stop(p->loop);
}

static void cancel_probe(ld_timer *t) {
    ld_probe_cancel(t->data);
}

void lb_run_probe(const ld_probe_ops *ops, const void *cfg, ld_facts *facts, ld_time timeout,
                  ld_time cancel_after) {
    ld_err err = {{0}};
    ld_loop *loop = ld_loop_create(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(loop);
    ld_time now = ld_time_now();
    ld_probe p = {.ops = ops,
                  .config = cfg,
                  .loop = loop,
                  .facts = facts,
                  .run_started = now,
                  .deadline_at = now + timeout,
                  .done = stop_loop};
    ld_timer cancel = {0};
    if (cancel_after)
        ld_timer_start(loop, &cancel, now + cancel_after, cancel_probe, &p);
    CU_ASSERT_EQUAL(ld_probe_start(&p, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_loop_run(loop, &err), LD_OK);
    CU_ASSERT_TRUE(p.finished);
    ld_timer_stop(&cancel);
    p.ops->clear(&p);
    ld_loop_free(loop);
}

const ld_bag *lb_subject(const ld_facts *f, const char *kind, const char *addr) {
    for (size_t i = 0; i < ld_facts_subject_count(f); i++) {
        const ld_bag *b = ld_facts_subject_at(f, i);
        if (strcmp(ld_bag_kind(b), kind) == 0 && strcmp(ld_bag_key(b), addr) == 0)
            return b;
    }
    return NULL;
}

const char *lb_str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = b ? ld_bag_get(b, id) : NULL;
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

/* Serves one connection with the script, runs the probe on it (plain or
 * TLS) and returns the facts; the server's record is left in *srv. */
ld_facts *lb_probe_against(lb_server *srv, int tls, ld_time timeout, lb_runner run) {
    SSL_CTX *client_ctx = NULL;
    if (tls) {
        srv->tls = lb_tls_server_ctx();
        client_ctx = SSL_CTX_new(TLS_client_method());
        CU_ASSERT_PTR_NOT_NULL_FATAL(client_ctx);
    }
    lb_listen(srv);
    lb_run(srv);
    ld_stream st = tls ? lb_tls_stream(srv, client_ctx) : lb_plain_stream(srv);
    ld_facts *f = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    run(f, st, "127.0.0.1", timeout, 0);
    lb_join(srv);
    SSL_CTX_free(client_ctx);
    SSL_CTX_free(srv->tls);
    srv->tls = NULL;
    return f;
}
