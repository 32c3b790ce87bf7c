/* names.c - the name reader: name templates compiled to POSIX extended
 * regular expressions, and what a match says recorded as facts.
 *
 * A template such as "{endpoint_id:vpce_id}-{_suffix:vpce_suffix}.{service:labels}"
 * becomes ^(vpce-[0-9a-f]{8,17})-([0-9a-z]{4,8})\.(...)$: literal text is
 * escaped (a dot in the data is a dot, never "any character"), each capture
 * is its class in a group of its own, and the group number of each capture
 * is counted as the expression is built - classes may hold groups of their
 * own, which shift the ones after them. The table is immutable once loaded,
 * and regexec() on a const regex_t is safe to share, so one table serves
 * every target of every run.
 *
 * An expression is compiled on its first use, not at load: glibc's regcomp()
 * costs ~20 us an expression and the Azure zone table alone makes ~160, which
 * every check of a DNS name would pay before its first packet. A pattern
 * keeps the longest literal text of its name, and a name without it cannot
 * match, so most patterns are never compiled in a run. Everything a load can
 * refuse is still refused at load (classes compile there; a name's expression
 * joins escaped literals and those groups), and ld_names_compile() compiles
 * a whole table for the tests. The table is used from the event loop's thread
 * only, so compiling through a const table changes no result anyone sees.
 */
#include "names.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define NAMES_KEY_MAX      32   /* a class, table, capture or field name, NUL included */
#define NAMES_CLASSES_MAX  64   /* classes in one table */
#define NAMES_GROUPS_MAX   32   /* groups in one pattern's expression (captures and theirs) */
#define NAMES_CAPTURES_MAX 12   /* captures in one pattern */
#define NAMES_FIELDS_MAX   12   /* "fields" entries of one pattern, row values included */
#define NAMES_UNLESS_MAX   4    /* "unless" names of one pattern */
#define NAMES_REGEX_MAX    8192 /* bytes of one compiled expression's source */
#define NAMES_CHAIN_MAX    32   /* names of one chain read (the looked-up one first) */

/* The field names of the data, in ld_name_field order, and their facts. */
static const char *const field_names[LD_NAME__COUNT] = {
    [LD_NAME_ENDPOINT_ID] = "endpoint_id",
    [LD_NAME_SERVICE] = "service",
    [LD_NAME_REGION] = "region",
    [LD_NAME_ZONE] = "zone",
    [LD_NAME_REGIONAL_NAME] = "regional_name",
    [LD_NAME_PRIVATELINK_ZONE] = "privatelink_zone",
    [LD_NAME_RECORD] = "record",
    [LD_NAME_PUBLIC_ZONE] = "public_zone",
};
static const ld_fact_id field_facts[LD_NAME__COUNT] = {
    [LD_NAME_ENDPOINT_ID] = LD_F_DNS_ENDPOINT_ID,
    [LD_NAME_SERVICE] = LD_F_DNS_ENDPOINT_SERVICE,
    [LD_NAME_REGION] = LD_F_DNS_ENDPOINT_REGION,
    [LD_NAME_ZONE] = LD_F_DNS_ENDPOINT_ZONE,
    [LD_NAME_REGIONAL_NAME] = LD_F_DNS_ENDPOINT_REGIONAL_NAME,
    [LD_NAME_PRIVATELINK_ZONE] = LD_F_DNS_PRIVATELINK_ZONE,
    [LD_NAME_RECORD] = LD_F_DNS_PRIVATELINK_RECORD,
    [LD_NAME_PUBLIC_ZONE] = LD_F_DNS_PRIVATELINK_PUBLIC_ZONE,
};
static const char *const clouds[] = {"aws", "gcp", "azure", NULL};
static const char *const kinds[] = {"regional",      "zonal", "privatelink", "service_public",
                                    "service_alias", "psc",   "vendor",      NULL};
/* In a field's text, the whole name read. */
#define WHOLE_NAME "name"

/* A named piece of expression the templates use. */
typedef struct names_class {
    char name[NAMES_KEY_MAX]; /* what {x:NAME} calls it */
    char *re;                 /* the ERE fragment, owned */
    size_t groups;            /* groups it holds itself */
} names_class;

/* A capture of a pattern: which group holds it. */
typedef struct names_capture {
    char name[NAMES_KEY_MAX]; /* a field name or a _helper */
    size_t group;             /* its group in the expression */
} names_capture;

/* A field a match states beyond its captures. */
typedef struct names_field {
    char name[NAMES_KEY_MAX]; /* a field name or a _helper */
    char *text;               /* text with {capture} and {name}, owned */
} names_field;

/* One compiled pattern (a row of a table pattern is one of its own). */
typedef struct names_pattern {
    char id[64];                                /* its "id" */
    char cloud[8];                              /* aws, gcp or azure */
    char kind[16];                              /* one of kinds[] */
    char vendor[32];                            /* the profile that carries it, "" for none */
    int vendor_naming;                          /* authority: vendor */
    char *src;                                  /* the name's expression, owned */
    char shown[LD_NAME_MAX];                    /* the name for people: CLUSTER.aws-REGION... */
    char need[LD_NAME_MAX];                     /* its longest literal text: a name
                                                   without it cannot match */
    regex_t re;                                 /* src, compiled on first use */
    int compiled;                               /* 1 re holds src, -1 it failed, 0 not yet */
    names_capture captures[NAMES_CAPTURES_MAX]; /* its captures */
    size_t ncaptures;                           /* how many */
    names_field fields[NAMES_FIELDS_MAX];       /* "fields", then row values */
    size_t nfields;                             /* how many */
    char *unless_src[NAMES_UNLESS_MAX];         /* names it does not read, expressions, owned */
    regex_t unless[NAMES_UNLESS_MAX];           /* unless_src, compiled on first use */
    int unless_compiled[NAMES_UNLESS_MAX];      /* as compiled, for each */
    size_t nunless;                             /* how many */
} names_pattern;

