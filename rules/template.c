/* template.c - rule text with facts filled in.
 *
 * Checking and rendering walk the template with the same scanner, so a
 * template that passed the check renders exactly as it was checked.
 * Sections ({?name}...{/} and {!name}...{/}) let one rule say what other
 * evidence shows only when that evidence exists; {?name=value}...{/} lets it
 * word each value of one fact (an outcome's name) its own way.
 */
#include "rules/template.h"

#include <string.h>

#include "rules/internal.h"

/* One piece of a template. */
typedef enum piece_kind {
    PIECE_END,   /* nothing left */
    PIECE_TEXT,  /* literal text (an escaped brace is one byte of text) */
    PIECE_FACT,  /* a {name} placeholder */
    PIECE_IF,    /* {?name}, {!name}, {?name=value} or {!name=value}: a section starts */
    PIECE_ENDIF, /* {/}: the innermost section ends */
    PIECE_ERROR, /* malformed; the scanner has described it */
} piece_kind;

/* What the scanner found at one position. */
typedef struct piece {
    piece_kind kind;   /* what it is */
    size_t pos;        /* offset of its first byte, from 0 */
    const char *text;  /* PIECE_TEXT: the bytes; PIECE_FACT: the name */
    size_t len;        /* bytes in text */
    ld_fact_id fact;   /* PIECE_FACT, PIECE_IF: the resolved fact */
    int negate;        /* PIECE_IF: {!name}, shown when the fact is not truthy */
    const char *value; /* PIECE_IF: the value after '=', NULL when there is none */
    size_t value_len;  /* bytes in value */
} piece;

/* Deepest nesting of sections. */
#define SECTION_MAX_DEPTH 8

/* Scans the piece starting at *at and moves *at past it. */
static piece next_piece(const char *t, size_t *at, ld_err *err) {
    size_t i = *at;
    piece pc = {.kind = PIECE_TEXT, .pos = i, .text = t + i};
    if (t[i] == '\0') {
        pc.kind = PIECE_END;
        return pc;
    }
    if ((t[i] == '{' && t[i + 1] == '{') || (t[i] == '}' && t[i + 1] == '}')) {
        pc.len = 1;
        *at = i + 2;
        return pc;
    }
    if (t[i] == '}') {
        pc.kind = PIECE_ERROR;
        ld_err_set(err, LD_EINVAL, "position %zu: unmatched '}' (write '}}' for a brace)", i + 1);
        return pc;
    }
    if (t[i] != '{') {
        while (t[i] != '\0' && t[i] != '{' && t[i] != '}')
            i++;
        pc.len = i - *at;
        *at = i;
        return pc;
    }
    size_t name = i + 1, end = name;
    while (t[end] != '\0' && t[end] != '}' && t[end] != '{')
        end++;
    pc.kind = PIECE_ERROR;
    if (t[end] != '}') {
        ld_err_set(err, LD_EINVAL, "position %zu: unclosed '{' (write '{{' for a brace)", i + 1);
        return pc;
    }
    if (end == name) {
        ld_err_set(err, LD_EINVAL, "position %zu: empty placeholder '{}'", i + 1);
        return pc;
    }
    if (end == name + 1 && t[name] == '/') {
        pc.kind = PIECE_ENDIF;
        *at = end + 1;
        return pc;
    }
    size_t name_end = end;
    if (t[name] == '?' || t[name] == '!') {
        pc.negate = t[name] == '!';
        name++;
        const char *eq = memchr(t + name, '=', end - name);
        if (eq) {
            name_end = (size_t)(eq - t);
            pc.value = eq + 1;
            pc.value_len = end - name_end - 1;
        }
        if (name_end == name) {
            ld_err_set(err, LD_EINVAL, "position %zu: section needs a fact name", i + 1);
            return pc;
        }
        if (pc.value && pc.value_len == 0) {
            ld_err_set(err, LD_EINVAL, "position %zu: section needs a value after '='", i + 1);
            return pc;
        }
    }
    if (ld_expr_target_fact(t + name, name_end - name, &pc.fact, err) != LD_OK) {
        ld_err_prefix(err, "position %zu: ", name + 1);
        return pc;
    }
    pc.kind = t[i + 1] == '?' || t[i + 1] == '!' ? PIECE_IF : PIECE_FACT;
    pc.text = t + name;
    pc.len = name_end - name;
    *at = end + 1;
    return pc;
}

