/* redis.c - PING on an open connection and what the first reply line says.
 *
 * Which error replies mean "a Redis that wants credentials" (LD_REDIS_NOAUTH):
 *   -NOAUTH ...      Redis >= 2.8 with requirepass or ACLs, and the proxies in
 *                    front of managed Redis (ElastiCache, Memorystore, Azure
 *                    Cache, twemproxy, Envoy) that mimic it;
 *   -WRONGPASS ...   credentials were presented and refused (a proxy that
 *                    authenticates on the client's behalf);
 *   -NOPERM ...      Redis >= 6 whose default user may not even PING: another
 *                    user must authenticate;
 *   -ERR ...         whose text has "NOAUTH", "authentication required" or
 *                    "operation not permitted" (Redis < 2.8, some proxies).
 * All of them prove that the network path works and a Redis answers; the
 * password is a different problem. Any other -error (-DENIED for protected
 * mode, -LOADING, -ERR unknown command) is LD_REDIS_ERROR.
 *
 * A reply "line" ends at the first LF. RESP ends lines with CRLF, so a bare
 * LF ends a line that is not RESP (LD_REDIS_OTHER) without waiting for more.
 * A line longer than the probe reads (LD_REDIS_REPLY_MAX bytes without an LF)
 * is decided on those bytes: an error line stays an error (Redis 7's
 * protected-mode -DENIED is ~1 KB long), anything else is "other". Bytes that
 * never form a line (the peer closed or went silent) are recorded as "other":
 * something answered, and it was not Redis.
 */
#include "redis.h"

#include "core/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_SHOWN_MAX 120 /* most characters of a reply line kept as evidence */

static const char ping[] = "PING\r\n";
#define PING_LEN (sizeof ping - 1)

/* Private state of one PING. */
typedef struct redis_state {
    ld_exchange ex;            /* PING and its reply on the connection (owned from start) */
    ld_bag *subject;           /* redis.attempt.* facts */
    char addr[LD_ADDR_STRLEN]; /* the address, as text */
} redis_state;

/* The exchange's parser: the first reply line decides. */
static int reply_complete(const unsigned char *buf, size_t len);

/* 1 when s[0..n) contains needle, ASCII case ignored. */
static int has_text(const unsigned char *s, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++) {
        size_t j = 0;
        while (j < k && (s[i + j] | 0x20) == (unsigned char)(needle[j] | 0x20))
            j++;
        if (j == k)
            return 1;
    }
    return 0;
}

/* 1 when the error line e[0..n) (after the '-') asks for credentials. */
static int is_auth_error(const unsigned char *e, size_t n) {
    static const char *const codes[] = {"NOAUTH", "WRONGPASS", "NOPERM"};
    static const char *const texts[] = {"noauth", "authentication required",
                                        "operation not permitted"};
    size_t code = 0;
    while (code < n && e[code] != ' ')
        code++;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (code == strlen(codes[i]) && memcmp(e, codes[i], code) == 0)
            return 1;
    if (code != 3 || memcmp(e, "ERR", 3) != 0)
        return 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (has_text(e + code, n - code, texts[i]))
            return 1;
    return 0;
}

ld_redis_reply ld_redis_parse(const unsigned char *buf, size_t len) {
    size_t scan = len < LD_REDIS_REPLY_MAX ? len : LD_REDIS_REPLY_MAX;
    const unsigned char *lf = scan ? memchr(buf, '\n', scan) : NULL;
    if (!lf && len < LD_REDIS_REPLY_MAX)
        return LD_REDIS_INCOMPLETE;
    if (!lf) /* a line longer than we read: its first LD_REDIS_REPLY_MAX bytes decide */
        return buf[0] == '-' ? is_auth_error(buf + 1, scan - 1) ? LD_REDIS_NOAUTH : LD_REDIS_ERROR
                             : LD_REDIS_OTHER;
    size_t end = (size_t)(lf - buf);
    if (end == 0 || buf[end - 1] != '\r')
        return LD_REDIS_OTHER;
    size_t n = end - 1; /* the line without its CRLF */
    if (n == 5 && memcmp(buf, "+PONG", 5) == 0)
        return LD_REDIS_PONG;
    if (n >= 1 && buf[0] == '-')
        return is_auth_error(buf + 1, n - 1) ? LD_REDIS_NOAUTH : LD_REDIS_ERROR;
    return LD_REDIS_OTHER;
}

