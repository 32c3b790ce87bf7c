/* mqtt.c - an MQTT 3.1.1 CONNECT on an open connection and the CONNACK it gets.
 *
 * The client id is "linkdoctor-<pid>-<fd>": the pid and the connection's fd
 * together are unique among the connections open at the same time on this
 * host (a broker drops the older of two sessions with the same id), need no
 * counter anywhere, and keep the id within the 23 bytes every broker must
 * accept for any fd below 10000.
 *
 * ld_mqtt_parse() decides only once 4 bytes are in (a CONNACK is exactly 4).
 * Bytes that arrive without making 4 (the peer closed or went silent after
 * them) are recorded as "invalid" with their hex: something answered, and it
 * was not a CONNACK. "no_connack" is reserved for no byte at all.
 */
#include "mqtt.h"

#include "core/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MQTT_KEEPALIVE     60    /* seconds; the probe disconnects long before */
#define MQTT_REPLY_MAX     64    /* a CONNACK is 4 bytes; the rest is evidence */
#define MQTT_HEX_MAX       16    /* bytes of an invalid reply kept as hex */
#define MQTT_CLIENT_ID_MAX 65535 /* a UTF-8 string field holds at most this */

/* Private state of one CONNECT. */
typedef struct mqtt_state {
    ld_exchange ex;            /* CONNECT and CONNACK on the connection (owned from start) */
    ld_bag *subject;           /* mqtt.attempt.* facts */
    char addr[LD_ADDR_STRLEN]; /* the address, as text */
} mqtt_state;

/* The exchange's parser: the first 4 bytes decide. */
static int reply_complete(const unsigned char *buf, size_t len);

size_t ld_mqtt_connect_packet(const char *client_id, uint16_t keepalive, unsigned char *buf,
                              size_t len) {
    if (!client_id || !buf)
        return 0;
    size_t id_len = strlen(client_id);
    if (id_len > MQTT_CLIENT_ID_MAX)
        return 0;
    /* Variable header (10) + the id as a length-prefixed string. */
    size_t remaining = 10 + 2 + id_len;
    unsigned char rl[4];
    size_t rl_len = 0;
    size_t x = remaining;
    do {
        rl[rl_len] = (unsigned char)(x % 128);
        x /= 128;
        if (x)
            rl[rl_len] |= 0x80;
        rl_len++;
    } while (x && rl_len < sizeof rl);
    size_t total = 1 + rl_len + remaining;
    if (total > len)
        return 0;
    unsigned char *p = buf;
    *p++ = 0x10; /* CONNECT */
    memcpy(p, rl, rl_len);
    p += rl_len;
    /* Protocol "MQTT", level 4 (3.1.1), flags: clean session and nothing else. */
    static const unsigned char header[] = {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02};
    memcpy(p, header, sizeof header);
    p += sizeof header;
    *p++ = (unsigned char)(keepalive >> 8);
    *p++ = (unsigned char)keepalive;
    *p++ = (unsigned char)(id_len >> 8);
    *p++ = (unsigned char)id_len;
    memcpy(p, client_id, id_len);
    return total;
}

ld_mqtt_reply ld_mqtt_parse(const unsigned char *buf, size_t len, int *code) {
    if (code)
        *code = -1;
    if (len < 4)
        return LD_MQTT_INCOMPLETE;
    /* CONNACK with no flags, remaining length 2, session present 0 or 1. */
    if (buf[0] != 0x20 || buf[1] != 0x02 || buf[2] > 1)
        return LD_MQTT_INVALID;
    if (code)
        *code = buf[3];
    return LD_MQTT_CONNACK;
}

static int reply_complete(const unsigned char *buf, size_t len) {
    return ld_mqtt_parse(buf, len, NULL) != LD_MQTT_INCOMPLETE;
}

const char *ld_mqtt_connack_name(int code) {
    static const char *const names[] = {
        "accepted",           "unacceptable protocol version", "identifier rejected",
        "server unavailable", "bad user name or password",     "not authorized"};
    return code >= 0 && code < (int)(sizeof names / sizeof names[0]) ? names[code] : "reserved";
}

