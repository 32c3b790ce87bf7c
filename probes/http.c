/* http.c - one HTTP request per address with libcurl's multi interface.
 *
 * Each probe has its own multi handle: curl's DNS cache lives in the multi,
 * so the CURLOPT_RESOLVE pin of one address can never serve another
 * address's request, and one probe's teardown never touches another's.
 * curlmulti.h drives the multi from the loop (socket and timer callbacks,
 * curl_multi_socket_action()); completions come out of
 * curl_multi_info_read() after each action. Nothing is torn down from
 * inside a curl callback: a probe that ends only stops the multi's watches
 * and finishes; clear() removes the handle and cleans the multi up.
 *
 * --sni: libcurl 7.88 has no option that sets the TLS server name apart from
 * the URL's host (CURLOPT_CONNECT_TO changes where it connects, not the
 * name). So with --sni the URL names the SNI host, CURLOPT_RESOLVE pins that
 * name to the address, and a "Host:" header carries the target's host name:
 * the server sees SNI = --sni and Host = the target, which is what
 * `curl --resolve SNI:PORT:ADDR -H "Host: HOST" https://SNI:PORT/` does. The
 * one visible difference: curl's redirect URL (CURLINFO_REDIRECT_URL) of a
 * relative Location is resolved against the SNI name.
 *
 * What came back decides http.attempt.result, from what curl and the header
 * and body callbacks saw (judge()): a final status whose headers ended is a
 * response (a body that then breaks off is http.attempt.body_error); a status
 * line without its headers, or only 1xx statuses, is incomplete; bytes that
 * start no status line are not_http. For that last one curl is told to allow
 * HTTP/0.9, so that such a reply reaches on_body() as bytes to quote (a TLS
 * alert from a TLS-only port, a banner) instead of ending as curl's bare
 * "Received HTTP/0.9 when not allowed"; the probe stops reading once it has
 * enough to quote. Two signals come from curl's documented behaviour: the
 * start-transfer time is "the first byte received" (so, at a deadline, some
 * of a reply arrived), and libcurl 7.88 fails a header line longer than its
 * 100 KB limit with CURLE_OUT_OF_MEMORY (after bytes arrived: too large).
 * The probe's own limit on all headers (HTTP_HEADERS_MAX) is below curl's
 * 300 KB, so a header flood is known as such. A receive error without a
 * socket error (CURLINFO_OS_ERRNO 0) is TLS failing on bytes that are not a
 * TLS record after the handshake: a reply, but not HTTP; a connect that
 * failed with ECONNRESET is a peer that accepted and reset at once.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reply.h"
#include "probes/curlmulti.h"

#define HTTP_BODY_MAX        4096         /* body bytes kept; the rest is read and discarded */
#define HTTP_URL_MAX         8192         /* longest URL built (host + path fit with room) */
#define HTTP_HOST_HEADER_MAX 320          /* "Host: " + bracketed name + ":port" */
#define HTTP_NAME_MAX        255          /* longest name put in a URL (DNS: 253 + dot) */
#define HTTP_HEADERS_MAX     (256 * 1024) /* header bytes read before giving up (curl: 300 KB) */
#define HTTP_REPLY_KEEP      128 /* bytes of a reply that is not HTTP read before stopping */
#define HTTP_QUOTE_MAX       121 /* a quoted reply: a line of 120 characters, or hex */

/* Private state of one request. */
typedef struct http_state {
    ld_curl_multi cm;             /* this probe's own multi handle, in the loop */
    CURL *easy;                   /* the request */
    int added;                    /* easy is in multi */
    struct curl_slist *resolve;   /* the CURLOPT_RESOLVE pin; curl reads it at perform time */
    struct curl_slist *headers;   /* the Host header when --sni renames the URL */
    ld_bag *subject;              /* http.attempt.* facts */
    ld_time t_start;              /* when the request was handed to curl */
    int status;                   /* last status line's code, 0 before one arrived */
    char version[4];              /* its HTTP version ("1.1", "2") */
    int headers_done;             /* the headers of a final (non-1xx) status ended */
    size_t header_bytes;          /* header bytes received, every status line included */
    int too_large;                /* header_bytes passed HTTP_HEADERS_MAX: reading stopped */
    int not_http;                 /* bytes came that start no status line (curl's HTTP/0.9) */
    size_t body_len;              /* body bytes kept in body */
    char body[HTTP_BODY_MAX];     /* the start of the body */
    int concluded;                /* facts recorded; curl is no longer driven */
    char errbuf[CURL_ERROR_SIZE]; /* curl's detailed error text */
    char addr[LD_ADDR_STRLEN];    /* destination, as text */
} http_state;

