/* rules.c - the rule set: loading and validating rule files, and evaluating
 * every rule against one target's facts.
 *
 * A load is a batch (one file, or every embedded file at once): each rule is
 * parsed and checked into a private list, references between rules are
 * resolved against the set plus the batch, and only then does the batch join
 * the set, so a failed load leaves the set as it was.
 */
#include "rules/rules.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/sanitize.h"
#include "rules/builtin.h"
#include "rules/expr.h"
#include "rules/template.h"

#include "rules/internal.h"

#define RULES_MAX       1024        /* rules in one set */
#define RULE_ID_MAX     64          /* bytes in an id */
#define RULE_STRING_MAX 8192        /* bytes in any string field */
#define RULE_LIST_MAX   64          /* entries in evidence, docs, suppresses */
#define RENDER_MAX      (64u << 10) /* bytes of one rendered text; facts can be long lists */
#define SHOW_MAX        40          /* room for quoted user text: ld_expr_quote clips it */
#define NOT_SUPPRESSED  SIZE_MAX    /* no rule suppresses this one */
#define NUL_MARK        '\xff'      /* stands for a "\u0000" escape (never in UTF-8) */

struct ld_rule {
    char *id;                           /* unique dotted name */
    char *origin;                       /* file it came from */
    ld_severity severity;               /* how bad it is, unless critical_when holds */
    char *critical_when_src;            /* condition source, NULL when absent */
    ld_expr *critical_when;             /* raises the severity to critical, NULL when absent */
    ld_confidence confidence;           /* confidence unless high_when holds */
    char *high_when_src;                /* condition source, NULL when absent */
    ld_expr *high_when;                 /* raises confidence to high, NULL when absent */
    char *when_src;                     /* condition source */
    ld_expr *when;                      /* fires the rule */
    char *title;                        /* template */
    char *description;                  /* plain text */
    char *summary;                      /* template */
    char *remediation[LD_CLOUD__COUNT]; /* templates; [generic] always set */
    ld_fact_id *evidence;               /* facts to quote */
    size_t nevidence;                   /* entries in evidence */
    char **docs;                        /* URLs */
    size_t ndocs;                       /* entries in docs */
    char **suppresses;                  /* ids this rule hides when it fires */
    size_t *suppress_idx;               /* their positions in the set, resolved at load */
    size_t nsuppresses;                 /* entries in suppresses and suppress_idx */
    char *suppress_when_src;            /* condition source, NULL when absent */
    ld_expr *suppress_when;             /* suppress only when it holds; NULL = always */
};

struct ld_ruleset {
    ld_rule **rules; /* in load order; pointers stay valid as the set grows */
    size_t n;        /* rules in the set */
};

/* --- names ------------------------------------------------------------------- */

