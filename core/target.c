/* target.c - target parsing and host name validation. */
#include "target.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name; /* URL scheme */
    ld_scheme scheme; /* what it selects */
    uint16_t port;    /* default port, 0 = none */
    int tls;          /* TLS on top of TCP */
} schemes[] = {
    {"tcp", LD_SCHEME_TCP, 0, 0},          {"http", LD_SCHEME_HTTP, 80, 0},
    {"https", LD_SCHEME_HTTPS, 443, 1},    {"redis", LD_SCHEME_REDIS, 6379, 0},
    {"rediss", LD_SCHEME_REDISS, 6379, 1}, {"mqtt", LD_SCHEME_MQTT, 1883, 0},
    {"mqtts", LD_SCHEME_MQTTS, 8883, 1},
};
#define NSCHEMES (sizeof schemes / sizeof schemes[0])

/* Parts of a parameter name (lower case, '-' read as '_') that make its value
 * a secret, and names that are one only whole ("key" but not "monkey"). */
static const char *const secret_parts[] = {"token",       "secret",     "password", "passwd",
                                           "signature",   "credential", "api_key",  "apikey",
                                           "private_key", "access_key", "session"};
static const char *const secret_names[] = {"key", "sig", "pwd", "pass", "auth", "authorization"};

/* 1 when the parameter name s[0..n) names a secret. */
static int secret_param(const char *s, size_t n) {
    char name[64];
    if (n == 0 || n >= sizeof name)
        return 0;
    for (size_t i = 0; i < n; i++)
        name[i] = s[i] == '-' ? '_' : (char)tolower((unsigned char)s[i]);
    name[n] = '\0';
    for (size_t i = 0; i < sizeof secret_parts / sizeof secret_parts[0]; i++)
        if (strstr(name, secret_parts[i]))
            return 1;
    for (size_t i = 0; i < sizeof secret_names / sizeof secret_names[0]; i++)
        if (strcmp(name, secret_names[i]) == 0)
            return 1;
    return 0;
}

