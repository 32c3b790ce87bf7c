/* test_tls.c - the TLS probe against servers this test runs on 127.0.0.1,
 * with certificates it makes itself: every outcome (ok, stalled, not_tls,
 * closed, failed), every certificate fact (trust, name, names, dates), ALPN
 * and SNI as the server saw them, the worst-outcome summary, the --cacert
 * context, and a kept session carrying data for the next probe.
 *
 * Servers are threads using blocking sockets with WAIT_MS timeouts on every
 * wait, so a broken probe fails the test instead of hanging it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "probes/tls.h"
#include "unit.h"

#define WAIT_MS 5000 /* longest any server or test step waits */
#define DAY     (24L * 3600L)

/* --- certificates made for this run -------------------------------------- */

/* The certificates every case uses; made once in main(). */
typedef struct certs {
    EVP_PKEY *ca_key;    /* the CA's key */
    EVP_PKEY *key;       /* every leaf's key */
    X509 *ca;            /* "linkdoctor test CA" */
    X509 *good;          /* svc.lab.test + IP 127.0.0.1, by the CA, 2024..2099 */
    X509 *other;         /* CN other.example only (no subjectAltName), by the CA */
    X509 *self;          /* svc.lab.test, self-signed */
    X509 *expired;       /* svc.lab.test, by the CA, ended 2 days and an hour ago */
    X509 *expiring;      /* svc.lab.test, by the CA, ends in 5 days and an hour */
    X509 *future;        /* svc.lab.test, by the CA, valid from 10 days on */
    SSL_CTX *ctx;        /* client context trusting only the CA (--cacert) */
    SSL_CTX *system_ctx; /* client context with the system trust store */
    char ca_path[512];   /* the CA as PEM */
    char junk_path[512]; /* a file with no certificate in it */
} certs;

static certs C; /* fixture: made in main() before the cases, read-only after */

/* Adds an X509v3 extension given in openssl.cnf syntax. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!e)
        return 0;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* What a certificate says about itself. */
typedef struct cert_spec {
    const char *cn;         /* common name */
    const char *san;        /* subjectAltName value, NULL for none */
    const char *not_before; /* absolute "YYYYMMDDHHMMSSZ", or NULL: now + from */
    const char *not_after;  /* absolute, or NULL: now + to */
    long from, to;          /* seconds from now */
    int ca;                 /* a CA certificate */
    long serial;            /* serial number */
} cert_spec;

/* Makes a certificate for key, signed by issuer (NULL: self-signed). */
static X509 *make_cert(const cert_spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key) {
    X509 *x = X509_new();
    int ok = x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial) &&
             (s->not_before ? ASN1_TIME_set_string_X509(X509_getm_notBefore(x), s->not_before)
                            : X509_gmtime_adj(X509_getm_notBefore(x), s->from) != NULL) &&
             (s->not_after ? ASN1_TIME_set_string_X509(X509_getm_notAfter(x), s->not_after)
                           : X509_gmtime_adj(X509_getm_notAfter(x), s->to) != NULL) &&
             X509_set_pubkey(x, key);
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"linkdoctor lab", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1,
                                    0) &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : x;
    ok = ok && add_ext(x, signer, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ok && s->ca)
        ok = add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (ok && s->san)
        ok = add_ext(x, signer, NID_subject_alt_name, s->san);
    ok = ok && X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
    if (!ok) {
        ERR_print_errors_fp(stderr);
        X509_free(x);
        return NULL;
    }
    return x;
}

static int certs_make(certs *c) {
    c->ca_key = EVP_EC_gen("P-256");
    c->key = EVP_EC_gen("P-256");
    if (!c->ca_key || !c->key)
        return 0;
    const char *svc = "DNS:svc.lab.test,IP:127.0.0.1";
    c->ca = make_cert(
        &(cert_spec){
            .cn = "linkdoctor test CA", .from = -DAY, .to = 3650 * DAY, .ca = 1, .serial = 1},
        c->ca_key, NULL, NULL);
    c->good = make_cert(&(cert_spec){.cn = "svc.lab.test",
                                     .san = svc,
                                     .not_before = "20240101000000Z",
                                     .not_after = "20991231000000Z",
                                     .serial = 2},
                        c->key, c->ca, c->ca_key);
    c->other =
        make_cert(&(cert_spec){.cn = "other.example", .from = -DAY, .to = 365 * DAY, .serial = 3},
                  c->key, c->ca, c->ca_key);
    c->self = make_cert(
        &(cert_spec){.cn = "svc.lab.test", .san = svc, .from = -DAY, .to = 365 * DAY, .serial = 4},
        c->key, NULL, NULL);
    c->expired = make_cert(&(cert_spec){.cn = "svc.lab.test",
                                        .san = svc,
                                        .from = -30 * DAY,
                                        .to = -(2 * DAY + 3600),
                                        .serial = 5},
                           c->key, c->ca, c->ca_key);
    c->expiring = make_cert(
        &(cert_spec){
            .cn = "svc.lab.test", .san = svc, .from = -DAY, .to = 5 * DAY + 3600, .serial = 6},
        c->key, c->ca, c->ca_key);
    c->future = make_cert(
        &(cert_spec){
            .cn = "svc.lab.test", .san = svc, .from = 10 * DAY, .to = 365 * DAY, .serial = 7},
        c->key, c->ca, c->ca_key);
    if (!c->ca || !c->good || !c->other || !c->self || !c->expired || !c->expiring || !c->future)
        return 0;

    snprintf(c->ca_path, sizeof c->ca_path, "%s/tls_ca_%d.pem", LD_TEST_OUT, (int)getpid());
    snprintf(c->junk_path, sizeof c->junk_path, "%s/tls_junk_%d.pem", LD_TEST_OUT, (int)getpid());
    FILE *f = fopen(c->ca_path, "w");
    if (!f)
        return 0;
    int ok = PEM_write_X509(f, c->ca) == 1;
    fclose(f);
    f = fopen(c->junk_path, "w");
    if (!f)
        return 0;
    fputs("this is not a certificate\n", f);
    fclose(f);
    ld_err err;
    c->ctx = ld_tls_ctx_create(c->ca_path, &err);
    c->system_ctx = ld_tls_ctx_create(NULL, &err);
    return ok && c->ctx && c->system_ctx;
}

