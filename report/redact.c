/* redact.c - --redact: a report's identifiers replaced by stable
 * placeholders, before any renderer sees it, so that every format hides
 * the same things the same way.
 *
 * The values to hide are the ones the facts name (cloud.account and the
 * other identifiers below) and this host's name. Each distinct value gets
 * one placeholder, numbered per kind in the order met ("<instance-1>"), and
 * is replaced wherever it stands as a whole word - its neighbours are not
 * letters, digits or '_' - so that "i-0abc" goes from "--instance-id
 * i-0abc" and from an ARN, but "db" is not cut out of "vectordb". A '-'
 * ends a word: names are built from these values with hyphens (a proxy
 * "PROJECT-proxy", a disk "NAME-boot"), and a value left in one would leak
 * as surely as a bare one. Longer
 * values go first: a service account's address that holds the project
 * number is replaced whole.
 *
 * The host context goes through the same replacement, every text of it: a
 * GCE instance's resolv.conf searches "c.PROJECT.internal", a hosts line or
 * a proxy variable may name the host or the project. Its addresses are
 * masked as ld_host_redact() says.
 */
#include "report.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sanitize.h"

#define SECRETS_MAX     256 /* distinct values hidden in one report */
#define SUBSTRING_MIN   3   /* shorter values are hidden only where they are a whole fact */
#define PLACEHOLDER_MAX 48  /* "<service-account-256>" and its NUL */

/* The facts whose values are hidden, and their placeholders' names. */
static const struct {
    ld_fact_id id;     /* the fact */
    const char *label; /* its placeholder's name */
} sensitive[] = {
    {LD_F_CLOUD_ACCOUNT, "account"},
    {LD_F_CLOUD_PROJECT_NUMBER, "project-number"},
    {LD_F_CLOUD_INSTANCE_ID, "instance"},
    {LD_F_CLOUD_INSTANCE_NAME, "instance-name"},
    {LD_F_CLOUD_SERVICE_ACCOUNT, "service-account"},
};
#define NSENSITIVE     (sizeof sensitive / sizeof sensitive[0])
#define LABEL_HOSTNAME NSENSITIVE /* the label index of this host's name */

/* One value to hide. */
typedef struct secret {
    const char *value;                 /* borrowed from the report being redacted */
    size_t len;                        /* its length */
    char placeholder[PLACEHOLDER_MAX]; /* what stands for it */
    int whole_only;                    /* replaced only where it is a whole fact */
} secret;

/* Every value to hide in one report, longest first once collected. */
typedef struct secrets {
    secret item[SECRETS_MAX];       /* the values */
    size_t n;                       /* how many */
    unsigned count[NSENSITIVE + 1]; /* placeholders given per label */
} secrets;

/* 1 when value is part of some target's host name (case aside): a target's
 * name stays, so such a value is hidden only where it is a whole fact. */
static int in_a_target_name(const ld_report *in, const char *value) {
    for (size_t i = 0; i < in->ntargets; i++) {
        const ld_value *h = ld_facts_get(in->targets[i].facts, LD_F_TARGET_HOST);
        if (h && h->type == LD_T_STR && strcasestr(h->u.s, value))
            return 1;
    }
    return 0;
}

/* Adds value under label, unless it is there already (under any label: the
 * same value, the same placeholder). */
static void add_secret(secrets *s, const ld_report *in, const char *value, size_t label) {
    static const char *const hostname = "hostname";
    if (!value || !value[0] || s->n == SECRETS_MAX)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->item[i].value, value) == 0)
            return;
    secret *e = &s->item[s->n++];
    e->value = value;
    e->len = strlen(value);
    snprintf(e->placeholder, sizeof e->placeholder, "<%s-%u>",
             label == LABEL_HOSTNAME ? hostname : sensitive[label].label, ++s->count[label]);
    e->whole_only = e->len < SUBSTRING_MIN || in_a_target_name(in, value);
}

