/* loopback.h - scripted servers on 127.0.0.1 and a probe runner, for the unit
 * tests of the request/reply probes (Redis, MQTT). A server serves one
 * connection in a thread: it reads until the request is complete (the test's
 * check), then replies (in timed pieces), stays silent, or closes; every wait
 * is bounded by LB_WAIT_MS. Streams are handed to probes as the TCP and TLS
 * probes would hand them over. */
#ifndef LD_UNIT_LOOPBACK_H
#define LD_UNIT_LOOPBACK_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/facts.h"
#include "core/stream.h"
#include "probes/probe.h"

#define LB_WAIT_MS      5000 /* longest a test socket waits for its peer */
#define LB_PIECE_GAP_MS 20   /* pause between reply pieces */

/* What a server does once it has the whole request. */
typedef enum lb_mode {
    LB_REPLY,       /* sends the reply pieces, then reads until the client closes */
    LB_REPLY_CLOSE, /* sends the reply pieces, then closes */
    LB_SILENT,      /* says nothing, reads until the client closes */
    LB_CLOSE,       /* closes as soon as it accepts */
} lb_mode;

/* A piece of a reply. */
typedef struct lb_piece {
    const char *bytes; /* NULL ends the list */
    size_t len;        /* length (NULs allowed) */
} lb_piece;

/* One loopback server for one connection. */
typedef struct lb_server {
    lb_mode mode;      /* script */
    lb_piece reply[5]; /* the reply, in pieces (a NULL piece ends it) */
    int (*request_complete)(const unsigned char *b, size_t n); /* the whole request is in */
    SSL_CTX *tls;            /* TLS server context; NULL for plain TCP */
    size_t skip;             /* leading bytes to discard (filler the test wrote) */
    int delay_ms;            /* wait before accepting */
    int lfd;                 /* listening socket on 127.0.0.1 */
    uint16_t port;           /* its port */
    pthread_t thread;        /* the server */
    unsigned char got[4096]; /* what the client sent (after skip) */
    size_t got_len;          /* how much */
    int got_eof;             /* the client closed cleanly */
} lb_server;

void lb_sleep_ms(int ms);
/* Listens on 127.0.0.1 (an ephemeral port). */
void lb_listen(lb_server *s);
/* Serves one connection in a thread. */
void lb_run(lb_server *s);
/* Waits for the thread (bounded: all its waits are) and closes the listener. */
void lb_join(lb_server *s);
/* A blocking TCP connection to the server (bounded timeouts). */
int lb_connect(const lb_server *s);
void lb_set_nonblocking(int fd);
/* A plain stream to the server, as the TCP probe hands it over. */
ld_stream lb_plain_stream(const lb_server *s);
/* A server context with a throwaway self-signed P-256 certificate for localhost. */
SSL_CTX *lb_tls_server_ctx(void);
/* A TLS stream to the server, handshake done (blocking, bounded), as the TLS
 * probe hands it over. */
ld_stream lb_tls_stream(const lb_server *s, SSL_CTX *client_ctx);

/* Runs one probe of ops with cfg in a fresh loop until it finishes (deadline
 * after timeout; cancelled after cancel_after when not 0), then clears it. */
void lb_run_probe(const ld_probe_ops *ops, const void *cfg, ld_facts *facts, ld_time timeout,
                  ld_time cancel_after);
/* Runs a probe on a stream to addr: the test's adapter to lb_run_probe. */
typedef void (*lb_runner)(ld_facts *facts, ld_stream stream, const char *addr, ld_time timeout,
                          ld_time cancel_after);
/* Serves one connection with srv's script, runs the probe on it (plain or
 * TLS) and returns the facts; the server's record stays in *srv. */
ld_facts *lb_probe_against(lb_server *srv, int tls, ld_time timeout, lb_runner run);
/* The subject of kind recorded for addr, or NULL. */
const ld_bag *lb_subject(const ld_facts *f, const char *kind, const char *addr);
/* A string fact, "(none)" when absent. */
const char *lb_str(const ld_bag *b, ld_fact_id id);

#endif