static void certs_free(certs *c) {
    SSL_CTX_free(c->ctx);
    SSL_CTX_free(c->system_ctx);
    X509 *all[] = {c->ca, c->good, c->other, c->self, c->expired, c->expiring, c->future};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        X509_free(all[i]);
    EVP_PKEY_free(c->ca_key);
    EVP_PKEY_free(c->key);
    unlink(c->ca_path);
    unlink(c->junk_path);
}

/* --- loopback servers ---------------------------------------------------- */

/* What a server does with the one connection it accepts. */
typedef enum srv_kind {
    SRV_TLS,     /* a TLS server presenting cert */
    SRV_ALERT,   /* a TLS server that answers the ClientHello with handshake_failure */
    SRV_SILENT,  /* reads and never answers */
    SRV_HTTP,    /* answers "HTTP/1.1 400 Bad Request" and closes */
    SRV_CLOSE,   /* closes at once */
    SRV_PARTIAL, /* answers the start of a TLS record header, then nothing */
    SRV_BANNER,  /* speaks first (an SSH banner), then waits for the close */
} srv_kind;

/* One server thread and what it saw. */
typedef struct server {
    srv_kind kind;                /* behaviour */
    X509 *cert;                   /* SRV_TLS: the certificate presented */
    int h2;                       /* SRV_TLS: select h2 when offered */
    int echo;                     /* SRV_TLS: echo one read back */
    int lfd;                      /* listening socket */
    uint16_t port;                /* its port */
    pthread_t thread;             /* the server */
    int running;                  /* the thread was started */
    char sni[256];                /* server name the client sent, "" for none */
    unsigned char alpn_offer[64]; /* ALPN list the client offered, wire format */
    unsigned alpn_offer_len;      /* its length, 0 when none was offered */
    int handshake_ok;             /* SSL_accept completed */
    int client_closed;            /* the client closed the connection within WAIT_MS */
} server;

/* 1 when the peer closes (EOF or reset) within WAIT_MS (SO_RCVTIMEO). */
static int wait_eof(int fd) {
    char buf[512];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg) {
    server *sv = arg;
    sv->alpn_offer_len = inlen < sizeof sv->alpn_offer ? inlen : sizeof sv->alpn_offer;
    memcpy(sv->alpn_offer, in, sv->alpn_offer_len);
    static const unsigned char ours[] = "\x02h2";
    if (sv->h2 && SSL_select_next_proto((unsigned char **)out, outlen, ours, sizeof ours - 1, in,
                                        inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

static int refuse_hello(SSL *ssl, int *alert, void *arg) {
    *alert = SSL_AD_HANDSHAKE_FAILURE;
    return SSL_CLIENT_HELLO_ERROR;
}

static void serve_tls(server *sv, int fd) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL *ssl = NULL;
    if (!ctx || SSL_CTX_use_certificate(ctx, sv->cert ? sv->cert : C.good) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, C.key) != 1)
        goto out;
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, sv);
    if (sv->kind == SRV_ALERT)
        SSL_CTX_set_client_hello_cb(ctx, refuse_hello, NULL);
    ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1)
        goto out;
    if (SSL_accept(ssl) != 1)
        goto out;
    sv->handshake_ok = 1;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(sv->sni, sizeof sv->sni, "%s", sni ? sni : "");
    char buf[64];
    if (sv->echo) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0 || SSL_write(ssl, buf, n) != n)
            goto out;
    }
    /* Until the client closes; a read that times out ends in WANT_READ. */
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
        ;
    sv->client_closed = SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ;
out:
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

