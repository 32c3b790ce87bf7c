/* facts.c - the fact table and the per-target store. */
#include "facts.h"

#include <math.h>

#include "sanitize.h"

#include <stdlib.h>
#include <string.h>

static const ld_fact_def fact_table[LD_F__COUNT] = {
#define LD_FACT(id, name, type, scope, meaning)                                                    \
    [LD_F_##id] = {name, LD_T_##type, LD_SCOPE_##scope, meaning},
#include "facts.def"
#undef LD_FACT
};

const ld_fact_def *ld_fact_def_get(ld_fact_id id) {
    return &fact_table[id];
}

/* Each name's length, known when compiling: the rules look names up by the
 * thousand at every start, and a strlen() of each row made that the
 * largest cost of loading them. */
static const unsigned short fact_name_len[LD_F__COUNT] = {
#define LD_FACT(id, name, type, scope, meaning) [LD_F_##id] = sizeof(name) - 1,
#include "facts.def"
#undef LD_FACT
};

int ld_fact_lookup(const char *name, size_t len) {
    for (int i = 0; i < LD_F__COUNT; i++)
        if (fact_name_len[i] == len && memcmp(fact_table[i].name, name, len) == 0)
            return i;
    return -1;
}

const char *ld_fact_field(ld_fact_id id) {
    const char *n = fact_table[id].name;
    const char *dot = strchr(n, '.');
    if (dot && fact_table[id].scope == LD_SCOPE_SUBJECT) {
        const char *second = strchr(dot + 1, '.');
        if (second)
            return second + 1;
    }
    return n;
}

int ld_fact_lookup_field(const char *kind, const char *field) {
    size_t klen = strlen(kind);
    for (int i = 0; i < LD_F__COUNT; i++) {
        const char *n = fact_table[i].name;
        if (fact_table[i].scope == LD_SCOPE_SUBJECT && strncmp(n, kind, klen) == 0 &&
            n[klen] == '.' && strcmp(ld_fact_field((ld_fact_id)i), field) == 0)
            return i;
    }
    return -1;
}

/* One recorded value. */
typedef struct bag_entry {
    ld_fact_id id;  /* which fact */
    ld_value value; /* its value, owned */
} bag_entry;

struct ld_bag {
    char *kind;         /* subject kind, NULL for the target bag */
    char *key;          /* subject key, NULL for the target bag */
    bag_entry *entries; /* sorted by id */
    size_t len;         /* entries used */
    size_t cap;         /* entries allocated */
};

struct ld_facts {
    ld_bag target;     /* target-scope facts */
    ld_bag **subjects; /* subject bags in creation order */
    size_t nsubjects;  /* subjects used */
    size_t cap;        /* subjects allocated */
};

static void bag_clear(ld_bag *b) {
    for (size_t i = 0; i < b->len; i++)
        ld_value_clear(&b->entries[i].value);
    free(b->entries);
    free(b->kind);
    free(b->key);
    memset(b, 0, sizeof *b);
}

ld_facts *ld_facts_create(void) {
    return calloc(1, sizeof(ld_facts));
}

void ld_facts_free(ld_facts *f) {
    if (!f)
        return;
    bag_clear(&f->target);
    for (size_t i = 0; i < f->nsubjects; i++) {
        bag_clear(f->subjects[i]);
        free(f->subjects[i]);
    }
    free(f->subjects);
    free(f);
}

ld_bag *ld_facts_target(ld_facts *f) {
    return &f->target;
}

const ld_bag *ld_facts_target_const(const ld_facts *f) {
    return &f->target;
}

const ld_value *ld_facts_get(const ld_facts *f, ld_fact_id id) {
    return ld_bag_get(&f->target, id);
}

ld_bag *ld_facts_subject(ld_facts *f, const char *kind, const char *key) {
    for (size_t i = 0; i < f->nsubjects; i++) {
        ld_bag *b = f->subjects[i];
        if (strcmp(b->kind, kind) == 0 && strcmp(b->key, key) == 0)
            return b;
    }
    if (f->nsubjects >= LD_SUBJECTS_MAX)
        return NULL;
    if (f->nsubjects == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        ld_bag **s = realloc(f->subjects, cap * sizeof *s);
        if (!s)
            return NULL;
        f->subjects = s;
        f->cap = cap;
    }
    ld_bag *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->kind = strdup(kind);
    b->key = ld_sanitize_dup(key);
    if (!b->kind || !b->key) {
        bag_clear(b);
        free(b);
        return NULL;
    }
    f->subjects[f->nsubjects++] = b;
    return b;
}

size_t ld_facts_subject_count(const ld_facts *f) {
    return f->nsubjects;
}

const ld_bag *ld_facts_subject_at(const ld_facts *f, size_t i) {
    return i < f->nsubjects ? f->subjects[i] : NULL;
}

const char *ld_bag_kind(const ld_bag *b) {
    return b->kind ? b->kind : "";
}

const char *ld_bag_key(const ld_bag *b) {
    return b->key ? b->key : "";
}

static bag_entry *bag_find(const ld_bag *b, ld_fact_id id) {
    for (size_t i = 0; i < b->len; i++)
        if (b->entries[i].id == id)
            return &b->entries[i];
    return NULL;
}

const ld_value *ld_bag_get(const ld_bag *b, ld_fact_id id) {
    bag_entry *e = bag_find(b, id);
    return e ? &e->value : NULL;
}

/* The slot for id, cleared, or NULL when the type or scope is wrong. */
static ld_value *bag_slot(ld_bag *b, ld_fact_id id, ld_type type, ld_status *st) {
    const ld_fact_def *def = &fact_table[id];
    int subject = b->kind != NULL;
    if (def->type != type || (def->scope == LD_SCOPE_SUBJECT) != subject) {
        *st = LD_EINVAL;
        return NULL;
    }
    bag_entry *e = bag_find(b, id);
    if (e) {
        ld_value_clear(&e->value);
        return &e->value;
    }
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        bag_entry *n = realloc(b->entries, cap * sizeof *n);
        if (!n) {
            *st = LD_ENOMEM;
            return NULL;
        }
        b->entries = n;
        b->cap = cap;
    }
    size_t pos = b->len;
    while (pos > 0 && b->entries[pos - 1].id > id)
        pos--;
    memmove(&b->entries[pos + 1], &b->entries[pos], (b->len - pos) * sizeof *b->entries);
    b->len++;
    b->entries[pos].id = id;
    memset(&b->entries[pos].value, 0, sizeof(ld_value));
    return &b->entries[pos].value;
}

