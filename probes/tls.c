/* tls.c - a non-blocking OpenSSL client handshake driven by the core loop.
 *
 * OpenSSL says what it waits for (SSL_ERROR_WANT_READ / WANT_WRITE) and the
 * probe turns that into the interest of its one ld_io, as OpenBSD nc does
 * with poll. Before OpenSSL reads the peer's first reply, the probe peeks at
 * it: a TLS record starts with a content type 0x14..0x18 and major version
 * 0x03, so anything else ("HTTP/1.1 400 ...", an SSH banner) is recorded as
 * not TLS, in the peer's own words, instead of as OpenSSL's "wrong version
 * number". Until then OpenSSL reads from an empty memory BIO, so a reply that
 * is already there when the ClientHello goes out (a server that speaks
 * first) cannot be consumed unseen. Verification is evaluated after the
 * handshake, never enforced, so that an untrusted or mismatched certificate
 * is still fully described.
 *
 * A handshake the deadline ends is "stalled" when no byte came back to the
 * ClientHello, and "incomplete" when the reply began and then stopped (or
 * trickled): tls.attempt.reply_bytes says how much came, the one fact the
 * rule and the timeline both word it from.
 *
 * tls.warn_days is recorded on the target bag from start(): there is no
 * tls.attempt.warn_days, and the window is the same for every address.
 * tls.trusted and tls.not_yet_valid have no per-attempt facts either, so
 * summarize() derives them from the worst attempt's verify_code and
 * not_before.
 */
#include "tls.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/reply.h"
#include "core/utc.h"

#define PEEK_MAX       64   /* reply bytes examined and recorded as peer_bytes */
#define ALPN_WIRE_MAX  255  /* longest ALPN offer, wire format */
#define NAME_MAX_LEN   256  /* longest SNI / certificate name kept */
#define DN_MAX_LEN     1024 /* longest subject / issuer text kept */
#define CERT_NAMES_MAX 100  /* certificate names recorded (shared certificates list hundreds) */
#define CACERT_MAX     4096 /* certificates accepted from one --cacert file */

/* Private state of one handshake. */
typedef struct tls_state {
    int fd;                    /* the connection, -1 once closed or taken */
    SSL *ssl;                  /* the session on it, NULL once freed or taken */
    ld_io io;                  /* its watch */
    ld_bag *subject;           /* tls.attempt.* facts */
    ld_time t_hello;           /* when the ClientHello was first written */
    int replied;               /* the peer's first reply bytes were seen (and were TLS) */
    size_t peeked;             /* how many of them the first look saw */
    int kept;                  /* completed with keep set: fd and ssl wait for ld_tls_take() */
    char addr[LD_ADDR_STRLEN]; /* the address, as text */
    char name[NAME_MAX_LEN];   /* the name checked: SNI name, or the IP address */
    int name_is_ip;            /* name is an IP address: no SNI, X509_check_ip_asc */
} tls_state;

/* --- small helpers ------------------------------------------------------- */

/* Copies n bytes of network data as one printable line into out (size
 * outsz): control and non-ASCII bytes become '.', CR and LF spaces, and
 * surrounding spaces are trimmed. */