static void *server_main(void *arg) {
    server *sv = arg;
    struct pollfd pfd = {.fd = sv->lfd, .events = POLLIN};
    if (poll(&pfd, 1, WAIT_MS) != 1)
        return NULL;
    int fd = accept(sv->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    struct timeval tv = {.tv_sec = WAIT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char hello[4096];
    switch (sv->kind) {
    case SRV_TLS:
    case SRV_ALERT:
        serve_tls(sv, fd);
        break;
    case SRV_SILENT:
        sv->client_closed = wait_eof(fd);
        break;
    case SRV_HTTP: {
        static const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
        if (read(fd, hello, sizeof hello) > 0 && write(fd, reply, sizeof reply - 1) > 0) {
            shutdown(fd, SHUT_WR);
            sv->client_closed = wait_eof(fd);
        }
        break;
    }
    case SRV_PARTIAL:
        if (read(fd, hello, sizeof hello) > 0 && write(fd, "\x16\x03\x03", 3) == 3)
            sv->client_closed = wait_eof(fd);
        break;
    case SRV_BANNER: {
        static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
        if (write(fd, banner, sizeof banner - 1) > 0)
            sv->client_closed = wait_eof(fd);
        break;
    }
    case SRV_CLOSE:
        break;
    }
    close(fd);
    return NULL;
}

/* Listens on 127.0.0.1 (an ephemeral port) and starts the server thread. */
static void server_start(server *sv) {
    sv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(sv->lfd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    CU_ASSERT_FATAL(bind(sv->lfd, (struct sockaddr *)&sin, sizeof sin) == 0);
    CU_ASSERT_FATAL(listen(sv->lfd, 4) == 0);
    CU_ASSERT_FATAL(getsockname(sv->lfd, (struct sockaddr *)&sin, &len) == 0);
    sv->port = ntohs(sin.sin_port);
    CU_ASSERT_FATAL(pthread_create(&sv->thread, NULL, server_main, sv) == 0);
    sv->running = 1;
}

/* Waits for the server to end (every wait in it is bounded). */
static void server_join(server *sv) {
    if (sv->running)
        pthread_join(sv->thread, NULL);
    sv->running = 0;
    if (sv->lfd >= 0)
        close(sv->lfd);
    sv->lfd = -1;
}

/* --- running the probe --------------------------------------------------- */

/* How a case runs the probe. */
typedef struct opts {
    const char *host; /* target host, default "svc.lab.test" */
    const char *sni;  /* --sni */
    const char *alpn; /* ALPN offer */
    SSL_CTX *ctx;     /* default: the context trusting the test CA */
    int keep;         /* keep the session for ld_tls_take() */
    int deadline_ms;  /* the probe's deadline, default 3000 */
    int cancel_ms;    /* cancel (the run deadline) after this, 0: never */
    int reply_first;  /* start only once the server's first bytes are in the socket */
} opts;

/* One probe run and what it recorded. */
typedef struct run {
    ld_loop *loop;         /* its loop */
    ld_facts *facts;       /* the target's facts */
    ld_tls_config cfg;     /* the probe's config */
    ld_probe p;            /* the probe */
    ld_timer run_deadline; /* cancels the probe when cancel_ms is set */
    ld_bag *attempt;       /* the tls subject of 127.0.0.1 */
    double elapsed_ms;     /* start to finish */
} run;

static void probe_done(ld_probe *p) {
    ld_loop_stop(p->loop);
}

static void run_deadline_cb(ld_timer *t) {
    ld_probe_cancel(t->data);
}

/* A blocking connect to the server (loopback: immediate); the probe must
 * make it non-blocking itself. */
static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Connects to sv, runs the probe until it finishes, and summarizes. */
static void run_probe(run *r, server *sv, opts o) {
    memset(r, 0, sizeof *r);
    ld_err err;
    r->loop = ld_loop_create(&err);
    r->facts = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->loop);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->facts);
    r->cfg.fd = sv ? connect_to(sv->port) : -1;
    CU_ASSERT_FATAL(!sv || r->cfg.fd >= 0);
    if (o.reply_first) {
        struct pollfd pfd = {.fd = r->cfg.fd, .events = POLLIN};
        CU_ASSERT_EQUAL_FATAL(poll(&pfd, 1, WAIT_MS), 1);
    }
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse("127.0.0.1", &r->cfg.addr, &err), LD_OK);
    r->cfg.host = o.host ? o.host : "svc.lab.test";
    r->cfg.sni = o.sni;
    r->cfg.alpn = o.alpn;
    r->cfg.ctx = o.ctx ? o.ctx : C.ctx;
    r->cfg.warn_days = 30;
    r->cfg.keep = o.keep;
    ld_time now = ld_time_now();
    r->p.ops = &ld_probe_tls;
    r->p.config = &r->cfg;
    r->p.loop = r->loop;
    r->p.facts = r->facts;
    r->p.run_started = now;
    r->p.deadline_at = now + (o.deadline_ms ? o.deadline_ms : 3000) * LD_MS;
    r->p.done = probe_done;
    if (o.cancel_ms)
        ld_timer_start(r->loop, &r->run_deadline, now + o.cancel_ms * LD_MS, run_deadline_cb,
                       &r->p);
    CU_ASSERT_EQUAL_FATAL(ld_probe_start(&r->p, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_loop_run(r->loop, &err), LD_OK);
    ld_timer_stop(&r->run_deadline);
    CU_ASSERT_TRUE(r->p.finished);
    r->elapsed_ms = (double)(r->p.ended - r->p.started) / (double)LD_MS;
    CU_ASSERT_EQUAL(ld_probe_tls.summarize(r->facts, &ld_unit_no_spec), LD_OK);
    r->attempt = ld_facts_subject(r->facts, "tls", "127.0.0.1");
    /* Without keep the probe has closed the connection, so the server ends
     * now and what it saw can be read; with keep, run_end() waits for it. */
    if (sv && !o.keep)
        server_join(sv);
}

/* Destroys the probe (closing what it holds), then waits for the server. */
static void run_end(run *r, server *sv) {
    ld_probe_tls.clear(&r->p);
    if (sv)
        server_join(sv);
    ld_loop_free(r->loop);
    ld_facts_free(r->facts);
}

/* --- reading facts ------------------------------------------------------- */

static const char *str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

static int64_t num(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_INT ? v->u.i : INT64_MIN;
}

/* 1 true, 0 false, -1 not recorded. */
static int flag(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_BOOL ? v->u.b : -1;
}

static const ld_bag *target(const run *r) {
    return ld_facts_target_const(r->facts);
}

/* The list fact joined with "|" ("(none)" when not recorded). */
static const char *joined(const ld_bag *b, ld_fact_id id, char *buf, size_t len) {
    const ld_value *v = ld_bag_get(b, id);
    if (!v || v->type != LD_T_LIST)
        return "(none)";
    buf[0] = '\0';
    for (size_t i = 0; i < v->u.list.len; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? "|" : "", v->u.list.items[i]);
    }
    return buf;
}

