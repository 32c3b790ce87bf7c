/* proxy.c - would the environment send this request through a proxy?
 *
 * Follows libcurl 7.88 (lib/url.c detect_proxy, lib/noproxy.c), because the
 * applications that cannot reach the service are most often curl-based or
 * follow the same conventions:
 *   - curl_getenv() treats an empty variable as unset, for the proxy
 *     variables and for no_proxy alike;
 *   - lower case wins over upper case; HTTP_PROXY is never read (httpoxy:
 *     a CGI server turns a "Proxy:" request header into HTTP_PROXY);
 *   - no_proxy is consulted before any proxy variable: a host it lists goes
 *     direct whatever proxy is set; "*" counts only as the whole value.
 * Where curl 7.88.1 itself strays from its documented rules, this follows
 * the rules (checked against the curl 7.88.1 binary): curl compares an IPv6
 * host with the entries as text, so "fd00::/8" or another spelling of the
 * address never matches there, and it reads "/0" as "no prefix" (an exact
 * match). Other clients (Go, Python) do what the rules say.
 */
#include "proxy.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"

/* The variables that decide an http or https request, in no particular order. */
static const char *const proxy_vars[] = {
    "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
};
enum { NPROXY_VARS = sizeof proxy_vars / sizeof proxy_vars[0] };

#define IP_TEXT_MAX 64 /* longest address/prefix token considered */

void ld_proxy_env_read(ld_proxy_env *out, char *const *envp) {
    memset(out, 0, sizeof *out);
    for (char *const *e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t len = (size_t)(eq - *e);
        for (size_t k = 0; k < NPROXY_VARS; k++) {
            if (strlen(proxy_vars[k]) != len || memcmp(proxy_vars[k], *e, len) != 0)
                continue;
            /* getenv() returns the first of duplicates: keep the first. */
            int seen = 0;
            for (size_t i = 0; i < out->n; i++)
                seen |= out->vars[i] == proxy_vars[k];
            if (!seen && out->n < sizeof out->vars / sizeof out->vars[0]) {
                out->vars[out->n] = proxy_vars[k];
                out->values[out->n] = eq + 1;
                out->n++;
            }
            break;
        }
    }
}

/* The value of variable name, or NULL when unset or empty (curl_getenv's
 * rule); *var gets the stable name pointer. */
static const char *env_get(const ld_proxy_env *env, const char *name, const char **var) {
    for (size_t i = 0; env && i < env->n; i++) {
        if (strcmp(env->vars[i], name) != 0)
            continue;
        if (!env->values[i] || !env->values[i][0])
            return NULL;
        if (var)
            *var = env->vars[i];
        return env->values[i];
    }
    return NULL;
}

/* 1 when the first bits of addresses a and b are equal. */
static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits) {
    unsigned bytes = bits / 8, rest = bits % 8;
    if (bytes && memcmp(a, b, bytes) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[bytes] ^ b[bytes]) & mask)
            return 0;
    }
    return 1;
}

/* The address bytes of a, in network order. */
static const unsigned char *addr_bytes(const ld_addr *a) {
    return a->family == AF_INET ? (const unsigned char *)&a->v4 : a->v6.s6_addr;
}

/* 1 when the address/prefix token (len bytes) contains the host address; an
 * IPv6 zone, on either side, is not compared (fe80::1%eth0 is fe80::1). */
static int token_has_ip(const char *tok, size_t len, const ld_addr *host) {
    char buf[IP_TEXT_MAX];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    unsigned maxbits = host->family == AF_INET ? 32 : 128;
    unsigned bits = maxbits;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        const char *d = slash + 1;
        if (!*d || strlen(d) > 3)
            return 0;
        bits = 0;
        for (; *d; d++) {
            if (!isdigit((unsigned char)*d))
                return 0;
            bits = bits * 10 + (unsigned)(*d - '0');
        }
        if (bits > maxbits)
            return 0;
    }
    ld_addr net;
    if (ld_addr_parse(buf, &net, NULL) != LD_OK || net.family != host->family)
        return 0;
    return prefix_equal(addr_bytes(host), addr_bytes(&net), bits);
}

