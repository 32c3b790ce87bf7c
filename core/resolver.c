/* resolver.c - naming DNS servers. */
#include "resolver.h"

#include <stdio.h>

void ld_resolver_format(const ld_resolver *r, char *buf, size_t len) {
    char a[LD_ADDR_STRLEN];
    ld_addr_format(&r->addr, a);
    snprintf(buf, len, r->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, r->port);
}

const char *ld_resolver_source_name(ld_resolver_source s) {
    return s == LD_RESOLVER_OPTION ? "option" : s == LD_RESOLVER_CLOUD ? "cloud" : "system";
}