/* Appends the address as a URL host: brackets for IPv6, a zone as "%25". */
static ld_status put_url_addr(ld_buf *b, const ld_addr *a, const char *text) {
    if (a->family != AF_INET6)
        return ld_buf_puts(b, text);
    ld_status st = ld_buf_putc(b, '[');
    for (const char *c = text; st == LD_OK && *c; c++)
        st = *c == '%' ? ld_buf_puts(b, "%25") : ld_buf_putc(b, *c);
    return st == LD_OK ? ld_buf_putc(b, ']') : st;
}

/* --- curl callbacks ------------------------------------------------------------ */

/* CURLOPT_HEADERFUNCTION: notes each status line and the blank line that
 * ends its headers, so that how far a response got is known even when the
 * transfer later fails or times out. The last status wins (an interim 100
 * Continue precedes the final status). */
static size_t on_header(char *line, size_t size, size_t n, void *userp) {
    http_state *s = userp;
    size_t len = size * n;
    s->header_bytes += len;
    if (s->header_bytes > HTTP_HEADERS_MAX) {
        s->too_large = 1;
        return 0; /* curl fails the transfer: a header flood is not read to its end */
    }
    if (len > 0 && (line[0] == '\r' || line[0] == '\n')) {
        if (s->status >= 200)
            s->headers_done = 1;
        return len;
    }
    if (len < 12 || memcmp(line, "HTTP/", 5) != 0)
        return len;
    const char *v = line + 5;
    const char *sp = memchr(v, ' ', len - 5);
    if (!sp || (size_t)(sp - v) >= sizeof s->version || (size_t)(line + len - sp) < 4)
        return len;
    int code = 0;
    for (int i = 1; i <= 3; i++) {
        if (sp[i] < '0' || sp[i] > '9')
            return len;
        code = code * 10 + (sp[i] - '0');
    }
    s->status = code;
    s->headers_done = 0;
    memcpy(s->version, v, (size_t)(sp - v));
    s->version[sp - v] = '\0';
    if (strcmp(s->version, "2.0") == 0)
        s->version[1] = '\0';
    return len;
}

/* CURLOPT_WRITEFUNCTION: keeps the first HTTP_BODY_MAX bytes, discards the
 * rest (accepting them, so the transfer still completes). Bytes before any
 * status line are a reply that is not HTTP: once HTTP_REPLY_KEEP of them
 * are kept, the transfer stops (a flood of them is not read to the end). */
static size_t on_body(char *data, size_t size, size_t n, void *userp) {
    http_state *s = userp;
    size_t len = size * n;
    size_t room = sizeof s->body - s->body_len;
    size_t take = len < room ? len : room;
    memcpy(s->body + s->body_len, data, take);
    s->body_len += take;
    long code = 0;
    if (!s->not_http && s->status == 0 &&
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 0)
        s->not_http = 1;
    return s->not_http && s->body_len >= HTTP_REPLY_KEEP ? 0 : len;
}

/* --- recording ----------------------------------------------------------------- */

/* Records a curl phase time (µs since the request began) in ms, when reached. */
static int record_time(http_state *s, CURLINFO info, ld_fact_id id) {
    curl_off_t us = 0;
    if (curl_easy_getinfo(s->easy, info, &us) != CURLE_OK || us <= 0)
        return 0;
    ld_bag_set_num(s->subject, id, (double)us / 1000.0);
    return 1;
}

/* The outcomes of one request, least bad first: the worst decides
 * http.result. "error" is a failure on this side, below every finding. */
typedef enum http_result {
    R_RESPONSE,    /* a final status and its headers */
    R_ERROR,       /* the request could not be made */
    R_INCOMPLETE,  /* a response began; its status line and headers never completed */
    R_NOT_HTTP,    /* the reply is not HTTP */
    R_CLOSED,      /* closed or reset without a byte of reply */
    R_NO_RESPONSE, /* nothing before the deadline */
} http_result;