static int longer_first(const void *a, const void *b) {
    const secret *x = a, *y = b;
    return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

/* Collects the values to hide: the sensitive facts of every target, in
 * target order, then this host's name. */
static void collect(secrets *s, const ld_report *in) {
    for (size_t t = 0; t < in->ntargets; t++) {
        for (size_t k = 0; k < NSENSITIVE; k++) {
            const ld_value *v = ld_facts_get(in->targets[t].facts, sensitive[k].id);
            if (v && v->type == LD_T_STR)
                add_secret(s, in, v->u.s, k);
        }
    }
    add_secret(s, in, in->hostname, LABEL_HOSTNAME);
    qsort(s->item, s->n, sizeof s->item[0], longer_first);
}

/* 1 when c continues a word: a value next to it is part of something else. */
static int word_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* text with every hidden value replaced, allocated; NULL when out of memory. */
static char *redact_text(const secrets *s, const char *text) {
    for (size_t k = 0; k < s->n; k++)
        if (strcmp(text, s->item[k].value) == 0)
            return strdup(s->item[k].placeholder);
    ld_buf b;
    ld_buf_init(&b, 0);
    ld_status st = LD_OK;
    for (size_t i = 0; text[i] && st == LD_OK;) {
        const secret *hit = NULL;
        for (size_t k = 0; k < s->n && !hit; k++) {
            const secret *e = &s->item[k];
            if (!e->whole_only && strncmp(text + i, e->value, e->len) == 0 &&
                (i == 0 || !word_char(text[i - 1])) && !word_char(text[i + e->len]))
                hit = e;
        }
        st = hit ? ld_buf_puts(&b, hit->placeholder) : ld_buf_putc(&b, text[i]);
        i += hit ? hit->len : 1;
    }
    char *out = st == LD_OK ? ld_buf_take(&b) : NULL;
    ld_buf_clear(&b);
    return out;
}

/* text (a field of a host context, size bytes) redacted in place, cut at a
 * character boundary when a placeholder makes it longer than its room. */
static ld_status redact_field(const secrets *s, char *text, size_t size) {
    char *r = redact_text(s, text);
    if (!r)
        return LD_ENOMEM;
    ld_sanitize_to(r, strlen(r), text, size);
    free(r);
    return LD_OK;
}

/* Every text of a host context - OS, kernel, interface names, the resolver
 * configuration, the hosts lines, the proxy variables - redacted in place. */
static ld_status redact_host(const secrets *s, ld_host *h) {
/* One field: redacted in its own room. */
#define FIELD(f) (st == LD_OK ? (st = redact_field(s, (f), sizeof(f))) : st)
    ld_status st = LD_OK;
    FIELD(h->os_id);
    FIELD(h->os_version_id);
    FIELD(h->os_pretty_name);
    FIELD(h->kernel);
    FIELD(h->resolv_path);
    FIELD(h->resolv_error);
    FIELD(h->hosts_path);
    for (size_t i = 0; i < h->nifaces; i++)
        FIELD(h->ifaces[i].name);
    for (size_t i = 0; i < h->nnameservers; i++)
        FIELD(h->nameservers[i]);
    for (size_t i = 0; i < h->nsearch; i++)
        FIELD(h->search[i]);
    for (size_t i = 0; i < h->noptions; i++)
        FIELD(h->options[i]);
    for (size_t i = 0; i < h->nhosts_lines; i++)
        FIELD(h->hosts_lines[i].text);
    for (size_t i = 0; i < h->nproxy; i++)
        FIELD(h->proxy[i].value);
#undef FIELD
    return st;
}

/* A redacted copy of src into dst (which must be clear). */
static ld_status redact_value(const secrets *s, const ld_value *src, ld_value *dst) {
    if (src->type == LD_T_STR) {
        char *text = redact_text(s, src->u.s);
        if (!text)
            return LD_ENOMEM;
        dst->type = LD_T_STR;
        dst->u.s = text;
        return LD_OK;
    }
    if (src->type != LD_T_LIST)
        return ld_value_copy(dst, src);
    ld_status st = LD_OK;
    dst->type = LD_T_LIST; /* an empty list stays a list */
    for (size_t i = 0; i < src->u.list.len && st == LD_OK; i++) {
        char *item = redact_text(s, src->u.list.items[i]);
        st = item ? ld_value_list_add(dst, item) : LD_ENOMEM;
        free(item);
    }
    return st;
}

/* Copies every value of bag from into bag to, redacted. */
static ld_status redact_bag(const secrets *s, const ld_bag *from, ld_bag *to) {
    ld_status st = LD_OK;
    for (size_t i = 0; i < ld_bag_len(from) && st == LD_OK; i++) {
        ld_value v = {0};
        st = redact_value(s, ld_bag_value_at(from, i), &v);
        if (st == LD_OK)
            st = ld_bag_set_value(to, ld_bag_id_at(from, i), &v);
        ld_value_clear(&v);
    }
    return st;
}

/* A redacted copy of a target's facts; NULL when out of memory. */
static ld_facts *redact_facts(const secrets *s, const ld_facts *from) {
    ld_facts *to = ld_facts_create();
    ld_status st = to ? redact_bag(s, ld_facts_target_const(from), ld_facts_target(to)) : LD_ENOMEM;
    for (size_t i = 0; i < ld_facts_subject_count(from) && st == LD_OK; i++) {
        const ld_bag *b = ld_facts_subject_at(from, i);
        char *key = redact_text(s, ld_bag_key(b));
        ld_bag *copy = key ? ld_facts_subject(to, ld_bag_kind(b), key) : NULL;
        st = copy ? redact_bag(s, b, copy) : LD_ENOMEM;
        free(key);
    }
    if (st != LD_OK) {
        ld_facts_free(to);
        return NULL;
    }
    return to;
}

/* A redacted copy of n diagnoses into *to (allocated). */
static ld_status redact_list(const secrets *s, const ld_diagnosis *from, size_t n,
                             ld_diagnosis **to, size_t *nto) {
    *nto = 0;
    *to = NULL;
    if (n == 0)
        return LD_OK;
    if (!(*to = calloc(n, sizeof **to)))
        return LD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const ld_diagnosis *f = &from[i];
        ld_diagnosis *d = &(*to)[(*nto)++];
        if (ld_diagnosis_copy_identity(f, d) != LD_OK)
            return LD_ENOMEM;
        d->severity = f->severity;
        d->confidence = f->confidence;
        d->remediation_cloud = f->remediation_cloud;
        d->title = redact_text(s, f->title);
        d->summary = redact_text(s, f->summary);
        d->remediation = redact_text(s, f->remediation);
        if (!d->title || !d->summary || !d->remediation)
            return LD_ENOMEM;
        if (f->nevidence && !(d->evidence = calloc(f->nevidence, sizeof *d->evidence)))
            return LD_ENOMEM;
        for (size_t k = 0; k < f->nevidence; k++) {
            d->evidence[k].id = f->evidence[k].id;
            d->nevidence++;
            if (redact_value(s, &f->evidence[k].value, &d->evidence[k].value) != LD_OK)
                return LD_ENOMEM;
        }
    }
    return LD_OK;
}

