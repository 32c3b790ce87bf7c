/* target.c - target parsing and host name validation. */
#include "target.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;  /* URL scheme */
    ld_scheme scheme;  /* what it selects */
    uint16_t port;     /* default port, 0 = none */
    int tls;           /* TLS on top of TCP */
} schemes[] = {
    {"tcp", LD_SCHEME_TCP, 0, 0},        {"http", LD_SCHEME_HTTP, 80, 0},
    {"https", LD_SCHEME_HTTPS, 443, 1},  {"redis", LD_SCHEME_REDIS, 6379, 0},
    {"rediss", LD_SCHEME_REDISS, 6379, 1}, {"mqtt", LD_SCHEME_MQTT, 1883, 0},
    {"mqtts", LD_SCHEME_MQTTS, 8883, 1},
};
#define NSCHEMES (sizeof schemes / sizeof schemes[0])

const char *ld_scheme_name(ld_scheme s) {
    for (size_t i = 0; i < NSCHEMES; i++)
        if (schemes[i].scheme == s)
            return schemes[i].name;
    return "tcp";
}

uint16_t ld_scheme_default_port(ld_scheme s) {
    for (size_t i = 0; i < NSCHEMES; i++)
        if (schemes[i].scheme == s)
            return schemes[i].port;
    return 0;
}

int ld_scheme_uses_tls(ld_scheme s) {
    for (size_t i = 0; i < NSCHEMES; i++)
        if (schemes[i].scheme == s)
            return schemes[i].tls;
    return 0;
}

/* Parses a decimal port of n bytes; 1..65535, digits only. */
static ld_status port_parse(const char *s, size_t n, uint16_t *port, ld_err *err) {
    if (n == 0)
        return ld_err_set(err, LD_EINVAL, "missing port after ':'");
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return ld_err_set(err, LD_EINVAL, "port '%.*s' is not a number", (int)n, s);
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535)
            return ld_err_set(err, LD_EINVAL, "port %.*s is out of range (1-65535)", (int)n, s);
    }
    if (v == 0)
        return ld_err_set(err, LD_EINVAL, "port 0 is out of range (1-65535)");
    *port = (uint16_t)v;
    return LD_OK;
}

ld_status ld_host_name_check(const char *name, ld_err *err) {
    size_t len = strlen(name);
    if (len == 0)
        return ld_err_set(err, LD_EINVAL, "missing host");
    if (name[len - 1] == '.')
        len--; /* a trailing dot makes the name fully qualified */
    if (len == 0)
        return ld_err_set(err, LD_EINVAL, "host name '.' has no labels");
    if (len > LD_HOST_MAX)
        return ld_err_set(err, LD_EINVAL, "host name is %zu characters long; DNS allows %d", len,
                          LD_HOST_MAX);
    size_t start = 0;
    int last_all_digits = 1;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            unsigned char c = (unsigned char)name[i];
            if (!isalnum(c) && c != '-' && c != '_') {
                if (isprint(c))
                    return ld_err_set(err, LD_EINVAL, "invalid character '%c' in host name", c);
                return ld_err_set(err, LD_EINVAL, "invalid byte 0x%02x in host name", c);
            }
            continue;
        }
        size_t label = i - start;
        if (label == 0)
            return ld_err_set(err, LD_EINVAL, "empty label in host name (two dots in a row?)");
        if (label > LD_LABEL_MAX)
            return ld_err_set(err, LD_EINVAL, "label '%.20s...' is %zu characters long; DNS allows %d",
                              name + start, label, LD_LABEL_MAX);
        if (name[start] == '-')
            return ld_err_set(err, LD_EINVAL, "label '%.*s' starts with '-'", (int)label,
                              name + start);
        last_all_digits = 1;
        for (size_t j = start; j < i; j++)
            if (!isdigit((unsigned char)name[j]))
                last_all_digits = 0;
        start = i + 1;
    }
    if (last_all_digits)
        return ld_err_set(err, LD_EINVAL, "'%.*s' is neither a valid IPv4 address nor a host name",
                          (int)len, name);
    return LD_OK;
}

/* Parses the authority "host:port", "[v6]:port", "host" into t. */
static ld_status authority_parse(const char *s, size_t n, ld_target *t, ld_err *err) {
    const char *host;
    size_t hostlen;
    const char *rest;
    if (n == 0)
        return ld_err_set(err, LD_EINVAL, "missing host");
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return ld_err_set(err, LD_EINVAL, "missing ']' after IPv6 address");
        host = s + 1;
        hostlen = (size_t)(close - host);
        rest = close + 1;
        if (rest < s + n && *rest != ':')
            return ld_err_set(err, LD_EINVAL, "unexpected '%c' after ']' (expected ':PORT')", *rest);
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon && memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
            return ld_err_set(err, LD_EINVAL,
                              "too many ':' (write IPv6 addresses in brackets: [2001:db8::1]:443)");
        host = s;
        hostlen = colon ? (size_t)(colon - s) : n;
        rest = colon ? colon : s + n;
    }
    if (hostlen == 0)
        return ld_err_set(err, LD_EINVAL, "missing host");
    if (hostlen > LD_HOST_MAX + 1)
        return ld_err_set(err, LD_EINVAL, "host name is %zu characters long; DNS allows %d",
                          hostlen, LD_HOST_MAX);
    memcpy(t->host, host, hostlen);
    t->host[hostlen] = '\0';

    if (s[0] == '[') {
        ld_err inner;
        if (ld_addr_parse(t->host, &t->ip, &inner) != LD_OK || t->ip.family != AF_INET6)
            return ld_err_set(err, LD_EINVAL, "'%s' in brackets is not an IPv6 address", t->host);
        t->host_is_ip = 1;
    } else if (ld_addr_parse(t->host, &t->ip, NULL) == LD_OK && t->ip.family == AF_INET) {
        t->host_is_ip = 1;
    } else {
        ld_status st = ld_host_name_check(t->host, err);
        if (st != LD_OK)
            return st;
    }

    if (rest < s + n) { /* *rest == ':' */
        ld_status st = port_parse(rest + 1, (size_t)(s + n - rest - 1), &t->port, err);
        if (st != LD_OK)
            return st;
        t->port_given = 1;
    }
    return LD_OK;
}

