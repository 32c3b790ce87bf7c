/* internal.h - helpers the rules engine's own files share (expr.c defines
 * them); not part of the rules API. */
#ifndef LD_RULES_INTERNAL_H
#define LD_RULES_INTERNAL_H

#include <stddef.h>

#include "core/err.h"
#include "core/facts.h"

/* Resolves a fact name a rule may read (target scope), with the error wording
 * conditions and templates share ("unknown fact ...", "... is per-resolver
 * evidence ..."). */
ld_status ld_expr_target_fact(const char *name, size_t len, ld_fact_id *id, ld_err *err);
/* Quotes n bytes of user text for a one-line message: cut at 40 bytes,
 * unprintable bytes replaced. Returns out. */
const char *ld_expr_quote(const char *s, size_t n, char *out, size_t outsz);

#endif