static const char *const result_names[] = {
    [R_RESPONSE] = "response", [R_ERROR] = "error",   [R_INCOMPLETE] = "incomplete",
    [R_NOT_HTTP] = "not_http", [R_CLOSED] = "closed", [R_NO_RESPONSE] = "no_response",
};

/* What the callbacks and curl saw decides the result; for an incomplete
 * response *how says how it broke off. code: curl's result (timed out when
 * cut); cut: the probe's deadline or the run ended it before curl did;
 * os_errno: the socket error curl saw; bytes: a reply byte arrived. */
static http_result judge(const http_state *s, CURLcode code, int cut, long os_errno, int bytes,
                         const char **how) {
    int timed_out = cut || code == CURLE_OPERATION_TIMEDOUT;
    *how = NULL;
    if (s->not_http)
        return R_NOT_HTTP;
    if (s->headers_done)
        return R_RESPONSE;
    if (s->too_large || (code == CURLE_OUT_OF_MEMORY && bytes)) {
        *how = "too_large";
        return R_INCOMPLETE;
    }
    /* What curl refuses as HTTP: a status line ("HTTP/1.1 abc", "HTTP/9.9",
     * code 000), or, after one, a header line (a NUL in it). */
    int refused = code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_WEIRD_SERVER_REPLY;
    if (refused && s->status > 0) {
        *how = "invalid";
        return R_INCOMPLETE;
    }
    if (refused)
        return R_NOT_HTTP;
    if (s->status >= 100 && s->status < 200) {
        *how = "interim_only";
        return R_INCOMPLETE;
    }
    if (s->status > 0) {
        *how = timed_out ? "stalled" : "cut";
        return R_INCOMPLETE;
    }
    if (timed_out) {
        *how = bytes ? "stalled" : NULL;
        return bytes ? R_INCOMPLETE : R_NO_RESPONSE;
    }
    if (code == CURLE_GOT_NOTHING)
        return R_CLOSED;
    /* curl's own connect found it reset: the peer accepted and reset at once
     * (a reset in SYN_SENT would be a refusal, ECONNREFUSED). */
    if (code == CURLE_COULDNT_CONNECT && (os_errno == ECONNRESET || os_errno == EPIPE))
        return R_CLOSED;
    if (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) {
        if (os_errno == 0)
            return R_NOT_HTTP; /* TLS failed on bytes that are not a record */
        *how = bytes ? "cut" : NULL;
        return bytes ? R_INCOMPLETE : R_CLOSED;
    }
    if (code == CURLE_OK && bytes) {
        *how = "cut"; /* closed inside the status line */
        return R_INCOMPLETE;
    }
    return R_ERROR;
}

/* Records the start of a reply that is not HTTP: a line of text, or hex for
 * binary bytes and for a TLS record (which also says the port speaks TLS). */
static void record_reply(ld_bag *b, const unsigned char *reply, size_t n) {
    char text[HTTP_QUOTE_MAX];
    int tls = ld_reply_is_tls_record(reply, n);
    if (!tls && ld_reply_is_text(reply, n))
        ld_reply_quote_line(reply, n, text, sizeof text);
    else
        ld_reply_quote_hex(reply, n, text, sizeof text);
    ld_bag_set_str(b, LD_F_HTTP_A_REPLY, text);
    ld_bag_set_bool(b, LD_F_HTTP_A_TLS_REPLY, tls);
}

/* Stops driving curl, records the outcome and ends the probe. code is
 * curl's result; failure, when not NULL, a failure on this side (the result
 * is then "error"); complete says curl finished the transfer (else it was
 * cut short: curl's total time is stale and its code means nothing). */