static const char *const severity_names[] = {"ok", "info", "warning", "critical"};
static const char *const confidence_names[] = {"low", "medium", "high"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The index of s in names, or -1. */
static int name_index(const char *const *names, size_t n, const char *s) {
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *ld_severity_name(ld_severity s) {
    return (size_t)s < COUNT(severity_names) ? severity_names[s] : "unknown";
}

const char *ld_confidence_name(ld_confidence c) {
    return (size_t)c < COUNT(confidence_names) ? confidence_names[c] : "unknown";
}

int ld_severity_parse(const char *s) {
    return name_index(severity_names, COUNT(severity_names), s);
}

int ld_confidence_parse(const char *s) {
    return name_index(confidence_names, COUNT(confidence_names), s);
}

/* --- rules and sets ----------------------------------------------------------- */

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void rule_free(ld_rule *r) {
    if (!r)
        return;
    free(r->id);
    free(r->origin);
    free(r->critical_when_src);
    ld_expr_free(r->critical_when);
    free(r->high_when_src);
    ld_expr_free(r->high_when);
    free(r->when_src);
    ld_expr_free(r->when);
    free(r->title);
    free(r->description);
    free(r->summary);
    for (size_t c = 0; c < LD_CLOUD__COUNT; c++)
        free(r->remediation[c]);
    free(r->evidence);
    free_strings(r->docs, r->ndocs);
    free_strings(r->suppresses, r->nsuppresses);
    free(r->suppress_idx);
    free(r->suppress_when_src);
    ld_expr_free(r->suppress_when);
    free(r);
}

ld_ruleset *ld_ruleset_create(void) {
    return calloc(1, sizeof(ld_ruleset));
}

void ld_ruleset_free(ld_ruleset *rs) {
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        rule_free(rs->rules[i]);
    free(rs->rules);
    free(rs);
}

size_t ld_ruleset_count(const ld_ruleset *rs) {
    return rs->n;
}

const ld_rule *ld_ruleset_at(const ld_ruleset *rs, size_t i) {
    return i < rs->n ? rs->rules[i] : NULL;
}

const ld_rule *ld_ruleset_find(const ld_ruleset *rs, const char *id) {
    for (size_t i = 0; id && i < rs->n; i++)
        if (strcmp(rs->rules[i]->id, id) == 0)
            return rs->rules[i];
    return NULL;
}

const char *ld_rule_id(const ld_rule *r) {
    return r->id;
}

ld_severity ld_rule_severity(const ld_rule *r) {
    return r->severity;
}

const char *ld_rule_critical_when(const ld_rule *r) {
    return r->critical_when_src;
}

const char *ld_rule_origin(const ld_rule *r) {
    return r->origin;
}

const char *ld_rule_when(const ld_rule *r) {
    return r->when_src;
}

const char *ld_rule_title(const ld_rule *r) {
    return r->title;
}

const char *ld_rule_description(const ld_rule *r) {
    return r->description;
}

const char *ld_rule_summary(const ld_rule *r) {
    return r->summary;
}

const char *ld_rule_remediation(const ld_rule *r, ld_cloud cloud) {
    return (size_t)cloud < LD_CLOUD__COUNT ? r->remediation[cloud] : NULL;
}

size_t ld_rule_evidence_count(const ld_rule *r) {
    return r->nevidence;
}

ld_fact_id ld_rule_evidence_at(const ld_rule *r, size_t i) {
    return r->evidence[i];
}

size_t ld_rule_docs_count(const ld_rule *r) {
    return r->ndocs;
}

const char *ld_rule_doc_at(const ld_rule *r, size_t i) {
    return i < r->ndocs ? r->docs[i] : NULL;
}

size_t ld_rule_suppresses_count(const ld_rule *r) {
    return r->nsuppresses;
}

const char *ld_rule_suppresses_at(const ld_rule *r, size_t i) {
    return i < r->nsuppresses ? r->suppresses[i] : NULL;
}

/* --- loading: one batch ----------------------------------------------------------- */

/* Rules parsed but not yet in the set. */
typedef struct batch {
    const ld_ruleset *rs; /* the set they will join, for duplicate ids */
    ld_rule **rules;      /* parsed rules, in load order, owned until committed */
    size_t n;             /* rules parsed */
    size_t cap;           /* rules allocated */
} batch;

static void batch_free(batch *b) {
    for (size_t i = 0; i < b->n; i++)
        rule_free(b->rules[i]);
    free(b->rules);
}

/* Rule i of the set followed by the batch. */
static const ld_rule *combined_at(const batch *b, size_t i) {
    return i < b->rs->n ? b->rs->rules[i] : b->rules[i - b->rs->n];
}

/* Position of id in the set followed by the batch, or NOT_SUPPRESSED. */
static size_t combined_find(const batch *b, const char *id) {
    for (size_t i = 0; i < b->rs->n + b->n; i++)
        if (strcmp(combined_at(b, i)->id, id) == 0)
            return i;
    return NOT_SUPPRESSED;
}

/* User text made fit for a message (clipped, unprintable bytes replaced). */
static const char *show(const char *s, char *out, size_t outsz) {
    return ld_expr_quote(s, strlen(s), out, outsz);
}

/* ^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$, at most RULE_ID_MAX bytes. */
static int id_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > RULE_ID_MAX || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '.')
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (c == '.' && s[i - 1] == '.')
            return 0;
        if (c != '.' && c != '_' && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

/* *out = item's string when item is a string within the size limit, with
 * no NUL in it (see mark_nul_escapes). */
static ld_status get_string(const cJSON *item, const char *field, const char **out, ld_err *err) {
    if (!cJSON_IsString(item) || !item->valuestring)
        return ld_err_set(err, LD_EINVAL, "%s: must be a string", field);
    if (strlen(item->valuestring) > RULE_STRING_MAX)
        return ld_err_set(err, LD_ELIMIT, "%s: longer than %d bytes", field, RULE_STRING_MAX);
    if (strchr(item->valuestring, NUL_MARK))
        return ld_err_set(err, LD_EINVAL,
                          "%s: contains a NUL character (\\u0000), which would cut it short",
                          field);
    *out = item->valuestring;
    return LD_OK;
}

/* Checks that text has no control character (line breaks allowed when
 * lines is 1): rule text reaches terminals and reports as it is written. */
static ld_status check_text(const char *s, const char *field, int lines, ld_err *err) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t clean = ld_sanitize_clean_prefix(s + i, n - i);
        i += clean;
        if (i == n)
            break;
        if (lines && s[i] == '\n') {
            i++;
            continue;
        }
        if (s[i] == '\n' || s[i] == '\r')
            return ld_err_set(err, LD_EINVAL, "%s: must be one line", field);
        unsigned char lead = (unsigned char)s[i]; /* the file is UTF-8: one character is */
        size_t len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        char shown[32];
        ld_sanitize_to(s + i, len < n - i ? len : n - i, shown, sizeof shown);
        return ld_err_set(err, LD_EINVAL, "%s: contains a control character (%s)%s", field, shown,
                          lines ? "" : "; it is one line of plain text");
    }
    return LD_OK;
}

/* *out = a copy of s, the caller's to free: sanitized as well, as every
 * string from the user is before it can reach a report or a terminal. */
static ld_status copy_string(const char *s, char **out, ld_err *err) {
    *out = ld_sanitize_lines_dup(s);
    return *out ? LD_OK : ld_err_set(err, LD_ENOMEM, "out of memory");
}

/* A non-empty string field of plain text, of one line or (lines = 1) of
 * several (description). */
static ld_status get_text(const cJSON *item, const char *field, int lines, char **out,
                          ld_err *err) {
    const char *s = NULL;
    ld_status st = get_string(item, field, &s, err);
    if (st != LD_OK)
        return st;
    if (!*s)
        return ld_err_set(err, LD_EINVAL, "%s: must not be empty", field);
    st = check_text(s, field, lines, err);
    if (st != LD_OK)
        return st;
    return copy_string(s, out, err);
}

/* A non-empty template whose placeholders name target facts. */
static ld_status get_template(const cJSON *item, const char *field, int lines, char **out,
                              ld_err *err) {
    ld_status st = get_text(item, field, lines, out, err);
    if (st != LD_OK)
        return st;
    st = ld_template_check(*out, err);
    if (st != LD_OK)
        ld_err_prefix(err, "%s: ", field);
    return st;
}

/* A condition: its source and its parsed form. */
static ld_status get_expr(const cJSON *item, const char *field, char **src, ld_expr **e,
                          ld_err *err) {
    const char *s = NULL;
    ld_status st = get_string(item, field, &s, err);
    if (st != LD_OK)
        return st;
    st = ld_expr_parse(s, e, err);
    if (st != LD_OK) {
        ld_err_prefix(err, "%s: ", field);
        return st;
    }
    return copy_string(s, src, err);
}

