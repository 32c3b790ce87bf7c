/* expr.c - the condition language: a tokenizer, a recursive-descent parser
 * that type-checks while it builds the tree, and an evaluator over facts.
 *
 * Every node keeps the byte span it came from, so that type errors can quote
 * the operand ("cannot compare string dns.rcode with number 3") and every error
 * names the 1-based byte position of the token that is wrong.
 */
#include "rules/expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/* Longest piece of source quoted in a message, so messages stay one line. */
#define QUOTE_MAX 40

/* --- tokens ------------------------------------------------------------------ */

/* What a token is; TK_EQ..TK_GE stay together and in cmp_op's order. */
typedef enum tok_kind {
    TK_END = 0, /* end of the source */
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACKET,
    TK_RBRACKET,
    TK_COMMA,
    TK_NOT,
    TK_AND,
    TK_OR,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_NAME,   /* a fact name, resolved by the parser */
    TK_STRING, /* "..." including the quotes */
    TK_NUMBER, /* -?digits(.digits)? */
    TK_TRUE,
    TK_FALSE,
    TK_EXISTS,
    TK_IN,
} tok_kind;

/* One token: where it is in the source; the parser reads its text from there. */
typedef struct token {
    tok_kind kind; /* what it is */
    size_t pos;    /* offset of its first byte, from 0 */
    size_t len;    /* bytes it spans */
} token;

/* --- the tree -------------------------------------------------------------- */

/* What a node of the tree does. */
typedef enum node_kind {
    N_LIT,     /* a literal: bool, number or string */
    N_FACT,    /* a fact's value; a bool fact is also a condition */
    N_EXISTS,  /* exists(NAME) */
    N_NOT,     /* !kid */
    N_AND,     /* all kids hold */
    N_OR,      /* any kid holds */
    N_CMP,     /* lhs op rhs */
    N_IN_LIST, /* lhs in [literals] */
    N_IN_FACT, /* string lhs in a list fact */
} node_kind;

/* In the order of TK_EQ..TK_GE, so that a token converts by subtraction. */
typedef enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op;

/* A literal's value. */
typedef struct literal {
    int is_int; /* numbers: the literal was an integer, i is exact */
    int64_t i;  /* integer value */
    double n;   /* numeric value (also set for integers) */
    int b;      /* bool value */
    char *s;    /* string value, owned */
} literal;

struct ld_expr {
    node_kind kind; /* which member of u is valid */
    ld_type type;   /* what it yields: LD_T_BOOL for conditions, else the value's type */
    size_t pos;     /* source span, for messages */
    size_t len;     /* bytes in the span */
    union {
        literal lit;     /* N_LIT */
        ld_fact_id fact; /* N_FACT, N_EXISTS */
        ld_expr *kid;    /* N_NOT */
        struct {
            ld_expr **kids; /* owned */
            size_t n;       /* entries in kids */
        } all;              /* N_AND, N_OR, N_IN_LIST (lhs first, then the items) */
        struct {
            cmp_op op;  /* the comparison */
            ld_expr *l; /* left operand, owned */
            ld_expr *r; /* right operand, owned */
        } cmp;          /* N_CMP */
        struct {
            ld_expr *l;      /* the string looked for, owned */
            ld_fact_id list; /* the list fact */
        } in;                /* N_IN_FACT */
    } u;
};

/* State of one parse. */
typedef struct parser {
    const char *src; /* the expression */
    size_t len;      /* its length */
    token tok;       /* the current, not yet consumed token */
    unsigned depth;  /* current nesting of '(' and '!' */
    ld_err *err;     /* where failures are described */
} parser;

/* --- messages ---------------------------------------------------------------- */

/* Copies up to QUOTE_MAX bytes of s into out (and "..." when there is more),
 * replacing what would not print, so that a message never carries control
 * bytes from a rule file. Returns out. */
const char *ld_expr_quote(const char *s, size_t n, char *out, size_t outsz) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < outsz; i++) {
        if (i == QUOTE_MAX) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[o] = '\0';
    return out;
}

/* Resolves a fact name a rule may read: it must exist and be target-scope.
 * The message carries no position; callers prefix theirs. */
