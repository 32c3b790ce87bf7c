/* caps.h - narrowing this process's capability sets.
 *
 * One small wrapper over capget/capset (libcap is not a dependency): the
 * privilege drop after start-up (cli/privs.c) and the report's rename helper
 * (report/output.c) each keep only what they still need. It makes two
 * system calls and nothing else, so a forked child may call it even when
 * its parent had threads (it is async-signal-safe).
 */
#ifndef LD_CAPS_H
#define LD_CAPS_H

#include <stdint.h>

/* The bit of capability cap (CAP_NET_RAW, ...) in a mask for ld_caps_limit(). */
#define LD_CAP_BIT(cap) ((uint64_t)1 << (cap))

/* Limits the effective, permitted and inheritable sets of the calling thread
 * to keep (LD_CAP_BIT()s) and what they already hold; the ambient set, a
 * subset of permitted and inheritable, follows. Returns 0, or -1 with errno. */
int ld_caps_limit(uint64_t keep);

#endif