/* An array of at most RULE_LIST_MAX strings; *n gets its length. */
static ld_status check_list(const cJSON *item, const char *field, size_t *n, ld_err *err) {
    const cJSON *e;
    *n = 0;
    if (!cJSON_IsArray(item))
        return ld_err_set(err, LD_EINVAL, "%s: must be an array", field);
    cJSON_ArrayForEach(e, item) {
        const char *s = NULL;
        ld_status st = get_string(e, field, &s, err);
        if (st != LD_OK)
            return st;
        if (++*n > RULE_LIST_MAX)
            return ld_err_set(err, LD_ELIMIT, "%s: more than %d entries", field, RULE_LIST_MAX);
    }
    return LD_OK;
}

/* Entry i of a list that check_list() accepted; entries before it are distinct. */
static ld_status list_entry(const cJSON *list, size_t i, const char *field, const char **out,
                            ld_err *err) {
    char shown[SHOW_MAX + 8];
    const cJSON *e = list->child;
    for (size_t k = 0; k < i; k++)
        e = e->next;
    for (const cJSON *prev = list->child; prev != e; prev = prev->next)
        if (strcmp(prev->valuestring, e->valuestring) == 0)
            return ld_err_set(err, LD_EINVAL, "%s: '%s' is listed twice", field,
                              show(e->valuestring, shown, sizeof shown));
    *out = e->valuestring;
    return LD_OK;
}

/* evidence: target facts to quote, each named once. */
static ld_status parse_evidence(const cJSON *item, ld_rule *r, ld_err *err) {
    size_t n;
    ld_status st = check_list(item, "evidence", &n, err);
    if (st != LD_OK || n == 0)
        return st;
    r->evidence = calloc(n, sizeof *r->evidence);
    if (!r->evidence)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    for (; r->nevidence < n; r->nevidence++) {
        const char *name = NULL;
        st = list_entry(item, r->nevidence, "evidence", &name, err);
        if (st != LD_OK)
            return st;
        st = ld_expr_target_fact(name, strlen(name), &r->evidence[r->nevidence], err);
        if (st != LD_OK) {
            ld_err_prefix(err, "evidence: ");
            return st;
        }
    }
    return LD_OK;
}

/* docs and suppresses: strings kept as given, each checked by valid(). */
static ld_status parse_names(const cJSON *item, const char *field, int (*valid)(const char *),
                             const char *what, char ***out, size_t *nout, ld_err *err) {
    char shown[SHOW_MAX + 8];
    size_t n;
    ld_status st = check_list(item, field, &n, err);
    if (st != LD_OK || n == 0)
        return st;
    *out = calloc(n, sizeof **out);
    if (!*out)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    for (; *nout < n; ++*nout) {
        const char *s = NULL;
        st = list_entry(item, *nout, field, &s, err);
        if (st != LD_OK)
            return st;
        if (!valid(s))
            return ld_err_set(err, LD_EINVAL, "%s: '%s' is not %s", field,
                              show(s, shown, sizeof shown), what);
        st = copy_string(s, &(*out)[*nout], err);
        if (st != LD_OK)
            return st;
    }
    return LD_OK;
}

/* docs entries are links people can open. */
static int url_valid(const char *s) {
    return (strncmp(s, "https://", 8) == 0 && s[8]) || (strncmp(s, "http://", 7) == 0 && s[7]);
}

/* A severity word: ok, info, warning or critical. */
static ld_status severity_level(const cJSON *item, const char *field, ld_severity *out,
                                ld_err *err) {
    char shown[SHOW_MAX + 8];
    const char *s = NULL;
    ld_status st = get_string(item, field, &s, err);
    if (st != LD_OK)
        return st;
    int sev = ld_severity_parse(s);
    if (sev < 0)
        return ld_err_set(err, LD_EINVAL, "%s: '%s' is not one of ok, info, warning, critical",
                          field, show(s, shown, sizeof shown));
    *out = (ld_severity)sev;
    return LD_OK;
}

/* "critical" | ... | {"default": LEVEL, "critical_when": EXPR}: one id whose
 * finding turns critical past a threshold the facts show. */
static ld_status parse_severity(const cJSON *item, ld_rule *r, ld_err *err) {
    char shown[SHOW_MAX + 8];
    if (!cJSON_IsObject(item))
        return severity_level(item, "severity", &r->severity, err);
    const cJSON *def = NULL, *crit = NULL, *e;
    cJSON_ArrayForEach(e, item) {
        const cJSON **slot = strcmp(e->string, "default") == 0         ? &def
                             : strcmp(e->string, "critical_when") == 0 ? &crit
                                                                       : NULL;
        if (!slot)
            return ld_err_set(err, LD_EINVAL, "severity: unknown field \"%s\"",
                              show(e->string, shown, sizeof shown));
        if (*slot)
            return ld_err_set(err, LD_EINVAL, "severity: field \"%s\" given twice", e->string);
        *slot = e;
    }
    if (!def)
        return ld_err_set(err, LD_EINVAL, "severity: missing required field \"default\"");
    if (!crit)
        return ld_err_set(err, LD_EINVAL, "severity: missing required field \"critical_when\"");
    ld_status st = severity_level(def, "severity.default", &r->severity, err);
    if (st != LD_OK)
        return st;
    /* An ok rule stands for "nothing is wrong": it cannot turn critical. */
    if (r->severity != LD_SEV_INFO && r->severity != LD_SEV_WARNING)
        return ld_err_set(err, LD_EINVAL,
                          "severity: critical_when needs a default of info or warning");
    return get_expr(crit, "severity.critical_when", &r->critical_when_src, &r->critical_when, err);
}

/* A confidence word: high, medium or low. */
static ld_status confidence_level(const cJSON *item, const char *field, ld_confidence *out,
                                  ld_err *err) {
    char shown[SHOW_MAX + 8];
    const char *s = NULL;
    ld_status st = get_string(item, field, &s, err);
    if (st != LD_OK)
        return st;
    int c = name_index(confidence_names, COUNT(confidence_names), s);
    if (c < 0)
        return ld_err_set(err, LD_EINVAL, "%s: '%s' is not one of high, medium, low", field,
                          show(s, shown, sizeof shown));
    *out = (ld_confidence)c;
    return LD_OK;
}