/* Whether a section on v shows: recorded, and true, non-zero or non-empty. */
static int truthy(const ld_value *v) {
    if (!v)
        return 0;
    switch (v->type) {
    case LD_T_BOOL:
        return v->u.b;
    case LD_T_INT:
        return v->u.i != 0;
    case LD_T_NUM:
        return v->u.n == v->u.n && v->u.n != 0; /* NaN is not a value */
    case LD_T_STR:
        return v->u.s[0] != '\0';
    case LD_T_LIST:
        return v->u.list.len > 0;
    case LD_T_NONE:
        break;
    }
    return 0;
}

/* Whether a section shows: {?name} when the fact is truthy, {?name=value}
 * when it is recorded and reads as value ("closed", "3", "true"); {!...}
 * the opposite. */
static int section_shows(const piece *pc, const ld_facts *facts) {
    const ld_value *v = facts ? ld_facts_get(facts, pc->fact) : NULL;
    int holds;
    if (!pc->value) {
        holds = truthy(v);
    } else if (!v || v->type == LD_T_NONE) {
        holds = 0;
    } else if (v->type == LD_T_STR) {
        holds = strlen(v->u.s) == pc->value_len && memcmp(v->u.s, pc->value, pc->value_len) == 0;
    } else {
        ld_buf text;
        ld_buf_init(&text, 256);
        holds = ld_value_format(v, &text) == LD_OK && text.len == pc->value_len &&
                memcmp(ld_buf_str(&text), pc->value, pc->value_len) == 0;
        ld_buf_clear(&text);
    }
    return holds != pc->negate;
}

ld_status ld_template_check(const char *tmpl, ld_err *err) {
    size_t at = 0;
    size_t open[SECTION_MAX_DEPTH]; /* positions of the open sections */
    int depth = 0;
    for (;;) {
        piece pc = next_piece(tmpl, &at, err);
        switch (pc.kind) {
        case PIECE_END:
            if (depth > 0)
                return ld_err_set(err, LD_EINVAL, "position %zu: section is not closed with {/}",
                                  open[depth - 1] + 1);
            return LD_OK;
        case PIECE_ERROR:
            return LD_EINVAL;
        case PIECE_IF:
            if (depth == SECTION_MAX_DEPTH)
                return ld_err_set(err, LD_EINVAL, "position %zu: sections nest deeper than %d",
                                  pc.pos + 1, SECTION_MAX_DEPTH);
            open[depth++] = pc.pos;
            break;
        case PIECE_ENDIF:
            if (depth == 0)
                return ld_err_set(err, LD_EINVAL, "position %zu: {/} closes no section",
                                  pc.pos + 1);
            depth--;
            break;
        default:
            break;
        }
    }
}

ld_status ld_template_render(const char *tmpl, const ld_facts *facts, ld_buf *out) {
    static const ld_value absent = {.type = LD_T_NONE};
    size_t at = 0;
    ld_status st = LD_OK;
    int depth = 0;  /* open sections */
    int hidden = 0; /* of those, the outermost that hides its text (0: none) */
    while (st == LD_OK) {
        piece pc = next_piece(tmpl, &at, NULL);
        switch (pc.kind) {
        case PIECE_END:
            return LD_OK;
        case PIECE_ERROR:
            return LD_EINVAL; /* the template was not checked */
        case PIECE_IF:
            depth++;
            if (!hidden && !section_shows(&pc, facts))
                hidden = depth;
            break;
        case PIECE_ENDIF:
            if (hidden == depth)
                hidden = 0;
            depth--;
            break;
        case PIECE_TEXT:
            if (!hidden)
                st = ld_buf_append(out, pc.text, pc.len);
            break;
        case PIECE_FACT:
            if (!hidden) {
                const ld_value *v = facts ? ld_facts_get(facts, pc.fact) : NULL;
                st = ld_value_format(v ? v : &absent, out);
            }
            break;
        }
    }
    return st;
}