/* 1 when the name token (len bytes) is name or one of its parent domains. */
static int token_has_name(const char *tok, size_t len, const char *name, size_t namelen) {
    if (len && tok[len - 1] == '.')
        len--;
    if (len && tok[0] == '.') {
        tok++;
        len--;
    }
    if (len == 0)
        return 0;
    if (len == namelen)
        return strncasecmp(tok, name, len) == 0;
    if (len < namelen)
        return name[namelen - len - 1] == '.' && strncasecmp(tok, name + namelen - len, len) == 0;
    return 0; /* "notexample.com" is not under "example.com", nor the reverse */
}

static int is_separator(char c) {
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 1 when the no_proxy list exempts host. */
static int no_proxy_matches(const char *list, const char *host) {
    if (!host || !host[0])
        return 0;
    if (strcmp(list, "*") == 0)
        return 1;

    ld_addr ip;
    int is_ip = ld_addr_parse_host(host, &ip, NULL) == LD_OK;
    size_t namelen = strlen(host);
    if (!is_ip && namelen && host[namelen - 1] == '.')
        namelen--;

    for (const char *p = list; *p;) {
        while (*p && is_separator(*p))
            p++;
        const char *tok = p;
        while (*p && !is_separator(*p))
            p++;
        size_t len = (size_t)(p - tok);
        if (len == 0)
            continue;
        int hit = is_ip ? token_has_ip(tok, len, &ip) : token_has_name(tok, len, host, namelen);
        if (hit)
            return 1;
    }
    return 0;
}

ld_proxy_decision ld_proxy_for(const ld_proxy_env *env, const char *scheme, const char *host) {
    ld_proxy_decision d;
    memset(&d, 0, sizeof d);
    if (!env || !scheme)
        return d;

    char lower[32], upper[32];
    snprintf(lower, sizeof lower, "%s_proxy", scheme);
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    snprintf(upper, sizeof upper, "%s", lower);
    for (char *c = upper; *c; c++)
        *c = (char)toupper((unsigned char)*c);

    const char *var = NULL;
    const char *proxy = env_get(env, lower, &var);
    if (!proxy && strcmp(lower, "http_proxy") != 0)
        proxy = env_get(env, upper, &var);
    if (!proxy)
        proxy = env_get(env, "all_proxy", &var);
    if (!proxy)
        proxy = env_get(env, "ALL_PROXY", &var);

    d.no_proxy = env_get(env, "no_proxy", NULL);
    if (!d.no_proxy)
        d.no_proxy = env_get(env, "NO_PROXY", NULL);

    if (!proxy)
        return d;
    /* Bypassed keeps the variable and proxy: "set, but not for this host"
     * is what the user needs to hear when their application behaves. */
    d.variable = var;
    d.proxy = proxy;
    if (d.no_proxy && no_proxy_matches(d.no_proxy, host))
        d.bypassed = 1;
    else
        d.use = 1;
    return d;
}

void ld_proxy_mask(const char *proxy, char *buf, size_t len) {
    if (!buf || len == 0)
        return;
    if (!proxy) {
        buf[0] = '\0';
        return;
    }
    /* Everything before the last '@' may be credentials (a password may hold
     * '@', '/' or "://" unescaped): keep only a scheme that comes before it,
     * and hide too much rather than leak any of it. */
    const char *at = strrchr(proxy, '@');
    const char *sep = strstr(proxy, "://");
    /* A scheme is a letter, then letters, digits, '+', '-', '.' (RFC 3986). */
    int scheme = sep && at && sep < at && sep > proxy && sep - proxy <= 32 &&
                 isalpha((unsigned char)proxy[0]);
    for (const char *c = proxy; scheme && c < sep; c++)
        scheme = isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.';
    const char *auth = scheme ? sep + 3 : proxy;
    if (!at) {
        snprintf(buf, len, "%s", proxy);
        return;
    }
    snprintf(buf, len, "%.*s***%s", (int)(auth - proxy), proxy, at);
}
