/* verdict.c - from diagnoses to ok / warning / critical / unknown. */
#include "report.h"

#include <string.h>

const char *ld_verdict_name(ld_verdict v) {
    switch (v) {
    case LD_VERDICT_OK:
        return "ok";
    case LD_VERDICT_WARNING:
        return "warning";
    case LD_VERDICT_CRITICAL:
        return "critical";
    case LD_VERDICT_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}

int ld_verdict_parse(const char *s) {
    for (int v = LD_VERDICT_OK; s && v <= LD_VERDICT_UNKNOWN; v++)
        if (strcmp(s, ld_verdict_name((ld_verdict)v)) == 0)
            return v;
    return -1;
}

ld_verdict ld_verdict_of(const ld_diagnoses *d) {
    if (!d || d->nreported == 0)
        return LD_VERDICT_UNKNOWN;
    ld_severity worst = LD_SEV_OK;
    for (size_t i = 0; i < d->nreported; i++)
        if (d->reported[i].severity > worst)
            worst = d->reported[i].severity;
    switch (worst) {
    case LD_SEV_CRITICAL:
        return LD_VERDICT_CRITICAL;
    case LD_SEV_WARNING:
        return LD_VERDICT_WARNING;
    default:
        return LD_VERDICT_OK;
    }
}

/* Rank for combining: a critical anywhere dominates, then warnings, then an
 * inconclusive target, then ok (monitoring-plugins' max_state_alt). */
static int verdict_rank(ld_verdict v) {
    switch (v) {
    case LD_VERDICT_CRITICAL:
        return 3;
    case LD_VERDICT_WARNING:
        return 2;
    case LD_VERDICT_UNKNOWN:
        return 1;
    default:
        return 0;
    }
}

ld_verdict ld_verdict_worse(ld_verdict a, ld_verdict b) {
    return verdict_rank(a) >= verdict_rank(b) ? a : b;
}