/* floor((t - now) / 1 day) for an absolute UTC time given as text. */
static int64_t days_to(const char *iso) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
           &tm.tm_sec);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t d = (int64_t)timegm(&tm) - (int64_t)time(NULL);
    return d >= 0 ? d / DAY : -((-d + DAY - 1) / DAY);
}

/* --- the cases ----------------------------------------------------------- */

static void ok_records_protocol_cipher_alpn_sni_and_verified_certificate(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good, .h2 = 1};
    server_start(&sv);
    run r;
    int64_t days_before = days_to("2099-12-31T00:00:00Z");
    run_probe(&r, &sv, (opts){.alpn = "h2,http/1.1"});
    int64_t days_after = days_to("2099-12-31T00:00:00Z");
    const ld_bag *a = r.attempt, *t = target(&r);
    char buf[256];

    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_RESULT), "ok");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_ENDED_BY), "result");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_ADDRESS), "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_VERSION), "TLSv1.3");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_CIPHER), "TLS_AES_256_GCM_SHA384");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_ALPN), "h2");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_SNI), "svc.lab.test");
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TLS_A_VERIFY), "ok");
    CU_ASSERT_EQUAL(num(a, LD_F_TLS_A_VERIFY_CODE), 0);
    CU_ASSERT_EQUAL(flag(a, LD_F_TLS_A_NAME_MATCHES), 1);
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_TLS_A_ERROR));
    CU_ASSERT_PTR_NULL(ld_bag_get(a, LD_F_TLS_A_PEER_BYTES));
    const ld_value *ms = ld_bag_get(a, LD_F_TLS_A_HANDSHAKE_MS);
    CU_ASSERT_TRUE(ms && ms->u.n > 0 && ms->u.n <= r.elapsed_ms);

    /* What the server saw: the name, and the offer in ALPN wire format. */
    CU_ASSERT_TRUE(sv.handshake_ok);
    CU_ASSERT_STRING_EQUAL(sv.sni, "svc.lab.test");
    CU_ASSERT_EQUAL(sv.alpn_offer_len, 12);
    CU_ASSERT_EQUAL(memcmp(sv.alpn_offer, "\x02h2\x08http/1.1", 12), 0);

    /* The target facts copy the one ok attempt. */
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_ATTEMPTED), 1);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "ok");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_OK_COUNT), 1);
    CU_ASSERT_STRING_EQUAL(joined(t, LD_F_TLS_FAILED_ADDRESSES, buf, sizeof buf), "");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_VERSION), "TLSv1.3");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_CIPHER), "TLS_AES_256_GCM_SHA384");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_ALPN), "h2");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_SNI), "svc.lab.test");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_VERIFY), "ok");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), 0);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_TRUSTED), 1);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NAME_MATCHES), 1);
    CU_ASSERT_STRING_EQUAL(joined(t, LD_F_TLS_CERT_NAMES, buf, sizeof buf),
                           "svc.lab.test|127.0.0.1");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_CERT_SUBJECT), "CN=svc.lab.test,O=linkdoctor lab");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_CERT_ISSUER), "CN=linkdoctor test CA,O=linkdoctor lab");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_NOT_BEFORE), "2024-01-01T00:00:00Z");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_NOT_AFTER), "2099-12-31T00:00:00Z");
    int64_t days = num(t, LD_F_TLS_DAYS_LEFT);
    CU_ASSERT_TRUE(days <= days_before && days >= days_after);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NOT_YET_VALID), 0);
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_WARN_DAYS), 30);
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(r.facts, LD_F_TLS_HANDSHAKE_MS)->u.n, ms ? ms->u.n : -1,
                           1e-9);
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_ERROR));

    /* Without keep the probe closed the session itself. */
    ld_stream none = ld_tls_take(&r.p);
    CU_ASSERT_EQUAL(none.fd, -1);
    CU_ASSERT_PTR_NULL(none.ssl);
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed);
}

static void alpn_is_offered_only_when_configured_and_recorded_only_when_selected(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good, .h2 = 1};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.alpn = "http/1.1"}); /* the server speaks only h2 */
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "ok");
    CU_ASSERT_EQUAL(sv.alpn_offer_len, 9);
    CU_ASSERT_EQUAL(memcmp(sv.alpn_offer, "\x08http/1.1", 9), 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_ALPN));
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_ALPN));
    run_end(&r, &sv);

    server sv2 = {.kind = SRV_TLS, .cert = C.good, .h2 = 1};
    server_start(&sv2);
    run_probe(&r, &sv2, (opts){0});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "ok");
    CU_ASSERT_EQUAL(sv2.alpn_offer_len, 0);
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_ALPN));
    run_end(&r, &sv2);
}

static void ip_target_sends_no_sni_and_is_checked_against_the_ip_entry(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.host = "127.0.0.1"});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "ok");
    CU_ASSERT_TRUE(sv.handshake_ok);
    CU_ASSERT_STRING_EQUAL(sv.sni, "");
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_SNI));
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_SNI));
    CU_ASSERT_EQUAL(flag(target(&r), LD_F_TLS_NAME_MATCHES), 1);
    run_end(&r, &sv);

    /* The other certificate has no 127.0.0.1 entry. */
    server sv2 = {.kind = SRV_TLS, .cert = C.other};
    server_start(&sv2);
    run_probe(&r, &sv2, (opts){.host = "127.0.0.1"});
    CU_ASSERT_EQUAL(flag(target(&r), LD_F_TLS_NAME_MATCHES), 0);
    run_end(&r, &sv2);
}