ld_status ld_bag_set_bool(ld_bag *b, ld_fact_id id, int v) {
    ld_status st = LD_OK;
    ld_value *slot = bag_slot(b, id, LD_T_BOOL, &st);
    if (!slot)
        return st;
    slot->type = LD_T_BOOL;
    slot->u.b = v ? 1 : 0;
    return LD_OK;
}

ld_status ld_bag_set_int(ld_bag *b, ld_fact_id id, int64_t v) {
    ld_status st = LD_OK;
    ld_value *slot = bag_slot(b, id, LD_T_INT, &st);
    if (!slot)
        return st;
    slot->type = LD_T_INT;
    slot->u.i = v;
    return LD_OK;
}

/* A number as the store keeps it: to the thousandth (a microsecond of a
 * millisecond), as a report writes it, so that rules, text and a report read
 * back all see the same value. */
static double kept(double v) {
    return isfinite(v) ? round(v * 1000.0) / 1000.0 : v;
}

ld_status ld_bag_set_num(ld_bag *b, ld_fact_id id, double v) {
    ld_status st = LD_OK;
    ld_value *slot = bag_slot(b, id, LD_T_NUM, &st);
    if (!slot)
        return st;
    slot->type = LD_T_NUM;
    slot->u.n = kept(v);
    return LD_OK;
}

ld_status ld_bag_set_str(ld_bag *b, ld_fact_id id, const char *v) {
    ld_status st = LD_OK;
    char *copy = ld_sanitize_dup(v); /* no string reaches a report unsanitized */
    if (!copy)
        return LD_ENOMEM;
    ld_value *slot = bag_slot(b, id, LD_T_STR, &st);
    if (!slot) {
        free(copy);
        return st;
    }
    slot->type = LD_T_STR;
    slot->u.s = copy;
    return LD_OK;
}

ld_status ld_bag_set_empty_list(ld_bag *b, ld_fact_id id) {
    ld_status st = LD_OK;
    ld_value *slot = bag_slot(b, id, LD_T_LIST, &st);
    if (!slot)
        return st;
    slot->type = LD_T_LIST;
    return LD_OK;
}

ld_status ld_bag_list_add(ld_bag *b, ld_fact_id id, const char *v) {
    const ld_fact_def *def = &fact_table[id];
    if (def->type != LD_T_LIST || (def->scope == LD_SCOPE_SUBJECT) != (b->kind != NULL))
        return LD_EINVAL;
    bag_entry *e = bag_find(b, id);
    if (!e) {
        ld_status st = ld_bag_set_empty_list(b, id);
        if (st != LD_OK)
            return st;
        e = bag_find(b, id);
    }
    return ld_value_list_add(&e->value, v);
}

ld_status ld_bag_set_value(ld_bag *b, ld_fact_id id, const ld_value *v) {
    ld_value copy;
    ld_status st = ld_value_copy(&copy, v);
    if (st != LD_OK)
        return st;
    ld_value *slot = bag_slot(b, id, v->type, &st);
    if (!slot) {
        ld_value_clear(&copy);
        return st;
    }
    if (copy.type == LD_T_NUM)
        copy.u.n = kept(copy.u.n);
    *slot = copy;
    return LD_OK;
}

size_t ld_bag_len(const ld_bag *b) {
    return b->len;
}

ld_fact_id ld_bag_id_at(const ld_bag *b, size_t i) {
    return b->entries[i].id;
}

const ld_value *ld_bag_value_at(const ld_bag *b, size_t i) {
    return &b->entries[i].value;
}