/* "high" | "medium" | "low" | {"default": LEVEL, "high_when": EXPR} */
static ld_status parse_confidence(const cJSON *item, ld_rule *r, ld_err *err) {
    char shown[SHOW_MAX + 8];
    if (!cJSON_IsObject(item))
        return confidence_level(item, "confidence", &r->confidence, err);
    const cJSON *def = NULL, *high = NULL, *e;
    cJSON_ArrayForEach(e, item) {
        const cJSON **slot = strcmp(e->string, "default") == 0     ? &def
                             : strcmp(e->string, "high_when") == 0 ? &high
                                                                   : NULL;
        if (!slot)
            return ld_err_set(err, LD_EINVAL, "confidence: unknown field \"%s\"",
                              show(e->string, shown, sizeof shown));
        if (*slot)
            return ld_err_set(err, LD_EINVAL, "confidence: field \"%s\" given twice", e->string);
        *slot = e;
    }
    if (!def)
        return ld_err_set(err, LD_EINVAL, "confidence: missing required field \"default\"");
    ld_status st = confidence_level(def, "confidence.default", &r->confidence, err);
    if (st != LD_OK || !high)
        return st;
    if (r->confidence == LD_CONF_HIGH)
        return ld_err_set(err, LD_EINVAL,
                          "confidence: high_when has no effect when the default is high");
    return get_expr(high, "confidence.high_when", &r->high_when_src, &r->high_when, err);
}

/* {"generic": TEMPLATE, "aws"?: TEMPLATE, "gcp"?: TEMPLATE, "azure"?: TEMPLATE} */
static ld_status parse_remediation(const cJSON *item, ld_rule *r, ld_err *err) {
    char shown[SHOW_MAX + 8], field[32];
    const cJSON *e;
    if (!cJSON_IsObject(item))
        return ld_err_set(err, LD_EINVAL, "remediation: must be an object");
    cJSON_ArrayForEach(e, item) {
        int c = ld_cloud_parse(e->string);
        if (c < 0)
            return ld_err_set(err, LD_EINVAL,
                              "remediation: unknown field \"%s\" (use generic, aws, gcp or azure)",
                              show(e->string, shown, sizeof shown));
        if (r->remediation[c])
            return ld_err_set(err, LD_EINVAL, "remediation: field \"%s\" given twice", e->string);
        snprintf(field, sizeof field, "remediation.%s", e->string);
        ld_status st = get_template(e, field, 1, &r->remediation[c], err);
        if (st != LD_OK)
            return st;
    }
    if (!r->remediation[LD_CLOUD_GENERIC])
        return ld_err_set(err, LD_EINVAL, "remediation: missing required field \"generic\"");
    return LD_OK;
}

/* The fields of a rule, in the order they are checked. */
typedef enum field {
    F_ID,
    F_SEVERITY,
    F_CONFIDENCE,
    F_WHEN,
    F_TITLE,
    F_DESCRIPTION,
    F_SUMMARY,
    F_REMEDIATION,
    F_EVIDENCE,
    F_DOCS,
    F_SUPPRESSES,
    F_SUPPRESS_WHEN,
    F__COUNT
} field;

static const struct {
    const char *name; /* the JSON key */
    int required;     /* a rule without it is an error */
} fields[F__COUNT] = {
    [F_ID] = {"id", 1},
    [F_SEVERITY] = {"severity", 1},
    [F_CONFIDENCE] = {"confidence", 0},
    [F_WHEN] = {"when", 1},
    [F_TITLE] = {"title", 1},
    [F_DESCRIPTION] = {"description", 1},
    [F_SUMMARY] = {"summary", 1},
    [F_REMEDIATION] = {"remediation", 1},
    [F_EVIDENCE] = {"evidence", 0},
    [F_DOCS] = {"docs", 0},
    [F_SUPPRESSES] = {"suppresses", 0},
    [F_SUPPRESS_WHEN] = {"suppress_when", 0},
};

/* Sorts the members of a rule object into f[], rejecting unknown and repeated keys. */
static ld_status collect_fields(const cJSON *obj, const cJSON *f[F__COUNT], ld_err *err) {
    char shown[SHOW_MAX + 8];
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        size_t k = 0;
        while (k < F__COUNT && strcmp(fields[k].name, e->string) != 0)
            k++;
        if (k == F__COUNT)
            return ld_err_set(err, LD_EINVAL, "unknown field \"%s\"",
                              show(e->string, shown, sizeof shown));
        if (f[k])
            return ld_err_set(err, LD_EINVAL, "field \"%s\" given twice", fields[k].name);
        f[k] = e;
    }
    for (size_t k = 0; k < F__COUNT; k++)
        if (fields[k].required && !f[k])
            return ld_err_set(err, LD_EINVAL, "missing required field \"%s\"", fields[k].name);
    return LD_OK;
}

