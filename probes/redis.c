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

#include <string.h>

/* Reply kinds as outcomes, least bad first (the facts' values). */
enum redis_kind { KIND_PONG, KIND_NOAUTH, KIND_ERROR, KIND_OTHER, KIND_NONE, KIND_COUNT };
#define ANSWERED (LD_REQREP_TIMED | LD_REQREP_QUOTED) /* any byte came back */
static const ld_reqrep_outcome kinds[KIND_COUNT] = {
    [KIND_PONG] = {"pong", LD_REQREP_OK | ANSWERED},
    [KIND_NOAUTH] = {"noauth", LD_REQREP_OK | ANSWERED},
    [KIND_ERROR] = {"error", ANSWERED},
    [KIND_OTHER] = {"other", ANSWERED},
    [KIND_NONE] = {"none", 0},
};
/* The kind of each parser verdict; an incomplete line is no reply. */
static const enum redis_kind kind_of[] = {
    [LD_REDIS_INCOMPLETE] = KIND_NONE, [LD_REDIS_PONG] = KIND_PONG,
    [LD_REDIS_NOAUTH] = KIND_NOAUTH,   [LD_REDIS_ERROR] = KIND_ERROR,
    [LD_REDIS_OTHER] = KIND_OTHER,
};

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

const char *ld_redis_reply_name(ld_redis_reply r) {
    return (size_t)r < sizeof kind_of / sizeof kind_of[0] ? kinds[kind_of[r]].name : "none";
}

/* The request: PING as an inline command. */
static size_t ping(unsigned char *buf, size_t cap, int fd) {
    static const char line[] = "PING\r\n";
    if (cap < sizeof line - 1)
        return 0;
    memcpy(buf, line, sizeof line - 1);
    return sizeof line - 1;
}

/* The exchange's parser: the first reply line decides. */
static int reply_complete(const unsigned char *buf, size_t len) {
    return ld_redis_parse(buf, len) != LD_REDIS_INCOMPLETE;
}

/* The reply kind of what came back. */
static size_t classify(const unsigned char *buf, size_t len) {
    ld_redis_reply r = ld_redis_parse(buf, len);
    /* Bytes without a complete line: something answered, and not as Redis. */
    return r == LD_REDIS_INCOMPLETE && len ? KIND_OTHER : kind_of[r];
}

static const ld_reqrep_service redis = {
    .request = ping,
    .complete = reply_complete,
    .reply_max = LD_REDIS_REPLY_MAX,
    .classify = classify,
    .outcomes = kinds,
    .noutcomes = KIND_COUNT,
    .quote = LD_REQREP_QUOTE_LINE,
    .attempt_address = LD_F_REDIS_A_ADDRESS,
    .attempt_outcome = LD_F_REDIS_A_REPLY_KIND,
    .attempt_reply = LD_F_REDIS_A_REPLY,
    .attempt_ms = LD_F_REDIS_A_MS,
    .attempt_ended_by = LD_F_REDIS_A_ENDED_BY,
    .target_attempted = LD_F_REDIS_ATTEMPTED,
    .target_ok = LD_F_REDIS_OK,
    .target_outcome = LD_F_REDIS_REPLY_KIND,
    .target_reply = LD_F_REDIS_REPLY,
    .target_failed = LD_F_REDIS_FAILED_ADDRESSES,
    .target_fastest_ms = LD_F_REDIS_MS,
};

LD_REQREP_PROBE(ld_probe_redis, "redis", redis);