static void printable(const unsigned char *in, size_t n, char *out, size_t outsz) {
    size_t len = 0;
    for (size_t i = 0; i < n && len + 1 < outsz; i++) {
        unsigned char c = in[i];
        if (c == '\r' || c == '\n')
            out[len++] = ' ';
        else
            out[len++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
    }
    while (len > 0 && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
    size_t lead = strspn(out, " ");
    memmove(out, out + lead, len - lead + 1);
}

/* The reason of the oldest error on OpenSSL's queue (the root cause), or
 * fallback; empties the queue so that the next call starts clean. */
static const char *ssl_reason(const char *fallback) {
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : fallback;
}

/* Encodes "h2,http/1.1" as ALPN wire format (length-prefixed names) into
 * out; returns its length, 0 for an empty list, -1 when a name or the whole
 * list is too long. */
static int alpn_wire(const char *list, unsigned char out[ALPN_WIRE_MAX]) {
    size_t len = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            if (n > 255 || len + 1 + n > ALPN_WIRE_MAX)
                return -1;
            out[len++] = (unsigned char)n;
            memcpy(out + len, p, n);
            len += n;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return (int)len;
}

/* Closes the connection. A completed session gets one non-blocking
 * close_notify (ld_stream_close); a failed one must not (OpenSSL forbids
 * SSL_shutdown after a fatal error), so it is only freed. */
static void close_conn(tls_state *s, int notify) {
    ld_io_stop(&s->io);
    if (notify) {
        ld_stream st = {.fd = s->fd, .ssl = s->ssl};
        ld_stream_close(&st);
        ERR_clear_error(); /* a close_notify the peer no longer reads leaves errors */
    } else {
        SSL_free(s->ssl);
        if (s->fd >= 0)
            close(s->fd);
    }
    s->ssl = NULL;
    s->fd = -1;
}

/* Records how the attempt ended and finishes the probe. error may be NULL. */
static void conclude(ld_probe *p, const char *result, const char *error, ld_probe_end end) {
    tls_state *s = p->priv;
    ld_bag_set_str(s->subject, LD_F_TLS_A_RESULT, result);
    if (error)
        ld_bag_set_str(s->subject, LD_F_TLS_A_ERROR, error);
    ld_bag_set_str(s->subject, LD_F_TLS_A_ENDED_BY, ld_probe_end_name(end));
    if (!s->kept)
        close_conn(s, 0);
    ld_probe_finish(p, end);
}

/* --- the certificate ----------------------------------------------------- */

/* A validity time as ISO 8601 UTC into out, and as seconds since the epoch
 * into *t; 0 when OpenSSL cannot read it. */
static int cert_time(const ASN1_TIME *at, char out[32], time_t *t) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
        return 0;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    *t = timegm(&tm);
    return 1;
}

/* Whole days from now to t, rounded down (an hour past expiry is day -1). */
static int64_t days_until(time_t t, time_t now) {
    int64_t d = (int64_t)t - (int64_t)now;
    return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

/* A name as one-line RFC 2253 text ("CN=svc.lab.test,O=Lab"), bounded. */
static void record_dn(ld_bag *b, ld_fact_id id, const X509_NAME *name) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return;
    char text[DN_MAX_LEN];
    int n = -1;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(bio, text, sizeof text - 1);
    BIO_free(bio);
    if (n < 0)
        n = 0;
    text[n] = '\0';
    ld_bag_set_str(b, id, text);
}

/* Appends one certificate name (network data: made printable, bounded). */
static void add_cert_name(ld_bag *b, const unsigned char *data, size_t n) {
    char name[NAME_MAX_LEN];
    printable(data, n, name, sizeof name);
    ld_bag_list_add(b, LD_F_TLS_A_CERT_NAMES, name);
}

/* The names the certificate covers: subjectAltName DNS and IP entries, or,
 * when it has none, the common name (what clients fall back to). */
static void record_cert_names(ld_bag *b, X509 *cert) {
    ld_bag_set_empty_list(b, LD_F_TLS_A_CERT_NAMES);
    int count = 0;
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && count < CERT_NAMES_MAX; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS) {
            add_cert_name(b, ASN1_STRING_get0_data(g->d.dNSName),
                          (size_t)ASN1_STRING_length(g->d.dNSName));
            count++;
        } else if (g->type == GEN_IPADD) {
            ld_addr a;
            memset(&a, 0, sizeof a);
            int n = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
            if (n == 4) {
                a.family = AF_INET;
                memcpy(&a.v4, ip, 4);
            } else if (n == 16) {
                a.family = AF_INET6;
                memcpy(&a.v6, ip, 16);
            } else {
                continue; /* not an address (a name constraint's net/mask form) */
            }
            char text[LD_ADDR_STRLEN];
            ld_addr_format(&a, text);
            ld_bag_list_add(b, LD_F_TLS_A_CERT_NAMES, text);
            count++;
        }
    }
    GENERAL_NAMES_free(sans);
    if (count > 0)
        return;
    const X509_NAME *subj = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (idx < 0)
        return;
    unsigned char *cn = NULL;
    int n = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
    if (n >= 0)
        add_cert_name(b, cn, (size_t)n);
    OPENSSL_free(cn);
}

