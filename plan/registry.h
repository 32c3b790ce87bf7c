/* registry.h - every kind of probe the plan runs, in one list.
 *
 * Adding a probe is adding its file under probes/ and a line in registry.c;
 * the order is the order in which target summaries run (a summary may read
 * what an earlier one derived). */
#ifndef LD_PLAN_REGISTRY_H
#define LD_PLAN_REGISTRY_H

#include "probes/probe.h"

/* NULL-terminated. */
extern const ld_probe_ops *const ld_plan_probes[];

#endif