ld_status ld_expr_target_fact(const char *name, size_t len, ld_fact_id *id, ld_err *err) {
    char q[QUOTE_MAX + 8];
    int found = ld_fact_lookup(name, len);
    if (found < 0) {
        ld_expr_quote(name, len, q, sizeof q);
        return ld_err_set(err, LD_EINVAL, "unknown fact '%s'", q);
    }
    const ld_fact_def *def = ld_fact_def_get((ld_fact_id)found);
    if (def->scope != LD_SCOPE_TARGET) {
        /* "dns.resolver.rcode" is kept per resolver: say so in the words of its name. */
        const char *what = strchr(def->name, '.');
        const char *end = what ? strchr(what + 1, '.') : NULL;
        int wlen = end ? (int)(end - what - 1) : 7;
        return ld_err_set(err, LD_EINVAL,
                          "%s is per-%.*s evidence; rules can only read target facts", def->name,
                          wlen, end ? what + 1 : "subject");
    }
    *id = (ld_fact_id)found;
    return LD_OK;
}

/* Records "position N: <problem>" for a byte offset and returns st. */
static ld_status fail(parser *p, ld_status st, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ld_status fail(parser *p, ld_status st, size_t pos, const char *fmt, ...) {
    char msg[LD_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ld_err_set(p->err, st, "position %zu: %s", pos + 1, msg);
}

/* How a token reads in a message: "')'" or "the end". */
static void describe_token(const parser *p, const token *t, char *out, size_t outsz) {
    if (t->kind == TK_END) {
        snprintf(out, outsz, "the end");
        return;
    }
    char q[QUOTE_MAX + 8];
    ld_expr_quote(p->src + t->pos, t->len, q, sizeof q);
    snprintf(out, outsz, "'%s'", q);
}

/* How an operand reads in a message: "string dns.rcode", "number 3". */
static void describe_node(const parser *p, const ld_expr *e, char *out, size_t outsz) {
    /* Literal numbers are LD_T_NUM, so they read "number"; facts read their declared type. */
    const char *what = e->kind == N_LIT || e->kind == N_FACT ? ld_type_name(e->type) : "condition";
    char q[QUOTE_MAX + 8];
    ld_expr_quote(p->src + e->pos, e->len, q, sizeof q);
    snprintf(out, outsz, "%s %s", what, q);
}

static const char *op_text(cmp_op op) {
    static const char *const text[] = {"==", "!=", "<", "<=", ">", ">="};
    return text[op];
}

/* --- tokenizer --------------------------------------------------------------- */

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c) {
    return is_name_start(c) || is_digit(c) || c == '.';
}

/* Scans a string literal starting at its opening quote; *end gets the offset
 * after the closing quote. */
static ld_status lex_string(parser *p, size_t start, size_t *end) {
    size_t i = start + 1;
    while (i < p->len) {
        char c = p->src[i];
        if (c == '"') {
            *end = i + 1;
            return LD_OK;
        }
        if (c == '\\') {
            if (i + 1 >= p->len)
                break;
            char e = p->src[i + 1];
            if (e != '"' && e != '\\') {
                char q[QUOTE_MAX + 8];
                ld_expr_quote(&e, 1, q, sizeof q);
                return fail(p, LD_EINVAL, i, "unknown escape '\\%s' in string (only \\\" and \\\\)",
                            q);
            }
            i += 2;
            continue;
        }
        i++;
    }
    return fail(p, LD_EINVAL, start, "unterminated string");
}

/* Scans -?digits(.digits)? starting at start. */
static ld_status lex_number(parser *p, size_t start, size_t *end) {
    size_t i = start;
    if (p->src[i] == '-')
        i++;
    while (i < p->len && is_digit(p->src[i]))
        i++;
    if (i < p->len && p->src[i] == '.') {
        if (i + 1 >= p->len || !is_digit(p->src[i + 1]))
            return fail(p, LD_EINVAL, i, "expected a digit after '.' in a number");
        i++;
        while (i < p->len && is_digit(p->src[i]))
            i++;
    }
    *end = i;
    return LD_OK;
}

/* Keywords; "and", "or" and "not" are caught so the message can point to the operator. */
static ld_status lex_word(parser *p, size_t start, size_t end) {
    static const struct {
        const char *word;
        tok_kind kind;
    } keywords[] = {{"true", TK_TRUE}, {"false", TK_FALSE}, {"exists", TK_EXISTS}, {"in", TK_IN}};
    static const struct {
        const char *word;
        const char *op;
    } spelled[] = {{"and", "&&"}, {"or", "||"}, {"not", "!"}};
    size_t n = end - start;
    const char *w = p->src + start;
    p->tok.kind = TK_NAME;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, w, n) == 0)
            p->tok.kind = keywords[i].kind;
    for (size_t i = 0; i < sizeof spelled / sizeof spelled[0]; i++)
        if (strlen(spelled[i].word) == n && memcmp(spelled[i].word, w, n) == 0)
            return fail(p, LD_EINVAL, start, "write '%s', not '%s'", spelled[i].op,
                        spelled[i].word);
    return LD_OK;
}

