/* hostnet.h - this host's own settings that can discard a reply before a
 * socket sees it: reverse-path filtering and the connection tracking table,
 * read from /proc/sys; and how long the kernel keeps probing a neighbour that
 * stopped answering before it gives up on it.
 *
 * Readers take the /proc directory ("/proc", or a copy in the tests) and read
 * only a few bytes of procfs each: nothing waits.
 */
#ifndef LD_HOSTNET_H
#define LD_HOSTNET_H

#include <stdint.h>

#include "err.h"

/* The reverse-path filter mode in effect on interface ifname: the larger of
 * net.ipv4.conf.all.rp_filter and net.ipv4.conf.IFNAME.rp_filter, as the
 * kernel applies it (0 off, 1 strict, 2 loose); -1 when unreadable or ifname
 * is not a plain interface name. */
int ld_hostnet_rp_filter(const char *proc, const char *ifname);
/* The connection tracking table's entries and limit (net.netfilter.
 * nf_conntrack_count and nf_conntrack_max); LD_EIO when either is unreadable
 * (nf_conntrack not loaded, or no permission). */
ld_status ld_hostnet_conntrack(const char *proc, int64_t *count, int64_t *max, ld_err *err);

/* How long (ms) the kernel goes on sending to a neighbour of interface
 * ifname that stopped answering before its entry turns FAILED: from the
 * first packet sent to its stale entry, DELAY lasts delay_first_probe_time,
 * then PROBE sends ucast_solicit + app_solicit + mcast_resolicit probes
 * retrans_time_ms apart and gives up one interval after the last (the
 * kernel's neigh_timer_handler). With probing set the entry is already in
 * PROBE: only that part. net.ipv4.neigh.IFNAME.* (net.ipv6 for AF_INET6);
 * the kernel's defaults (5 s, 3 + 0 + 0 probes, 1 s: 8 s) for whatever is
 * unreadable. */
double ld_hostnet_neigh_give_up_ms(const char *proc, int family, const char *ifname, int probing);

#endif
