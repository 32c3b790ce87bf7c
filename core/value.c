/* value.c - typed fact values. */
#include "value.h"

#include "sanitize.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ld_value_clear(ld_value *v) {
    if (v->type == LD_T_STR) {
        free(v->u.s);
    } else if (v->type == LD_T_LIST) {
        for (size_t i = 0; i < v->u.list.len; i++)
            free(v->u.list.items[i]);
        free(v->u.list.items);
    }
    memset(v, 0, sizeof *v);
}

ld_status ld_value_copy(ld_value *dst, const ld_value *src) {
    memset(dst, 0, sizeof *dst);
    switch (src->type) {
    case LD_T_STR:
        dst->u.s = strdup(src->u.s);
        if (!dst->u.s)
            return LD_ENOMEM;
        dst->type = LD_T_STR;
        return LD_OK;
    case LD_T_LIST:
        dst->type = LD_T_LIST;
        for (size_t i = 0; i < src->u.list.len; i++) {
            ld_status st = ld_value_list_add(dst, src->u.list.items[i]);
            if (st != LD_OK) {
                ld_value_clear(dst);
                return st;
            }
        }
        return LD_OK;
    default:
        *dst = *src;
        return LD_OK;
    }
}

ld_status ld_value_list_add(ld_value *v, const char *s) {
    if (v->type == LD_T_NONE) {
        v->type = LD_T_LIST;
        v->u.list.items = NULL;
        v->u.list.len = 0;
    }
    if (v->type != LD_T_LIST)
        return LD_EINVAL;
    if (v->u.list.len >= LD_LIST_MAX)
        return LD_ELIMIT;
    char *copy = ld_sanitize_dup(s); /* no string reaches a report unsanitized */
    if (!copy)
        return LD_ENOMEM;
    char **items = realloc(v->u.list.items, (v->u.list.len + 1) * sizeof *items);
    if (!items) {
        free(copy);
        return LD_ENOMEM;
    }
    items[v->u.list.len++] = copy;
    v->u.list.items = items;
    return LD_OK;
}

int ld_value_list_has(const ld_value *v, const char *s) {
    if (!v || v->type != LD_T_LIST)
        return 0;
    for (size_t i = 0; i < v->u.list.len; i++)
        if (strcmp(v->u.list.items[i], s) == 0)
            return 1;
    return 0;
}

ld_status ld_value_format(const ld_value *v, ld_buf *out) {
    switch (v->type) {
    case LD_T_NONE:
        return ld_buf_puts(out, "(not recorded)");
    case LD_T_BOOL:
        return ld_buf_puts(out, v->u.b ? "true" : "false");
    case LD_T_INT:
        return ld_buf_printf(out, "%" PRId64, v->u.i);
    case LD_T_NUM:
        if (!isfinite(v->u.n))
            return ld_buf_puts(out, "null");
        if (v->u.n == floor(v->u.n) && fabs(v->u.n) < 1e15)
            return ld_buf_printf(out, "%.0f", v->u.n);
        return ld_buf_printf(out, "%.1f", v->u.n);
    case LD_T_STR:
        return ld_buf_puts(out, v->u.s);
    case LD_T_LIST:
        if (v->u.list.len == 0)
            return ld_buf_puts(out, "(none)");
        for (size_t i = 0; i < v->u.list.len; i++) {
            ld_status st = ld_buf_puts(out, i ? ", " : "");
            if (st == LD_OK)
                st = ld_buf_puts(out, v->u.list.items[i]);
            if (st != LD_OK)
                return st;
        }
        return LD_OK;
    }
    return LD_EINVAL;
}

const char *ld_type_name(ld_type t) {
    switch (t) {
    case LD_T_NONE:
        return "none";
    case LD_T_BOOL:
        return "bool";
    case LD_T_INT:
        return "int";
    case LD_T_NUM:
        return "number";
    case LD_T_STR:
        return "string";
    case LD_T_LIST:
        return "list";
    }
    return "?";
}
