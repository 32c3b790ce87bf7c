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

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MQTT_KEEPALIVE     60    /* seconds; the probe disconnects long before */
#define MQTT_REPLY_MAX     64    /* a CONNACK is 4 bytes; the rest is evidence */
#define MQTT_CLIENT_ID_MAX 65535 /* a UTF-8 string field holds at most this */

/* Results as outcomes, least bad first (the facts' values). */
enum mqtt_result {
    RESULT_ACCEPTED,
    RESULT_REFUSED,
    RESULT_INVALID,
    RESULT_NO_CONNACK,
    RESULT_COUNT
};
static const ld_reqrep_outcome results[RESULT_COUNT] = {
    [RESULT_ACCEPTED] = {"accepted", LD_REQREP_OK | LD_REQREP_TIMED},
    [RESULT_REFUSED] = {"refused", LD_REQREP_TIMED},
    [RESULT_INVALID] = {"invalid", LD_REQREP_QUOTED},
    [RESULT_NO_CONNACK] = {"no_connack", 0},
};

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

const char *ld_mqtt_connack_name(int code) {
    static const char *const names[] = {
        "accepted",           "unacceptable protocol version", "identifier rejected",
        "server unavailable", "bad user name or password",     "not authorized"};
    return code >= 0 && code < (int)(sizeof names / sizeof names[0]) ? names[code] : "reserved";
}

/* The CONNECT, with the client id "linkdoctor-<pid>-<fd>". */
static size_t connect_packet(unsigned char *buf, size_t cap, int fd) {
    char client_id[48]; /* "linkdoctor-" + any pid + "-" + any fd, and the NUL */
    snprintf(client_id, sizeof client_id, "linkdoctor-%ld-%d", (long)getpid(), fd);
    return ld_mqtt_connect_packet(client_id, MQTT_KEEPALIVE, buf, cap);
}

/* The exchange's parser: the first 4 bytes decide. */
static int reply_complete(const unsigned char *buf, size_t len) {
    return ld_mqtt_parse(buf, len, NULL) != LD_MQTT_INCOMPLETE;
}

/* The result of what came back. */
static size_t classify(const unsigned char *buf, size_t len) {
    int code;
    if (ld_mqtt_parse(buf, len, &code) == LD_MQTT_CONNACK)
        return code == 0 ? RESULT_ACCEPTED : RESULT_REFUSED;
    return len ? RESULT_INVALID : RESULT_NO_CONNACK;
}

/* A CONNACK's return code and its name. */
static void record_connack(ld_bag *attempt, const unsigned char *buf, size_t len) {
    int code;
    if (ld_mqtt_parse(buf, len, &code) != LD_MQTT_CONNACK)
        return;
    ld_bag_set_int(attempt, LD_F_MQTT_A_CONNACK_CODE, code);
    ld_bag_set_str(attempt, LD_F_MQTT_A_CONNACK_REASON, ld_mqtt_connack_name(code));
}

/* DISCONNECT, so that a broker that accepted us logs a clean goodbye. */
static const unsigned char disconnect[] = {0xe0, 0x00};

static const ld_reqrep_service mqtt = {
    .request = connect_packet,
    .farewell = disconnect,
    .farewell_len = sizeof disconnect,
    .complete = reply_complete,
    .reply_max = MQTT_REPLY_MAX,
    .classify = classify,
    .outcomes = results,
    .noutcomes = RESULT_COUNT,
    .quote = LD_REQREP_QUOTE_HEX,
    .attempt_address = LD_F_MQTT_A_ADDRESS,
    .attempt_outcome = LD_F_MQTT_A_RESULT,
    .attempt_reply = LD_F_MQTT_A_REPLY,
    .attempt_ms = LD_F_MQTT_A_MS,
    .attempt_ended_by = LD_F_MQTT_A_ENDED_BY,
    .record = record_connack,
    .target_attempted = LD_F_MQTT_ATTEMPTED,
    .target_ok = LD_REQREP_NO_FACT,
    .target_outcome = LD_F_MQTT_RESULT,
    .target_reply = LD_REQREP_NO_FACT,
    .target_failed = LD_F_MQTT_FAILED_ADDRESSES,
    .target_fastest_ms = LD_F_MQTT_MS,
    .target_extra = {{LD_F_MQTT_A_CONNACK_CODE, LD_F_MQTT_CONNACK_CODE},
                     {LD_F_MQTT_A_CONNACK_REASON, LD_F_MQTT_CONNACK_REASON}},
    .target_nextra = 2,
};

LD_REQREP_PROBE(ld_probe_mqtt, "mqtt", mqtt);
