/* fuzz_mqtt.c - ld_mqtt_parse on arbitrary bytes (no crash, no read past len,
 * undecided below 4 bytes, decided from the first 4 alone), and
 * ld_mqtt_connect_packet with client ids of fuzzed content and length (up to
 * past the 65535-byte limit) into buffers of fuzzed size: it never writes past
 * the buffer, and what it builds decodes back to what it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/mqtt.h"

#define ID_LEN_MAX 70000 /* beyond the 65535 a string field holds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses an exact-size copy of data[0..len): ASan sees a read past len. */
static ld_mqtt_reply parse_exact(const uint8_t *data, size_t len, int *code) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    ld_mqtt_reply r = ld_mqtt_parse(len ? copy : NULL, len, code);
    free(copy);
    return r;
}

static void check_parse(const uint8_t *data, size_t size) {
    int code = 1234;
    ld_mqtt_reply full = parse_exact(data, size, &code);
    if (size < 4) {
        if (full != LD_MQTT_INCOMPLETE || code != -1)
            abort();
    } else {
        int is_connack = data[0] == 0x20 && data[1] == 0x02 && data[2] <= 1;
        if (full != (is_connack ? LD_MQTT_CONNACK : LD_MQTT_INVALID))
            abort();
        if (code != (is_connack ? data[3] : -1))
            abort();
    }
    if (full == LD_MQTT_CONNACK && !*ld_mqtt_connack_name(code))
        abort();
    size_t limit = size < 16 ? size : 16;
    for (size_t k = 0; k <= limit; k++) {
        int c = 1234;
        ld_mqtt_reply r = parse_exact(data, k, &c);
        if (k < 4 ? r != LD_MQTT_INCOMPLETE : r != full || c != code)
            abort();
    }
}

/* Builds a CONNECT from the input's description and decodes it back. */
static void check_connect(const uint8_t *data, size_t size) {
    if (size < 8)
        return;
    size_t id_len = ((size_t)data[0] << 16 | (size_t)data[1] << 8 | data[2]) % (ID_LEN_MAX + 1);
    uint16_t keepalive = (uint16_t)(data[3] << 8 | data[4]);
    size_t cap = ((size_t)data[5] << 16 | (size_t)data[6] << 8 | data[7]) % (ID_LEN_MAX + 32);
    const uint8_t *fill = data + 8;
    size_t nfill = size - 8;

    char *id = malloc(id_len + 1);
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!id || !buf)
        abort();
    for (size_t i = 0; i < id_len; i++) {
        uint8_t c = nfill ? fill[i % nfill] : 'a';
        id[i] = c ? (char)c : 'a'; /* a C string ends at the first NUL */
    }
    id[id_len] = '\0';

    size_t rl = 12 + id_len;
    size_t rl_len = rl < 128 ? 1 : rl < 16384 ? 2 : 3;
    size_t want = 1 + rl_len + rl;
    size_t n = ld_mqtt_connect_packet(id, keepalive, buf, cap);
    if (id_len > 65535 || want > cap) {
        if (n != 0)
            abort();
    } else {
        if (n != want)
            abort();
        /* Decode it back as a broker would. */
        size_t got_rl = 0, mult = 1, i = 1;
        for (; i <= rl_len; i++, mult *= 128)
            got_rl += (size_t)(buf[i] & 0x7f) * mult;
        const unsigned char *v = buf + 1 + rl_len;
        static const unsigned char header[] = {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02};
        if (buf[0] != 0x10 || (buf[rl_len] & 0x80) || got_rl != rl ||
            memcmp(v, header, sizeof header) != 0 || (v[8] << 8 | v[9]) != keepalive ||
            (size_t)(v[10] << 8 | v[11]) != id_len || memcmp(v + 12, id, id_len) != 0)
            abort();
    }
    free(id);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_parse(data, size);
    check_connect(data, size);
    return 0;
}