/* Every field but the id, once the id is known and unique. */
static ld_status parse_fields(const cJSON *f[F__COUNT], ld_rule *r, ld_err *err) {
    ld_status st = parse_severity(f[F_SEVERITY], r, err);
    r->confidence = LD_CONF_HIGH;
    if (st == LD_OK && f[F_CONFIDENCE])
        st = parse_confidence(f[F_CONFIDENCE], r, err);
    if (st == LD_OK)
        st = get_expr(f[F_WHEN], "when", &r->when_src, &r->when, err);
    if (st == LD_OK)
        st = get_template(f[F_TITLE], "title", 0, &r->title, err);
    if (st == LD_OK)
        st = get_text(f[F_DESCRIPTION], "description", 1, &r->description, err);
    if (st == LD_OK)
        st = get_template(f[F_SUMMARY], "summary", 0, &r->summary, err);
    if (st == LD_OK)
        st = parse_remediation(f[F_REMEDIATION], r, err);
    if (st == LD_OK && f[F_EVIDENCE])
        st = parse_evidence(f[F_EVIDENCE], r, err);
    if (st == LD_OK && f[F_DOCS])
        st = parse_names(f[F_DOCS], "docs", url_valid, "an http(s) URL", &r->docs, &r->ndocs, err);
    if (st == LD_OK && f[F_SUPPRESSES])
        st = parse_names(f[F_SUPPRESSES], "suppresses", id_valid, "a valid rule id", &r->suppresses,
                         &r->nsuppresses, err);
    if (st == LD_OK && f[F_SUPPRESS_WHEN] && r->nsuppresses == 0)
        st = ld_err_set(err, LD_EINVAL, "suppress_when: has no effect without suppresses");
    if (st == LD_OK && f[F_SUPPRESS_WHEN])
        st = get_expr(f[F_SUPPRESS_WHEN], "suppress_when", &r->suppress_when_src, &r->suppress_when,
                      err);
    return st;
}

/* Parses rule number index (from 1) of a file into the batch. Errors start
 * with "rule 'id': " or, before the id is known, "rule N: ". */
static ld_status parse_rule(batch *b, const cJSON *obj, size_t index, const char *origin,
                            ld_err *err) {
    char shown[SHOW_MAX + 8];
    const cJSON *f[F__COUNT] = {0};
    const char *id = NULL;
    ld_rule *r = NULL;
    ld_status st;
    if (!cJSON_IsObject(obj)) {
        st = ld_err_set(err, LD_EINVAL, "rule %zu: must be an object", index);
        goto out;
    }
    const cJSON *idf = cJSON_GetObjectItemCaseSensitive(obj, "id");
    if (!idf) {
        st = ld_err_set(err, LD_EINVAL, "rule %zu: missing required field \"id\"", index);
        goto out;
    }
    st = get_string(idf, "id", &id, err);
    if (st == LD_OK && !id_valid(id))
        st = ld_err_set(err, LD_EINVAL,
                        "id: '%s' is not a rule id (a lower-case letter, then lower-case letters, "
                        "digits, '_' and single dots, at most %d bytes)",
                        show(id, shown, sizeof shown), RULE_ID_MAX);
    if (st != LD_OK) {
        ld_err_prefix(err, "rule %zu: ", index);
        goto out;
    }
    size_t prev = combined_find(b, id);
    if (prev != NOT_SUPPRESSED)
        st = ld_err_set(err, LD_EINVAL, "duplicate id (already defined in %s)",
                        combined_at(b, prev)->origin);
    if (st == LD_OK)
        st = collect_fields(obj, f, err);
    r = calloc(1, sizeof *r);
    if (st == LD_OK && !r)
        st = ld_err_set(err, LD_ENOMEM, "out of memory");
    if (st == LD_OK)
        st = copy_string(id, &r->id, err);
    if (st == LD_OK)
        st = copy_string(origin, &r->origin, err);
    if (st == LD_OK)
        st = parse_fields(f, r, err);
    if (st == LD_OK && b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        ld_rule **rules = realloc(b->rules, cap * sizeof *rules);
        if (!rules) {
            st = ld_err_set(err, LD_ENOMEM, "out of memory");
        } else {
            b->rules = rules;
            b->cap = cap;
        }
    }
    if (st != LD_OK) {
        ld_err_prefix(err, "rule '%s': ", id);
        goto out;
    }
    b->rules[b->n++] = r;
    r = NULL;
out:
    rule_free(r);
    return st;
}

/* "line L, column C" of byte offset pos, both from 1. */
static void line_column(const char *text, size_t pos, size_t *line, size_t *col) {
    size_t start = 0;
    *line = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            ++*line;
            start = i + 1;
        }
    }
    *col = pos - start + 1;
}

/* cJSON decodes a "\u0000" escape into a NUL byte that ends the C string
 * it hands us: the rest of a condition or a text would silently vanish.
 * Returns a copy of text (len bytes, valid UTF-8) with each such escape
 * turned into NUL_MARKs, which get_string() reports with the rule and the
 * field; NULL when there is none (or no memory: *oom is set). */
static char *mark_nul_escapes(const char *text, size_t len, int *oom) {
    char *copy = NULL;
    int in_string = 0;
    *oom = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = text[i] == '"';
        } else if (text[i] == '"') {
            in_string = 0;
        } else if (text[i] == '\\') {
            if (len - i >= 6 && memcmp(text + i + 1, "u0000", 5) == 0) {
                if (!copy) {
                    if (!(copy = malloc(len))) {
                        *oom = 1;
                        return NULL;
                    }
                    memcpy(copy, text, len);
                }
                memset(copy + i, NUL_MARK, 6);
            }
            i++; /* the escaped character never ends the string */
        }
    }
    return copy;
}

