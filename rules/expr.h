/* expr.h - the condition language of rules.
 *
 *   expr     := or
 *   or       := and ( "||" and )*
 *   and      := unary ( "&&" unary )*
 *   unary    := "!" unary | compare
 *   compare  := operand ( ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
 *                       | "in" ( list | NAME ) )?
 *   operand  := "(" expr ")" | "exists" "(" NAME ")" | NAME | STRING | NUMBER
 *             | "true" | "false"
 *   list     := "[" ( literal ( "," literal )* )? "]"
 *
 * NAME is a target-scope fact from facts.def ("dns.rcode"); STRING is "..."
 * with \" and \\ escapes; NUMBER is a decimal integer or fraction, optionally
 * negative. Types are checked when the expression is parsed: numbers compare
 * with numbers (int and number mix), strings with strings (== and != only),
 * bools with bools (== and != only); a lone operand used as a condition must
 * be a bool; "x in [..]" needs list items of x's type; "x in NAME" needs a
 * string x and a list fact. Facts that were not recorded for a target make
 * every comparison that reads them false (also !=); exists(NAME) tells whether
 * a fact was recorded.
 */
#ifndef LD_EXPR_H
#define LD_EXPR_H

#include <stddef.h>

#include "core/err.h"
#include "core/facts.h"

/* Longest expression source accepted, and deepest nesting. */
#define LD_EXPR_MAX_LEN   4096
#define LD_EXPR_MAX_DEPTH 64

typedef struct ld_expr ld_expr; /* a parsed, type-checked condition */

/* Parses src. On failure returns LD_EINVAL (or LD_ENOMEM / LD_ELIMIT) with
 * err = "position N: <problem>" where N counts bytes from 1. On success *out
 * is the caller's to ld_expr_free(). */
ld_status ld_expr_parse(const char *src, ld_expr **out, ld_err *err);
/* Frees an expression; NULL is harmless. */
void ld_expr_free(ld_expr *e);
/* 1 when the condition holds for the target's facts, else 0. */
int ld_expr_eval(const ld_expr *e, const ld_facts *facts);

#endif