/* Everything a person needs to know about the peer's certificate. */
static void record_cert(tls_state *s, X509 *cert) {
    ld_bag *b = s->subject;
    int match = s->name_is_ip ? X509_check_ip_asc(cert, s->name, 0)
                              : X509_check_host(cert, s->name, 0, 0, NULL);
    ld_bag_set_bool(b, LD_F_TLS_A_NAME_MATCHES, match == 1);
    record_cert_names(b, cert);
    record_dn(b, LD_F_TLS_A_CERT_SUBJECT, X509_get_subject_name(cert));
    record_dn(b, LD_F_TLS_A_CERT_ISSUER, X509_get_issuer_name(cert));
    char text[32];
    time_t t, now = time(NULL);
    if (cert_time(X509_get0_notBefore(cert), text, &t))
        ld_bag_set_str(b, LD_F_TLS_A_NOT_BEFORE, text);
    if (cert_time(X509_get0_notAfter(cert), text, &t)) {
        ld_bag_set_str(b, LD_F_TLS_A_NOT_AFTER, text);
        ld_bag_set_int(b, LD_F_TLS_A_DAYS_LEFT, days_until(t, now));
    }
    ERR_clear_error(); /* a failed name check or odd extension may queue errors */
}

/* The handshake completed: protocol, cipher, ALPN, verification, certificate. */
static void conclude_ok(ld_probe *p) {
    tls_state *s = p->priv;
    const ld_tls_config *cfg = p->config;
    ld_bag *b = s->subject;
    ld_bag_set_num(b, LD_F_TLS_A_HANDSHAKE_MS,
                   (double)(ld_time_now() - s->t_hello) / (double)LD_MS);
    ld_bag_set_str(b, LD_F_TLS_A_VERSION, SSL_get_version(s->ssl));
    const char *cipher = SSL_get_cipher_name(s->ssl);
    if (cipher)
        ld_bag_set_str(b, LD_F_TLS_A_CIPHER, cipher);
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(s->ssl, &alpn, &alpn_len);
    if (alpn_len > 0) {
        char proto[256];
        printable(alpn, alpn_len, proto, sizeof proto);
        ld_bag_set_str(b, LD_F_TLS_A_ALPN, proto);
    }
    X509 *cert = SSL_get0_peer_certificate(s->ssl);
    if (cert) {
        /* Without a certificate the verify result stays X509_V_OK: meaningless. */
        long code = SSL_get_verify_result(s->ssl);
        ld_bag_set_int(b, LD_F_TLS_A_VERIFY_CODE, code);
        ld_bag_set_str(b, LD_F_TLS_A_VERIFY,
                       code == X509_V_OK ? "ok" : X509_verify_cert_error_string(code));
        record_cert(s, cert);
    }
    if (cfg->keep) {
        /* The application probe continues on this session: stop watching,
         * keep fd and ssl for ld_tls_take(). */
        ld_io_stop(&s->io);
        s->kept = 1;
    } else {
        close_conn(s, 1);
    }
    conclude(p, "ok", NULL, LD_END_RESULT);
}

/* --- driving the handshake ---------------------------------------------- */

/* Waits for what OpenSSL wants (LD_READ or LD_WRITE). */
static void want(ld_probe *p, unsigned events) {
    tls_state *s = p->priv;
    ld_err err = {{0}};
    ld_status st = s->io.active ? ld_io_set(&s->io, events, &err)
                                : ld_probe_watch(p, &s->io, s->fd, events, &err);
    if (st != LD_OK)
        conclude(p, "failed", err.msg, LD_END_ERROR);
}

