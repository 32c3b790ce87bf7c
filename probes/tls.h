/* tls.h - the TLS probe: a non-blocking OpenSSL handshake on a connection the
 * TCP probe opened, with everything a person debugging it needs to know.
 *
 * It tells apart a handshake that stalls (the ClientHello got no reply before
 * the deadline: MTU black hole, middlebox, a port that reads and waits), one
 * left incomplete (a reply began, then stopped or trickled: how many bytes
 * came is recorded), a peer that answers with something that is not TLS (it
 * peeks at the first reply bytes: a TLS record starts 0x14..0x18 0x03;
 * anything else, e.g. "HTTP/1.1 400", is recorded printable), a peer that
 * closes without a reply, and a handshake that fails with an alert or error.
 * A completed handshake records protocol, cipher, ALPN, the chain's
 * verification against the trust store (verification is evaluated, never
 * enforced: an untrusted certificate is still fully described), whether the
 * certificate covers the name, its names, subject, issuer, validity and days
 * left.
 * Facts: tls.attempt.* per address (subject kind "tls"); tls.* from summarize().
 * Needs OpenSSL 3.0 or later (SSL_get0_peer_certificate).
 */
#ifndef LD_PROBE_TLS_H
#define LD_PROBE_TLS_H

#include <openssl/ssl.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/stream.h"
#include "probes/probe.h"

/* What one TLS probe does. */
typedef struct ld_tls_config {
    int fd;           /* connected socket from the TCP probe; the probe owns it from start */
    ld_addr addr;     /* the address (subject key, and the name when host is an IP) */
    const char *host; /* target host: SNI and name check (no SNI for an IP literal) */
    const char *sni;  /* --sni: overrides host for SNI and the name check; NULL: the host */
    const char *alpn; /* comma-separated ALPN offer ("h2,http/1.1"), NULL: none */
    SSL_CTX *ctx;     /* shared context (trust store), from ld_tls_ctx_create() */
    int warn_days;    /* expiry warning window (tls.warn_days) */
    int keep;         /* after a completed handshake, keep the connection for
                         ld_tls_take() (rediss, mqtts) instead of closing it */
} ld_tls_config;

extern const ld_probe_ops ld_probe_tls;

/* A client context: the system trust store, or only the PEM bundle cacert.
 * Verification is recorded, not enforced. NULL with err set on failure
 * (e.g. "--cacert x.pem: no certificates in it"). */
SSL_CTX *ld_tls_ctx_create(const char *cacert, ld_err *err);
/* After a completed handshake with keep set: hands the connection over
 * (the caller owns it); LD_STREAM_NONE otherwise or when already taken. */
ld_stream ld_tls_take(ld_probe *p);

#endif
