/* stream.h - a connected socket, plain or with a TLS session on it, that one
 * probe hands to the next (TCP -> TLS -> Redis/MQTT). Non-blocking: reads and
 * writes say what to wait for instead of waiting. Whoever holds a stream owns
 * it and must ld_stream_close() it. */
#ifndef LD_STREAM_H
#define LD_STREAM_H

#include <openssl/ssl.h>
#include <stddef.h>

/* A connection in flight. A zeroed stream with fd -1 is "none". */
typedef struct ld_stream {
    int fd;   /* connected, non-blocking socket; -1 when there is none */
    SSL *ssl; /* TLS session on fd (handshake done), NULL for plain TCP */
} ld_stream;

/* What a read or write did. */
typedef enum ld_stream_result {
    LD_STREAM_DONE = 0,   /* some bytes moved (*n > 0) */
    LD_STREAM_WANT_READ,  /* nothing now: wait until fd is readable */
    LD_STREAM_WANT_WRITE, /* nothing now: wait until fd is writable */
    LD_STREAM_EOF,        /* the peer closed the connection */
    LD_STREAM_ERROR,      /* the connection failed (reset, TLS error) */
} ld_stream_result;

/* The "none" stream. */
#define LD_STREAM_NONE ((ld_stream){.fd = -1, .ssl = NULL})

/* Reads at most len bytes; *n is how many. */
ld_stream_result ld_stream_read(ld_stream *s, void *buf, size_t len, size_t *n);
/* Writes at most len bytes; *n is how many. */
ld_stream_result ld_stream_write(ld_stream *s, const void *buf, size_t len, size_t *n);
/* Closes the connection (a TLS close_notify is tried, never waited for) and
 * leaves s as "none". Harmless on "none". */
void ld_stream_close(ld_stream *s);

#endif
