/* http.h - the HTTP probe: one request with libcurl's multi interface, driven
 * by the core loop through CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION and
 * curl_multi_socket_action(). The request goes to one address without
 * resolving again (CURLOPT_RESOLVE pins host:port to it, so Host and SNI stay
 * the name; with --sni, the URL carries the SNI name and a Host header the
 * target), directly (no proxy, whatever the environment says: the plan
 * records whether the environment's proxy settings would have been used),
 * without following redirects, reading at most a small bounded body.
 * TLS verification is left to the TLS probe: the HTTP probe wants to know
 * whether the service answers, and what.
 * Facts: http.attempt.* per address (subject kind "http"); http.* from
 * summarize(), which judges the statuses against the target's expectation.
 */
#ifndef LD_PROBE_HTTP_H
#define LD_PROBE_HTTP_H

#include <stdint.h>

#include "core/addr.h"
#include "probes/probe.h"

/* What one HTTP probe requests. */
typedef struct ld_http_config {
    int https;        /* https (1) or http (0) */
    const char *host; /* target host, as in the URL */
    uint16_t port;    /* target port */
    const char *path; /* path and query, "/" at least */
    ld_addr addr;     /* the address to send it to */
    const char *sni;  /* --sni, NULL: the host name */
} ld_http_config;

extern const ld_probe_ops ld_probe_http;

#endif