struct ld_names {
    names_class classes[NAMES_CLASSES_MAX];         /* every file's classes */
    size_t nclasses;                                /* how many */
    names_pattern *patterns[LD_NAMES_PATTERNS_MAX]; /* in load order, owned */
    size_t npatterns;                               /* how many */
};

/* --- templates ------------------------------------------------------------------ */

/* One piece of a template: literal text or a placeholder. */
typedef struct tmpl_piece {
    int placeholder;  /* {name} or {name:class}, else literal text */
    const char *text; /* the literal text, or the placeholder's name */
    size_t len;       /* its bytes */
    const char *cls;  /* the class after ':', NULL when none */
    size_t cls_len;   /* its bytes */
} tmpl_piece;

/* Scans the piece at t[*at] and moves *at past it: 1 for a piece, 0 at the
 * end, -1 (err set) for a brace that opens no well-formed placeholder. */
static int next_piece(const char *t, size_t *at, tmpl_piece *pc, ld_err *err) {
    size_t i = *at;
    memset(pc, 0, sizeof *pc);
    if (!t[i])
        return 0;
    if (t[i] != '{') {
        size_t end = i;
        while (t[end] && t[end] != '{' && t[end] != '}')
            end++;
        if (t[end] == '}' && end == i) {
            ld_err_set(err, LD_EINVAL, "position %zu: unmatched '}'", i + 1);
            return -1;
        }
        pc->text = t + i;
        pc->len = end - i;
        *at = end;
        return 1;
    }
    size_t end = i + 1;
    while (t[end] && t[end] != '}' && t[end] != '{')
        end++;
    if (t[end] != '}' || end == i + 1) {
        ld_err_set(err, LD_EINVAL, "position %zu: '{' opens no {name} or {name:class}", i + 1);
        return -1;
    }
    pc->placeholder = 1;
    pc->text = t + i + 1;
    const char *colon = memchr(pc->text, ':', end - i - 1);
    pc->len = colon ? (size_t)(colon - pc->text) : end - i - 1;
    if (colon) {
        pc->cls = colon + 1;
        pc->cls_len = (size_t)(t + end - pc->cls);
    }
    if (pc->len == 0 || pc->len >= NAMES_KEY_MAX || (colon && pc->cls_len == 0)) {
        ld_err_set(err, LD_EINVAL,
                   "position %zu: a placeholder needs a name (and a class) "
                   "of 1 to %d characters",
                   i + 1, NAMES_KEY_MAX - 1);
        return -1;
    }
    *at = end + 1;
    return 1;
}

/* The template t as people read it: each placeholder its name in capitals
 * without a leading '_' ("{_cluster:label}.aws-{region:aws_region}..." is
 * "CLUSTER.aws-REGION..."); cut at len. t is well formed (build_name
 * refuses it otherwise, so what is shown then does not matter). */
static void show_name(const char *t, char *out, size_t len) {
    size_t at = 0, o = 0;
    tmpl_piece pc;
    ld_err ignored;
    while (next_piece(t, &at, &pc, &ignored) == 1) {
        int skip = pc.placeholder && pc.len > 1 && pc.text[0] == '_';
        for (size_t k = skip; k < pc.len && o + 1 < len; k++)
            out[o++] = pc.placeholder ? (char)toupper((unsigned char)pc.text[k]) : pc.text[k];
    }
    out[o] = '\0';
}

/* 1 when the n bytes at s spell the NUL-terminated word. */
static int spells(const char *s, size_t n, const char *word) {
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* The field a name stands for, or -1 (a helper, or not a field). */
static int field_index(const char *s, size_t n) {
    for (int i = 0; i < LD_NAME__COUNT; i++)
        if (spells(s, n, field_names[i]))
            return i;
    return -1;
}

/* 1 when a capture or field may have this name: a field, or a _helper. */
static int valid_key(const char *s, size_t n) {
    if (n == 0 || n >= NAMES_KEY_MAX)
        return 0;
    if (s[0] != '_')
        return field_index(s, n) >= 0;
    for (size_t i = 1; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return n > 1;
}

/* 1 when c may appear in the literal text of a name template. */
static int name_char(char c) {
    return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-' ||
           c == '_';
}

/* Groups an ERE fragment opens: '(' outside bracket expressions, unescaped. */
static size_t count_groups(const char *re) {
    size_t n = 0;
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        } else if (*p == '(') {
            n++;
        } else if (*p == '[') {
            /* A ']' first (after '^') is a member; [:class:] and the like nest. */
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p && *p != ']') {
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    char close = p[1];
                    p += 2;
                    while (*p && !(*p == close && p[1] == ']'))
                        p++;
                    if (*p)
                        p++;
                }
                if (*p)
                    p++;
            }
            if (!*p)
                break;
        }
    }
    return n;
}