static void sni_option_overrides_the_host_for_sni_and_name_check(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.host = "127.0.0.1", .sni = "svc.lab.test"});
    CU_ASSERT_STRING_EQUAL(sv.sni, "svc.lab.test");
    CU_ASSERT_STRING_EQUAL(str(target(&r), LD_F_TLS_SNI), "svc.lab.test");
    CU_ASSERT_EQUAL(flag(target(&r), LD_F_TLS_NAME_MATCHES), 1);
    run_end(&r, &sv);

    server sv2 = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv2);
    run_probe(&r, &sv2, (opts){.host = "svc.lab.test", .sni = "other.example"});
    CU_ASSERT_STRING_EQUAL(sv2.sni, "other.example");
    CU_ASSERT_EQUAL(flag(target(&r), LD_F_TLS_NAME_MATCHES), 0);
    run_end(&r, &sv2);
}

static void host_with_a_trailing_dot_is_sent_without_it(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.host = "svc.lab.test."});
    CU_ASSERT_STRING_EQUAL(sv.sni, "svc.lab.test");
    CU_ASSERT_EQUAL(flag(target(&r), LD_F_TLS_NAME_MATCHES), 1);
    run_end(&r, &sv);
}

static void name_mismatch_when_the_certificate_covers_another_name(void) {
    server sv = {.kind = SRV_TLS, .cert = C.other};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    const ld_bag *t = target(&r);
    char buf[256];
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "ok");
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NAME_MATCHES), 0);
    /* No subjectAltName: the common name is what it covers. */
    CU_ASSERT_STRING_EQUAL(joined(t, LD_F_TLS_CERT_NAMES, buf, sizeof buf), "other.example");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), 0);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_TRUSTED), 1);
    run_end(&r, &sv);
}

static void self_signed_certificate_is_described_but_untrusted(void) {
    server sv = {.kind = SRV_TLS, .cert = C.self};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    const ld_bag *t = target(&r);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "ok");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_VERIFY),
                           X509_verify_cert_error_string(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_TRUSTED), 0);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NAME_MATCHES), 1);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_CERT_ISSUER), "CN=svc.lab.test,O=linkdoctor lab");
    run_end(&r, &sv);
}

static void unknown_ca_is_untrusted_by_the_system_store(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.ctx = C.system_ctx});
    const ld_bag *t = target(&r);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "ok");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_TRUSTED), 0);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NAME_MATCHES), 1);
    run_end(&r, &sv);
}

/* Runs a handshake to the CA's good leaf with a "system store" context made
 * while the environment variable `var` is `value`; returns tls.verify_code. */
static int64_t verify_code_with_env(const char *var, const char *value) {
    char *saved = getenv(var) ? strdup(getenv(var)) : NULL;
    setenv(var, value, 1);
    ld_err err;
    SSL_CTX *ctx = ld_tls_ctx_create(NULL, &err);
    if (saved)
        setenv(var, saved, 1);
    else
        unsetenv(var);
    free(saved);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    server sv = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.ctx = ctx});
    int64_t code = num(target(&r), LD_F_TLS_VERIFY_CODE);
    run_end(&r, &sv);
    SSL_CTX_free(ctx);
    return code;
}

static void system_store_honours_ssl_cert_file_and_ssl_cert_dir(void) {
    /* SSL_CERT_FILE naming the lab CA: trusted, as OpenSSL's defaults would. */
    CU_ASSERT_EQUAL(verify_code_with_env("SSL_CERT_FILE", C.ca_path), X509_V_OK);
    /* SSL_CERT_DIR naming a hashed directory with the lab CA: trusted too,
     * the CA read by lookup when the chain needs it. */
    char dir[600], link[700];
    snprintf(dir, sizeof dir, "%s/tls_cadir_%d", LD_TEST_OUT, (int)getpid());
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
    snprintf(link, sizeof link, "%s/%08lx.0", dir, X509_subject_name_hash(C.ca));
    CU_ASSERT_EQUAL_FATAL(symlink(C.ca_path, link), 0);
    CU_ASSERT_EQUAL(verify_code_with_env("SSL_CERT_DIR", dir), X509_V_OK);
    /* The control: the same directory without the link does not vouch. */
    unlink(link);
    CU_ASSERT_EQUAL(verify_code_with_env("SSL_CERT_DIR", dir),
                    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    rmdir(dir);
}

static void expired_certificate_has_negative_days_left_and_a_trusted_chain(void) {
    server sv = {.kind = SRV_TLS, .cert = C.expired};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    const ld_bag *t = target(&r);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "ok");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), X509_V_ERR_CERT_HAS_EXPIRED);
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_DAYS_LEFT), -3); /* 2 days and an hour ago, rounded down */
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_TRUSTED), 1);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NOT_YET_VALID), 0);
    run_end(&r, &sv);
}

static void expiring_certificate_has_five_days_left(void) {
    server sv = {.kind = SRV_TLS, .cert = C.expiring};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    const ld_bag *t = target(&r);
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), 0);
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_DAYS_LEFT), 5);
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_WARN_DAYS), 30);
    run_end(&r, &sv);
}

static void certificate_not_yet_valid_is_flagged(void) {
    server sv = {.kind = SRV_TLS, .cert = C.future};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    const ld_bag *t = target(&r);
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_VERIFY_CODE), X509_V_ERR_CERT_NOT_YET_VALID);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_NOT_YET_VALID), 1);
    CU_ASSERT_EQUAL(flag(t, LD_F_TLS_TRUSTED), 1);
    run_end(&r, &sv);
}

