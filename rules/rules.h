/* rules.h - the rule set: loading, validation, listing and evaluation.
 *
 * Layer: rules/ sees only core/: it reads facts and nothing else, so every
 * diagnosis can be tested from a fact set and reproduced from a report.
 *
 * Rules are data (the JSON files in rules/, embedded at build time, plus --rules FILE).
 * A file is {"linkdoctor_rules": 1, "rules": [RULE, ...]} where RULE is:
 *
 *   "id"            required  lower-case dotted name, unique ("tcp.syn_dropped")
 *   "severity"      required  "ok" | "info" | "warning" | "critical", or
 *                             {"default": "warning", "critical_when": EXPR}
 *   "confidence"    optional  "high" (default) | "medium" | "low", or
 *                             {"default": "medium", "high_when": EXPR}
 *   "when"          required  EXPR (expr.h): the rule fires when it holds
 *   "title"         required  TEMPLATE, one line
 *   "description"   required  plain text for `linkdoctor explain`
 *   "summary"       required  TEMPLATE: what is wrong, with the facts
 *   "remediation"   required  {"generic": TEMPLATE, "aws"?, "gcp"?, "azure"?}
 *   "evidence"      optional  [fact names to quote]
 *   "docs"          optional  [URLs]
 *   "suppresses"    optional  [rule ids this root cause hides]
 *   "suppress_when" optional  EXPR: suppress only when it also holds
 *
 * Unknown keys, unknown facts, type errors, duplicate ids and malformed JSON
 * are load errors that name the file, the rule and the position.
 */
#ifndef LD_RULES_H
#define LD_RULES_H

#include <stddef.h>

#include "core/cloud.h"
#include "core/err.h"
#include "core/facts.h"
#include "core/value.h"

/* How bad a diagnosis is; the order is the order of badness. */
typedef enum ld_severity {
    LD_SEV_OK = 0,   /* everything checked works */
    LD_SEV_INFO,     /* worth knowing, not a fault */
    LD_SEV_WARNING,  /* degraded or likely to break */
    LD_SEV_CRITICAL, /* the service cannot be reached as expected */
} ld_severity;

/* How strongly the evidence supports a diagnosis. */
typedef enum ld_confidence {
    LD_CONF_LOW = 0,
    LD_CONF_MEDIUM, /* timing alone */
    LD_CONF_HIGH,   /* direct evidence (an answer, an error, packets) */
} ld_confidence;

const char *ld_severity_name(ld_severity s);     /* "ok", "info", ... */
const char *ld_confidence_name(ld_confidence c); /* "high", ... */
/* Parse a name; return -1 when it is not one. */
int ld_severity_parse(const char *s);
int ld_confidence_parse(const char *s);

typedef struct ld_rule ld_rule;       /* one loaded rule */
typedef struct ld_ruleset ld_ruleset; /* rules in load order */

/* Creates an empty set; NULL when out of memory. */
ld_ruleset *ld_ruleset_create(void);
/* Frees the set and its rules; NULL is harmless. */
void ld_ruleset_free(ld_ruleset *rs);
/* Adds the rules embedded from the JSON files in rules/. */
ld_status ld_ruleset_add_builtin(ld_ruleset *rs, ld_err *err);
/* Adds the rules in a JSON text; origin names it in errors ("my.json").
 * All or nothing: on error the set is unchanged. */
ld_status ld_ruleset_add_json(ld_ruleset *rs, const char *text, size_t len, const char *origin,
                              ld_err *err);
/* Reads a file (at most LD_RULES_FILE_MAX bytes) and adds its rules. */
#define LD_RULES_FILE_MAX ((size_t)4 << 20)
ld_status ld_ruleset_add_file(ld_ruleset *rs, const char *path, ld_err *err);

size_t ld_ruleset_count(const ld_ruleset *rs);
const ld_rule *ld_ruleset_at(const ld_ruleset *rs, size_t i);
/* The rule with this id, or NULL. */
const ld_rule *ld_ruleset_find(const ld_ruleset *rs, const char *id);