static int reply_complete(const unsigned char *buf, size_t len) {
    return ld_redis_parse(buf, len) != LD_REDIS_INCOMPLETE;
}

const char *ld_redis_reply_name(ld_redis_reply r) {
    switch (r) {
    case LD_REDIS_PONG:
        return "pong";
    case LD_REDIS_NOAUTH:
        return "noauth";
    case LD_REDIS_ERROR:
        return "error";
    case LD_REDIS_OTHER:
        return "other";
    case LD_REDIS_INCOMPLETE:
        break;
    }
    return "none";
}

/* The first line of buf without its line end, non-printable bytes as '.',
 * cut at REPLY_SHOWN_MAX characters. */
static void printable_line(const unsigned char *buf, size_t len, char out[REPLY_SHOWN_MAX + 1]) {
    const unsigned char *lf = len ? memchr(buf, '\n', len) : NULL;
    size_t end = lf ? (size_t)(lf - buf) : len;
    if (lf && end > 0 && buf[end - 1] == '\r')
        end--;
    if (end > REPLY_SHOWN_MAX)
        end = REPLY_SHOWN_MAX;
    for (size_t i = 0; i < end; i++)
        out[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '.';
    out[end] = '\0';
}

/* Records the outcome, closes the connection and ends the probe. */
static void conclude(ld_probe *p, ld_probe_end end) {
    redis_state *s = p->priv;
    if (p->finished)
        return;
    ld_redis_reply r = ld_redis_parse(s->ex.reply, s->ex.len);
    /* Bytes without a complete line: something answered, and not as Redis. */
    const char *kind = ld_redis_reply_name(r);
    if (r == LD_REDIS_INCOMPLETE && s->ex.len)
        kind = "other";
    ld_bag_set_str(s->subject, LD_F_REDIS_A_REPLY_KIND, kind);
    if (s->ex.len) {
        char line[REPLY_SHOWN_MAX + 1];
        printable_line(s->ex.reply, s->ex.len, line);
        ld_bag_set_str(s->subject, LD_F_REDIS_A_REPLY, line);
        ld_bag_set_num(s->subject, LD_F_REDIS_A_MS,
                       (double)(ld_time_now() - s->ex.t_sent) / (double)LD_MS);
    }
    ld_bag_set_str(s->subject, LD_F_REDIS_A_ENDED_BY, ld_probe_end_name(end));
    ld_exchange_close(&s->ex);
    ld_probe_finish(p, end);
}

/* Moves the exchange on; ends the probe once it is decided. */
static void advance(ld_probe *p) {
    redis_state *s = p->priv;
    switch (ld_exchange_advance(&s->ex)) {
    case LD_EXCHANGE_WAITING:
        return;
    case LD_EXCHANGE_REPLIED:
    case LD_EXCHANGE_CLOSED:
        conclude(p, LD_END_RESULT);
        return;
    case LD_EXCHANGE_FAILED:
        conclude(p, LD_END_ERROR); /* reset, TLS failure */
        return;
    }
}

static ld_status redis_start(ld_probe *p, ld_err *err) {
    const ld_redis_config *cfg = p->config;
    redis_state *s = calloc(1, sizeof *s);
    if (!s) {
        ld_stream orphan = cfg->stream; /* ours from now on, even when we cannot run */
        ld_stream_close(&orphan);
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    s->ex.stream = cfg->stream;
    memcpy(s->ex.request, ping, PING_LEN);
    s->ex.request_len = PING_LEN;
    s->ex.reply_max = LD_REDIS_REPLY_MAX;
    s->ex.complete = reply_complete;
    p->priv = s;
    ld_addr_format(&cfg->addr, s->addr);
    s->subject = ld_facts_subject(p->facts, "redis", s->addr);
    if (!s->subject)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_bag_set_str(s->subject, LD_F_REDIS_A_ADDRESS, s->addr);
    if (s->ex.stream.fd < 0 ||
        ld_probe_watch(p, &s->ex.io, s->ex.stream.fd, LD_WRITE, err) != LD_OK) {
        conclude(p, LD_END_ERROR);
        return LD_OK;
    }
    advance(p);
    return LD_OK;
}

static void redis_on_io(ld_probe *p, ld_io *io, unsigned events) {
    advance(p);
}

static void redis_on_deadline(ld_probe *p) {
    conclude(p, LD_END_TIMEOUT);
}

static void redis_cancel(ld_probe *p) {
    if (p->priv)
        conclude(p, LD_END_RUN_DEADLINE);
}

static void redis_clear(ld_probe *p) {
    redis_state *s = p->priv;
    if (!s)
        return;
    ld_exchange_close(&s->ex);
    free(s);
    p->priv = NULL;
}

/* How bad a reply kind is for the target: the worst one is reported. */
static int kind_rank(const char *kind) {
    static const char *const order[] = {"pong", "noauth", "error", "other"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(kind, order[i]) == 0)
            return i;
    return 4; /* none */
}

/* Derives the redis.* target facts from the redis.attempt.* evidence. Records
 * nothing when no PING was attempted (the target is not a Redis one). */
static ld_status redis_summarize(ld_facts *facts, const ld_target_spec *spec) {
    (void)spec;
    ld_bag *t = ld_facts_target(facts);
    const ld_bag *worst = NULL;
    int worst_rank = -1, attempted = 0;
    double best_ms = -1;
    for (size_t i = 0; i < ld_facts_subject_count(facts); i++) {
        const ld_bag *a = ld_facts_subject_at(facts, i);
        if (strcmp(ld_bag_kind(a), "redis") != 0)
            continue;
        const ld_value *kind = ld_bag_get(a, LD_F_REDIS_A_REPLY_KIND);
        const ld_value *addr = ld_bag_get(a, LD_F_REDIS_A_ADDRESS);
        if (!kind || !addr)
            continue;
        if (!attempted)
            ld_bag_set_empty_list(t, LD_F_REDIS_FAILED_ADDRESSES);
        attempted = 1;
        int rank = kind_rank(kind->u.s);
        if (rank > worst_rank) {
            worst_rank = rank;
            worst = a;
        }
        const ld_value *ms = ld_bag_get(a, LD_F_REDIS_A_MS);
        if (rank <= 1 && ms && (best_ms < 0 || ms->u.n < best_ms))
            best_ms = ms->u.n;
        if (rank > 1) {
            char item[LD_ADDR_STRLEN + 16];
            snprintf(item, sizeof item, "%s (%s)", addr->u.s, kind->u.s);
            ld_bag_list_add(t, LD_F_REDIS_FAILED_ADDRESSES, item);
        }
    }
    if (!attempted)
        return LD_OK;
    ld_bag_set_bool(t, LD_F_REDIS_ATTEMPTED, 1);
    ld_bag_set_bool(t, LD_F_REDIS_OK, worst_rank <= 1);
    ld_bag_set_str(t, LD_F_REDIS_REPLY_KIND, ld_bag_get(worst, LD_F_REDIS_A_REPLY_KIND)->u.s);
    const ld_value *reply = ld_bag_get(worst, LD_F_REDIS_A_REPLY);
    if (reply)
        ld_bag_set_str(t, LD_F_REDIS_REPLY, reply->u.s);
    if (best_ms >= 0)
        ld_bag_set_num(t, LD_F_REDIS_MS, best_ms);
    return LD_OK;
}

const ld_probe_ops ld_probe_redis = {
    .name = "redis",
    .start = redis_start,
    .on_io = redis_on_io,
    .on_deadline = redis_on_deadline,
    .cancel = redis_cancel,
    .clear = redis_clear,
    .summarize = redis_summarize,
};
