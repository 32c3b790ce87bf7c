/* proxy.h - would the environment's proxy settings send a request through a
 * proxy? linkdoctor always connects directly (it diagnoses the private link);
 * this tells the user why their application, which honours the environment,
 * may behave differently. The rules are libcurl's (7.88):
 *   - the proxy for scheme S is "S_proxy" (lower case) or "S_PROXY" - except
 *     http, where only lower-case http_proxy counts (CGI safety); failing
 *     those, all_proxy / ALL_PROXY;
 *   - no_proxy (else NO_PROXY) lists hosts that go direct, separated by
 *     commas (and white space): "*" matches everything; a name matches itself
 *     and its subdomains (a leading dot is optional); an IP address matches
 *     itself, and address/prefix (CIDR) matches the addresses inside it.
 *     Comparison ignores case and a trailing dot.
 */
#ifndef LD_PROXY_H
#define LD_PROXY_H

#include <stddef.h>

/* A copy of the proxy variables of an environment (pointers into it). */
typedef struct ld_proxy_env {
    const char *vars[8];   /* names of the variables found, e.g. "HTTPS_PROXY" */
    const char *values[8]; /* their values */
    size_t n;              /* how many */
} ld_proxy_env;

/* Collects the proxy variables of envp (e.g. environ); pointers stay valid
 * as long as envp does. */
void ld_proxy_env_read(ld_proxy_env *out, char *const *envp);

/* What the environment says about one request. */
typedef struct ld_proxy_decision {
    int use;              /* a proxy would be used */
    const char *variable; /* the variable naming it (NULL when none applies) */
    const char *proxy;    /* its value (NULL when none) */
    const char *no_proxy; /* the no_proxy value consulted (NULL when unset) */
    int bypassed;         /* a proxy is set, but no_proxy exempts this host (variable
                             and proxy still name it) */
} ld_proxy_decision;

/* Decides for scheme ("http", "https") and host (name or address, IPv6 without
 * brackets). */
ld_proxy_decision ld_proxy_for(const ld_proxy_env *env, const char *scheme, const char *host);
/* Copies proxy into buf with any user:password@ replaced by ***@. */
void ld_proxy_mask(const char *proxy, char *buf, size_t len);

#endif