static void conclude(ld_probe *p, CURLcode code, const char *failure, ld_probe_end end,
                     int complete) {
    http_state *s = p->priv;
    const ld_http_config *cfg = p->config;
    if (s->concluded)
        return;
    s->concluded = 1;
    ld_curl_multi_stop(&s->cm);

    ld_bag *b = s->subject;
    long os_errno = 0;
    int bytes = 0;
    if (s->easy && s->added) {
        long code_seen = 0, ver = 0;
        if (!s->not_http &&
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code_seen) == CURLE_OK &&
            code_seen > 0)
            s->status = (int)code_seen;
        if (curl_easy_getinfo(s->easy, CURLINFO_HTTP_VERSION, &ver) == CURLE_OK) {
            const char *v = ver == CURL_HTTP_VERSION_1_0   ? "1.0"
                            : ver == CURL_HTTP_VERSION_1_1 ? "1.1"
                            : ver == CURL_HTTP_VERSION_2_0 ? "2"
                            : ver == CURL_HTTP_VERSION_3   ? "3"
                                                           : NULL;
            if (v && s->status > 0)
                snprintf(s->version, sizeof s->version, "%s", v);
        }
        record_time(s, CURLINFO_CONNECT_TIME_T, LD_F_HTTP_A_CONNECT_MS);
        if (cfg->https)
            record_time(s, CURLINFO_APPCONNECT_TIME_T, LD_F_HTTP_A_TLS_MS);
        bytes = record_time(s, CURLINFO_STARTTRANSFER_TIME_T, LD_F_HTTP_A_TTFB_MS);
        /* A transfer cut short has no total yet (curl's is its last progress
         * update): the time it ran is its total. */
        if (!complete || !record_time(s, CURLINFO_TOTAL_TIME_T, LD_F_HTTP_A_TOTAL_MS))
            ld_bag_set_num(b, LD_F_HTTP_A_TOTAL_MS,
                           (double)(ld_time_now() - s->t_start) / (double)LD_MS);
        char *location = NULL;
        if (curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
            ld_bag_set_str(b, LD_F_HTTP_A_REDIRECT, location);
        curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
    }
    if (s->cm.watch_error[0])
        failure = s->cm.watch_error; /* the root cause of whatever curl then said */
    const char *error = failure;
    /* Where the probe itself stopped reading, curl's error ("Failure writing
     * output") is not what happened: the result says it. */
    int stopped_here = code == CURLE_WRITE_ERROR && (s->not_http || s->too_large);
    if (!error && complete && code != CURLE_OK && !stopped_here)
        error = s->errbuf[0] ? s->errbuf : curl_easy_strerror(code);

    const char *how = NULL;
    http_result r = failure ? R_ERROR : judge(s, code, !complete, os_errno, bytes, &how);
    if (s->status > 0 && r != R_NOT_HTTP) {
        ld_bag_set_int(b, LD_F_HTTP_A_STATUS, s->status);
        if (s->version[0])
            ld_bag_set_str(b, LD_F_HTTP_A_VERSION, s->version);
    }
    ld_bag_set_str(b, LD_F_HTTP_A_RESULT, result_names[r]);
    if (how)
        ld_bag_set_str(b, LD_F_HTTP_A_INCOMPLETE, how);
    if (r == R_NOT_HTTP && s->body_len > 0)
        record_reply(b, (const unsigned char *)s->body, s->body_len);
    /* A body still coming at the deadline is the service's business (a
     * stream); one that broke off is not. */
    if (r == R_RESPONSE && error && code != CURLE_OPERATION_TIMEDOUT)
        ld_bag_set_str(b, LD_F_HTTP_A_BODY_ERROR, error);
    if (error && error[0])
        ld_bag_set_str(b, LD_F_HTTP_A_ERROR, error);
    ld_bag_set_str(b, LD_F_HTTP_A_ENDED_BY, ld_probe_end_name(end));
    ld_probe_finish(p, end);
}

/* The transfer completed (well or not) with code. */
static void on_done(ld_probe *p, CURLcode code) {
    conclude(p, code, NULL, code == CURLE_OPERATION_TIMEDOUT ? LD_END_TIMEOUT : LD_END_RESULT, 1);
}

/* After curl_multi_socket_action(): collects a finished transfer. */
static void after_action(ld_probe *p, CURLMcode mc) {
    http_state *s = p->priv;
    CURLMsg *m;
    int left = 0;
    while (!s->concluded && (m = curl_multi_info_read(s->cm.multi, &left)) != NULL)
        if (m->msg == CURLMSG_DONE && m->easy_handle == s->easy)
            on_done(p, m->data.result);
    if (!s->concluded && mc != CURLM_OK)
        conclude(p, CURLE_OK, curl_multi_strerror(mc), LD_END_RESULT, 0);
}

static void http_on_io(ld_probe *p, ld_io *io, unsigned events) {
    http_state *s = p->priv;
    if (!s->concluded)
        ld_curl_multi_on_io(&s->cm, io, events);
}

/* --- starting ------------------------------------------------------------------ */