ld_status ld_report_redact(const ld_report *in, ld_redacted *out, ld_err *err) {
    ld_status st = LD_OK;
    memset(out, 0, sizeof *out);
    secrets *s = calloc(1, sizeof *s);
    size_t n = in->ntargets;
    out->targets = calloc(n ? n : 1, sizeof *out->targets);
    out->facts = calloc(n ? n : 1, sizeof *out->facts);
    out->diagnoses = calloc(n ? n : 1, sizeof *out->diagnoses);
    if (!s || !out->targets || !out->facts || !out->diagnoses) {
        st = LD_ENOMEM;
        goto out;
    }
    out->n = n;
    collect(s, in);
    out->report = *in;
    out->report.redact = 1; /* the JSON says so: options.redact */
    out->report.targets = out->targets;
    if (in->hostname && !(out->report.hostname = out->hostname = redact_text(s, in->hostname))) {
        st = LD_ENOMEM;
        goto out;
    }
    if (in->host) {
        if (!(out->host = ld_host_create())) {
            st = LD_ENOMEM;
            goto out;
        }
        *out->host = *in->host;
        ld_host_redact(out->host);
        out->report.host = out->host;
        if ((st = redact_host(s, out->host)) != LD_OK)
            goto out;
    }
    for (size_t i = 0; i < n && st == LD_OK; i++) {
        const ld_report_target *t = &in->targets[i];
        out->targets[i] = *t;
        if (!(out->facts[i] = redact_facts(s, t->facts))) {
            st = LD_ENOMEM;
            break;
        }
        out->targets[i].facts = out->facts[i];
        if (!t->diagnoses)
            continue;
        ld_diagnoses *d = &out->diagnoses[i];
        out->targets[i].diagnoses = d;
        st = redact_list(s, t->diagnoses->reported, t->diagnoses->nreported, &d->reported,
                         &d->nreported);
        if (st == LD_OK)
            st = redact_list(s, t->diagnoses->suppressed, t->diagnoses->nsuppressed, &d->suppressed,
                             &d->nsuppressed);
    }
out:
    free(s);
    if (st != LD_OK)
        ld_err_set(err, st, "out of memory while redacting the report");
    return st;
}

void ld_redacted_clear(ld_redacted *r) {
    for (size_t i = 0; i < r->n; i++) {
        if (r->facts)
            ld_facts_free(r->facts[i]);
        if (r->diagnoses)
            ld_diagnoses_clear(&r->diagnoses[i]);
    }
    free(r->facts);
    free(r->diagnoses);
    free(r->targets);
    free(r->hostname);
    ld_host_free(r->host);
    memset(r, 0, sizeof *r);
}