/* Parses one rules file into the batch. Errors are not yet prefixed with origin. */
static ld_status load_json(batch *b, const char *text, size_t len, const char *origin,
                           ld_err *err) {
    char shown[SHOW_MAX + 8];
    const cJSON *version = NULL, *list = NULL, *e;
    size_t line, col, index = 0;
    ld_status st = LD_OK;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        line_column(text, (size_t)(nul - text), &line, &col);
        return ld_err_set(err, LD_EINVAL, "line %zu, column %zu: NUL byte in a rules file", line,
                          col);
    }
    size_t valid = ld_utf8_valid_prefix(text, len);
    if (valid < len) {
        line_column(text, valid, &line, &col);
        return ld_err_set(err, LD_EINVAL, "line %zu, column %zu: not UTF-8 (rules are UTF-8 JSON)",
                          line, col);
    }
    int oom;
    char *marked = mark_nul_escapes(text, len, &oom);
    if (oom)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(marked ? marked : text, len, &end, 0);
    if (marked) /* positions are the same in both: the marks replace byte for byte */
        end = end ? text + (end - marked) : NULL;
    free(marked);
    if (!root) {
        size_t pos = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        line_column(text, pos, &line, &col);
        return ld_err_set(err, LD_EINVAL, "line %zu, column %zu: malformed JSON", line, col);
    }
    size_t pos = (size_t)(end - text);
    while (pos < len && strchr(" \t\r\n", text[pos]))
        pos++;
    if (pos < len) {
        line_column(text, pos, &line, &col);
        st = ld_err_set(err, LD_EINVAL,
                        "line %zu, column %zu: malformed JSON (text after the top-level object)",
                        line, col);
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        st = ld_err_set(err, LD_EINVAL,
                        "must be a JSON object {\"linkdoctor_rules\": 1, \"rules\": [...]}");
        goto out;
    }
    cJSON_ArrayForEach(e, root) {
        const cJSON **slot = strcmp(e->string, "linkdoctor_rules") == 0 ? &version
                             : strcmp(e->string, "rules") == 0          ? &list
                                                                        : NULL;
        if (!slot) {
            st = ld_err_set(err, LD_EINVAL, "unknown field \"%s\"",
                            show(e->string, shown, sizeof shown));
            goto out;
        }
        if (*slot) {
            st = ld_err_set(err, LD_EINVAL, "field \"%s\" given twice", e->string);
            goto out;
        }
        *slot = e;
    }
    if (!version || !list) {
        st = ld_err_set(err, LD_EINVAL, "missing required field \"%s\"",
                        version ? "rules" : "linkdoctor_rules");
        goto out;
    }
    if (!cJSON_IsNumber(version) || version->valuedouble != 1.0) {
        st = ld_err_set(err, LD_EINVAL,
                        "linkdoctor_rules: unsupported format version (this linkdoctor reads 1)");
        goto out;
    }
    if (!cJSON_IsArray(list)) {
        st = ld_err_set(err, LD_EINVAL, "rules: must be an array");
        goto out;
    }
    cJSON_ArrayForEach(e, list) {
        if (b->rs->n + b->n >= RULES_MAX) {
            st = ld_err_set(err, LD_ELIMIT, "rule %zu: a rule set holds at most %d rules",
                            index + 1, RULES_MAX);
            goto out;
        }
        st = parse_rule(b, e, ++index, origin, err);
        if (st != LD_OK)
            goto out;
    }
out:
    cJSON_Delete(root);
    return st;
}

/* Resolves suppresses of the batch's rules to positions in the set + batch. */
static ld_status resolve_suppresses(batch *b, ld_err *err) {
    char shown[SHOW_MAX + 8];
    for (size_t i = 0; i < b->n; i++) {
        ld_rule *r = b->rules[i];
        if (r->nsuppresses == 0)
            continue;
        r->suppress_idx = calloc(r->nsuppresses, sizeof *r->suppress_idx);
        if (!r->suppress_idx)
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        for (size_t k = 0; k < r->nsuppresses; k++) {
            r->suppress_idx[k] = combined_find(b, r->suppresses[k]);
            if (r->suppress_idx[k] == NOT_SUPPRESSED)
                return ld_err_set(err, LD_EINVAL, "%s: rule '%s': suppresses: unknown rule '%s'",
                                  r->origin, r->id, show(r->suppresses[k], shown, sizeof shown));
        }
    }
    return LD_OK;
}

/* Rejects suppression cycles: with none, every fired rule is either reported
 * or hidden by a chain that ends in a reported root cause. Iterative DFS. */