/* Builds the request; on failure err says why (the probe then records it). */
static ld_status setup(ld_probe *p, ld_err *err) {
    http_state *s = p->priv;
    const ld_http_config *cfg = p->config;
    ld_status st = LD_OK;
    CURLcode rc = CURLE_OK;
    ld_buf url, line;
    ld_buf_init(&url, HTTP_URL_MAX);
    ld_buf_init(&line, HTTP_URL_MAX);

    if ((st = ld_curl_multi_init(&s->cm, p, after_action, err)) != LD_OK)
        goto out;
    if (!(s->easy = curl_easy_init())) {
        st = ld_err_set(err, LD_ENOMEM, "libcurl: cannot create a handle");
        goto out;
    }

    /* The name in the URL is the one TLS sends as SNI (see the top comment;
     * plain http has no SNI, so --sni changes nothing there).
     * A trailing dot goes: SNI never carries one (RFC 6066), and the URL and
     * the pin then spell the name alike whatever curl does with the dot. */
    const char *name = cfg->https && cfg->sni && cfg->sni[0] ? cfg->sni : cfg->host;
    int renamed = name != cfg->host;
    char bare[HTTP_NAME_MAX + 1];
    size_t nlen = strlen(name);
    if (nlen > 1 && nlen <= sizeof bare && name[nlen - 1] == '.') {
        memcpy(bare, name, nlen - 1);
        bare[nlen - 1] = '\0';
        name = bare;
    }
    ld_addr literal_addr;
    int literal = ld_addr_parse_host(name, &literal_addr, NULL) == LD_OK;
    const char *path = cfg->path && cfg->path[0] ? cfg->path : "/";
    st = ld_buf_puts(&url, cfg->https ? "https://" : "http://");
    if (st == LD_OK)
        st = literal ? put_url_addr(&url, &cfg->addr, s->addr) : ld_buf_puts(&url, name);
    if (st == LD_OK)
        st = ld_buf_printf(&url, ":%u%s%s", cfg->port, path[0] == '/' ? "" : "/", path);
    if (st != LD_OK) {
        st = ld_err_set(err, st, "the URL is longer than %d bytes", HTTP_URL_MAX);
        goto out;
    }
    if (!literal) {
        /* Pins name:port to the address: curl never resolves the name. */
        st = ld_buf_printf(&line, "%s:%u:", name, cfg->port);
        if (st == LD_OK)
            st = cfg->addr.family == AF_INET6 ? ld_buf_printf(&line, "[%s]", s->addr)
                                              : ld_buf_puts(&line, s->addr);
        struct curl_slist *l = st == LD_OK ? curl_slist_append(NULL, ld_buf_str(&line)) : NULL;
        if (!l) {
            st = ld_err_set(err, LD_ENOMEM, "out of memory");
            goto out;
        }
        s->resolve = l;
    }
    if (renamed) {
        char host[HTTP_HOST_HEADER_MAX];
        int v6 = strchr(cfg->host, ':') != NULL;
        int default_port = cfg->port == (cfg->https ? 443 : 80);
        char port[8] = "";
        if (!default_port)
            snprintf(port, sizeof port, ":%u", cfg->port);
        snprintf(host, sizeof host, "Host: %s%s%s%s", v6 ? "[" : "", cfg->host, v6 ? "]" : "",
                 port);
        if (!(s->headers = curl_slist_append(NULL, host))) {
            st = ld_err_set(err, LD_ENOMEM, "out of memory");
            goto out;
        }
    }

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(s->easy, opt, val)) != CURLE_OK)                                \
            goto setopt_failed;                                                                    \
    } while (0)
    /* Direct, whatever the environment says: the private link is what is
     * diagnosed; the plan records what the proxy settings would do. */
    if ((rc = ld_curl_easy_defaults(s->easy, p, s->errbuf, on_header, on_body, s)) != CURLE_OK)
        goto setopt_failed;
    SET(CURLOPT_URL, ld_buf_str(&url));
    if (s->resolve)
        SET(CURLOPT_RESOLVE, s->resolve);
    if (s->headers)
        SET(CURLOPT_HTTPHEADER, s->headers);
    /* A reply that is not HTTP arrives as bytes to quote (see the top comment). */
    SET(CURLOPT_HTTP09_ALLOWED, 1L);
    /* The TLS probe owns certificate verification and reports on it; here a
     * bad certificate must not hide whether and what the service answers. */
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
#undef SET

    s->t_start = ld_time_now();
    /* Arms curl's timer through the multi's; the request starts from the loop. */
    if (curl_multi_add_handle(s->cm.multi, s->easy) != CURLM_OK) {
        st = ld_err_set(err, LD_ESYS, "libcurl: cannot add the request");
        goto out;
    }
    s->added = 1;
    goto out;