static const names_class *find_class(const ld_names *n, const char *s, size_t len) {
    for (size_t i = 0; i < n->nclasses; i++)
        if (spells(s, len, n->classes[i].name))
            return &n->classes[i];
    return NULL;
}

static const names_capture *find_capture(const names_pattern *p, const char *s, size_t len) {
    for (size_t i = 0; i < p->ncaptures; i++)
        if (spells(s, len, p->captures[i].name))
            return &p->captures[i];
    return NULL;
}

/* Builds the expression of the name template t into *out (owned by the
 * caller): ^...$ with each {capture:class} a group. With p, the captures are
 * recorded in it and its longest literal text in p->need; without, the
 * template (an "unless" name) may not name a capture twice either, but its
 * captures are not kept. */
static ld_status build_name(const ld_names *n, const char *t, names_pattern *p, char **out,
                            ld_err *err) {
    ld_buf src;
    ld_buf_init(&src, NAMES_REGEX_MAX);
    ld_status st = ld_buf_putc(&src, '^');
    names_pattern scratch; /* the captures of an "unless" name, checked and dropped */
    names_pattern *into = p ? p : &scratch;
    into->ncaptures = 0;
    into->need[0] = '\0';
    size_t groups = 0, at = 0;
    tmpl_piece pc;
    int r = 0;
    while (st == LD_OK && (r = next_piece(t, &at, &pc, err)) > 0) {
        if (!pc.placeholder) {
            if (pc.len > strlen(into->need) && pc.len < sizeof into->need) {
                memcpy(into->need, pc.text, pc.len);
                into->need[pc.len] = '\0';
            }
            for (size_t i = 0; i < pc.len && st == LD_OK; i++) {
                if (!name_char(pc.text[i])) {
                    st = ld_err_set(err, LD_EINVAL, "'%c' cannot be part of a name", pc.text[i]);
                    break;
                }
                if (pc.text[i] == '.')
                    st = ld_buf_putc(&src, '\\');
                if (st == LD_OK)
                    st = ld_buf_putc(&src, pc.text[i]);
            }
            continue;
        }
        const names_class *c = pc.cls ? find_class(n, pc.cls, pc.cls_len) : NULL;
        if (!pc.cls) {
            st = ld_err_set(err, LD_EINVAL, "{%.*s} in a name needs a class: {%.*s:CLASS}",
                            (int)pc.len, pc.text, (int)pc.len, pc.text);
        } else if (!c) {
            st = ld_err_set(err, LD_EINVAL, "no class \"%.*s\"", (int)pc.cls_len, pc.cls);
        } else if (!valid_key(pc.text, pc.len)) {
            st = ld_err_set(err, LD_EINVAL, "capture \"%.*s\" is neither a field nor a _helper",
                            (int)pc.len, pc.text);
        } else if (find_capture(into, pc.text, pc.len)) {
            st = ld_err_set(err, LD_EINVAL, "\"%.*s\" is captured twice", (int)pc.len, pc.text);
        } else if (into->ncaptures == NAMES_CAPTURES_MAX ||
                   groups + 1 + c->groups >= NAMES_GROUPS_MAX) {
            st = ld_err_set(err, LD_ELIMIT, "more than %d captures or %d groups",
                            NAMES_CAPTURES_MAX, NAMES_GROUPS_MAX - 1);
        } else {
            names_capture *cap = &into->captures[into->ncaptures++];
            memcpy(cap->name, pc.text, pc.len);
            cap->name[pc.len] = '\0';
            cap->group = groups + 1;
            groups += 1 + c->groups;
            st = ld_buf_printf(&src, "(%s)", c->re);
        }
    }
    if (st == LD_OK && r < 0)
        st = LD_EINVAL;
    if (st == LD_OK)
        st = ld_buf_putc(&src, '$');
    if (st == LD_ELIMIT && src.len >= NAMES_REGEX_MAX - 1)
        ld_err_set(err, LD_ELIMIT, "the name's expression is longer than %d bytes",
                   NAMES_REGEX_MAX);
    *out = st == LD_OK ? ld_buf_take(&src) : NULL;
    if (st == LD_OK && !*out)
        st = ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_buf_clear(&src);
    return st;
}

/* Compiles src into re once (*state: 0 not yet, 1 compiled, -1 failed);
 * 1 when re holds it. */
static int compile_once(regex_t *re, const char *src, int *state, int flags, ld_err *err) {
    if (*state == 0) {
        int rc = regcomp(re, src, REG_EXTENDED | flags);
        *state = rc == 0 ? 1 : -1;
        if (rc != 0 && err) {
            char why[128];
            regerror(rc, re, why, sizeof why);
            ld_err_set(err, LD_EINVAL, "the name does not compile: %s", why);
        }
    }
    return *state == 1;
}

/* Checks a field's text: every {x} is a capture of p or {name}. */
static ld_status check_field_text(const names_pattern *p, const char *t, ld_err *err) {
    size_t at = 0;
    tmpl_piece pc;
    int r;
    while ((r = next_piece(t, &at, &pc, err)) > 0) {
        if (!pc.placeholder)
            continue;
        if (pc.cls)
            return ld_err_set(err, LD_EINVAL, "a field's text takes {capture}, not a class");
        if (!spells(pc.text, pc.len, WHOLE_NAME) && !find_capture(p, pc.text, pc.len))
            return ld_err_set(err, LD_EINVAL, "{%.*s} is not a capture of the name", (int)pc.len,
                              pc.text);
    }
    return r < 0 ? LD_EINVAL : LD_OK;
}