static ld_status check_cycles(const batch *b, ld_err *err) {
    size_t n = b->rs->n + b->n;
    ld_status st = LD_OK;
    unsigned char *color = calloc(n ? n : 1, 1); /* 0 new, 1 on the path, 2 done */
    size_t *node = calloc(n ? n : 1, sizeof *node), *edge = calloc(n ? n : 1, sizeof *edge);
    if (!color || !node || !edge) {
        st = ld_err_set(err, LD_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t root = 0; root < n; root++) {
        if (color[root])
            continue;
        size_t depth = 0;
        node[0] = root;
        edge[0] = 0;
        color[root] = 1;
        while (depth != SIZE_MAX) {
            const ld_rule *r = combined_at(b, node[depth]);
            if (edge[depth] == r->nsuppresses) {
                color[node[depth]] = 2;
                depth--; /* wraps to SIZE_MAX after the root */
                continue;
            }
            size_t next = r->suppress_idx[edge[depth]++];
            if (color[next] == 2)
                continue;
            if (color[next] == 0) {
                color[next] = 1;
                node[++depth] = next;
                edge[depth] = 0;
                continue;
            }
            /* next is on the path: name the cycle from next back to next. */
            ld_buf path;
            ld_buf_init(&path, LD_ERR_MAX);
            size_t from = depth;
            while (node[from] != next)
                from--;
            for (size_t k = from; k <= depth; k++)
                ld_buf_printf(&path, "%s -> ", combined_at(b, node[k])->id);
            ld_buf_puts(&path, combined_at(b, next)->id);
            st = ld_err_set(err, LD_EINVAL, "%s: rule '%s': suppresses: suppression cycle %s",
                            r->origin, r->id, ld_buf_str(&path));
            ld_buf_clear(&path);
            goto out;
        }
    }
out:
    free(color);
    free(node);
    free(edge);
    return st;
}

/* Checks references across the set and the batch, then moves the batch into the set. */
static ld_status commit(ld_ruleset *rs, batch *b, ld_err *err) {
    ld_status st = resolve_suppresses(b, err);
    if (st == LD_OK)
        st = check_cycles(b, err);
    if (st != LD_OK || b->n == 0)
        return st;
    ld_rule **rules = realloc(rs->rules, (rs->n + b->n) * sizeof *rules);
    if (!rules)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    rs->rules = rules;
    memcpy(rs->rules + rs->n, b->rules, b->n * sizeof *rules);
    rs->n += b->n;
    b->n = 0; /* the set owns them now */
    return LD_OK;
}

ld_status ld_ruleset_add_json(ld_ruleset *rs, const char *text, size_t len, const char *origin,
                              ld_err *err) {
    batch b = {.rs = rs};
    ld_status st = load_json(&b, text, len, origin, err);
    if (st != LD_OK)
        ld_err_prefix(err, "%s: ", origin);
    else
        st = commit(rs, &b, err);
    batch_free(&b);
    return st;
}

ld_status ld_ruleset_add_builtin(ld_ruleset *rs, ld_err *err) {
    batch b = {.rs = rs};
    ld_status st = LD_OK;
    for (unsigned i = 0; st == LD_OK && i < ld_builtin_rules_count; i++) {
        const ld_builtin_file *f = &ld_builtin_rules[i];
        st = load_json(&b, f->text, f->len, f->path, err);
        if (st != LD_OK)
            ld_err_prefix(err, "%s: ", f->path);
    }
    if (st == LD_OK)
        st = commit(rs, &b, err);
    batch_free(&b);
    return st;
}

/* Reads at most LD_RULES_FILE_MAX bytes of path into a malloc'd buffer. */
static ld_status read_rules_file(const char *path, char **text, size_t *len, ld_err *err) {
    ld_status st = LD_OK;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    struct stat sb;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ld_err_set(err, LD_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = ld_err_set(err, LD_EINVAL, "%s: is a directory", path);
        goto out;
    }
    /* A pipe or a device could stall the start of a run past --timeout. */
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        st = ld_err_set(err, LD_EINVAL, "%s: not a regular file (save the rules to a file)", path);
        goto out;
    }
    for (;;) {
        if (n == cap) {
            /* One byte past the limit tells "too big" from "exactly at the limit". */
            cap = cap ? cap * 2 : 64 << 10;
            if (cap > LD_RULES_FILE_MAX + 1)
                cap = LD_RULES_FILE_MAX + 1;
            char *grown = realloc(buf, cap);
            if (!grown) {
                st = ld_err_set(err, LD_ENOMEM, "out of memory");
                goto out;
            }
            buf = grown;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            st = ld_err_set(err, LD_EIO, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > LD_RULES_FILE_MAX) {
            st = ld_err_set(err, LD_ELIMIT, "%s: larger than %zu bytes, the limit for a rules file",
                            path, LD_RULES_FILE_MAX);
            goto out;
        }
    }
    if (n == 0) {
        st = ld_err_set(err, LD_EINVAL, "%s: empty file", path);
        goto out;
    }
    *text = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return st;
}

ld_status ld_ruleset_add_file(ld_ruleset *rs, const char *path, ld_err *err) {
    char *text = NULL;
    size_t len = 0;
    ld_status st = read_rules_file(path, &text, &len, err);
    if (st == LD_OK)
        st = ld_ruleset_add_json(rs, text, len, path, err);
    free(text);
    return st;
}

/* --- evaluation -------------------------------------------------------------------- */

static void diagnosis_clear(ld_diagnosis *d) {
    free(d->id);
    free_strings(d->docs, d->ndocs);
    free(d->suppressed_by_id);
    free(d->title);
    free(d->summary);
    free(d->remediation);
    for (size_t i = 0; i < d->nevidence; i++)
        ld_value_clear(&d->evidence[i].value);
    free(d->evidence);
    memset(d, 0, sizeof *d);
}

void ld_diagnoses_clear(ld_diagnoses *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->nreported; i++)
        diagnosis_clear(&d->reported[i]);
    for (size_t i = 0; i < d->nsuppressed; i++)
        diagnosis_clear(&d->suppressed[i]);
    free(d->reported);
    free(d->suppressed);
    memset(d, 0, sizeof *d);
}

/* A target fact; with no facts at all, nothing is recorded. */
static const ld_value *fact_get(const ld_facts *facts, ld_fact_id id) {
    return facts ? ld_facts_get(facts, id) : NULL;
}

/* Renders a checked template into a new string. Text past RENDER_MAX is cut:
 * a diagnosis with a shortened list beats no diagnosis. */
static ld_status render_text(const char *tmpl, const ld_facts *facts, char **out) {
    ld_buf b;
    ld_buf_init(&b, RENDER_MAX);
    ld_status st = ld_template_render(tmpl, facts, &b);
    if (st == LD_ELIMIT)
        st = LD_OK;
    if (st == LD_OK) {
        *out = ld_buf_take(&b);
        if (!*out)
            st = LD_ENOMEM;
    }
    ld_buf_clear(&b);
    return st;
}

/* Fills d for a fired rule. On failure d holds what was made; clear it. */
/* The severity of a fired rule for these facts. */
static ld_severity fired_severity(const ld_rule *r, const ld_facts *facts) {
    return r->critical_when && ld_expr_eval(r->critical_when, facts) ? LD_SEV_CRITICAL
                                                                     : r->severity;
}

/* A copy of the n strings of v into *out (NULL when n is 0). */
static ld_status copy_strings(char *const *v, size_t n, char ***out) {
    *out = n ? calloc(n, sizeof **out) : NULL;
    if (n && !*out)
        return LD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!((*out)[i] = strdup(v[i])))
            return LD_ENOMEM;
    return LD_OK;
}

ld_status ld_diagnosis_copy_identity(const ld_diagnosis *from, ld_diagnosis *to) {
    to->rule = from->rule;
    to->suppressed_by = from->suppressed_by;
    if (from->id && !(to->id = strdup(from->id)))
        return LD_ENOMEM;
    ld_status st = copy_strings(from->docs, from->ndocs, &to->docs);
    to->ndocs = to->docs ? from->ndocs : 0;
    if (st == LD_OK && from->suppressed_by_id &&
        !(to->suppressed_by_id = strdup(from->suppressed_by_id)))
        st = LD_ENOMEM;
    return st;
}

