/* fuzz_resp.c - ld_redis_parse on arbitrary bytes: never a crash or a read
 * past len, never a decision before the line end it needs, and once decided
 * never changed by more bytes (the probe parses every read's growing prefix). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/redis.h"

/* Prefixes checked one by one: twice what the probe ever buffers. */
#define PREFIX_MAX (2 * LD_REDIS_REPLY_MAX)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ld_redis_reply full = ld_redis_parse(data, size);
    size_t scan = size < LD_REDIS_REPLY_MAX ? size : LD_REDIS_REPLY_MAX;
    const uint8_t *lf = scan ? memchr(data, '\n', scan) : NULL;
    /* Bytes needed to decide: through the first LF, or LD_REDIS_REPLY_MAX without one. */
    size_t line_end = lf ? (size_t)(lf - data) + 1 : LD_REDIS_REPLY_MAX;
    int decidable = lf != NULL || size >= LD_REDIS_REPLY_MAX;

    /* Undecided until the line end or the read bound, decided after. */
    if ((full == LD_REDIS_INCOMPLETE) == decidable)
        abort();
    /* Every prefix before the line end is undecided, every one after agrees. */
    size_t limit = size < PREFIX_MAX ? size : PREFIX_MAX;
    for (size_t k = 0; k <= limit; k++) {
        /* An exact-size copy: ASan sees a read past k. */
        uint8_t *copy = malloc(k ? k : 1);
        if (!copy)
            return 0;
        memcpy(copy, data, k);
        ld_redis_reply r = ld_redis_parse(k ? copy : NULL, k);
        free(copy);
        if (decidable && k >= line_end ? r != full : r != LD_REDIS_INCOMPLETE)
            abort();
    }
    /* The kinds mean what they say about the first line. */
    if (full == LD_REDIS_PONG && (line_end != 7 || memcmp(data, "+PONG\r\n", 7) != 0))
        abort();
    if ((full == LD_REDIS_NOAUTH || full == LD_REDIS_ERROR) &&
        (data[0] != '-' || (lf && (line_end < 3 || data[line_end - 2] != '\r'))))
        abort();
    const char *name = ld_redis_reply_name(full);
    if (!name || !*name)
        abort();
    return 0;
}