/* Renders a field's text for a match of p on name into out (outlen bytes);
 * 0 when it does not fit. */
static int render_field(const names_pattern *p, const char *t, const char *name,
                        const regmatch_t *m, char *out, size_t outlen) {
    size_t at = 0, len = 0;
    tmpl_piece pc;
    while (next_piece(t, &at, &pc, NULL) > 0) {
        const char *s = pc.text;
        size_t n = pc.len;
        if (pc.placeholder) {
            const names_capture *c = find_capture(p, pc.text, pc.len);
            s = c ? name + m[c->group].rm_so : name;
            n = c ? (size_t)(m[c->group].rm_eo - m[c->group].rm_so) : strlen(name);
            if (c && m[c->group].rm_so < 0)
                n = 0; /* an optional group that took no part */
        }
        if (len + n >= outlen)
            return 0;
        memcpy(out + len, s, n);
        len += n;
    }
    out[len] = '\0';
    return 1;
}

/* --- loading -------------------------------------------------------------------- */

static void pattern_free(names_pattern *p) {
    if (!p)
        return;
    if (p->compiled == 1)
        regfree(&p->re);
    free(p->src);
    for (size_t i = 0; i < p->nunless; i++) {
        if (p->unless_compiled[i] == 1)
            regfree(&p->unless[i]);
        free(p->unless_src[i]);
    }
    for (size_t i = 0; i < p->nfields; i++)
        free(p->fields[i].text);
    free(p);
}

ld_names *ld_names_create(void) {
    return calloc(1, sizeof(ld_names));
}

void ld_names_free(ld_names *n) {
    if (!n)
        return;
    for (size_t i = 0; i < n->npatterns; i++)
        pattern_free(n->patterns[i]);
    for (size_t i = 0; i < n->nclasses; i++)
        free(n->classes[i].re);
    free(n);
}

size_t ld_names_count(const ld_names *n) {
    return n ? n->npatterns : 0;
}

int ld_names_pattern_at(const ld_names *n, size_t i, ld_name_pattern_info *out) {
    if (!n || i >= n->npatterns)
        return 0;
    const names_pattern *p = n->patterns[i];
    *out = (ld_name_pattern_info){
        .id = p->id, .cloud = p->cloud, .kind = p->kind, .vendor = p->vendor, .shown = p->shown};
    return 1;
}

/* Undoes a failed load: the classes and patterns added since. */
static void rollback(ld_names *n, size_t nclasses, size_t npatterns) {
    while (n->npatterns > npatterns)
        pattern_free(n->patterns[--n->npatterns]);
    while (n->nclasses > nclasses)
        free(n->classes[--n->nclasses].re);
}

/* 1 when s is one of the NULL-terminated words. */
static int one_of(const char *s, const char *const *words) {
    for (size_t i = 0; words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    return 0;
}

/* Checks that object o has no member but the known ones. */
static ld_status only_known(const cJSON *o, const char *const *known, ld_err *err) {
    const cJSON *k;
    cJSON_ArrayForEach(k, o) {
        if (!one_of(k->string, known))
            return ld_err_set(err, LD_EINVAL, "unknown field \"%s\"", k->string);
    }
    return LD_OK;
}

/* Copies a string member into dst (len bytes) from a list of allowed values
 * (NULL: any non-empty string that fits); def when absent (NULL: required). */
static ld_status get_word(const cJSON *o, const char *key, const char *const *allowed,
                          const char *def, char *dst, size_t len, ld_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const char *s = v ? (cJSON_IsString(v) ? v->valuestring : NULL) : def;
    if (!v && !def)
        return ld_err_set(err, LD_EINVAL, "missing \"%s\"", key);
    if (!s || !s[0] || strlen(s) >= len || (allowed && !one_of(s, allowed)))
        return ld_err_set(err, LD_EINVAL, "\"%s\" must be %s", key,
                          allowed ? "one of the documented words" : "a short non-empty string");
    strcpy(dst, s);
    return LD_OK;
}

/* Replaces each {key} (without a class) of t whose key the row has by the
 * row's value; the rest stays. Returns the new text (the caller frees it),
 * NULL with err set when out of memory or a value holds a brace. */
static char *fill_row(const char *t, const cJSON *row, ld_err *err) {
    ld_buf out;
    ld_buf_init(&out, NAMES_REGEX_MAX);
    size_t at = 0, from = 0;
    tmpl_piece pc;
    int r = 0;
    ld_status st = LD_OK;
    while (st == LD_OK && (r = next_piece(t, &at, &pc, err)) > 0) {
        const cJSON *v = NULL;
        if (pc.placeholder && !pc.cls && row) {
            char key[NAMES_KEY_MAX];
            memcpy(key, pc.text, pc.len);
            key[pc.len] = '\0';
            v = cJSON_GetObjectItemCaseSensitive(row, key);
        }
        if (v && cJSON_IsString(v))
            st = ld_buf_puts(&out, v->valuestring);
        else
            st = ld_buf_append(&out, t + from, at - from);
        from = at;
    }
    if (st == LD_OK && r < 0)
        st = LD_EINVAL;
    else if (st != LD_OK)
        ld_err_set(err, st, "a name or field is longer than %d bytes", NAMES_REGEX_MAX);
    char *s = st == LD_OK ? ld_buf_take(&out) : NULL;
    if (st == LD_OK && !s)
        ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_buf_clear(&out);
    return s;
}

/* Adds a field (its text filled from row) to p, checked against p's captures. */
static ld_status add_field(names_pattern *p, const char *key, const char *text, const cJSON *row,
                           ld_err *err) {
    if (!valid_key(key, strlen(key)))
        return ld_err_set(err, LD_EINVAL, "\"%s\" is neither a field nor a _helper", key);
    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(p->fields[i].name, key) == 0)
            return LD_OK; /* "fields" come first and win over a row's value */
    if (p->nfields == NAMES_FIELDS_MAX)
        return ld_err_set(err, LD_ELIMIT, "more than %d fields", NAMES_FIELDS_MAX);
    char *filled = fill_row(text, row, err);
    if (!filled)
        return LD_EINVAL;
    ld_status st = check_field_text(p, filled, err);
    if (st != LD_OK) {
        ld_err_prefix(err, "field \"%s\": ", key);
        free(filled);
        return st;
    }
    strcpy(p->fields[p->nfields].name, key);
    p->fields[p->nfields++].text = filled;
    return LD_OK;
}