const char *ld_rule_id(const ld_rule *r);
ld_severity ld_rule_severity(const ld_rule *r); /* default severity */
/* The condition that makes a fired rule critical; NULL when it has none. */
const char *ld_rule_critical_when(const ld_rule *r);
const char *ld_rule_origin(const ld_rule *r);      /* file it came from */
const char *ld_rule_when(const ld_rule *r);        /* condition source */
const char *ld_rule_title(const ld_rule *r);       /* template source */
const char *ld_rule_description(const ld_rule *r); /* plain text */
const char *ld_rule_summary(const ld_rule *r);     /* template source */
/* Template source for a cloud; NULL when the rule has none for that cloud. */
const char *ld_rule_remediation(const ld_rule *r, ld_cloud cloud);
size_t ld_rule_evidence_count(const ld_rule *r);
ld_fact_id ld_rule_evidence_at(const ld_rule *r, size_t i);
size_t ld_rule_docs_count(const ld_rule *r);
const char *ld_rule_doc_at(const ld_rule *r, size_t i);
size_t ld_rule_suppresses_count(const ld_rule *r);
const char *ld_rule_suppresses_at(const ld_rule *r, size_t i);

/* One quoted fact. */
typedef struct ld_evidence {
    ld_fact_id id;  /* which fact */
    ld_value value; /* copy of its value, owned */
} ld_evidence;

/* A rule that fired for a target, rendered. Everything a report shows of it
 * is here, owned, so that a diagnosis read back from a saved report - with
 * no rule behind it - renders as the one evaluated did. */
typedef struct ld_diagnosis {
    const ld_rule *rule;          /* borrowed from the rule set; NULL when read from a report */
    char *id;                     /* the rule's id, owned */
    char **docs;                  /* the rule's documentation URLs, owned (each and the array) */
    size_t ndocs;                 /* entries in docs */
    ld_severity severity;         /* the rule's severity for these facts */
    ld_confidence confidence;     /* decided by the rule's confidence */
    char *title;                  /* rendered, owned */
    char *summary;                /* rendered, owned */
    char *remediation;            /* rendered for remediation_cloud, owned */
    ld_cloud remediation_cloud;   /* the cloud of cloud.provider, or generic when the
                                     rule has no text for it */
    ld_evidence *evidence;        /* recorded evidence facts, owned */
    size_t nevidence;             /* entries in evidence */
    const ld_rule *suppressed_by; /* NULL when reported, else the root cause (NULL too
                                     when read from a report: see suppressed_by_id) */
    char *suppressed_by_id;       /* the root cause's id, owned; NULL when reported */
} ld_diagnosis;

/* The outcome of evaluating every rule for one target. */
typedef struct ld_diagnoses {
    ld_diagnosis *reported; /* fired and shown: worst severity first, then load order */
    size_t nreported;
    ld_diagnosis *suppressed; /* fired but hidden by a root cause, in load order */
    size_t nsuppressed;
} ld_diagnoses;

/* Copies what names a diagnosis - its rule, id, docs and root cause - from
 * one into another (zeroed) one, as a renderer needs it: the rest (texts,
 * evidence) is the caller's. On failure what was copied stays in to, for
 * the caller's clearing. */
ld_status ld_diagnosis_copy_identity(const ld_diagnosis *from, ld_diagnosis *to);

/* Evaluates every rule against facts. Rules of severity ok are dropped when a
 * warning or critical diagnosis is reported. out must be zeroed or cleared. */
ld_status ld_rules_eval(const ld_ruleset *rs, const ld_facts *facts, ld_diagnoses *out,
                        ld_err *err);
/* Frees what a result holds (every owned member of every diagnosis, with
 * free()) and zeroes it. */
void ld_diagnoses_clear(ld_diagnoses *d);

#endif
