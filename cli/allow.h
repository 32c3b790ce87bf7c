/* allow.h - which targets `linkdoctor serve` may probe (--allow-target).
 *
 * A pattern is a CIDR block ("10.0.0.0/8", "fd00::/8"), which an IP target
 * must fall in, or a DNS suffix ("internal", ".vectordb.zillizcloud.com"),
 * which a name target must equal or end in (by whole labels, case
 * ignored). A name is judged by its name, not by where it resolves to, as
 * blackbox_exporter does; without any pattern every target is allowed. */
#ifndef LD_CLI_ALLOW_H
#define LD_CLI_ALLOW_H

#include <stddef.h>

#include "core/err.h"
#include "core/target.h"

/* Checks that pattern is a CIDR block or a DNS suffix. */
ld_status ld_allow_check(const char *pattern, ld_err *err);
/* 1 when t is allowed by one of patterns[0..n) (or n is 0). */
int ld_allow_match(const char *const *patterns, size_t n, const ld_target *t);
/* 1 when the address a (an --endpoint-ip or --dns-server of a request, which
 * the check connects to as it does to an IP target) falls in one of the
 * CIDR blocks of patterns[0..n) (or n is 0). */
int ld_allow_match_addr(const char *const *patterns, size_t n, const ld_addr *a);

#endif