/* Builds one pattern from its object o (for one row of its table, or row
 * NULL). */
static ld_status build_pattern(const ld_names *n, const cJSON *o, const cJSON *row,
                               const char *vendor, names_pattern *p, ld_err *err) {
    static const char *const authorities[] = {"provider", "vendor", NULL};
    char authority[16];
    ld_status st;
    if ((st = get_word(o, "id", NULL, NULL, p->id, sizeof p->id, err)) ||
        (st = get_word(o, "cloud", clouds, NULL, p->cloud, sizeof p->cloud, err)) ||
        (st = get_word(o, "kind", kinds, NULL, p->kind, sizeof p->kind, err)) ||
        (st = get_word(o, "authority", authorities, vendor ? "vendor" : "provider", authority,
                       sizeof authority, err)))
        return st;
    p->vendor_naming = strcmp(authority, "vendor") == 0;
    if (vendor && !p->vendor_naming)
        return ld_err_set(err, LD_EINVAL,
                          "a profile's names are a vendor's: \"authority\" "
                          "must be vendor");
    strcpy(p->vendor, vendor ? vendor : "");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name))
        return ld_err_set(err, LD_EINVAL, "\"name\" must be a name template");
    char *filled = fill_row(name->valuestring, row, err);
    if (!filled)
        return LD_EINVAL;
    show_name(filled, p->shown, sizeof p->shown);
    st = build_name(n, filled, p, &p->src, err);
    free(filled);
    if (st != LD_OK) {
        ld_err_prefix(err, "name: ");
        return st;
    }
    const cJSON *unless = cJSON_GetObjectItemCaseSensitive(o, "unless");
    const cJSON *u;
    if (unless && !cJSON_IsArray(unless))
        return ld_err_set(err, LD_EINVAL, "\"unless\" must be a list of name templates");
    cJSON_ArrayForEach(u, unless) {
        if (!cJSON_IsString(u))
            return ld_err_set(err, LD_EINVAL, "\"unless\" must be a list of name templates");
        if (p->nunless == NAMES_UNLESS_MAX)
            return ld_err_set(err, LD_ELIMIT, "more than %d \"unless\" names", NAMES_UNLESS_MAX);
        if (!(filled = fill_row(u->valuestring, row, err)))
            return LD_EINVAL;
        st = build_name(n, filled, NULL, &p->unless_src[p->nunless], err);
        free(filled);
        if (st != LD_OK) {
            ld_err_prefix(err, "unless: ");
            return st;
        }
        p->nunless++;
    }
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(o, "fields");
    const cJSON *f;
    if (fields && !cJSON_IsObject(fields))
        return ld_err_set(err, LD_EINVAL, "\"fields\" must be an object of texts");
    cJSON_ArrayForEach(f, fields) {
        if (!cJSON_IsString(f))
            return ld_err_set(err, LD_EINVAL, "field \"%s\" must be a text", f->string);
        if ((st = add_field(p, f->string, f->valuestring, row, err)) != LD_OK)
            return st;
    }
    /* A row's values are fields too, as literal text. */
    cJSON_ArrayForEach(f, row) {
        if (!cJSON_IsString(f) || strchr(f->valuestring, '{') || strchr(f->valuestring, '}'))
            return ld_err_set(err, LD_EINVAL, "row value \"%s\" must be a text without braces",
                              f->string);
        if ((st = add_field(p, f->string, f->valuestring, NULL, err)) != LD_OK)
            return st;
    }
    return LD_OK;
}

