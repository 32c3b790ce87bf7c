/* resolver.h - a DNS server to ask: what --dns-server, resolv.conf and the
 * cloud's own resolver all name, shared by the options, the plan and the DNS
 * probe. */
#ifndef LD_RESOLVER_H
#define LD_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Where a resolver came from. */
typedef enum ld_resolver_source {
    LD_RESOLVER_SYSTEM = 0, /* a nameserver line of /etc/resolv.conf */
    LD_RESOLVER_OPTION,     /* --dns-server */
    LD_RESOLVER_CLOUD,      /* the cloud's own resolver (--cloud-resolver or the provider's) */
} ld_resolver_source;

/* One DNS server. */
typedef struct ld_resolver {
    ld_addr addr;              /* server address */
    uint16_t port;             /* server port (53 unless given) */
    ld_resolver_source source; /* where it came from */
} ld_resolver;

/* "10.0.0.2:53" or "[fd00::2]:53" into buf. */
void ld_resolver_format(const ld_resolver *r, char *buf, size_t len);
/* "system", "option" or "cloud": the dns.resolver.source fact. */
const char *ld_resolver_source_name(ld_resolver_source s);

#endif