/* "20 02 00 05": the first bytes of a reply, for evidence. */
static void hex_bytes(const unsigned char *buf, size_t len, char out[MQTT_HEX_MAX * 3]) {
    static const char digits[] = "0123456789abcdef";
    size_t n = len < MQTT_HEX_MAX ? len : MQTT_HEX_MAX;
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ' ';
        *o++ = digits[buf[i] >> 4];
        *o++ = digits[buf[i] & 0x0f];
    }
    *o = '\0';
}

/* Records the outcome, says goodbye to a broker that accepted us, closes
 * the connection and ends the probe. */
static void conclude(ld_probe *p, ld_probe_end end) {
    mqtt_state *s = p->priv;
    if (p->finished)
        return;
    int code = -1;
    ld_mqtt_reply r = ld_mqtt_parse(s->ex.reply, s->ex.len, &code);
    const char *result = "no_connack";
    if (r == LD_MQTT_CONNACK) {
        result = code == 0 ? "accepted" : "refused";
        ld_bag_set_int(s->subject, LD_F_MQTT_A_CONNACK_CODE, code);
        ld_bag_set_str(s->subject, LD_F_MQTT_A_CONNACK_REASON, ld_mqtt_connack_name(code));
        ld_bag_set_num(s->subject, LD_F_MQTT_A_MS,
                       (double)(ld_time_now() - s->ex.t_sent) / (double)LD_MS);
    } else if (s->ex.len) {
        char hex[MQTT_HEX_MAX * 3];
        result = "invalid";
        hex_bytes(s->ex.reply, s->ex.len, hex);
        ld_bag_set_str(s->subject, LD_F_MQTT_A_REPLY, hex);
    }
    ld_bag_set_str(s->subject, LD_F_MQTT_A_RESULT, result);
    ld_bag_set_str(s->subject, LD_F_MQTT_A_ENDED_BY, ld_probe_end_name(end));
    if (r == LD_MQTT_CONNACK && code == 0) {
        /* Best effort: a broker logs a clean DISCONNECT instead of a lost client. */
        static const unsigned char disconnect[] = {0xe0, 0x00};
        size_t n;
        ld_stream_write(&s->ex.stream, disconnect, sizeof disconnect, &n);
    }
    ld_exchange_close(&s->ex);
    ld_probe_finish(p, end);
}