/* Adds the pattern object o - one per row of its table - to n. */
static ld_status add_pattern(ld_names *n, const cJSON *o, const cJSON *tables, const char *vendor,
                             ld_err *err) {
    static const char *const known[] = {"id",     "cloud",  "kind", "authority", "name",
                                        "fields", "unless", "rows", "source",    NULL};
    if (!cJSON_IsObject(o))
        return ld_err_set(err, LD_EINVAL, "a pattern must be an object");
    ld_status st = only_known(o, known, err);
    if (st != LD_OK)
        return st;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    for (size_t i = 0; cJSON_IsString(id) && i < n->npatterns; i++)
        if (strcmp(n->patterns[i]->id, id->valuestring) == 0)
            return ld_err_set(err, LD_EINVAL, "pattern \"%s\" is defined twice", id->valuestring);
    const cJSON *rows_name = cJSON_GetObjectItemCaseSensitive(o, "rows");
    const cJSON *rows = NULL;
    if (rows_name) {
        rows = cJSON_IsString(rows_name)
                   ? cJSON_GetObjectItemCaseSensitive(tables, rows_name->valuestring)
                   : NULL;
        if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) == 0)
            return ld_err_set(err, LD_EINVAL, "\"rows\" must name a table of this file");
    }
    const cJSON *row = rows ? rows->child : NULL;
    size_t index = 1;
    do {
        if (rows && !cJSON_IsObject(row))
            return ld_err_set(err, LD_EINVAL, "row %zu of \"%s\" must be an object", index,
                              rows_name->valuestring);
        if (n->npatterns == LD_NAMES_PATTERNS_MAX)
            return ld_err_set(err, LD_ELIMIT, "more than %d patterns", LD_NAMES_PATTERNS_MAX);
        names_pattern *p = calloc(1, sizeof *p);
        if (!p)
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        st = build_pattern(n, o, row, vendor, p, err);
        if (st != LD_OK) {
            if (rows)
                ld_err_prefix(err, "row %zu: ", index);
            pattern_free(p); /* what it compiled and copied before it failed */
            return st;
        }
        n->patterns[n->npatterns++] = p;
        row = row ? row->next : NULL;
        index++;
    } while (row);
    return LD_OK;
}

/* Adds a file's classes: an ERE fragment each, or a list of literal names
 * (matched as written, one of them). */
static ld_status add_classes(ld_names *n, const cJSON *classes, ld_err *err) {
    const cJSON *c;
    if (classes && !cJSON_IsObject(classes))
        return ld_err_set(err, LD_EINVAL, "\"classes\" must be an object");
    cJSON_ArrayForEach(c, classes) {
        size_t nlen = strlen(c->string);
        if (nlen == 0 || nlen >= NAMES_KEY_MAX ||
            strspn(c->string, "abcdefghijklmnopqrstuvwxyz0123456789_") != nlen)
            return ld_err_set(err, LD_EINVAL,
                              "class \"%s\": a class name is 1 to %d of a-z, 0-9 and _", c->string,
                              NAMES_KEY_MAX - 1);
        if (find_class(n, c->string, strlen(c->string)))
            return ld_err_set(err, LD_EINVAL, "class \"%s\" is defined twice", c->string);
        if (n->nclasses == NAMES_CLASSES_MAX)
            return ld_err_set(err, LD_ELIMIT, "more than %d classes", NAMES_CLASSES_MAX);
        ld_buf re;
        ld_buf_init(&re, NAMES_REGEX_MAX / 2);
        ld_status st = LD_OK;
        if (cJSON_IsString(c) && c->valuestring[0]) {
            st = ld_buf_puts(&re, c->valuestring);
        } else if (cJSON_IsArray(c) && cJSON_GetArraySize(c) > 0) {
            const cJSON *word;
            cJSON_ArrayForEach(word, c) {
                const char *w = cJSON_IsString(word) ? word->valuestring : "";
                size_t len = strlen(w);
                for (size_t i = 0; i < len; i++)
                    if (!name_char(w[i]))
                        len = 0;
                if (len == 0) {
                    st = ld_err_set(err, LD_EINVAL,
                                    "class \"%s\": its words must be lower-case names", c->string);
                    break;
                }
                if (word != c->child)
                    st = ld_buf_putc(&re, '|');
                for (size_t i = 0; i < len && st == LD_OK; i++)
                    st = w[i] == '.' ? ld_buf_puts(&re, "\\.") : ld_buf_putc(&re, w[i]);
            }
        } else {
            st = ld_err_set(err, LD_EINVAL, "class \"%s\" must be an expression or a list of words",
                            c->string);
        }
        if (st == LD_ELIMIT)
            ld_err_set(err, st, "class \"%s\" is longer than %d bytes", c->string,
                       NAMES_REGEX_MAX / 2);
        /* The fragment must compile on its own, as a group. */
        regex_t test;
        char *whole = NULL;
        if (st == LD_OK) {
            size_t len = re.len + 3;
            whole = malloc(len);
            if (!whole)
                st = ld_err_set(err, LD_ENOMEM, "out of memory");
            else
                snprintf(whole, len, "(%s)", ld_buf_str(&re));
        }
        if (st == LD_OK && regcomp(&test, whole, REG_EXTENDED | REG_NOSUB) != 0)
            st = ld_err_set(err, LD_EINVAL, "class \"%s\" does not compile", c->string);
        else if (st == LD_OK)
            regfree(&test);
        free(whole);
        if (st != LD_OK) {
            ld_buf_clear(&re);
            return st;
        }
        names_class *nc = &n->classes[n->nclasses];
        strcpy(nc->name, c->string);
        nc->re = ld_buf_take(&re);
        if (!nc->re)
            nc->re = strdup("");
        if (!nc->re)
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        nc->groups = count_groups(nc->re);
        n->nclasses++;
    }
    return LD_OK;
}

