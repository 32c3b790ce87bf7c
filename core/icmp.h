/* icmp.h - names of the ICMP errors that can end a connection attempt. */
#ifndef LD_ICMP_H
#define LD_ICMP_H

/* "admin-prohibited", "host-unreachable", "port-unreachable", "no-route",
 * "ttl-exceeded", ... for an ICMP (v6 = 0) or ICMPv6 (v6 = 1) error;
 * "icmp-error" for anything else. Never NULL. */
const char *ld_icmp_reason(int v6, int type, int code);

#endif