/* Moves the exchange on; ends the probe once it is decided. */
static void advance(ld_probe *p) {
    mqtt_state *s = p->priv;
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

static ld_status mqtt_start(ld_probe *p, ld_err *err) {
    const ld_mqtt_config *cfg = p->config;
    mqtt_state *s = calloc(1, sizeof *s);
    if (!s) {
        ld_stream orphan = cfg->stream; /* ours from now on, even when we cannot run */
        ld_stream_close(&orphan);
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    s->ex.stream = cfg->stream;
    s->ex.reply_max = MQTT_REPLY_MAX;
    s->ex.complete = reply_complete;
    p->priv = s;
    ld_addr_format(&cfg->addr, s->addr);
    s->subject = ld_facts_subject(p->facts, "mqtt", s->addr);
    if (!s->subject)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_bag_set_str(s->subject, LD_F_MQTT_A_ADDRESS, s->addr);
    char client_id[48]; /* "linkdoctor-" + any pid + "-" + any fd, and the NUL */
    snprintf(client_id, sizeof client_id, "linkdoctor-%ld-%d", (long)getpid(), s->ex.stream.fd);
    s->ex.request_len =
        ld_mqtt_connect_packet(client_id, MQTT_KEEPALIVE, s->ex.request, sizeof s->ex.request);
    if (s->ex.stream.fd < 0 || s->ex.request_len == 0 ||
        ld_probe_watch(p, &s->ex.io, s->ex.stream.fd, LD_WRITE, err) != LD_OK) {
        conclude(p, LD_END_ERROR);
        return LD_OK;
    }
    advance(p);
    return LD_OK;
}

static void mqtt_on_io(ld_probe *p, ld_io *io, unsigned events) {
    advance(p);
}

static void mqtt_on_deadline(ld_probe *p) {
    conclude(p, LD_END_TIMEOUT);
}

static void mqtt_cancel(ld_probe *p) {
    if (p->priv)
        conclude(p, LD_END_RUN_DEADLINE);
}

static void mqtt_clear(ld_probe *p) {
    mqtt_state *s = p->priv;
    if (!s)
        return;
    ld_exchange_close(&s->ex);
    free(s);
    p->priv = NULL;
}

/* How bad an outcome is for the target: the worst one is reported. */
static int result_rank(const char *result) {
    static const char *const order[] = {"accepted", "refused", "invalid"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(result, order[i]) == 0)
            return i;
    return 3; /* no_connack */
}

/* Derives the mqtt.* target facts from the mqtt.attempt.* evidence. Records
 * nothing when no CONNECT was attempted (the target is not an MQTT one). */
static ld_status mqtt_summarize(ld_facts *facts, const ld_target_spec *spec) {
    (void)spec;
    ld_bag *t = ld_facts_target(facts);
    const ld_bag *worst = NULL;
    int worst_rank = -1, attempted = 0;
    double best_ms = -1;
    for (size_t i = 0; i < ld_facts_subject_count(facts); i++) {
        const ld_bag *a = ld_facts_subject_at(facts, i);
        if (strcmp(ld_bag_kind(a), "mqtt") != 0)
            continue;
        const ld_value *result = ld_bag_get(a, LD_F_MQTT_A_RESULT);
        const ld_value *addr = ld_bag_get(a, LD_F_MQTT_A_ADDRESS);
        if (!result || !addr)
            continue;
        if (!attempted)
            ld_bag_set_empty_list(t, LD_F_MQTT_FAILED_ADDRESSES);
        attempted = 1;
        int rank = result_rank(result->u.s);
        if (rank > worst_rank) {
            worst_rank = rank;
            worst = a;
        }
        const ld_value *ms = ld_bag_get(a, LD_F_MQTT_A_MS);
        if (rank == 0 && ms && (best_ms < 0 || ms->u.n < best_ms))
            best_ms = ms->u.n;
        if (rank > 0) {
            const ld_value *reason = ld_bag_get(a, LD_F_MQTT_A_CONNACK_REASON);
            char item[LD_ADDR_STRLEN + 64];
            snprintf(item, sizeof item, "%s (%s%s%s)", addr->u.s, result->u.s, reason ? ": " : "",
                     reason ? reason->u.s : "");
            ld_bag_list_add(t, LD_F_MQTT_FAILED_ADDRESSES, item);
        }
    }
    if (!attempted)
        return LD_OK;
    ld_bag_set_bool(t, LD_F_MQTT_ATTEMPTED, 1);
    ld_bag_set_str(t, LD_F_MQTT_RESULT, ld_bag_get(worst, LD_F_MQTT_A_RESULT)->u.s);
    const ld_value *v;
    if ((v = ld_bag_get(worst, LD_F_MQTT_A_CONNACK_CODE)))
        ld_bag_set_int(t, LD_F_MQTT_CONNACK_CODE, v->u.i);
    if ((v = ld_bag_get(worst, LD_F_MQTT_A_CONNACK_REASON)))
        ld_bag_set_str(t, LD_F_MQTT_CONNACK_REASON, v->u.s);
    if (best_ms >= 0)
        ld_bag_set_num(t, LD_F_MQTT_MS, best_ms);
    return LD_OK;
}

const ld_probe_ops ld_probe_mqtt = {
    .name = "mqtt",
    .start = mqtt_start,
    .on_io = mqtt_on_io,
    .on_deadline = mqtt_on_deadline,
    .cancel = mqtt_cancel,
    .clear = mqtt_clear,
    .summarize = mqtt_summarize,
};
