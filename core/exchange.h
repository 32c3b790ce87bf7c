/* exchange.h - one request, one reply, on a stream (plain or TLS), without
 * blocking: the loop the request/reply probes (Redis PING, MQTT CONNECT)
 * share. The probe registers `io` on the stream's fd (for LD_WRITE first)
 * and calls ld_exchange_advance() from start and on every readiness; the
 * exchange writes what is left of the request, then reads until the probe's
 * parser says the reply is complete, and sets the watch to what the stream
 * needs next (TLS may want to write while reading, and the reverse). */
#ifndef LD_EXCHANGE_H
#define LD_EXCHANGE_H

#include <stddef.h>

#include "core/loop.h"
#include "core/stream.h"

#define LD_EXCHANGE_REQUEST_MAX 64  /* bytes of one request */
#define LD_EXCHANGE_REPLY_MAX   512 /* bytes of reply read, at most */

/* 1 when buf[0..len) is a complete reply (decided either way). */
typedef int (*ld_exchange_complete_fn)(const unsigned char *buf, size_t len);

/* Where an exchange stands. */
typedef enum ld_exchange_state {
    LD_EXCHANGE_WAITING = 0, /* the watch is set; call again when it fires */
    LD_EXCHANGE_REPLIED,     /* the parser decided, or the reply buffer is full */
    LD_EXCHANGE_CLOSED,      /* the peer closed the connection */
    LD_EXCHANGE_FAILED,      /* reset, TLS error, or the watch could not be set */
} ld_exchange_state;

/* One exchange; embed it in the probe's state. */
typedef struct ld_exchange {
    ld_stream stream;                               /* the connection, owned */
    ld_io io;                                       /* its watch (the probe registers it) */
    unsigned char request[LD_EXCHANGE_REQUEST_MAX]; /* what to send */
    size_t request_len;                             /* its length */
    size_t sent;                                    /* bytes of it written */
    ld_time t_sent;                                 /* when the last byte was written */
    unsigned char reply[LD_EXCHANGE_REPLY_MAX];     /* bytes read */
    size_t len;                                     /* how many */
    size_t reply_max;                               /* read at most this much (<= the buffer) */
    ld_exchange_complete_fn complete;               /* the probe's parser */
} ld_exchange;

/* Writes and reads as far as the connection allows now. */
ld_exchange_state ld_exchange_advance(ld_exchange *ex);
/* Stops the watch and closes the connection. */
void ld_exchange_close(ld_exchange *ex);

#endif