/* Runs the handshake as far as the socket allows. */
static void handshake_step(ld_probe *p) {
    tls_state *s = p->priv;
    ERR_clear_error(); /* SSL_get_error() reads the queue: it must hold only this call's errors */
    errno = 0;
    int rc = SSL_do_handshake(s->ssl);
    int e = errno;
    if (rc == 1) {
        conclude_ok(p);
        return;
    }
    switch (SSL_get_error(s->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        want(p, LD_READ);
        return;
    case SSL_ERROR_WANT_WRITE:
        want(p, LD_WRITE);
        return;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (!s->replied) /* the ClientHello could not be written: the peer closed or reset */
            conclude(p, "closed", e ? strerror(e) : NULL, LD_END_RESULT);
        else
            conclude(p, "failed", e ? strerror(e) : "connection closed during the handshake",
                     LD_END_RESULT);
        return;
    default:
        conclude(p, "failed", ssl_reason("TLS error"), LD_END_RESULT);
        return;
    }
}

/* Looks at the peer's first reply before OpenSSL consumes it. Returns 1 when
 * the handshake may go on, 0 when it is decided (or there is nothing yet). */
static int check_first_reply(ld_probe *p) {
    tls_state *s = p->priv;
    unsigned char buf[PEEK_MAX];
    ssize_t n = recv(s->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
            return 0; /* woken for nothing: keep waiting */
        conclude(p, "closed", strerror(e), LD_END_RESULT);
        return 0;
    }
    if (n == 0) {
        conclude(p, "closed", NULL, LD_END_RESULT);
        return 0;
    }
    if (!ld_reply_is_tls_record(buf, (size_t)n)) {
        char text[PEEK_MAX + 1];
        printable(buf, (size_t)n, text, sizeof text);
        ld_bag_set_str(s->subject, LD_F_TLS_A_PEER_BYTES, text);
        conclude(p, "not_tls", NULL, LD_END_RESULT);
        return 0;
    }
    /* TLS: from now on OpenSSL reads the socket itself. */
    if (SSL_set_rfd(s->ssl, s->fd) != 1) {
        conclude(p, "failed", ssl_reason("out of memory"), LD_END_ERROR);
        return 0;
    }
    s->replied = 1;
    s->peeked = (size_t)n;
    return 1;
}

static void tls_on_io(ld_probe *p, ld_io *io, unsigned events) {
    tls_state *s = p->priv;
    if (!s->replied && (events & LD_READ) && !check_first_reply(p))
        return;
    handshake_step(p);
}

/* The handshake did not complete in time: stalled when the peer never
 * answered the ClientHello, incomplete when its reply began and stopped. */
static void stalled(ld_probe *p, ld_probe_end end) {
    tls_state *s = p->priv;
    if (!s->replied) {
        conclude(p, "stalled", NULL, end);
        return;
    }
    /* What OpenSSL read off the socket, or at least what the first look saw. */
    uint64_t got = BIO_number_read(SSL_get_rbio(s->ssl));
    ld_bag_set_int(s->subject, LD_F_TLS_A_REPLY_BYTES,
                   (int64_t)(got > s->peeked ? got : s->peeked));
    conclude(p, "incomplete", NULL, end);
}

static void tls_on_deadline(ld_probe *p) {
    stalled(p, LD_END_TIMEOUT);
}

static void tls_cancel(ld_probe *p) {
    tls_state *s = p->priv;
    if (s && s->fd >= 0 && !s->kept)
        stalled(p, LD_END_RUN_DEADLINE);
}

/* Decides the name to send and check: --sni, else the host (without a
 * trailing dot), else the address; an IP literal is checked, never sent. */
static void choose_name(tls_state *s, const ld_tls_config *cfg) {
    const char *name = cfg->sni ? cfg->sni : cfg->host ? cfg->host : s->addr;
    snprintf(s->name, sizeof s->name, "%s", name);
    size_t len = strlen(s->name);
    if (len > 1 && s->name[len - 1] == '.')
        s->name[len - 1] = '\0';
    ld_addr ip;
    s->name_is_ip = ld_addr_parse(s->name, &ip, NULL) == LD_OK;
    if (s->name_is_ip) {
        ip.scope_id = 0; /* certificates hold no zone */
        ld_addr_format(&ip, s->name);
    }
}

static ld_status tls_start(ld_probe *p, ld_err *err) {
    const ld_tls_config *cfg = p->config;
    tls_state *s = calloc(1, sizeof *s);
    if (!s) {
        if (cfg->fd >= 0)
            close(cfg->fd); /* ours from start, whatever happens */
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    s->fd = cfg->fd;
    p->priv = s;
    ld_addr_format(&cfg->addr, s->addr);
    s->subject = ld_facts_subject(p->facts, "tls", s->addr);
    if (!s->subject)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_bag *b = s->subject;
    ld_bag_set_str(b, LD_F_TLS_A_ADDRESS, s->addr);
    ld_bag_set_int(ld_facts_target(p->facts), LD_F_TLS_WARN_DAYS, cfg->warn_days);
    choose_name(s, cfg);

    if (s->fd < 0) {
        conclude(p, "failed", "no connection to run the handshake on", LD_END_ERROR);
        return LD_OK;
    }
    int fl = fcntl(s->fd, F_GETFL);
    if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        conclude(p, "failed", strerror(errno), LD_END_ERROR);
        return LD_OK;
    }
    unsigned char alpn[ALPN_WIRE_MAX];
    int alpn_len = cfg->alpn ? alpn_wire(cfg->alpn, alpn) : 0;
    if (alpn_len < 0) {
        conclude(p, "failed", "ALPN list too long", LD_END_ERROR);
        return LD_OK;
    }
    ERR_clear_error();
    s->ssl = cfg->ctx ? SSL_new(cfg->ctx) : NULL;
    /* OpenSSL writes to the socket but reads from an empty memory BIO until
     * check_first_reply() has seen the reply: otherwise a reply that arrives
     * while the ClientHello is being written would be consumed unseen. */
    BIO *hold = s->ssl ? BIO_new(BIO_s_mem()) : NULL;
    if (hold) {
        BIO_set_mem_eof_return(hold, -1); /* empty means "not yet", not EOF */
        SSL_set0_rbio(s->ssl, hold);
    }
    if (!hold || SSL_set_wfd(s->ssl, s->fd) != 1 ||
        (!s->name_is_ip && SSL_set_tlsext_host_name(s->ssl, s->name) != 1) ||
        (alpn_len > 0 && SSL_set_alpn_protos(s->ssl, alpn, (unsigned)alpn_len) != 0)) {
        char why[128];
        snprintf(why, sizeof why, "cannot set up the session: %s", ssl_reason("no TLS context"));
        conclude(p, "failed", why, LD_END_ERROR);
        return LD_OK;
    }
    if (!s->name_is_ip)
        ld_bag_set_str(b, LD_F_TLS_A_SNI, s->name);
    SSL_set_connect_state(s->ssl);
    s->t_hello = ld_time_now();
    handshake_step(p);
    return LD_OK;
}

static void tls_clear(ld_probe *p) {
    tls_state *s = p->priv;
    if (!s)
        return;
    if (s->fd >= 0 || s->ssl)
        close_conn(s, s->kept); /* kept for a next probe that never took it */
    free(s);
    p->priv = NULL;
}

ld_stream ld_tls_take(ld_probe *p) {
    tls_state *s = p->priv;
    if (!s || !s->kept || s->fd < 0)
        return LD_STREAM_NONE;
    ld_stream st = {.fd = s->fd, .ssl = s->ssl};
    s->fd = -1;
    s->ssl = NULL;
    s->kept = 0;
    return st;
}

/* 1 when dir holds at least one OpenSSL hash link ("5ad8a5d6.0"): then
 * lookups by issuer name can be served from it. */
static int has_hash_links(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    const struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t i = 0;
        while (i < 8 && isxdigit((unsigned char)e->d_name[i]))
            i++;
        found = i == 8 && e->d_name[8] == '.' && isdigit((unsigned char)e->d_name[9]);
    }
    closedir(d);
    return found;
}