/* Reads the next token into p->tok. */
static ld_status lex(parser *p) {
    size_t i = p->tok.pos + p->tok.len;
    while (i < p->len &&
           (p->src[i] == ' ' || p->src[i] == '\t' || p->src[i] == '\n' || p->src[i] == '\r'))
        i++;
    p->tok.pos = i;
    p->tok.len = 0;
    if (i >= p->len) {
        p->tok.kind = TK_END;
        return LD_OK;
    }
    char c = p->src[i];
    char next = i + 1 < p->len ? p->src[i + 1] : '\0';
    size_t end = i + 1;
    ld_status st = LD_OK;
    switch (c) {
    case '(':
        p->tok.kind = TK_LPAREN;
        break;
    case ')':
        p->tok.kind = TK_RPAREN;
        break;
    case '[':
        p->tok.kind = TK_LBRACKET;
        break;
    case ']':
        p->tok.kind = TK_RBRACKET;
        break;
    case ',':
        p->tok.kind = TK_COMMA;
        break;
    case '!':
        p->tok.kind = next == '=' ? TK_NE : TK_NOT;
        end += next == '=';
        break;
    case '<':
        p->tok.kind = next == '=' ? TK_LE : TK_LT;
        end += next == '=';
        break;
    case '>':
        p->tok.kind = next == '=' ? TK_GE : TK_GT;
        end += next == '=';
        break;
    case '=':
        if (next != '=')
            return fail(p, LD_EINVAL, i, "'=' is not an operator; write '=='");
        p->tok.kind = TK_EQ;
        end++;
        break;
    case '&':
        if (next != '&')
            return fail(p, LD_EINVAL, i, "'&' is not an operator; write '&&'");
        p->tok.kind = TK_AND;
        end++;
        break;
    case '|':
        if (next != '|')
            return fail(p, LD_EINVAL, i, "'|' is not an operator; write '||'");
        p->tok.kind = TK_OR;
        end++;
        break;
    case '"':
        p->tok.kind = TK_STRING;
        st = lex_string(p, i, &end);
        break;
    default:
        if (is_digit(c) || (c == '-' && is_digit(next))) {
            p->tok.kind = TK_NUMBER;
            st = lex_number(p, i, &end);
        } else if (is_name_start(c)) {
            while (end < p->len && is_name_char(p->src[end]))
                end++;
            st = lex_word(p, i, end);
        } else if (c >= 0x20 && c < 0x7f) {
            return fail(p, LD_EINVAL, i, "unexpected character '%c'", c);
        } else {
            return fail(p, LD_EINVAL, i, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
        }
    }
    p->tok.len = end - i;
    return st;
}

/* --- nodes --------------------------------------------------------------------- */

void ld_expr_free(ld_expr *e) {
    if (!e)
        return;
    switch (e->kind) {
    case N_LIT:
        free(e->u.lit.s);
        break;
    case N_NOT:
        ld_expr_free(e->u.kid);
        break;
    case N_AND:
    case N_OR:
    case N_IN_LIST:
        for (size_t i = 0; i < e->u.all.n; i++)
            ld_expr_free(e->u.all.kids[i]);
        free(e->u.all.kids);
        break;
    case N_CMP:
        ld_expr_free(e->u.cmp.l);
        ld_expr_free(e->u.cmp.r);
        break;
    case N_IN_FACT:
        ld_expr_free(e->u.in.l);
        break;
    case N_FACT:
    case N_EXISTS:
        break;
    }
    free(e);
}

/* A node spanning pos to the end of the current token; the caller fills u. */
static ld_status new_node(parser *p, node_kind kind, ld_type type, size_t pos, ld_expr **out) {
    *out = calloc(1, sizeof **out);
    if (!*out)
        return ld_err_set(p->err, LD_ENOMEM, "out of memory");
    (*out)->kind = kind;
    (*out)->type = type;
    (*out)->pos = pos;
    (*out)->len = p->tok.pos + p->tok.len - pos;
    return LD_OK;
}

/* Appends kid to an n-ary node; on failure kid is freed with nothing leaked. */
static ld_status add_kid(parser *p, ld_expr *e, ld_expr *kid) {
    ld_expr **kids = realloc(e->u.all.kids, (e->u.all.n + 1) * sizeof *kids);
    if (!kids) {
        ld_expr_free(kid);
        return ld_err_set(p->err, LD_ENOMEM, "out of memory");
    }
    kids[e->u.all.n++] = kid;
    e->u.all.kids = kids;
    return LD_OK;
}

/* Makes the span of e run from pos to the end of the token just consumed. */
static void span_to(ld_expr *e, size_t pos, const token *last) {
    e->pos = pos;
    e->len = last->pos + last->len - pos;
}

/* Builds the literal of the current token (STRING, NUMBER, true or false). */
static ld_status parse_literal(parser *p, ld_expr **out) {
    const token t = p->tok;
    const char *s = p->src + t.pos;
    ld_type type = t.kind == TK_STRING ? LD_T_STR : t.kind == TK_NUMBER ? LD_T_NUM : LD_T_BOOL;
    ld_status st = new_node(p, N_LIT, type, t.pos, out);
    if (st != LD_OK)
        return st;
    literal *lit = &(*out)->u.lit;
    if (t.kind == TK_TRUE || t.kind == TK_FALSE) {
        lit->b = t.kind == TK_TRUE;
    } else if (t.kind == TK_STRING) {
        lit->s = malloc(t.len); /* the quotes make room for the NUL */
        if (!lit->s)
            return ld_err_set(p->err, LD_ENOMEM, "out of memory");
        size_t o = 0;
        for (size_t i = 1; i + 1 < t.len; i++) {
            if (s[i] == '\\')
                i++;
            lit->s[o++] = s[i];
        }
        lit->s[o] = '\0';
    } else if (!memchr(s, '.', t.len)) {
        /* Integers are kept exact so that large counts compare exactly. */
        int neg = s[0] == '-';
        int64_t v = 0;
        for (size_t i = (size_t)neg; i < t.len; i++) {
            int d = s[i] - '0';
            if (neg ? v < (INT64_MIN + d) / 10 : v > (INT64_MAX - d) / 10)
                return fail(p, LD_EINVAL, t.pos, "number out of range");
            v = neg ? v * 10 - d : v * 10 + d;
        }
        lit->is_int = 1;
        lit->i = v;
        lit->n = (double)v;
    } else {
        /* By hand, not with strtod(), whose decimal point follows LC_NUMERIC.
         * All digits as one integer over a power of ten: one rounding, so the
         * result matches strtod() while both fit a double exactly. */
        double m = 0, scale = 1;
        int after = 0;
        for (size_t i = s[0] == '-'; i < t.len; i++) {
            if (s[i] == '.') {
                after = 1;
                continue;
            }
            m = m * 10 + (s[i] - '0');
            if (after)
                scale *= 10;
        }
        lit->n = (s[0] == '-' ? -m : m) / scale;
        if (!isfinite(lit->n))
            return fail(p, LD_EINVAL, t.pos, "number out of range");
    }
    return lex(p);
}

/* --- parser -------------------------------------------------------------------- */

static ld_status parse_or(parser *p, ld_expr **out);

static int is_cmp(tok_kind k) {
    return k >= TK_EQ && k <= TK_GE;
}

static int is_numeric(ld_type t) {
    return t == LD_T_INT || t == LD_T_NUM;
}

/* Checks that "l op r" compares like with like. */
static ld_status check_compare(parser *p, const ld_expr *l, cmp_op op, const ld_expr *r,
                               size_t oppos) {
    char dl[2 * QUOTE_MAX], dr[2 * QUOTE_MAX];
    describe_node(p, l, dl, sizeof dl);
    describe_node(p, r, dr, sizeof dr);
    if (op != OP_EQ && op != OP_NE) {
        if (!is_numeric(l->type))
            return fail(p, LD_EINVAL, oppos, "'%s' compares numbers, not %s", op_text(op), dl);
        if (!is_numeric(r->type))
            return fail(p, LD_EINVAL, oppos, "'%s' compares numbers, not %s", op_text(op), dr);
        return LD_OK;
    }
    if (is_numeric(l->type) && is_numeric(r->type))
        return LD_OK;
    if (l->type == r->type && (l->type == LD_T_STR || l->type == LD_T_BOOL))
        return LD_OK;
    if (l->type == LD_T_LIST || r->type == LD_T_LIST)
        return fail(p, LD_EINVAL, oppos, "cannot compare %s with %s (use 'in' to test a list)", dl,
                    dr);
    return fail(p, LD_EINVAL, oppos, "cannot compare %s with %s", dl, dr);
}

/* "[" literal, ... "]" after "lhs in"; items join the N_IN_LIST node after lhs. */
static ld_status parse_list(parser *p, ld_expr *node) {
    const ld_expr *lhs = node->u.all.kids[0];
    ld_status st = lex(p); /* the '[' */
    if (st != LD_OK)
        return st;
    for (;;) {
        if (p->tok.kind == TK_RBRACKET && node->u.all.n == 1)
            break; /* the empty list */
        tok_kind k = p->tok.kind;
        if (k != TK_STRING && k != TK_NUMBER && k != TK_TRUE && k != TK_FALSE) {
            char found[QUOTE_MAX + 16];
            describe_token(p, &p->tok, found, sizeof found);
            return fail(p, LD_EINVAL, p->tok.pos,
                        "expected a string, number, true or false in the list, found %s", found);
        }
        size_t itempos = p->tok.pos;
        ld_expr *item = NULL;
        st = parse_literal(p, &item);
        if (st == LD_OK)
            st = add_kid(p, node, item);
        else
            ld_expr_free(item);
        if (st != LD_OK)
            return st;
        if (!(is_numeric(lhs->type) && is_numeric(item->type)) && lhs->type != item->type) {
            char dl[2 * QUOTE_MAX], di[2 * QUOTE_MAX];
            describe_node(p, lhs, dl, sizeof dl);
            describe_node(p, item, di, sizeof di);
            return fail(p, LD_EINVAL, itempos, "cannot compare %s with %s", dl, di);
        }
        if (p->tok.kind == TK_RBRACKET)
            break;
        if (p->tok.kind != TK_COMMA) {
            char found[QUOTE_MAX + 16];
            describe_token(p, &p->tok, found, sizeof found);
            return fail(p, LD_EINVAL, p->tok.pos, "expected ',' or ']' in the list, found %s",
                        found);
        }
        st = lex(p);
        if (st != LD_OK)
            return st;
    }
    span_to(node, node->pos, &p->tok);
    return lex(p);
}

/* "lhs in [..]" or "lhs in NAME"; takes ownership of lhs. */
static ld_status parse_in(parser *p, ld_expr *lhs, ld_expr **out) {
    size_t inpos = p->tok.pos;
    char dl[2 * QUOTE_MAX];
    describe_node(p, lhs, dl, sizeof dl);
    ld_status st = lex(p); /* the 'in' */
    if (st != LD_OK)
        goto out;
    if (p->tok.kind == TK_LBRACKET) {
        if (lhs->type == LD_T_LIST) {
            st = fail(p, LD_EINVAL, inpos, "'in [...]' tests one value, not %s", dl);
            goto out;
        }
        st = new_node(p, N_IN_LIST, LD_T_BOOL, lhs->pos, out);
        if (st != LD_OK)
            goto out;
        st = add_kid(p, *out, lhs);
        lhs = NULL; /* owned by *out, even when adding failed */
        if (st == LD_OK)
            st = parse_list(p, *out);
        goto out;
    }
    if (p->tok.kind != TK_NAME) {
        char found[QUOTE_MAX + 16];
        describe_token(p, &p->tok, found, sizeof found);
        st = fail(p, LD_EINVAL, p->tok.pos, "expected '[' or a list fact after 'in', found %s",
                  found);
        goto out;
    }
    ld_fact_id list;
    st = ld_expr_target_fact(p->src + p->tok.pos, p->tok.len, &list, p->err);
    if (st != LD_OK) {
        ld_err_prefix(p->err, "position %zu: ", p->tok.pos + 1);
        goto out;
    }
    if (ld_fact_def_get(list)->type != LD_T_LIST) {
        st = fail(p, LD_EINVAL, p->tok.pos, "'in' needs a list fact, not %s %s",
                  ld_type_name(ld_fact_def_get(list)->type), ld_fact_def_get(list)->name);
        goto out;
    }
    if (lhs->type != LD_T_STR) {
        st = fail(p, LD_EINVAL, inpos, "'in %s' looks for a string, not %s",
                  ld_fact_def_get(list)->name, dl);
        goto out;
    }
    st = new_node(p, N_IN_FACT, LD_T_BOOL, lhs->pos, out);
    if (st != LD_OK)
        goto out;
    (*out)->u.in.l = lhs;
    (*out)->u.in.list = list;
    lhs = NULL;
    st = lex(p);
out:
    ld_expr_free(lhs);
    return st;
}

/* "exists" "(" NAME ")". */
static ld_status parse_exists(parser *p, ld_expr **out) {
    size_t start = p->tok.pos;
    ld_status st = lex(p);
    if (st != LD_OK)
        return st;
    if (p->tok.kind != TK_LPAREN)
        return fail(p, LD_EINVAL, p->tok.pos, "expected '(' after exists");
    st = lex(p);
    if (st != LD_OK)
        return st;
    if (p->tok.kind != TK_NAME)
        return fail(p, LD_EINVAL, p->tok.pos, "expected a fact name in exists(...)");
    ld_fact_id id;
    st = ld_expr_target_fact(p->src + p->tok.pos, p->tok.len, &id, p->err);
    if (st != LD_OK) {
        ld_err_prefix(p->err, "position %zu: ", p->tok.pos + 1);
        return st;
    }
    st = lex(p);
    if (st != LD_OK)
        return st;
    if (p->tok.kind != TK_RPAREN)
        return fail(p, LD_EINVAL, p->tok.pos, "expected ')' to close exists(");
    st = new_node(p, N_EXISTS, LD_T_BOOL, start, out);
    if (st != LD_OK)
        return st;
    (*out)->u.fact = id;
    return lex(p);
}

/* operand := "(" expr ")" | exists(NAME) | NAME | STRING | NUMBER | true | false */
static ld_status parse_operand(parser *p, ld_expr **out) {
    ld_status st;
    switch (p->tok.kind) {
    case TK_LPAREN: {
        size_t start = p->tok.pos;
        if (++p->depth > LD_EXPR_MAX_DEPTH)
            return fail(p, LD_ELIMIT, start, "nested deeper than %d levels", LD_EXPR_MAX_DEPTH);
        st = lex(p);
        if (st == LD_OK)
            st = parse_or(p, out);
        if (st != LD_OK)
            return st;
        if (p->tok.kind != TK_RPAREN)
            return fail(p, LD_EINVAL, p->tok.pos, "expected ')' after expression");
        span_to(*out, start, &p->tok);
        p->depth--;
        return lex(p);
    }
    case TK_EXISTS:
        return parse_exists(p, out);
    case TK_NAME: {
        ld_fact_id id;
        st = ld_expr_target_fact(p->src + p->tok.pos, p->tok.len, &id, p->err);
        if (st != LD_OK) {
            ld_err_prefix(p->err, "position %zu: ", p->tok.pos + 1);
            return st;
        }
        st = new_node(p, N_FACT, ld_fact_def_get(id)->type, p->tok.pos, out);
        if (st != LD_OK)
            return st;
        (*out)->u.fact = id;
        return lex(p);
    }
    case TK_STRING:
    case TK_NUMBER:
    case TK_TRUE:
    case TK_FALSE:
        return parse_literal(p, out);
    default: {
        char found[QUOTE_MAX + 16];
        describe_token(p, &p->tok, found, sizeof found);
        return fail(p, LD_EINVAL, p->tok.pos,
                    "expected a fact name, value, exists(...) or '(', found %s", found);
    }
    }
}

/* compare := operand ( op operand | "in" ( list | NAME ) )? */
static ld_status parse_compare(parser *p, ld_expr **out) {
    ld_expr *lhs = NULL, *rhs = NULL;
    ld_status st = parse_operand(p, &lhs);
    if (st != LD_OK)
        goto out;
    if (p->tok.kind == TK_IN) {
        st = parse_in(p, lhs, out);
        lhs = NULL;
    } else if (is_cmp(p->tok.kind)) {
        cmp_op op = (cmp_op)(p->tok.kind - TK_EQ);
        size_t oppos = p->tok.pos;
        st = lex(p);
        if (st == LD_OK)
            st = parse_operand(p, &rhs);
        if (st == LD_OK)
            st = check_compare(p, lhs, op, rhs, oppos);
        if (st != LD_OK)
            goto out;
        st = new_node(p, N_CMP, LD_T_BOOL, lhs->pos, out);
        if (st != LD_OK)
            goto out;
        (*out)->len = rhs->pos + rhs->len - lhs->pos;
        (*out)->u.cmp.op = op;
        (*out)->u.cmp.l = lhs;
        (*out)->u.cmp.r = rhs;
        lhs = rhs = NULL;
    } else {
        if (lhs->type != LD_T_BOOL) {
            char dl[2 * QUOTE_MAX];
            describe_node(p, lhs, dl, sizeof dl);
            st = fail(p, LD_EINVAL, lhs->pos,
                      "%s is not a condition; compare it with ==, !=, <, <=, >, >= or 'in'", dl);
            goto out;
        }
        *out = lhs;
        lhs = NULL;
        goto out;
    }
    if (st == LD_OK && (is_cmp(p->tok.kind) || p->tok.kind == TK_IN))
        st = fail(p, LD_EINVAL, p->tok.pos, "comparisons do not chain; join them with '&&'");
out:
    ld_expr_free(lhs);
    ld_expr_free(rhs);
    return st;
}

/* unary := "!" unary | compare */
static ld_status parse_unary(parser *p, ld_expr **out) {
    if (p->tok.kind != TK_NOT)
        return parse_compare(p, out);
    size_t start = p->tok.pos;
    if (++p->depth > LD_EXPR_MAX_DEPTH)
        return fail(p, LD_ELIMIT, start, "nested deeper than %d levels", LD_EXPR_MAX_DEPTH);
    ld_expr *kid = NULL;
    ld_status st = lex(p);
    if (st == LD_OK)
        st = parse_unary(p, &kid);
    if (st == LD_OK)
        st = new_node(p, N_NOT, LD_T_BOOL, start, out);
    if (st != LD_OK) {
        ld_expr_free(kid);
        return st;
    }
    (*out)->len = kid->pos + kid->len - start;
    (*out)->u.kid = kid;
    p->depth--;
    return LD_OK;
}

/* One level of "a OP b OP c" for && (with parse_unary) and || (with parse_and),
 * kept n-ary so that long chains do not make the tree deep. */
static ld_status parse_chain(parser *p, tok_kind optok, node_kind kind,
                             ld_status (*operand)(parser *, ld_expr **), ld_expr **out) {
    ld_expr *first = NULL, *next = NULL;
    ld_status st = operand(p, &first);
    if (st != LD_OK || p->tok.kind != optok) {
        *out = first;
        return st;
    }
    st = new_node(p, kind, LD_T_BOOL, first->pos, out);
    if (st == LD_OK)
        st = add_kid(p, *out, first);
    else
        ld_expr_free(first);
    while (st == LD_OK && p->tok.kind == optok) {
        st = lex(p);
        if (st == LD_OK)
            st = operand(p, &next);
        if (st == LD_OK)
            st = add_kid(p, *out, next);
        else
            ld_expr_free(next);
        next = NULL;
    }
    if (st == LD_OK) {
        const ld_expr *last = (*out)->u.all.kids[(*out)->u.all.n - 1];
        (*out)->len = last->pos + last->len - (*out)->pos;
    }
    return st;
}

/* and := unary ( "&&" unary )* */
static ld_status parse_and(parser *p, ld_expr **out) {
    return parse_chain(p, TK_AND, N_AND, parse_unary, out);
}

/* or := and ( "||" and )* */
static ld_status parse_or(parser *p, ld_expr **out) {
    return parse_chain(p, TK_OR, N_OR, parse_and, out);
}

ld_status ld_expr_parse(const char *src, ld_expr **out, ld_err *err) {
    parser p = {.src = src, .err = err};
    ld_expr *e = NULL;
    ld_status st;
    *out = NULL;
    if (!src)
        return ld_err_set(err, LD_EINVAL, "position 1: no condition");
    p.len = strnlen(src, LD_EXPR_MAX_LEN + 1);
    if (p.len > LD_EXPR_MAX_LEN) {
        st =
            fail(&p, LD_ELIMIT, LD_EXPR_MAX_LEN, "condition longer than %d bytes", LD_EXPR_MAX_LEN);
        goto out;
    }
    st = lex(&p);
    if (st != LD_OK)
        goto out;
    if (p.tok.kind == TK_END) {
        st = fail(&p, LD_EINVAL, p.tok.pos, "empty condition");
        goto out;
    }
    st = parse_or(&p, &e);
    if (st != LD_OK)
        goto out;
    if (p.tok.kind != TK_END) {
        char found[QUOTE_MAX + 16];
        describe_token(&p, &p.tok, found, sizeof found);
        st = fail(&p, LD_EINVAL, p.tok.pos,
                  "unexpected %s after the condition (missing '&&' or '||'?)", found);
        goto out;
    }
    *out = e;
    e = NULL;
out:
    /* A failed parse may have left a half-built tree behind: callers own only success. */
    ld_expr_free(e);
    return st;
}

/* --- evaluation -------------------------------------------------------------------- */

/* An operand's value during evaluation; type LD_T_NONE when a fact it reads
 * was not recorded. Strings and lists are borrowed. */
typedef struct operand {
    ld_type type;         /* LD_T_NONE, BOOL, INT, NUM, STR or LIST */
    int is_int;           /* numbers: i is exact */
    int64_t i;            /* integer value */
    double n;             /* numeric value */
    int b;                /* bool value */
    const char *s;        /* string value */
    const ld_value *list; /* list value */
} operand;

static int eval_node(const ld_expr *e, const ld_facts *f);

/* A target fact; with no facts at all, nothing is recorded. */
static const ld_value *fact_value(const ld_facts *f, ld_fact_id id) {
    return f ? ld_facts_get(f, id) : NULL;
}

/* The value an operand yields for these facts (a condition yields a bool). */
static operand value_of(const ld_expr *e, const ld_facts *f) {
    operand v = {.type = LD_T_NONE};
    if (e->kind == N_LIT) {
        v.type = e->type;
        v.is_int = e->u.lit.is_int;
        v.i = e->u.lit.i;
        v.n = e->u.lit.n;
        v.b = e->u.lit.b;
        v.s = e->u.lit.s;
        return v;
    }
    if (e->kind != N_FACT) {
        v.type = LD_T_BOOL;
        v.b = eval_node(e, f);
        return v;
    }
    const ld_value *x = fact_value(f, e->u.fact);
    if (!x || x->type != e->type) /* the store enforces types; be safe anyway */
        return v;
    v.type = x->type;
    switch (x->type) {
    case LD_T_BOOL:
        v.b = x->u.b;
        break;
    case LD_T_INT:
        v.is_int = 1;
        v.i = x->u.i;
        v.n = (double)x->u.i;
        break;
    case LD_T_NUM:
        v.n = x->u.n;
        break;
    case LD_T_STR:
        v.s = x->u.s;
        break;
    case LD_T_LIST:
        v.list = x;
        break;
    case LD_T_NONE:
        break;
    }
    return v;
}

/* -1, 0 or 1; 2 when unordered (NaN), which makes every comparison false just
 * as a missing value does. */
static int num_order(const operand *a, const operand *b) {
    if (a->is_int && b->is_int)
        return (a->i > b->i) - (a->i < b->i);
    if (isnan(a->n) || isnan(b->n))
        return 2;
    return (a->n > b->n) - (a->n < b->n);
}

/* Whether "a op b" holds; both present and of types the parser allowed. */
static int compare(const operand *a, cmp_op op, const operand *b) {
    int order;
    if (is_numeric(a->type)) {
        order = num_order(a, b);
        if (order == 2)
            return 0;
    } else if (a->type == LD_T_STR) {
        order = strcmp(a->s, b->s) != 0;
    } else {
        order = a->b != b->b;
    }
    switch (op) {
    case OP_EQ:
        return order == 0;
    case OP_NE:
        return order != 0;
    case OP_LT:
        return order < 0;
    case OP_LE:
        return order <= 0;
    case OP_GT:
        return order > 0;
    case OP_GE:
        return order >= 0;
    }
    return 0;
}

/* Whether a bool-typed node holds; a missing bool fact does not. */
static int eval_node(const ld_expr *e, const ld_facts *f) {
    switch (e->kind) {
    case N_LIT:
        return e->type == LD_T_BOOL && e->u.lit.b;
    case N_FACT: {
        operand v = value_of(e, f);
        return v.type == LD_T_BOOL && v.b;
    }
    case N_EXISTS:
        return fact_value(f, e->u.fact) != NULL;
    case N_NOT:
        return !eval_node(e->u.kid, f);
    case N_AND:
        for (size_t i = 0; i < e->u.all.n; i++)
            if (!eval_node(e->u.all.kids[i], f))
                return 0;
        return 1;
    case N_OR:
        for (size_t i = 0; i < e->u.all.n; i++)
            if (eval_node(e->u.all.kids[i], f))
                return 1;
        return 0;
    case N_CMP: {
        operand l = value_of(e->u.cmp.l, f), r = value_of(e->u.cmp.r, f);
        if (l.type == LD_T_NONE || r.type == LD_T_NONE)
            return 0;
        return compare(&l, e->u.cmp.op, &r);
    }
    case N_IN_LIST: {
        operand l = value_of(e->u.all.kids[0], f);
        if (l.type == LD_T_NONE)
            return 0;
        for (size_t i = 1; i < e->u.all.n; i++) {
            operand item = value_of(e->u.all.kids[i], f);
            if (compare(&l, OP_EQ, &item))
                return 1;
        }
        return 0;
    }
    case N_IN_FACT: {
        operand l = value_of(e->u.in.l, f);
        const ld_value *list = fact_value(f, e->u.in.list);
        if (l.type != LD_T_STR || !list)
            return 0;
        return ld_value_list_has(list, l.s);
    }
    }
    return 0;
}

int ld_expr_eval(const ld_expr *e, const ld_facts *facts) {
    return e ? eval_node(e, facts) : 0;
}
