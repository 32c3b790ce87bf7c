/* redis.h - the Redis probe: PING on a connection (plain, or TLS for
 * rediss://) and the first reply line, read with a bounded buffer.
 * "+PONG" and "-NOAUTH ..." both prove a Redis answers (the second one wants
 * a password); any other -error, a reply that is not RESP, silence or a
 * close is what redis.unexpected_reply reports.
 * Facts: redis.attempt.* per address (subject kind "redis"); redis.* from
 * summarize().
 */
#ifndef LD_PROBE_REDIS_H
#define LD_PROBE_REDIS_H

#include <stddef.h>

#include "probes/reqrep.h"

#define LD_REDIS_REPLY_MAX 512 /* most bytes read for the first reply line */

/* The request/reply probe running PING; its config is an ld_reqrep_config. */
extern const ld_probe_ops ld_probe_redis;

/* How a reply line reads. */
typedef enum ld_redis_reply {
    LD_REDIS_INCOMPLETE = 0, /* no CRLF yet: read more */
    LD_REDIS_PONG,           /* +PONG */
    LD_REDIS_NOAUTH,         /* -NOAUTH ... (also -ERR ... NOAUTH / authentication required) */
    LD_REDIS_ERROR,          /* another -error */
    LD_REDIS_OTHER,          /* RESP but not an answer to PING, or not RESP at all */
} ld_redis_reply;

/* Classifies the first reply in buf[0..len); pure, bounded, fuzzed. Decided
 * at the first LF, or after LD_REDIS_REPLY_MAX bytes without one. */
ld_redis_reply ld_redis_parse(const unsigned char *buf, size_t len);
/* "pong", "noauth", "error", "other" (and "none" for no reply). */
const char *ld_redis_reply_name(ld_redis_reply r);

#endif