/* 1 when paths a and b name the same file or directory. */
static int same_path(const char *a, const char *b) {
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

/* The system trust store: OpenSSL's default verify paths (the CA bundle file
 * and the hashed directory), unless the directory can serve on its own.
 * Parsing the bundle (~140 certificates on Debian) costs OpenSSL 3.0 70-90 ms,
 * more than a whole healthy check; the directory is read lazily, only the
 * issuer a verification needs. The directory alone is used only when the
 * file and directory in effect (SSL_CERT_FILE / SSL_CERT_DIR or OpenSSL's
 * defaults) are the system's own bundle and directory, and the directory
 * has hash links: on Debian both come from one update-ca-certificates run,
 * so they trust the same roots. Anything else gets OpenSSL's full load. */
static int load_system_store(SSL_CTX *ctx) {
    const char *file = getenv(X509_get_default_cert_file_env());
    const char *dir = getenv(X509_get_default_cert_dir_env());
    file = file ? file : X509_get_default_cert_file();
    dir = dir ? dir : X509_get_default_cert_dir();
    if (same_path(file, X509_get_default_cert_file()) &&
        same_path(dir, X509_get_default_cert_dir()) && has_hash_links(dir))
        return SSL_CTX_load_verify_dir(ctx, dir);
    return SSL_CTX_set_default_verify_paths(ctx);
}

SSL_CTX *ld_tls_ctx_create(const char *cacert, ld_err *err) {
    ld_status result = LD_OK;
    FILE *f = NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        result = ld_err_set(err, LD_ENOMEM, "cannot create a TLS context: %s",
                            ssl_reason("out of memory"));
        goto out;
    }
    /* Verification is evaluated after the handshake (SSL_get_verify_result),
     * never enforced: a bad certificate must still be described. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* A stream handed on writes what fits and may retry from a moved buffer. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!cacert) {
        if (load_system_store(ctx) != 1)
            result = ld_err_set(err, LD_ESYS, "cannot load the system trust store: %s",
                                ssl_reason("unknown error"));
        goto out;
    }
    f = fopen(cacert, "r");
    if (!f) {
        result = ld_err_set(err, LD_EINVAL, "--cacert %s: %s", cacert, strerror(errno));
        goto out;
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        int added = n < CACERT_MAX && X509_STORE_add_cert(store, x) == 1;
        X509_free(x);
        if (n == CACERT_MAX) {
            result = ld_err_set(err, LD_ELIMIT, "--cacert %s: more than %d certificates", cacert,
                                CACERT_MAX);
            goto out;
        }
        if (!added) {
            result = ld_err_set(err, LD_ENOMEM, "--cacert %s: cannot add a certificate: %s", cacert,
                                ssl_reason("out of memory"));
            goto out;
        }
        n++;
    }
    /* Reading ends at the end of the file ("no start line": the PEM reader
     * skips blocks that are not certificates) or at a broken certificate. */
    unsigned long e = ERR_peek_last_error();
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        result = ld_err_set(err, LD_EINVAL, "--cacert %s: unreadable certificate after %d: %s",
                            cacert, n, ssl_reason("bad PEM"));
        goto out;
    }
    ERR_clear_error();
    if (n == 0)
        result = ld_err_set(err, LD_EINVAL, "--cacert %s: no certificates in it", cacert);