static void stalled_when_the_clienthello_gets_no_reply_before_the_deadline(void) {
    server sv = {.kind = SRV_SILENT};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.deadline_ms = 200});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "stalled");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "timeout");
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_ERROR));
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_REPLY_BYTES)); /* nothing came */
    /* Ended by its deadline, not by the server giving up after WAIT_MS. */
    if (r.elapsed_ms < 190 || r.elapsed_ms >= 2000)
        fprintf(stderr, "\n  stalled after %.1f ms, want the 200 ms deadline\n", r.elapsed_ms);
    CU_ASSERT_TRUE(r.elapsed_ms >= 190 && r.elapsed_ms < 2000);
    CU_ASSERT_STRING_EQUAL(str(target(&r), LD_F_TLS_RESULT), "stalled");
    CU_ASSERT_EQUAL(num(target(&r), LD_F_TLS_OK_COUNT), 0);
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_HANDSHAKE_MS));
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed); /* the probe closed the connection */
}

static void stalled_by_the_run_deadline_is_ended_by_run_deadline(void) {
    server sv = {.kind = SRV_SILENT};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.deadline_ms = 3000, .cancel_ms = 100});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "stalled");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "run_deadline");
    CU_ASSERT_EQUAL(r.p.end, LD_END_RUN_DEADLINE);
    CU_ASSERT_TRUE(r.elapsed_ms < 2000);
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed);
}

static void incomplete_when_the_reply_stops_after_its_first_bytes(void) {
    /* A reply that began is not "no reply": the result and the byte count
     * are the one fact the rule and the timeline word it from. */
    server sv = {.kind = SRV_PARTIAL};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.deadline_ms = 600}); /* time for the reply on a loaded machine */
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "incomplete");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "timeout");
    CU_ASSERT_EQUAL(num(r.attempt, LD_F_TLS_A_REPLY_BYTES), 3);
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_ERROR));
    const ld_bag *t = target(&r);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "incomplete");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_REPLY_BYTES), 3);
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed);
}

static void not_tls_when_the_peer_answers_http(void) {
    server sv = {.kind = SRV_HTTP};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    const ld_bag *t = target(&r);
    char buf[256];
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "not_tls");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "result");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_PEER_BYTES), "HTTP/1.1 400 Bad Request");
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_ERROR));
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "not_tls");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_PEER_BYTES), "HTTP/1.1 400 Bad Request");
    CU_ASSERT_STRING_EQUAL(joined(t, LD_F_TLS_FAILED_ADDRESSES, buf, sizeof buf), "127.0.0.1");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_OK_COUNT), 0);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_SNI), "svc.lab.test");
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_VERSION));
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed);
}

static void not_tls_when_the_server_speaks_first(void) {
    /* The banner is already there when the ClientHello goes out: it must
     * still be peeked at, not consumed by OpenSSL as a bad record. */
    server sv = {.kind = SRV_BANNER};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.reply_first = 1});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "not_tls");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_PEER_BYTES), "SSH-2.0-OpenSSH_9.2p1 Debian-2");
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_ERROR));
    run_end(&r, &sv);
}

static void closed_when_the_peer_closes_without_a_byte(void) {
    server sv = {.kind = SRV_CLOSE};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "closed");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "result");
    CU_ASSERT_PTR_NULL(ld_bag_get(r.attempt, LD_F_TLS_A_PEER_BYTES));
    CU_ASSERT_STRING_EQUAL(str(target(&r), LD_F_TLS_RESULT), "closed");
    run_end(&r, &sv);
}

static void failed_with_the_alert_when_the_server_refuses_the_hello(void) {
    server sv = {.kind = SRV_ALERT};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){0});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "failed");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ERROR), "sslv3 alert handshake failure");
    CU_ASSERT_STRING_EQUAL(str(target(&r), LD_F_TLS_RESULT), "failed");
    CU_ASSERT_STRING_EQUAL(str(target(&r), LD_F_TLS_ERROR), "sslv3 alert handshake failure");
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_VERIFY_CODE));
    CU_ASSERT_PTR_NULL(ld_facts_get(r.facts, LD_F_TLS_TRUSTED));
    CU_ASSERT_FALSE(sv.handshake_ok);
    run_end(&r, &sv);
}

/* A small exchange over a taken stream, driven by the loop. */
typedef struct exchange {
    ld_stream st;    /* the stream */
    ld_io io;        /* its watch */
    ld_loop *loop;   /* to stop when done */
    const char *out; /* bytes to send */
    size_t out_len;  /* how many */
    size_t sent;     /* sent so far */
    char in[64];     /* bytes received */
    size_t got;      /* received so far */
    int broken;      /* EOF or error before the echo came back */
} exchange;

static void exchange_cb(ld_io *io, unsigned events) {
    exchange *x = io->data;
    size_t n;
    ld_stream_result res = LD_STREAM_DONE;
    while (res == LD_STREAM_DONE && x->sent < x->out_len)
        if ((res = ld_stream_write(&x->st, x->out + x->sent, x->out_len - x->sent, &n)) ==
            LD_STREAM_DONE)
            x->sent += n;
    while (res == LD_STREAM_DONE && x->got < x->out_len)
        if ((res = ld_stream_read(&x->st, x->in + x->got, x->out_len - x->got, &n)) ==
            LD_STREAM_DONE)
            x->got += n;
    if (res == LD_STREAM_WANT_READ || res == LD_STREAM_WANT_WRITE) {
        ld_io_set(io, res == LD_STREAM_WANT_READ ? LD_READ : LD_WRITE, NULL);
        return;
    }
    x->broken = res != LD_STREAM_DONE;
    ld_io_stop(io);
    ld_loop_stop(x->loop);
}

