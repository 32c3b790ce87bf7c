/* value.h - the typed values facts hold.
 *
 * A value owns its strings, which pass the sanitizer (sanitize.h) on the way
 * in: whatever the network or the user sent, a value is clean UTF-8 text. ld_value_clear() frees
 * them and leaves LD_T_NONE, which means "not recorded". Lists hold strings only: addresses, names.
 */
#ifndef LD_VALUE_H
#define LD_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* The type of a fact; declared per fact in facts.def. */
typedef enum ld_type {
    LD_T_NONE = 0, /* not recorded */
    LD_T_BOOL,     /* true / false */
    LD_T_INT,      /* 64-bit signed integer: counts, ports, codes */
    LD_T_NUM,      /* double: durations in milliseconds */
    LD_T_STR,      /* UTF-8 text */
    LD_T_LIST,     /* list of strings */
} ld_type;

/* Most items a list value may hold; further appends fail with LD_ELIMIT. */
#define LD_LIST_MAX 1024

/* A tagged value. */
typedef struct ld_value {
    ld_type type; /* which member of u is valid */
    union {
        int b;     /* LD_T_BOOL: 0 or 1 */
        int64_t i; /* LD_T_INT */
        double n;  /* LD_T_NUM */
        char *s;   /* LD_T_STR, owned */
        struct {
            char **items; /* owned strings */
            size_t len;   /* number of items */
        } list;           /* LD_T_LIST */
    } u;
} ld_value;

/* Frees what the value owns and marks it not recorded. */
void ld_value_clear(ld_value *v);
/* Deep copy; dst must be clear. */
ld_status ld_value_copy(ld_value *dst, const ld_value *src);
/* Appends a copy of s to a list value, turning a NONE value into a list. */
ld_status ld_value_list_add(ld_value *v, const char *s);
/* 1 when the list value contains s. */
int ld_value_list_has(const ld_value *v, const char *s);
/* Human form: lists joined by ", ", numbers without needless decimals. */
ld_status ld_value_format(const ld_value *v, ld_buf *out);
/* "bool", "int", "number", "string", "list" ("none" for LD_T_NONE). */
const char *ld_type_name(ld_type t);

#endif