out:
    if (f)
        fclose(f);
    if (result != LD_OK) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* --- target facts -------------------------------------------------------- */

/* Outcomes from best to worst: the worst decides tls.result. */
static int result_rank(const char *r) {
    static const char *const order[] = {"ok",      "failed",     "closed",
                                        "not_tls", "incomplete", "stalled"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(r, order[i]) == 0)
            return i;
    return 1; /* an unknown outcome is at least a failure */
}

/* Keeps the first failure that matters: a list capped at LD_LIST_MAX is
 * still a faithful summary, running out of memory is not. */
static void keep_status(ld_status *st, ld_status s) {
    if (*st == LD_OK && s != LD_ELIMIT)
        *st = s;
}

/* Derives tls.* from the tls.attempt.* evidence: the worst outcome decides,
 * and its details (for ok: the first ok attempt's) are the target's. */
static ld_status tls_summarize(ld_facts *facts, const ld_target_spec *spec) {
    static const struct {
        ld_fact_id from; /* attempt fact */
        ld_fact_id to;   /* target fact */
    } copy[] = {
        {LD_F_TLS_A_VERSION, LD_F_TLS_VERSION},
        {LD_F_TLS_A_CIPHER, LD_F_TLS_CIPHER},
        {LD_F_TLS_A_ALPN, LD_F_TLS_ALPN},
        {LD_F_TLS_A_SNI, LD_F_TLS_SNI},
        {LD_F_TLS_A_VERIFY, LD_F_TLS_VERIFY},
        {LD_F_TLS_A_VERIFY_CODE, LD_F_TLS_VERIFY_CODE},
        {LD_F_TLS_A_NAME_MATCHES, LD_F_TLS_NAME_MATCHES},
        {LD_F_TLS_A_CERT_NAMES, LD_F_TLS_CERT_NAMES},
        {LD_F_TLS_A_CERT_SUBJECT, LD_F_TLS_CERT_SUBJECT},
        {LD_F_TLS_A_CERT_ISSUER, LD_F_TLS_CERT_ISSUER},
        {LD_F_TLS_A_NOT_BEFORE, LD_F_TLS_NOT_BEFORE},
        {LD_F_TLS_A_NOT_AFTER, LD_F_TLS_NOT_AFTER},
        {LD_F_TLS_A_DAYS_LEFT, LD_F_TLS_DAYS_LEFT},
        {LD_F_TLS_A_PEER_BYTES, LD_F_TLS_PEER_BYTES},
        {LD_F_TLS_A_REPLY_BYTES, LD_F_TLS_REPLY_BYTES},
        {LD_F_TLS_A_ERROR, LD_F_TLS_ERROR},
    };
    ld_bag *t = ld_facts_target(facts);
    ld_status st = LD_OK;
    const ld_bag *worst = NULL;
    int worst_rank = -1;
    (void)spec;
    int64_t ok_count = 0;
    double fastest = -1;

    for (size_t i = 0; i < ld_facts_subject_count(facts); i++) {
        const ld_bag *a = ld_facts_subject_at(facts, i);
        if (strcmp(ld_bag_kind(a), "tls") != 0)
            continue;
        const ld_value *res = ld_bag_get(a, LD_F_TLS_A_RESULT);
        const ld_value *addr = ld_bag_get(a, LD_F_TLS_A_ADDRESS);
        if (!res || !addr)
            continue;
        if (!worst)
            keep_status(&st, ld_bag_set_empty_list(t, LD_F_TLS_FAILED_ADDRESSES));
        int rank = result_rank(res->u.s);
        if (rank > worst_rank) {
            worst_rank = rank;
            worst = a;
        }
        if (rank == 0) {
            ok_count++;
            const ld_value *ms = ld_bag_get(a, LD_F_TLS_A_HANDSHAKE_MS);
            if (ms && (fastest < 0 || ms->u.n < fastest))
                fastest = ms->u.n;
        } else {
            keep_status(&st, ld_bag_list_add(t, LD_F_TLS_FAILED_ADDRESSES, addr->u.s));
        }
    }
    keep_status(&st, ld_bag_set_bool(t, LD_F_TLS_ATTEMPTED, worst != NULL));
    if (!worst)
        return st;

    keep_status(&st, ld_bag_set_str(t, LD_F_TLS_RESULT, ld_bag_get(worst, LD_F_TLS_A_RESULT)->u.s));
    keep_status(&st, ld_bag_set_int(t, LD_F_TLS_OK_COUNT, ok_count));
    if (fastest >= 0)
        keep_status(&st, ld_bag_set_num(t, LD_F_TLS_HANDSHAKE_MS, fastest));
    for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
        const ld_value *v = ld_bag_get(worst, copy[k].from);
        if (v)
            keep_status(&st, ld_bag_set_value(t, copy[k].to, v));
    }
    const ld_value *code = ld_bag_get(worst, LD_F_TLS_A_VERIFY_CODE);
    if (code) {
        /* OpenSSL checks validity dates only once the chain reached a trust
         * anchor, so a date error still means a trusted chain: trusted is
         * "host name and dates aside" (tls.expired speaks for the dates). */
        int64_t c = code->u.i;
        keep_status(&st, ld_bag_set_bool(t, LD_F_TLS_TRUSTED,
                                         c == X509_V_OK || c == X509_V_ERR_CERT_HAS_EXPIRED ||
                                             c == X509_V_ERR_CERT_NOT_YET_VALID));
    }
    const ld_value *nb = ld_bag_get(worst, LD_F_TLS_A_NOT_BEFORE);
    double from;
    if (nb && nb->type == LD_T_STR && ld_utc_parse(nb->u.s, &from))
        keep_status(&st, ld_bag_set_bool(t, LD_F_TLS_NOT_YET_VALID, (double)time(NULL) < from));
    return st;
}

const ld_probe_ops ld_probe_tls = {
    .name = "tls",
    .start = tls_start,
    .on_io = tls_on_io,
    .on_deadline = tls_on_deadline,
    .cancel = tls_cancel,
    .clear = tls_clear,
    .summarize = tls_summarize,
};