static void guard_cb(ld_timer *t) {
    ld_loop_stop(t->data);
}

static void kept_session_is_taken_once_and_carries_data(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good, .echo = 1};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.keep = 1});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "ok");
    exchange x = {.st = ld_tls_take(&r.p), .loop = r.loop, .out = "ping", .out_len = 4};
    CU_ASSERT_TRUE_FATAL(x.st.fd >= 0);
    CU_ASSERT_PTR_NOT_NULL(x.st.ssl);
    ld_stream again = ld_tls_take(&r.p);
    CU_ASSERT_EQUAL(again.fd, -1);
    CU_ASSERT_PTR_NULL(again.ssl);

    ld_timer guard;
    memset(&guard, 0, sizeof guard);
    ld_err err;
    CU_ASSERT_EQUAL(ld_io_start(r.loop, &x.io, x.st.fd, LD_WRITE, exchange_cb, &x, &err), LD_OK);
    ld_timer_start(r.loop, &guard, ld_time_now() + WAIT_MS * LD_MS, guard_cb, r.loop);
    ld_loop_run(r.loop, &err);
    ld_timer_stop(&guard);
    ld_io_stop(&x.io);
    CU_ASSERT_FALSE(x.broken);
    CU_ASSERT_EQUAL(x.got, 4);
    CU_ASSERT_EQUAL(memcmp(x.in, "ping", 4), 0);
    ld_stream_close(&x.st);
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed);
}

static void destroy_closes_a_kept_session_nobody_took(void) {
    server sv = {.kind = SRV_TLS, .cert = C.good};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.keep = 1});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "ok");
    run_end(&r, &sv); /* joins the server, which waits for the close */
    CU_ASSERT_TRUE(sv.client_closed);
}

static void nothing_to_take_after_a_failed_handshake_with_keep(void) {
    server sv = {.kind = SRV_HTTP};
    server_start(&sv);
    run r;
    run_probe(&r, &sv, (opts){.keep = 1});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "not_tls");
    ld_stream none = ld_tls_take(&r.p);
    CU_ASSERT_EQUAL(none.fd, -1);
    run_end(&r, &sv);
    CU_ASSERT_TRUE(sv.client_closed);
}

static void bad_configuration_ends_with_error(void) {
    run r;
    run_probe(&r, NULL, (opts){0}); /* no connection */
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "failed");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "error");
    CU_ASSERT_EQUAL(r.p.end, LD_END_ERROR);
    run_end(&r, NULL);

    char alpn[300];
    memset(alpn, 'x', sizeof alpn - 1);
    alpn[sizeof alpn - 1] = '\0';
    server sv = {.kind = SRV_CLOSE};
    server_start(&sv);
    run_probe(&r, &sv, (opts){.alpn = alpn});
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_RESULT), "failed");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ERROR), "ALPN list too long");
    CU_ASSERT_STRING_EQUAL(str(r.attempt, LD_F_TLS_A_ENDED_BY), "error");
    run_end(&r, &sv);
}

static void ctx_create_names_the_file_that_cannot_serve_as_trust_store(void) {
    ld_err err = {{0}};
    SSL_CTX *ctx = ld_tls_ctx_create("/nonexistent/ca.pem", &err);
    CU_ASSERT_PTR_NULL(ctx);
    CU_ASSERT_STRING_EQUAL(err.msg, "--cacert /nonexistent/ca.pem: No such file or directory");

    ctx = ld_tls_ctx_create(C.junk_path, &err);
    CU_ASSERT_PTR_NULL(ctx);
    char want[600];
    snprintf(want, sizeof want, "--cacert %s: no certificates in it", C.junk_path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);

    ctx = ld_tls_ctx_create(C.ca_path, &err);
    CU_ASSERT_PTR_NOT_NULL(ctx);
    SSL_CTX_free(ctx);
    CU_ASSERT_EQUAL(ERR_peek_error(), 0); /* no stale errors for the next SSL call */
}

/* --- summary over several addresses -------------------------------------- */

/* A finished attempt as the probe records it. */
static ld_bag *fake_attempt(ld_facts *f, const char *addr, const char *result, double ms) {
    ld_bag *a = ld_facts_subject(f, "tls", addr);
    ld_bag_set_str(a, LD_F_TLS_A_ADDRESS, addr);
    ld_bag_set_str(a, LD_F_TLS_A_RESULT, result);
    if (ms > 0)
        ld_bag_set_num(a, LD_F_TLS_A_HANDSHAKE_MS, ms);
    return a;
}