/* Adds a list of pattern objects; errors name the pattern by its id or place. */
static ld_status add_patterns(ld_names *n, const cJSON *list, const cJSON *tables,
                              const char *vendor, ld_err *err) {
    size_t index = 1;
    const cJSON *o;
    cJSON_ArrayForEach(o, list) {
        ld_status st = add_pattern(n, o, tables, vendor, err);
        if (st != LD_OK) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
            if (cJSON_IsString(id))
                ld_err_prefix(err, "pattern \"%s\": ", id->valuestring);
            else
                ld_err_prefix(err, "pattern %zu: ", index);
            return st;
        }
        index++;
    }
    return LD_OK;
}

ld_status ld_names_load(ld_names *n, const char *text, size_t len, const char *origin,
                        ld_err *err) {
    static const char *const known[] = {"linkdoctor_names", "comment",  "classes",
                                        "tables",           "patterns", NULL};
    size_t nclasses = n->nclasses, npatterns = n->npatterns;
    ld_status st = LD_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "linkdoctor_names");
    const cJSON *tables = cJSON_GetObjectItemCaseSensitive(root, "tables");
    const cJSON *patterns = cJSON_GetObjectItemCaseSensitive(root, "patterns");
    if (!root) {
        st = ld_err_set(err, LD_EINVAL, "%s: malformed JSON", origin);
        goto out;
    }
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(version) || version->valuedouble != 1 ||
        !cJSON_IsArray(patterns) || (tables && !cJSON_IsObject(tables))) {
        st = ld_err_set(err, LD_EINVAL,
                        "%s: expected {\"linkdoctor_names\": 1, \"classes\": {...}, "
                        "\"patterns\": [...]}",
                        origin);
        goto out;
    }
    if ((st = only_known(root, known, err)) ||
        (st = add_classes(n, cJSON_GetObjectItemCaseSensitive(root, "classes"), err)) ||
        (st = add_patterns(n, patterns, tables, NULL, err)))
        ld_err_prefix(err, "%s: ", origin);
out:
    cJSON_Delete(root);
    if (st != LD_OK)
        rollback(n, nclasses, npatterns);
    return st;
}

ld_status ld_names_load_profiles(ld_names *n, const char *text, size_t len, const char *origin,
                                 ld_err *err) {
    size_t npatterns = n->npatterns;
    ld_status st = LD_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *profiles = cJSON_GetObjectItemCaseSensitive(root, "profiles");
    if (!root || !cJSON_IsArray(profiles)) {
        st = ld_err_set(err, LD_EINVAL, "%s: expected {\"profiles\": [...]}", origin);
        goto out;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, profiles) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *names = cJSON_GetObjectItemCaseSensitive(p, "names");
        if (!names)
            continue;
        if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= 32 ||
            !cJSON_IsArray(names)) {
            st = ld_err_set(err, LD_EINVAL,
                            "%s: a profile's \"names\" must be a list of "
                            "patterns, and the profile needs a \"name\"",
                            origin);
            goto out;
        }
        if ((st = add_patterns(n, names, NULL, name->valuestring, err)) != LD_OK) {
            ld_err_prefix(err, "%s: profile '%s': ", origin, name->valuestring);
            goto out;
        }
    }
out:
    cJSON_Delete(root);
    if (st != LD_OK)
        rollback(n, n->nclasses, npatterns);
    return st;
}

/* --- reading -------------------------------------------------------------------- */

/* The name as DNS compares it - lower case, without the root's trailing dot -
 * into out; 0 when it is no host name (empty, too long, an empty label, a
 * character no host name has). */
static int normalize(const char *name, char out[LD_NAME_MAX]) {
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len >= LD_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)name[i]);
        if (!name_char(c) || (c == '.' && (i == 0 || out[i - 1] == '.')))
            return 0;
        out[i] = c;
    }
    out[len] = '\0';
    return out[len - 1] != '.';
}

/* Fills out from p's match m on name. */
static void fill_match(const names_pattern *p, const char *name, const regmatch_t *m,
                       ld_name_match *out) {
    memset(out, 0, sizeof *out);
    out->pattern = p->id;
    out->cloud = p->cloud;
    out->kind = p->kind;
    out->vendor = p->vendor;
    out->vendor_naming = p->vendor_naming;
    for (size_t i = 0; i < p->ncaptures; i++) {
        const names_capture *c = &p->captures[i];
        int f = field_index(c->name, strlen(c->name));
        regoff_t so = m[c->group].rm_so, eo = m[c->group].rm_eo;
        if (f >= 0 && so >= 0 && eo > so && (size_t)(eo - so) < LD_NAME_MAX) {
            memcpy(out->field[f], name + so, (size_t)(eo - so));
            out->field[f][eo - so] = '\0';
        }
    }
    for (size_t i = 0; i < p->nfields; i++) {
        int f = field_index(p->fields[i].name, strlen(p->fields[i].name));
        if (f >= 0 && !render_field(p, p->fields[i].text, name, m, out->field[f], LD_NAME_MAX))
            out->field[f][0] = '\0';
    }
}

/* 1 when p reads name (normalized): its name matches and no "unless" does.
 * An expression that does not compile reads nothing (ld_names_compile says
 * which). */
