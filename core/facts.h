/* facts.h - the facts store: what probes observed, as typed named values.
 *
 * Layer: core/ is the ground floor every other layer stands on (the loop,
 * values, facts, addresses, targets and specs, errors); it includes nothing
 * from probes/, plan/, rules/, report/ or cli/ (tests/layers.py checks).
 *
 * Every fact is declared once in facts.def. A target's facts are one "bag" of
 * target-scope values plus one bag per subject (a resolver, a connection
 * attempt) holding subject-scope values. Probes write; rules and reports read.
 */
#ifndef LD_FACTS_H
#define LD_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "value.h"

/* Stable identifiers for the facts in facts.def. */
typedef enum ld_fact_id {
#define LD_FACT(id, name, type, scope, meaning) LD_F_##id,
#include "facts.def"
#undef LD_FACT
    LD_F__COUNT
} ld_fact_id;

/* Whether a fact has one value per target or one per subject. */
typedef enum ld_scope {
    LD_SCOPE_TARGET,  /* one value per target; rules may read it */
    LD_SCOPE_SUBJECT, /* one value per resolver / attempt; evidence only */
} ld_scope;

/* One row of the fact table. */
typedef struct ld_fact_def {
    const char *name;    /* stable dotted name, e.g. "dns.rcode" */
    ld_type type;        /* declared type */
    ld_scope scope;      /* target or subject */
    const char *meaning; /* one line for people */
} ld_fact_def;

/* The table row of id (id must be < LD_F__COUNT). */
const ld_fact_def *ld_fact_def_get(ld_fact_id id);
/* The id named by the first len bytes of name, or -1 when no fact has it. */
int ld_fact_lookup(const char *name, size_t len);
/* For a subject fact "tcp.attempt.state", the report field name "state". */
const char *ld_fact_field(ld_fact_id id);
/* The subject fact a report writes as field of a probes.<kind>[] entry
 * ("tcp", "state": tcp.attempt.state), or -1 when there is none. */
int ld_fact_lookup_field(const char *kind, const char *field);

typedef struct ld_bag ld_bag;     /* values of one target or one subject */
typedef struct ld_facts ld_facts; /* all facts of one target */

/* Creates an empty store; NULL when out of memory. */
ld_facts *ld_facts_create(void);
/* Frees the store and every bag in it; NULL is harmless. */
void ld_facts_free(ld_facts *f);

/* The target-scope bag. */
ld_bag *ld_facts_target(ld_facts *f);
const ld_bag *ld_facts_target_const(const ld_facts *f);
/* Shorthand for ld_bag_get(ld_facts_target_const(f), id). */
const ld_value *ld_facts_get(const ld_facts *f, ld_fact_id id);

/* The subject bag of kind ("dns", "tcp") and key ("10.0.0.2:53"), created on
 * first use; NULL when out of memory or past LD_SUBJECTS_MAX. */
#define LD_SUBJECTS_MAX 4096
ld_bag *ld_facts_subject(ld_facts *f, const char *kind, const char *key);
size_t ld_facts_subject_count(const ld_facts *f);
const ld_bag *ld_facts_subject_at(const ld_facts *f, size_t i);

/* Kind and key of a subject bag ("" for the target bag). */
const char *ld_bag_kind(const ld_bag *b);
const char *ld_bag_key(const ld_bag *b);

/* The value recorded for id, or NULL when none was. */
const ld_value *ld_bag_get(const ld_bag *b, ld_fact_id id);
/* Setters replace any earlier value. They fail with LD_EINVAL when the type
 * differs from the table's or the scope does not fit the bag. Strings are
 * sanitized; numbers are kept to the thousandth (what a report writes). */
ld_status ld_bag_set_bool(ld_bag *b, ld_fact_id id, int v);
ld_status ld_bag_set_int(ld_bag *b, ld_fact_id id, int64_t v);
ld_status ld_bag_set_num(ld_bag *b, ld_fact_id id, double v);
ld_status ld_bag_set_str(ld_bag *b, ld_fact_id id, const char *v);
/* Appends to a list fact, creating it (empty lists are recorded too). */
ld_status ld_bag_list_add(ld_bag *b, ld_fact_id id, const char *v);
/* Records an empty list (so "none" differs from "not recorded"). */
ld_status ld_bag_set_empty_list(ld_bag *b, ld_fact_id id);
/* Sets from a value (deep copy); the value's type must match the table. */
ld_status ld_bag_set_value(ld_bag *b, ld_fact_id id, const ld_value *v);

/* Number of recorded values, and the i-th in table order. */
size_t ld_bag_len(const ld_bag *b);
ld_fact_id ld_bag_id_at(const ld_bag *b, size_t i);
const ld_value *ld_bag_value_at(const ld_bag *b, size_t i);

/* Sets one fact from a JSON value (a cJSON item) of its declared type; null
 * is NaN for a number (the report writes NaN so). LD_EINVAL, naming the
 * fact, for another type. */
struct cJSON;
ld_status ld_bag_set_json(ld_bag *b, ld_fact_id id, const struct cJSON *v, ld_err *err);

/* Sets target facts from a JSON object {"dns.rcode": "NXDOMAIN", ...}, the
 * shape of a report's "facts": unknown names, subject facts and values of the
 * wrong type are errors naming the fact. Lets rules be tested on fact sets
 * and re-run on a saved report. */
ld_status ld_facts_load_json(ld_facts *f, const char *json, size_t len, ld_err *err);

#endif
