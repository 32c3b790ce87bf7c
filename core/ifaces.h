/* ifaces.h - this host's interface addresses, read once per run.
 *
 * Used to name the interface a connection leaves through, to tell a locally
 * generated ICMP error from a remote one, and to skip address families the
 * host cannot use (as getaddrinfo's AI_ADDRCONFIG does for applications).
 */
#ifndef LD_IFACES_H
#define LD_IFACES_H

#include <net/if.h>
#include <stddef.h>

#include "addr.h"
#include "err.h"

/* One local address. */
typedef struct ld_iface_addr {
    ld_addr addr;           /* the address */
    char name[IF_NAMESIZE]; /* its interface */
} ld_iface_addr;

/* All local addresses. */
typedef struct ld_ifaces {
    ld_iface_addr *items; /* owned */
    size_t len;           /* number of items */
    int has_v4;           /* some non-loopback IPv4 address exists */
    int has_v6;           /* some global or unique-local IPv6 address exists */
} ld_ifaces;

/* Reads the host's addresses (getifaddrs). */
ld_status ld_ifaces_load(ld_ifaces *out, ld_err *err);
/* Frees what ld_ifaces_load() allocated; a zeroed struct is harmless. */
void ld_ifaces_clear(ld_ifaces *ifs);
/* The interface holding a, or NULL when a is not local. */
const char *ld_ifaces_name_of(const ld_ifaces *ifs, const ld_addr *a);
/* 1 when the host can use a's family (see has_v4 / has_v6). */
int ld_ifaces_family_usable(const ld_ifaces *ifs, int family);

#endif