static void summary_takes_the_worst_outcome_and_the_fastest_handshake(void) {
    static const char *const order[] = {"ok",      "failed",     "closed",
                                        "not_tls", "incomplete", "stalled"};
    enum { N = sizeof order / sizeof order[0] };
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            ld_facts *f = ld_facts_create();
            ld_bag_set_str(fake_attempt(f, "10.0.0.1", order[i], 0), LD_F_TLS_A_ERROR, "first");
            ld_bag_set_str(fake_attempt(f, "10.0.0.2", order[j], 0), LD_F_TLS_A_ERROR, "second");
            CU_ASSERT_EQUAL(ld_probe_tls.summarize(f, &ld_unit_no_spec), LD_OK);
            const char *want = order[i > j ? i : j];
            CU_ASSERT_STRING_EQUAL(str(ld_facts_target_const(f), LD_F_TLS_RESULT), want);
            /* Details from the worst; on a tie, from the first. */
            CU_ASSERT_STRING_EQUAL(str(ld_facts_target_const(f), LD_F_TLS_ERROR),
                                   j > i ? "second" : "first");
            ld_facts_free(f);
        }
    }

    ld_facts *f = ld_facts_create();
    ld_bag_set_str(fake_attempt(f, "10.0.0.1", "ok", 30.0), LD_F_TLS_A_VERSION, "TLSv1.3");
    ld_bag_set_str(fake_attempt(f, "10.0.0.2", "ok", 12.5), LD_F_TLS_A_VERSION, "TLSv1.2");
    fake_attempt(f, "10.0.0.3", "failed", 0);
    fake_attempt(f, "10.0.0.4", "closed", 0);
    ld_bag_set_str(ld_facts_subject(f, "tcp", "10.0.0.5"), LD_F_TCP_A_STATE, "open");
    CU_ASSERT_EQUAL(ld_probe_tls.summarize(f, &ld_unit_no_spec), LD_OK);
    const ld_bag *t = ld_facts_target_const(f);
    char buf[256];
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_TLS_RESULT), "closed");
    CU_ASSERT_EQUAL(num(t, LD_F_TLS_OK_COUNT), 2);
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_TLS_HANDSHAKE_MS)->u.n, 12.5, 1e-9);
    CU_ASSERT_STRING_EQUAL(joined(t, LD_F_TLS_FAILED_ADDRESSES, buf, sizeof buf),
                           "10.0.0.3|10.0.0.4");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_TLS_VERSION)); /* the closed one has none */
    ld_facts_free(f);

    /* All ok: the first ok attempt speaks for the target. */
    f = ld_facts_create();
    ld_bag_set_str(fake_attempt(f, "10.0.0.1", "ok", 30.0), LD_F_TLS_A_VERSION, "TLSv1.3");
    ld_bag_set_str(fake_attempt(f, "10.0.0.2", "ok", 12.5), LD_F_TLS_A_VERSION, "TLSv1.2");
    CU_ASSERT_EQUAL(ld_probe_tls.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_STRING_EQUAL(str(ld_facts_target_const(f), LD_F_TLS_VERSION), "TLSv1.3");
    CU_ASSERT_STRING_EQUAL(
        joined(ld_facts_target_const(f), LD_F_TLS_FAILED_ADDRESSES, buf, sizeof buf), "");
    ld_facts_free(f);
}

static void summary_without_attempts_says_not_attempted(void) {
    ld_facts *f = ld_facts_create();
    ld_bag_set_str(ld_facts_subject(f, "tcp", "10.0.0.5"), LD_F_TCP_A_STATE, "refused");
    CU_ASSERT_EQUAL(ld_probe_tls.summarize(f, &ld_unit_no_spec), LD_OK);
    CU_ASSERT_EQUAL(flag(ld_facts_target_const(f), LD_F_TLS_ATTEMPTED), 0);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_TLS_RESULT));
    ld_facts_free(f);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* as linkdoctor's main: a write to a closed peer is EPIPE */
    if (!certs_make(&C)) {
        fprintf(stderr, "tls: cannot make the test certificates\n");
        certs_free(&C);
        return 1;
    }
    static const ld_test_case cases[] = {
        LD_TEST(ok_records_protocol_cipher_alpn_sni_and_verified_certificate),
        LD_TEST(alpn_is_offered_only_when_configured_and_recorded_only_when_selected),
        LD_TEST(ip_target_sends_no_sni_and_is_checked_against_the_ip_entry),
        LD_TEST(sni_option_overrides_the_host_for_sni_and_name_check),
        LD_TEST(host_with_a_trailing_dot_is_sent_without_it),
        LD_TEST(name_mismatch_when_the_certificate_covers_another_name),
        LD_TEST(self_signed_certificate_is_described_but_untrusted),
        LD_TEST(unknown_ca_is_untrusted_by_the_system_store),
        LD_TEST(system_store_honours_ssl_cert_file_and_ssl_cert_dir),
        LD_TEST(expired_certificate_has_negative_days_left_and_a_trusted_chain),
        LD_TEST(expiring_certificate_has_five_days_left),
        LD_TEST(certificate_not_yet_valid_is_flagged),
        LD_TEST(stalled_when_the_clienthello_gets_no_reply_before_the_deadline),
        LD_TEST(stalled_by_the_run_deadline_is_ended_by_run_deadline),
        LD_TEST(incomplete_when_the_reply_stops_after_its_first_bytes),
        LD_TEST(not_tls_when_the_peer_answers_http),
        LD_TEST(not_tls_when_the_server_speaks_first),
        LD_TEST(closed_when_the_peer_closes_without_a_byte),
        LD_TEST(failed_with_the_alert_when_the_server_refuses_the_hello),
        LD_TEST(kept_session_is_taken_once_and_carries_data),
        LD_TEST(destroy_closes_a_kept_session_nobody_took),
        LD_TEST(nothing_to_take_after_a_failed_handshake_with_keep),
        LD_TEST(bad_configuration_ends_with_error),
        LD_TEST(ctx_create_names_the_file_that_cannot_serve_as_trust_store),
        LD_TEST(summary_takes_the_worst_outcome_and_the_fastest_handshake),
        LD_TEST(summary_without_attempts_says_not_attempted),
        {0},
    };
    int rc = ld_unit_run("tls", cases);
    certs_free(&C);
    return rc;
}