/* Appends s[0..n) to out (*len bytes used of outlen), cutting at the end. */
static void mask_put(char *out, size_t outlen, size_t *len, const char *s, size_t n) {
    size_t room = outlen - 1 - *len;
    n = n < room ? n : room;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

void ld_target_mask(const char *text, int parsed, char *out, size_t outlen) {
    size_t len = 0;
    const char *p = text, *sep = strstr(text, "://");
    out[0] = '\0';
    if (sep && sep + 1 == text + strcspn(text, "/?#")) { /* a URL: scheme://authority... */
        const char *auth = sep + 3, *at = NULL;
        for (const char *c = auth; *c && !strchr(parsed ? "/?#" : "?#", *c); c++)
            if (*c == '@')
                at = c; /* the user information ends at the last '@' */
        mask_put(out, outlen, &len, text, (size_t)(auth - text));
        if (at)
            mask_put(out, outlen, &len, "***", 3);
        p = at ? at : auth;
    }
    size_t path = strcspn(p, "?#");
    mask_put(out, outlen, &len, p, path);
    p += path;
    while (*p) { /* at the '?', '&' or '#' before a parameter */
        mask_put(out, outlen, &len, p, 1);
        p++;
        size_t param = strcspn(p, "&#"), name = strcspn(p, "=&#");
        if (name < param && secret_param(p, name)) {
            mask_put(out, outlen, &len, p, name + 1);
            mask_put(out, outlen, &len, "***", 3);
        } else {
            mask_put(out, outlen, &len, p, param);
        }
        p += param;
    }
}

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
            return ld_err_set(err, LD_EINVAL,
                              "label '%.20s...' is %zu characters long; DNS allows %d",
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
            return ld_err_set(err, LD_EINVAL, "unexpected '%c' after ']' (expected ':PORT')",
                              *rest);
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

/* Runs the host:port parser over s (n bytes) for its precise message; LD_OK
 * when it finds nothing wrong. */
static ld_status authority_explain(const char *s, size_t n, ld_err *err) {
    ld_target scratch;
    memset(&scratch, 0, sizeof scratch);
    return authority_parse(s, n, &scratch, err);
}

/* What curl_url_set's interesting errors mean, in our words: none repeats
 * the input, which may hold a password. */
static const struct {
    CURLUcode code;  /* curl's verdict */
    const char *msg; /* ours */
} url_errors[] = {
    {CURLUE_NO_HOST, "missing host"},
    {CURLUE_BAD_HOSTNAME, "invalid host name"},
    {CURLUE_BAD_IPV6, "invalid IPv6 address in brackets"},
    {CURLUE_BAD_PORT_NUMBER, "the port is not a number from 1 to 65535"},
    {CURLUE_BAD_SCHEME, "invalid URL scheme (use tcp, http, https, redis, rediss, mqtt or mqtts)"},
    {CURLUE_BAD_LOGIN, "invalid user name or password in the URL"},
    {CURLUE_BAD_USER, "invalid user name in the URL"},
    {CURLUE_BAD_PASSWORD, "invalid password in the URL"},
};

/* Says why curl rejected a URL. host (n bytes: the authority after any '@')
 * is NULL when the URL may hold credentials; otherwise the hand parser of
 * host:port names the exact fault. */
static ld_status url_error(CURLUcode rc, const char *host, size_t n, ld_err *err) {
    if (rc == CURLUE_OUT_OF_MEMORY)
        return ld_err_set(err, LD_ENOMEM, "out of memory parsing the URL");
    if (host &&
        (rc == CURLUE_BAD_HOSTNAME || rc == CURLUE_BAD_IPV6 || rc == CURLUE_BAD_PORT_NUMBER) &&
        authority_explain(host, n, err) != LD_OK)
        return LD_EINVAL;
    for (size_t i = 0; i < sizeof url_errors / sizeof url_errors[0]; i++)
        if (url_errors[i].code == rc)
            return ld_err_set(err, LD_EINVAL, "%s", url_errors[i].msg);
    return ld_err_set(err, LD_EINVAL, "not a valid URL (%s)", curl_url_strerror(rc));
}

/* Sets the host of out from curl's reading of it: an IPv6 literal comes in
 * brackets with the zone apart; anything else must be written as curl read
 * it (curl turns "10.1" into 10.0.0.1 and "%41" into 'A', which a target
 * must not do behind the user's back). written (n bytes) is the authority
 * after any '@'. */
static ld_status url_host(CURLU *u, const char *written, size_t n, ld_target *out, ld_err *err) {
    char *host = NULL, *zone = NULL;
    ld_status st = LD_OK;
    CURLUcode rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (rc != CURLUE_OK) {
        st = url_error(rc, NULL, 0, err);
        goto out;
    }
    size_t hl = strlen(host);
    if (host[0] == '[') {
        if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) != CURLUE_OK)
            zone = NULL;
        /* curl checked the address; ld_addr_parse checks the zone names an interface. */
        snprintf(out->host, sizeof out->host, "%.*s%s%s", (int)(hl - 2), host + 1, zone ? "%" : "",
                 zone ? zone : "");
        st = ld_addr_parse(out->host, &out->ip, err);
        if (st == LD_OK && out->ip.family != AF_INET6)
            st = ld_err_set(err, LD_EINVAL, "'%s' in brackets is not an IPv6 address", out->host);
        out->host_is_ip = st == LD_OK;
        goto out;
    }
    if (n < hl || strncasecmp(written, host, hl) != 0 || (n > hl && written[hl] != ':')) {
        st = authority_explain(written, n, err);
        if (st == LD_OK)
            st = ld_err_set(err, LD_EINVAL, "host '%.*s' is not a plain host name or address",
                            (int)strcspn(written, ":"), written);
        goto out;
    }
    if (hl > LD_HOST_MAX + 1) {
        st = ld_err_set(err, LD_EINVAL, "host name is %zu characters long; DNS allows %d", hl,
                        LD_HOST_MAX);
        goto out;
    }
    memcpy(out->host, host, hl + 1);
    if (ld_addr_parse(out->host, &out->ip, NULL) == LD_OK && out->ip.family == AF_INET)
        out->host_is_ip = 1;
    else
        st = ld_host_name_check(out->host, err);
out:
    curl_free(host);
    curl_free(zone);
    return st;
}

