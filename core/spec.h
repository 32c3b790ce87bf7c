/* spec.h - one target and what the user expects of it: the unit every entry
 * point (check, a targets file line, a serve request, analyze) hands to the
 * plan, and that probes read back when they summarize.
 *
 * Options that may differ from target to target live here; options of the
 * whole run (timeouts, capture, trust store) live in the plan's config.
 */
#ifndef LD_SPEC_H
#define LD_SPEC_H

#include <stddef.h>

struct ssl_ctx_st; /* OpenSSL's SSL_CTX, opaque here */

#include "addr.h"
#include "expect.h"
#include "resolver.h"
#include "target.h"

#define LD_ENDPOINT_IPS_MAX 16 /* most --endpoint-ip addresses per target */
#define LD_DNS_SERVERS_MAX  16 /* most --dns-server resolvers per target */
#define LD_AZ_IDS_MAX       8  /* most --expect-az-id IDs per target */
#define LD_AZ_ID_MAX        32 /* longest AZ ID ("use1-az1", "apne1-az4"), NUL included */

/* One target to check. */
typedef struct ld_target_spec {
    ld_target target;                                  /* where */
    ld_addr endpoint_ips[LD_ENDPOINT_IPS_MAX];         /* --endpoint-ip */
    size_t nendpoint_ips;                              /* how many */
    ld_resolver dns_servers[LD_DNS_SERVERS_MAX];       /* --dns-server, asked beside the system's */
    size_t ndns_servers;                               /* how many */
    ld_expect_status expect;                           /* expected HTTP statuses (n == 0: any) */
    char profile[32];                                  /* --profile that preset it, "" for none */
    char sni[LD_HOST_MAX + 2];                         /* --sni, "" for the host name */
    int cert_warn_days;                                /* --cert-warn-days */
    char expected_az_ids[LD_AZ_IDS_MAX][LD_AZ_ID_MAX]; /* --expect-az-id or the profile's */
    size_t nexpected_az_ids;                           /* how many */
    struct ssl_ctx_st *tls_ctx;                        /* the trust store of its --cacert, NULL: the
                                                          plan's (borrowed: its maker frees it) */
} ld_target_spec;

#endif