setopt_failed:
    st = ld_err_set(err, LD_ESYS, "libcurl: %s", curl_easy_strerror(rc));
out:
    ld_buf_clear(&url);
    ld_buf_clear(&line);
    return st;
}

static ld_status http_start(ld_probe *p, ld_err *err) {
    http_state *s = calloc(1, sizeof *s);
    if (!s)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const ld_http_config *cfg = p->config;
    p->priv = s;
    ld_addr_format(&cfg->addr, s->addr);
    s->subject = ld_facts_subject(p->facts, "http", s->addr);
    if (!s->subject)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_bag_set_str(s->subject, LD_F_HTTP_A_ADDRESS, s->addr);

    ld_err why = {{0}};
    if (setup(p, &why) != LD_OK)
        conclude(p, CURLE_OK, why.msg, LD_END_ERROR, 0);
    return LD_OK;
}

/* --- ending -------------------------------------------------------------------- */

static void http_on_deadline(ld_probe *p) {
    conclude(p, CURLE_OPERATION_TIMEDOUT, NULL, LD_END_TIMEOUT, 0);
}

static void http_cancel(ld_probe *p) {
    http_state *s = p->priv;
    if (s)
        conclude(p, CURLE_OPERATION_TIMEDOUT, NULL, LD_END_RUN_DEADLINE, 0);
}

static void http_clear(ld_probe *p) {
    http_state *s = p->priv;
    if (!s)
        return;
    /* curl reports its sockets closing (and timers) during cleanup: those
     * callbacks must not reach a loop that may already be gone. */
    ld_curl_multi_stop(&s->cm);
    if (s->added)
        curl_multi_remove_handle(s->cm.multi, s->easy);
    curl_easy_cleanup(s->easy);
    ld_curl_multi_cleanup(&s->cm);
    curl_slist_free_all(s->resolve);
    curl_slist_free_all(s->headers);
    free(s);
    p->priv = NULL;
}

/* --- summary ------------------------------------------------------------------- */

static const char *bag_str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : NULL;
}

/* The result a recorded name stands for (the higher, the worse); -1 for
 * none or a name no version of the probe records. */