/* Parses a URL target (sep points at its "://") with libcurl's URL API, as
 * the applications being diagnosed do; our rules judge the parts. */
static ld_status url_parse(const char *input, const char *sep, ld_target *out, ld_err *err) {
    const char *auth = sep + 3;
    size_t authlen = strcspn(auth, "/?#");
    const char *host = auth; /* after the last '@': credentials never lie there */
    int ats = 0;
    for (const char *c = auth; c < auth + authlen; c++)
        if (*c == '@') {
            host = c + 1;
            ats++;
        }
    size_t hostlen = (size_t)(auth + authlen - host);
    if (hostlen == 0) /* curl reads "http:///h" as "http://h"; we do not guess */
        return ld_err_set(err, LD_EINVAL, "missing host");
    out->is_url = 1;

    char *scheme = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL, *pass = NULL;
    ld_status st = LD_OK;
    CURLU *u = curl_url();
    if (!u)
        return ld_err_set(err, LD_ENOMEM, "out of memory parsing the URL");
    /* Our schemes are not all curl's; PATH_AS_IS keeps "/a/../b" as given. */
    CURLUcode rc =
        curl_url_set(u, CURLUPART_URL, input, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
    if (rc == CURLUE_BAD_HOSTNAME && ats > 1) { /* curl ends the user info at the first '@' */
        st = ld_err_set(err, LD_EINVAL,
                        "invalid host name (write an '@' in a user name or password as %%40)");
        goto out;
    }
    if (rc != CURLUE_OK) {
        st = url_error(rc, strchr(input, '@') ? NULL : host, hostlen, err);
        goto out;
    }
    rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (rc != CURLUE_OK) {
        st = url_error(rc, NULL, 0, err);
        goto out;
    }
    size_t i;
    for (i = 0; i < NSCHEMES; i++)
        if (strcasecmp(scheme, schemes[i].name) == 0)
            break;
    if (i == NSCHEMES) {
        st = ld_err_set(err, LD_EINVAL,
                        "unsupported scheme '%.32s' (use tcp, http, https, redis, rediss, mqtt or "
                        "mqtts)",
                        scheme);
        goto out;
    }
    out->scheme = schemes[i].scheme;
    out->has_userinfo = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK;

    st = url_host(u, host, hostlen, out, err);
    if (st != LD_OK)
        goto out;
    /* Only a port written in the URL: the default is the scheme's (or the profile's). */
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
        st = port_parse(port, strlen(port), &out->port, err);
        if (st != LD_OK)
            goto out;
        out->port_given = 1;
    }
    /* The path and query as written; a request never sends the fragment. */
    rc = curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (rc != CURLUE_OK) {
        st = url_error(rc, NULL, 0, err);
        goto out;
    }
    int has_query = curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK;
    int n = snprintf(out->path, sizeof out->path, "%s%s%s", path, has_query ? "?" : "",
                     has_query ? query : "");
    if (n < 0 || (size_t)n >= sizeof out->path)
        st = ld_err_set(err, LD_EINVAL, "the URL path is longer than %d characters",
                        LD_TARGET_INPUT_MAX);
out:
    curl_free(scheme);
    curl_free(user);
    curl_free(pass);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return st;
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
    ld_target_mask(input, 1, out->input, sizeof out->input); /* secrets never reach a report */
    strcpy(out->path, "/");

    const char *sep = strstr(input, "://");
    ld_status st;
    if (sep)
        st = url_parse(input, sep, out, err);
    else if (strchr(input, '/'))
        return ld_err_set(err, LD_EINVAL, "a path needs a URL scheme, e.g. https://%.*s",
                          (int)strcspn(input, "/"), input);
    else
        st = authority_parse(input, len, out, err);
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
