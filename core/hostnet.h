/* hostnet.h - this host's own settings that can discard a reply before a
 * socket sees it: reverse-path filtering and the connection tracking table,
 * read from /proc/sys.
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

#endif