static int result_of(const char *r) {
    for (size_t i = 0; r && i < sizeof result_names / sizeof result_names[0]; i++)
        if (strcmp(r, result_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Copies a subject fact to a target fact when recorded. */
static void copy_fact(ld_bag *t, ld_fact_id to, const ld_bag *a, ld_fact_id from) {
    const ld_value *v = ld_bag_get(a, from);
    if (v)
        ld_bag_set_value(t, to, v);
}

/* Derives the http.* target facts from the http.attempt.* evidence, judged
 * against the target's expected statuses. */
static ld_status http_summarize(ld_facts *facts, const ld_target_spec *spec) {
    ld_bag *t = ld_facts_target(facts);
    ld_scheme scheme = spec->target.scheme;
    int http_target = scheme == LD_SCHEME_HTTP || scheme == LD_SCHEME_HTTPS;
    const ld_expect_status *expect = &spec->expect;

    const ld_bag *reported = NULL, *first_response = NULL, *worst = NULL, *errored = NULL,
                 *body_broken = NULL;
    int64_t attempts = 0, responded = 0;
    int all_match = 1, worst_result = -1;

    for (size_t i = 0; i < ld_facts_subject_count(facts); i++) {
        const ld_bag *a = ld_facts_subject_at(facts, i);
        if (strcmp(ld_bag_kind(a), "http") != 0)
            continue;
        if (attempts++ == 0) {
            ld_bag_set_empty_list(t, LD_F_HTTP_STATUSES);
            ld_bag_set_empty_list(t, LD_F_HTTP_NO_RESPONSE_ADDRESSES);
            ld_bag_set_empty_list(t, LD_F_HTTP_CLOSED_ADDRESSES);
            ld_bag_set_empty_list(t, LD_F_HTTP_FAILED_ADDRESSES);
        }
        const char *addr = bag_str(a, LD_F_HTTP_A_ADDRESS);
        int result = result_of(bag_str(a, LD_F_HTTP_A_RESULT));
        if (result > worst_result) {
            worst_result = result;
            worst = a;
        }
        if (addr && result != R_RESPONSE) {
            ld_bag_list_add(t, LD_F_HTTP_FAILED_ADDRESSES, addr);
            if (result == R_NO_RESPONSE)
                ld_bag_list_add(t, LD_F_HTTP_NO_RESPONSE_ADDRESSES, addr);
            if (result == R_CLOSED)
                ld_bag_list_add(t, LD_F_HTTP_CLOSED_ADDRESSES, addr);
        }
        if (result != R_RESPONSE && !errored && ld_bag_get(a, LD_F_HTTP_A_ERROR))
            errored = a;
        const ld_value *status = ld_bag_get(a, LD_F_HTTP_A_STATUS);
        if (result != R_RESPONSE || !status)
            continue;
        if (!body_broken && ld_bag_get(a, LD_F_HTTP_A_BODY_ERROR))
            body_broken = a;
        responded++;
        char item[32];
        snprintf(item, sizeof item, "%lld", (long long)status->u.i);
        ld_bag_list_add(t, LD_F_HTTP_STATUSES, item);
        if (!first_response)
            first_response = a;
        if (!ld_expect_match(expect, (int)status->u.i)) {
            all_match = 0;
            if (!reported)
                reported = a;
        }
    }

    if (attempts == 0 && !http_target)
        return LD_OK; /* not an HTTP target: no http.* facts at all */
    ld_bag_set_bool(t, LD_F_HTTP_ATTEMPTED, attempts > 0);
    if (attempts == 0)
        return LD_OK;
    if (worst)
        ld_bag_set_str(t, LD_F_HTTP_RESULT, bag_str(worst, LD_F_HTTP_A_RESULT));
    ld_bag_set_int(t, LD_F_HTTP_RESPONDED_COUNT, responded);
    if (responded > 0)
        ld_bag_set_bool(t, LD_F_HTTP_STATUS_MATCHES, all_match);
    if (!reported)
        reported = first_response;
    /* Without any response, the phases of the worst attempt still tell how
     * far it got (connected, then silence). */
    const ld_bag *timed = reported ? reported : worst;
    if (reported) {
        copy_fact(t, LD_F_HTTP_STATUS, reported, LD_F_HTTP_A_STATUS);
        copy_fact(t, LD_F_HTTP_VERSION, reported, LD_F_HTTP_A_VERSION);
        copy_fact(t, LD_F_HTTP_REDIRECT, reported, LD_F_HTTP_A_REDIRECT);
    }
    if (timed) {
        copy_fact(t, LD_F_HTTP_CONNECT_MS, timed, LD_F_HTTP_A_CONNECT_MS);
        copy_fact(t, LD_F_HTTP_TLS_MS, timed, LD_F_HTTP_A_TLS_MS);
        copy_fact(t, LD_F_HTTP_TTFB_MS, timed, LD_F_HTTP_A_TTFB_MS);
        copy_fact(t, LD_F_HTTP_TOTAL_MS, timed, LD_F_HTTP_A_TOTAL_MS);
    }
    /* The worst attempt's own error explains it best; else the first failure's. */
    if (worst && worst_result != R_RESPONSE && ld_bag_get(worst, LD_F_HTTP_A_ERROR))
        errored = worst;
    if (errored)
        copy_fact(t, LD_F_HTTP_ERROR, errored, LD_F_HTTP_A_ERROR);
    if (worst) {
        copy_fact(t, LD_F_HTTP_REPLY, worst, LD_F_HTTP_A_REPLY);
        copy_fact(t, LD_F_HTTP_TLS_REPLY, worst, LD_F_HTTP_A_TLS_REPLY);
        copy_fact(t, LD_F_HTTP_INCOMPLETE, worst, LD_F_HTTP_A_INCOMPLETE);
    }
    if (body_broken)
        copy_fact(t, LD_F_HTTP_BODY_ERROR, body_broken, LD_F_HTTP_A_BODY_ERROR);
    return LD_OK;
}

const ld_probe_ops ld_probe_http = {
    .name = "http",
    .start = http_start,
    .on_io = http_on_io,
    .on_deadline = http_on_deadline,
    .cancel = http_cancel,
    .clear = http_clear,
    .summarize = http_summarize,
};