ld_status ld_target_parse(const char *input, ld_target *out, ld_err *err) {
    return ld_target_parse_with(input, LD_SCHEME_TCP, 0, out, err);
}

ld_status ld_target_parse_with(const char *input, ld_scheme scheme, uint16_t port, ld_target *out,
                               ld_err *err) {
    memset(out, 0, sizeof *out);
    out->scheme = scheme;
    if (!input || !*input)
        return ld_err_set(err, LD_EINVAL, "empty target");
    size_t len = strlen(input);
    if (len > LD_TARGET_INPUT_MAX)
        return ld_err_set(err, LD_EINVAL, "target is %zu characters long; the limit is %d", len,
                          LD_TARGET_INPUT_MAX);
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)input[i]) || iscntrl((unsigned char)input[i]))
            return ld_err_set(err, LD_EINVAL, "target contains white space or control characters");
    memcpy(out->input, input, len + 1);
    strcpy(out->path, "/");

    const char *auth = input;
    size_t authlen = len;
    const char *sep = strstr(input, "://");
    if (sep) {
        size_t slen = (size_t)(sep - input);
        size_t i;
        for (i = 0; i < NSCHEMES; i++)
            if (strlen(schemes[i].name) == slen && strncasecmp(input, schemes[i].name, slen) == 0)
                break;
        if (i == NSCHEMES)
            return ld_err_set(err, LD_EINVAL,
                              "unsupported scheme '%.*s' (use tcp, http, https, redis, rediss, "
                              "mqtt or mqtts)",
                              (int)(slen > 32 ? 32 : slen), input);
        out->scheme = schemes[i].scheme;
        out->is_url = 1;
        auth = sep + 3;
        authlen = strcspn(auth, "/?#");
        if (auth[authlen]) {
            const char *p = auth + authlen;
            size_t plen = strcspn(p, "#");
            if (*p != '/') { /* "?query" without a path */
                out->path[0] = '/';
                memcpy(out->path + 1, p, plen);
                out->path[plen + 1] = '\0';
            } else {
                memcpy(out->path, p, plen);
                out->path[plen] = '\0';
            }
        }
        const char *at = memchr(auth, '@', authlen);
        if (at) {
            const char *last = at;
            while ((at = memchr(last + 1, '@', (size_t)(auth + authlen - last - 1))))
                last = at;
            out->has_userinfo = 1;
            authlen -= (size_t)(last + 1 - auth);
            auth = last + 1;
            /* Credentials never reach a report: keep the scheme, mask the user part. */
            snprintf(out->input, sizeof out->input, "%.*s://***@%s", (int)(sep - input), input,
                     auth);
        }
    } else if (strchr(input, '/')) {
        return ld_err_set(err, LD_EINVAL, "a path needs a URL scheme, e.g. https://%.*s",
                          (int)strcspn(input, "/"), input);
    }

    ld_status st = authority_parse(auth, authlen, out, err);
    if (st != LD_OK)
        return st;
    if (!out->port_given) {
        out->port = port ? port : ld_scheme_default_port(out->scheme);
        if (out->port == 0)
            return ld_err_set(err, LD_EINVAL,
                              "missing port (use HOST:PORT, or a URL such as https://HOST)");
    }
    return LD_OK;
}

ld_status ld_hostport_parse_ip(const char *s, uint16_t default_port, ld_addr *ip, uint16_t *port,
                               ld_err *err) {
    char host[LD_ADDR_STRLEN + 2];
    const char *portstr = NULL;
    size_t len = strlen(s);
    if (len == 0)
        return ld_err_set(err, LD_EINVAL, "empty address");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return ld_err_set(err, LD_EINVAL, "missing ']' after IPv6 address");
        size_t hl = (size_t)(close - s - 1);
        if (hl >= sizeof host)
            return ld_err_set(err, LD_EINVAL, "'%s' is not an IP address", s);
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (close[1] == ':')
            portstr = close + 2;
        else if (close[1])
            return ld_err_set(err, LD_EINVAL, "unexpected '%c' after ']'", close[1]);
    } else {
        const char *colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':')) { /* exactly one colon: IPv4:PORT */
            size_t hl = (size_t)(colon - s);
            if (hl >= sizeof host)
                return ld_err_set(err, LD_EINVAL, "'%s' is not an IP address", s);
            memcpy(host, s, hl);
            host[hl] = '\0';
            portstr = colon + 1;
        } else {
            if (len >= sizeof host)
                return ld_err_set(err, LD_EINVAL, "'%s' is not an IP address", s);
            strcpy(host, s);
        }
    }
    ld_status st = ld_addr_parse(host, ip, err);
    if (st != LD_OK)
        return st;
    *port = default_port;
    if (portstr)
        return port_parse(portstr, strlen(portstr), port, err);
    return LD_OK;
}