static int pattern_reads(names_pattern *p, const char *name, regmatch_t *m) {
    if (!strstr(name, p->need) || !compile_once(&p->re, p->src, &p->compiled, 0, NULL) ||
        regexec(&p->re, name, NAMES_GROUPS_MAX, m, 0) != 0)
        return 0;
    for (size_t i = 0; i < p->nunless; i++)
        if (compile_once(&p->unless[i], p->unless_src[i], &p->unless_compiled[i], REG_NOSUB,
                         NULL) &&
            regexec(&p->unless[i], name, 0, NULL, 0) == 0)
            return 0;
    return 1;
}

ld_status ld_names_compile(ld_names *n, ld_err *err) {
    for (size_t i = 0; n && i < n->npatterns; i++) {
        names_pattern *p = n->patterns[i];
        const char *which = "name";
        int ok = compile_once(&p->re, p->src, &p->compiled, 0, err);
        for (size_t k = 0; ok && k < p->nunless; k++) {
            which = "unless";
            ok = compile_once(&p->unless[k], p->unless_src[k], &p->unless_compiled[k], REG_NOSUB,
                              err);
        }
        if (!ok) {
            ld_err_prefix(err, "pattern \"%s\": %s: ", p->id, which);
            return LD_EINVAL;
        }
    }
    return LD_OK;
}

int ld_names_read(const ld_names *n, const char *name, ld_name_match *out) {
    char norm[LD_NAME_MAX];
    regmatch_t m[NAMES_GROUPS_MAX];
    if (!n || !name || !normalize(name, norm))
        return 0;
    /* A vendor's own patterns first: it knows its names best. */
    for (int vendor_pass = 1; vendor_pass >= 0; vendor_pass--) {
        for (size_t i = 0; i < n->npatterns; i++) {
            names_pattern *p = n->patterns[i]; /* may compile: see the top of this file */
            if ((p->vendor[0] != '\0') == vendor_pass && pattern_reads(p, norm, m)) {
                fill_match(p, norm, m, out);
                return 1;
            }
        }
    }
    return 0;
}

/* 1 when match a is a better source of facts than b: the provider's naming
 * before a vendor's, then the name later in the chain (nearer the endpoint). */
static int better(const ld_name_match *a, size_t ia, const ld_name_match *b, size_t ib) {
    if (a->vendor_naming != b->vendor_naming)
        return !a->vendor_naming;
    return ia > ib;
}

ld_status ld_names_record(const ld_names *n, const char *name, const ld_value *chain,
                          ld_bag *target) {
    if (!n)
        return LD_OK;
    ld_name_match *m = malloc(NAMES_CHAIN_MAX * sizeof *m); /* ~16 KiB: not for the stack */
    const char *which[NAMES_CHAIN_MAX];                     /* the name each match read */
    size_t order[NAMES_CHAIN_MAX], nm = 0;
    if (!m)
        return LD_ENOMEM;
    ld_status st = ld_bag_set_empty_list(target, LD_F_DNS_RECOGNIZED_NAMES);
    if (st == LD_OK)
        st = ld_bag_set_empty_list(target, LD_F_DNS_NAME_PATTERNS);
    size_t nchain = chain && chain->type == LD_T_LIST ? chain->u.list.len : 0;
    for (size_t i = 0; st == LD_OK && i <= nchain && nm < NAMES_CHAIN_MAX; i++) {
        const char *s = i == 0 ? name : chain->u.list.items[i - 1];
        if (!s || !ld_names_read(n, s, &m[nm]))
            continue;
        which[nm] = s;
        st = ld_bag_list_add(target, LD_F_DNS_RECOGNIZED_NAMES, s);
        if (st == LD_OK)
            st = ld_bag_list_add(target, LD_F_DNS_NAME_PATTERNS, m[nm].pattern);
        /* Insertion into the order of preference; the chain is short. */
        size_t at = nm;
        while (at > 0 && better(&m[nm], nm, &m[order[at - 1]], order[at - 1])) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = nm++;
    }
    if (st == LD_OK && nm > 0) {
        const ld_name_match *best = &m[order[0]];
        char norm[LD_NAME_MAX];
        normalize(which[order[0]], norm);
        st = ld_bag_set_str(target, LD_F_DNS_ENDPOINT_NAME, norm);
        if (st == LD_OK)
            st = ld_bag_set_str(target, LD_F_DNS_ENDPOINT_NAME_KIND, best->kind);
        if (st == LD_OK)
            st = ld_bag_set_str(target, LD_F_DNS_ENDPOINT_CLOUD, best->cloud);
        for (size_t k = 0; st == LD_OK && k < nm; k++)
            if (m[order[k]].vendor[0]) {
                st = ld_bag_set_str(target, LD_F_DNS_ENDPOINT_VENDOR, m[order[k]].vendor);
                break;
            }
        for (int f = 0; st == LD_OK && f < LD_NAME__COUNT; f++) {
            for (size_t k = 0; k < nm; k++) {
                const ld_name_match *src = &m[order[k]];
                if (!src->field[f][0])
                    continue;
                st = ld_bag_set_str(target, field_facts[f], src->field[f]);
                if (st == LD_OK && f == LD_NAME_REGION)
                    st = ld_bag_set_str(target, LD_F_DNS_ENDPOINT_REGION_SOURCE,
                                        src->vendor_naming ? "vendor" : "provider");
                break;
            }
        }
    }
    free(m);
    return st;
}
