/* template.h - text with facts filled in: "SYNs to {tcp.timeout_addresses}".
 *
 * {name} is replaced by the target-scope fact's value (lists joined with ", ",
 * "(not recorded)" when absent); {{ and }} stand for literal braces.
 * {?name}text{/} shows text only when the fact is recorded and truthy (true,
 * non-zero, non-empty); {!name}text{/} only when it is not. {?name=value}text{/}
 * shows text only when the fact is recorded and reads as value (a string
 * equal to it; other types as rendered: "3", "true"), {!name=value} only when
 * it does not. Sections nest.
 */
#ifndef LD_TEMPLATE_H
#define LD_TEMPLATE_H

#include "core/buf.h"
#include "core/err.h"
#include "core/facts.h"

/* Checks that every {name} is a target-scope fact and braces balance.
 * err = "position N: <problem>" on failure. */
ld_status ld_template_check(const char *tmpl, ld_err *err);
/* Appends tmpl with facts filled in to out. The template must have passed
 * ld_template_check(). */
ld_status ld_template_render(const char *tmpl, const ld_facts *facts, ld_buf *out);

#endif