static ld_status diagnose(const ld_rule *r, const ld_facts *facts, ld_cloud cloud,
                          ld_diagnosis *d) {
    d->rule = r;
    /* What a renderer needs of the rule travels with the diagnosis, so that
     * one read back from a report (no rule behind it) renders the same. */
    if (!(d->id = strdup(r->id)))
        return LD_ENOMEM;
    ld_status st = copy_strings(r->docs, r->ndocs, &d->docs);
    d->ndocs = d->docs ? r->ndocs : 0;
    if (st != LD_OK)
        return st;
    if (d->suppressed_by && !(d->suppressed_by_id = strdup(d->suppressed_by->id)))
        return LD_ENOMEM;
    d->severity = fired_severity(r, facts);
    d->confidence =
        r->high_when && ld_expr_eval(r->high_when, facts) ? LD_CONF_HIGH : r->confidence;
    d->remediation_cloud = r->remediation[cloud] ? cloud : LD_CLOUD_GENERIC;
    st = render_text(r->title, facts, &d->title);
    if (st == LD_OK)
        st = render_text(r->summary, facts, &d->summary);
    if (st == LD_OK)
        st = render_text(r->remediation[d->remediation_cloud], facts, &d->remediation);
    if (st != LD_OK || r->nevidence == 0)
        return st;
    d->evidence = calloc(r->nevidence, sizeof *d->evidence);
    if (!d->evidence)
        return LD_ENOMEM;
    for (size_t i = 0; i < r->nevidence; i++) {
        const ld_value *v = fact_get(facts, r->evidence[i]);
        if (!v)
            continue; /* absent evidence is not quoted */
        d->evidence[d->nevidence].id = r->evidence[i];
        st = ld_value_copy(&d->evidence[d->nevidence].value, v);
        if (st != LD_OK)
            return st;
        d->nevidence++;
    }
    return LD_OK;
}

/* The cloud whose remediation applies: cloud.provider when it names one. */
static ld_cloud target_cloud(const ld_facts *facts) {
    const ld_value *v = fact_get(facts, LD_F_CLOUD_PROVIDER);
    int c = v && v->type == LD_T_STR ? ld_cloud_provider_parse(v->u.s) : -1;
    return c > 0 ? (ld_cloud)c : LD_CLOUD_GENERIC;
}

ld_status ld_rules_eval(const ld_ruleset *rs, const ld_facts *facts, ld_diagnoses *out,
                        ld_err *err) {
    ld_status st = LD_OK;
    size_t n = rs->n, nrep = 0, nsup = 0;
    unsigned char *fired = calloc(n ? n : 1, 1);
    size_t *by = malloc((n ? n : 1) * sizeof *by);        /* who suppresses each rule */
    ld_severity *sev = malloc((n ? n : 1) * sizeof *sev); /* each fired rule's severity */
    ld_cloud cloud = target_cloud(facts);
    memset(out, 0, sizeof *out);
    if (!fired || !by || !sev) {
        st = LD_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        fired[i] = (unsigned char)ld_expr_eval(rs->rules[i]->when, facts);
        sev[i] = fired[i] ? fired_severity(rs->rules[i], facts) : rs->rules[i]->severity;
        by[i] = NOT_SUPPRESSED;
    }
    /* In load order, so the first root cause is the one recorded. A suppressed
     * rule still hides what it lists: suppression is one level, not a chain. */
    for (size_t i = 0; i < n; i++) {
        const ld_rule *r = rs->rules[i];
        if (!fired[i] || r->nsuppresses == 0 ||
            (r->suppress_when && !ld_expr_eval(r->suppress_when, facts)))
            continue;
        for (size_t k = 0; k < r->nsuppresses; k++) {
            size_t j = r->suppress_idx[k];
            if (fired[j] && by[j] == NOT_SUPPRESSED)
                by[j] = i;
        }
    }
    ld_severity worst = LD_SEV_OK;
    for (size_t i = 0; i < n; i++)
        if (fired[i] && by[i] == NOT_SUPPRESSED && sev[i] > worst)
            worst = sev[i];
    /* "ok" means nothing is wrong: it cannot stand beside a warning. */
    for (size_t i = 0; i < n; i++) {
        if (fired[i] && worst >= LD_SEV_WARNING && sev[i] == LD_SEV_OK)
            fired[i] = 0;
        if (fired[i] && by[i] == NOT_SUPPRESSED)
            nrep++;
        else if (fired[i])
            nsup++;
    }
    if (nrep)
        out->reported = calloc(nrep, sizeof *out->reported);
    if (nsup)
        out->suppressed = calloc(nsup, sizeof *out->suppressed);
    if ((nrep && !out->reported) || (nsup && !out->suppressed)) {
        st = LD_ENOMEM;
        goto out;
    }
    for (int level = LD_SEV_CRITICAL; level >= LD_SEV_OK; level--) {
        for (size_t i = 0; i < n; i++) {
            if (!fired[i] || by[i] != NOT_SUPPRESSED || (int)sev[i] != level)
                continue;
            st = diagnose(rs->rules[i], facts, cloud, &out->reported[out->nreported++]);
            if (st != LD_OK)
                goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!fired[i] || by[i] == NOT_SUPPRESSED)
            continue;
        ld_diagnosis *d = &out->suppressed[out->nsuppressed++];
        d->suppressed_by = rs->rules[by[i]];
        st = diagnose(rs->rules[i], facts, cloud, d);
        if (st != LD_OK)
            goto out;
    }
out:
    if (st != LD_OK) {
        /* Rules were checked at load, so only memory can run out here. */
        ld_err_set(err, st, "%s", st == LD_ENOMEM ? "out of memory" : "cannot render a diagnosis");
        ld_diagnoses_clear(out);
    }
    free(fired);
    free(by);
    free(sev);
    return st;
}
