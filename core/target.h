/* target.h - what the user asked to reach: host:port, [v6]:port or a URL.
 *
 *   host:port  10.0.1.23:19530   [2001:db8::1]:443   name.example.com:6379
 *   URL        tcp:// http:// https:// redis:// rediss:// mqtt:// mqtts://
 *              (scheme picks the application check; the port defaults per scheme)
 *
 * Host names are checked as DNS allows them: at most 253 characters, labels of
 * 1 to 63 letters, digits, '-' or '_', not starting with '-'. A name whose last
 * label is all digits must be a valid IPv4 address.
 *
 * A URL is split by libcurl's URL API, as the applications being diagnosed
 * split it; the rules above then judge its host, written as curl read it
 * (no "10.1" for 10.0.0.1, no percent-encoding in a host name). An IPv6 zone
 * may be written "%25eth0" or "%eth0".
 */
#ifndef LD_TARGET_H
#define LD_TARGET_H

#include <stdint.h>

#include "addr.h"
#include "err.h"

#define LD_HOST_MAX         253  /* longest host name, without a trailing dot */
#define LD_LABEL_MAX        63   /* longest label */
#define LD_TARGET_INPUT_MAX 2048 /* longest target text accepted */

/* The application protocol a target's scheme asks for. */
typedef enum ld_scheme {
    LD_SCHEME_TCP = 0, /* connect only */
    LD_SCHEME_HTTP,
    LD_SCHEME_HTTPS,
    LD_SCHEME_REDIS,
    LD_SCHEME_REDISS,
    LD_SCHEME_MQTT,
    LD_SCHEME_MQTTS,
} ld_scheme;

/* A parsed target. */
typedef struct ld_target {
    char input[LD_TARGET_INPUT_MAX + 1]; /* as given, secrets masked (ld_target_mask) */
    ld_scheme scheme;                    /* tcp when no URL scheme was given */
    int is_url;                          /* given as scheme://... */
    char host[LD_HOST_MAX + 2];          /* name (maybe with trailing dot) or address text */
    int host_is_ip;                      /* host is an IP literal (ip is valid) */
    ld_addr ip;                          /* the literal address when host_is_ip */
    uint16_t port;                       /* 1..65535 */
    int port_given;                      /* the port was explicit (not a scheme default) */
    char path[LD_TARGET_INPUT_MAX + 1];  /* URL path and query, "/" when absent: what is
                                            sent, secrets included (mask it to show it) */
    int has_userinfo;                    /* the URL had user[:password]@ (kept out of reports) */
} ld_target;

/* Parses input into *out. On failure returns LD_EINVAL with err describing
 * the problem (without repeating the input, which the caller names). */
ld_status ld_target_parse(const char *input, ld_target *out, ld_err *err);
/* The same, with presets (a --profile's): scheme when the input has no URL
 * scheme, port when it has no port (0: the scheme's default). */
ld_status ld_target_parse_with(const char *input, ld_scheme scheme, uint16_t port, ld_target *out,
                               ld_err *err);
/* text - a target as typed, or a URL's path and query - with what must
 * never reach a report, a log or a terminal replaced by "***": the user
 * information of a URL (user:password before the host's '@') and the values
 * of query and fragment parameters whose names say they are secrets (token,
 * password, secret, key, sig, signature, credential, ...: "?token=***&x=1").
 * For a target that parsed (parsed = 1) the user information ends at the
 * last '@' before the path; for one that did not, at the last '@' before
 * any '?' or '#', so that a password with an unencoded '/' is masked too.
 * Written into out (outlen > 0 bytes, cut to fit). */
void ld_target_mask(const char *text, int parsed, char *out, size_t outlen);
/* Validates a host name (not an address) by the rules above. */
ld_status ld_host_name_check(const char *name, ld_err *err);
/* Parses "IP", "IP:PORT" or "[IPv6]:PORT" (for --dns-server); port defaults
 * to default_port. */
ld_status ld_hostport_parse_ip(const char *s, uint16_t default_port, ld_addr *ip, uint16_t *port,
                               ld_err *err);
/* "tcp", "http", ... */
const char *ld_scheme_name(ld_scheme s);
/* The scheme's usual port, 0 for tcp (which has none). */
uint16_t ld_scheme_default_port(ld_scheme s);
/* 1 when the scheme runs TLS on top of TCP. */
int ld_scheme_uses_tls(ld_scheme s);

#endif
