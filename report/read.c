/* read.c - a saved JSON report read back into the model the renderers take.
 *
 * What `linkdoctor show` renders must be what the user saw, so a report
 * becomes the same ld_report a run builds: target facts into each target's
 * fact store, probes.<kind>[] entries into subject bags (keyed by their
 * address, or server, as the probes key them), diagnoses with their own id
 * and docs. Every string is sanitized again on the way in - a report is a
 * file anyone may have edited - and every fact must have its declared type.
 * Fields this linkdoctor does not know are skipped: within one schema,
 * reports only ever gain fields.
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sanitize.h"

#define SCHEMA_PREFIX  "linkdoctor.report/"
#define SCHEMA_VERSION 1 /* the one this linkdoctor writes and reads */
#define OWNED_MAX      8 /* run-wide strings kept (command, hostname, ...) */

struct ld_saved_report {
    ld_report report;          /* what the renderers read */
    ld_report_target *targets; /* owned, one per target */
    ld_facts **facts;          /* owned, one per target */
    ld_diagnoses *diagnoses;   /* owned, one per target */
    size_t n;                  /* how many targets */
    ld_facts *scratch;         /* turns evidence values into typed values */
    ld_host *host;             /* owned; NULL when the report has no host context */
    char *owned[OWNED_MAX];    /* the run-wide strings the report points to */
    size_t nowned;             /* how many */
};

static const cJSON *member(const cJSON *obj, const char *key) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* The member key of obj when it is an array (else NULL: no items). */
static const cJSON *array_member(const cJSON *obj, const char *key) {
    const cJSON *v = member(obj, key);
    return cJSON_IsArray(v) ? v : NULL;
}

/* The string member key of obj, or NULL when it is absent or no string. */
static const char *str_member(const cJSON *obj, const char *key) {
    const cJSON *v = member(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member key of obj, or dflt. */
static double num_member(const cJSON *obj, const char *key, double dflt) {
    const cJSON *v = member(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* A sanitized copy of s kept by the report (NULL for NULL or out of room). */
static const char *keep(ld_saved_report *s, const char *v) {
    if (!v || s->nowned == OWNED_MAX)
        return NULL;
    char *copy = ld_sanitize_dup(v);
    if (copy)
        s->owned[s->nowned++] = copy;
    return copy;
}

/* "2026-11-21T21:42:00.123Z" back to seconds since the epoch; 0 when it is not one. */
static double parse_time(const char *iso) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!rest)
        return 0;
    double frac = 0;
    if (*rest == '.')
        frac = strtod(rest, NULL);
    return (double)timegm(&tm) + (frac > 0 && frac < 1 ? frac : 0);
}

/* --- facts ---------------------------------------------------------------------- */

/* The target facts object into f's target bag. */
static ld_status read_facts(ld_facts *f, const cJSON *obj, ld_err *err) {
    if (!cJSON_IsObject(obj))
        return ld_err_set(err, LD_EINVAL, "\"facts\" is not an object");
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        int id = ld_fact_lookup(v->string, strlen(v->string));
        if (id < 0 || ld_fact_def_get((ld_fact_id)id)->scope != LD_SCOPE_TARGET)
            continue; /* a newer linkdoctor's fact */
        ld_status st = ld_bag_set_json(ld_facts_target(f), (ld_fact_id)id, v, err);
        if (st != LD_OK)
            return st;
    }
    return LD_OK;
}

/* The field of a probes.<kind>[] entry that keys its subject, as the probes
 * key them: the resolver for DNS, the address for the others. */
static const char *subject_key_field(const char *kind) {
    return strcmp(kind, "dns") == 0 ? "server" : "address";
}

/* The key of entry i of probes.kind: its key field, made unique within the
 * target (a resolver asked twice has two entries). */
static void subject_key(const ld_facts *f, const char *kind, const cJSON *entry, size_t i,
                        char *key, size_t len) {
    const char *base = str_member(entry, subject_key_field(kind));
    char clean[256];
    if (base)
        ld_sanitize_to(base, strlen(base), clean, sizeof clean);
    else
        snprintf(clean, sizeof clean, "#%zu", i + 1);
    snprintf(key, len, "%s", clean);
    for (int n = 2;; n++) {
        int taken = 0;
        for (size_t k = 0; k < ld_facts_subject_count(f) && !taken; k++) {
            const ld_bag *b = ld_facts_subject_at(f, k);
            taken = strcmp(ld_bag_kind(b), kind) == 0 && strcmp(ld_bag_key(b), key) == 0;
        }
        if (!taken)
            return;
        snprintf(key, len, "%s (%d)", clean, n);
    }
}

/* The probes object: {"dns": [{...}], "tcp": [...]} into subject bags. */
static ld_status read_probes(ld_facts *f, const cJSON *obj, ld_err *err) {
    if (!obj)
        return LD_OK;
    if (!cJSON_IsObject(obj))
        return ld_err_set(err, LD_EINVAL, "\"probes\" is not an object");
    const cJSON *kind;
    cJSON_ArrayForEach(kind, obj) {
        if (!cJSON_IsArray(kind))
            return ld_err_set(err, LD_EINVAL, "probes.%s is not an array", kind->string);
        char kname[64];
        ld_sanitize_to(kind->string, strlen(kind->string), kname, sizeof kname);
        size_t i = 0;
        const cJSON *entry;
        cJSON_ArrayForEach(entry, kind) {
            if (!cJSON_IsObject(entry))
                return ld_err_set(err, LD_EINVAL, "probes.%s[%zu] is not an object", kname, i);
            char key[320];
            subject_key(f, kname, entry, i, key, sizeof key);
            ld_bag *b = ld_facts_subject(f, kname, key);
            if (!b)
                return ld_err_set(err, LD_ELIMIT, "more than %d probe entries", LD_SUBJECTS_MAX);
            const cJSON *v;
            cJSON_ArrayForEach(v, entry) {
                int id = ld_fact_lookup_field(kname, v->string);
                if (id < 0)
                    continue; /* a newer linkdoctor's field */
                ld_status st = ld_bag_set_json(b, (ld_fact_id)id, v, err);
                if (st != LD_OK) {
                    ld_err_prefix(err, "probes.%s[%zu]: ", kname, i);
                    return st;
                }
            }
            i++;
        }
    }
    return LD_OK;
}

/* --- diagnoses ---------------------------------------------------------------------- */

/* A sanitized copy (lines kept) of a required string member into *out. */
static ld_status text_member(const cJSON *obj, const char *key, int required, char **out,
                             ld_err *err) {
    const char *v = str_member(obj, key);
    if (!v && required)
        return ld_err_set(err, LD_EINVAL, "\"%s\" is missing or not a string", key);
    *out = ld_sanitize_lines_dup(v ? v : "");
    return *out ? LD_OK : ld_err_set(err, LD_ENOMEM, "out of memory");
}

/* The evidence object into d->evidence, typed as the fact table says. */
static ld_status read_evidence(ld_saved_report *s, ld_diagnosis *d, const cJSON *obj, ld_err *err) {
    if (!obj)
        return LD_OK;
    if (!cJSON_IsObject(obj))
        return ld_err_set(err, LD_EINVAL, "\"evidence\" is not an object");
    size_t n = (size_t)cJSON_GetArraySize(obj);
    if (n && !(d->evidence = calloc(n, sizeof *d->evidence)))
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        int id = ld_fact_lookup(v->string, strlen(v->string));
        if (id < 0 || ld_fact_def_get((ld_fact_id)id)->scope != LD_SCOPE_TARGET)
            continue;
        ld_bag *t = ld_facts_target(s->scratch);
        ld_status st = ld_bag_set_json(t, (ld_fact_id)id, v, err);
        if (st != LD_OK)
            return st;
        d->evidence[d->nevidence].id = (ld_fact_id)id;
        if (ld_value_copy(&d->evidence[d->nevidence].value, ld_bag_get(t, (ld_fact_id)id)) != LD_OK)
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        d->nevidence++;
    }
    return LD_OK;
}

/* The docs array into d->docs. */
static ld_status read_docs(ld_diagnosis *d, const cJSON *arr, ld_err *err) {
    if (!arr)
        return LD_OK;
    if (!cJSON_IsArray(arr))
        return ld_err_set(err, LD_EINVAL, "\"docs\" is not an array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n && !(d->docs = calloc(n, sizeof *d->docs)))
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsString(v))
            return ld_err_set(err, LD_EINVAL, "\"docs\" holds something other than a string");
        if (!(d->docs[d->ndocs] = ld_sanitize_dup(v->valuestring)))
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        d->ndocs++;
    }
    return LD_OK;
}

/* One entry of a target's "diagnoses" into d. */
static ld_status read_diagnosis(ld_saved_report *s, ld_diagnosis *d, const cJSON *o, ld_err *err) {
    if (!cJSON_IsObject(o))
        return ld_err_set(err, LD_EINVAL, "not an object");
    int sev = ld_severity_parse(str_member(o, "severity"));
    int conf = ld_confidence_parse(str_member(o, "confidence"));
    int cloud = str_member(o, "remediation_cloud")
                    ? ld_cloud_parse(str_member(o, "remediation_cloud"))
                    : LD_CLOUD_GENERIC;
    if (sev < 0)
        return ld_err_set(err, LD_EINVAL, "\"severity\" is not ok, info, warning or critical");
    if (conf < 0)
        return ld_err_set(err, LD_EINVAL, "\"confidence\" is not high, medium or low");
    if (cloud < 0)
        return ld_err_set(err, LD_EINVAL, "\"remediation_cloud\" names no cloud");
    d->severity = (ld_severity)sev;
    d->confidence = (ld_confidence)conf;
    d->remediation_cloud = (ld_cloud)cloud;
    ld_status st = text_member(o, "id", 1, &d->id, err);
    if (st == LD_OK)
        st = text_member(o, "title", 1, &d->title, err);
    if (st == LD_OK)
        st = text_member(o, "summary", 1, &d->summary, err);
    if (st == LD_OK)
        st = text_member(o, "remediation", 0, &d->remediation, err);
    if (st == LD_OK)
        st = read_evidence(s, d, member(o, "evidence"), err);
    if (st == LD_OK)
        st = read_docs(d, member(o, "docs"), err);
    return st;
}

/* A target's "diagnoses" and "suppressed" into *out. */
static ld_status read_diagnoses(ld_saved_report *s, ld_diagnoses *out, const cJSON *target,
                                ld_err *err) {
    const cJSON *rep = member(target, "diagnoses"), *sup = member(target, "suppressed");
    if (!cJSON_IsArray(rep))
        return ld_err_set(err, LD_EINVAL, "\"diagnoses\" is missing or not an array");
    if (sup && !cJSON_IsArray(sup))
        return ld_err_set(err, LD_EINVAL, "\"suppressed\" is not an array");
    size_t nrep = (size_t)cJSON_GetArraySize(rep), nsup = sup ? (size_t)cJSON_GetArraySize(sup) : 0;
    if ((nrep && !(out->reported = calloc(nrep, sizeof *out->reported))) ||
        (nsup && !(out->suppressed = calloc(nsup, sizeof *out->suppressed))))
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const cJSON *o;
    cJSON_ArrayForEach(o, rep) {
        ld_status st = read_diagnosis(s, &out->reported[out->nreported++], o, err);
        if (st != LD_OK) {
            ld_err_prefix(err, "diagnoses[%zu]: ", out->nreported - 1);
            return st;
        }
    }
    cJSON_ArrayForEach(o, sup) {
        ld_diagnosis *d = &out->suppressed[out->nsuppressed++];
        const char *id = str_member(o, "id"), *by = str_member(o, "by");
        if (!id || !by)
            return ld_err_set(err, LD_EINVAL, "suppressed[%zu]: \"id\" and \"by\" must be strings",
                              out->nsuppressed - 1);
        if (!(d->id = ld_sanitize_dup(id)) || !(d->suppressed_by_id = ld_sanitize_dup(by)))
            return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    return LD_OK;
}

/* --- the host ------------------------------------------------------------------------ */

/* Sanitized text of obj[key] into buf ("" when absent). */
static void host_text(const cJSON *obj, const char *key, char *buf, size_t len) {
    const char *v = str_member(obj, key);
    ld_sanitize_to(v ? v : "", v ? strlen(v) : 0, buf, len);
}

/* Each string of the array obj[key] through add. */
static void host_list(ld_host *h, const cJSON *obj, const char *key,
                      void (*add)(ld_host *, const char *)) {
    const cJSON *v;
    cJSON_ArrayForEach(v, array_member(obj, key)) {
        if (cJSON_IsString(v))
            add(h, v->valuestring);
    }
}

/* The host context, when the report has one: its resolv_conf is an object
 * (a report without one, older or made without the host, has null there). */
static ld_status read_host(ld_saved_report *s, const cJSON *host, ld_err *err) {
    const cJSON *rc = member(host, "resolv_conf");
    if (!cJSON_IsObject(rc))
        return LD_OK;
    ld_host *h = s->host = ld_host_create();
    if (!h)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const cJSON *os = member(host, "os");
    host_text(os, "id", h->os_id, sizeof h->os_id);
    host_text(os, "version_id", h->os_version_id, sizeof h->os_version_id);
    host_text(os, "pretty_name", h->os_pretty_name, sizeof h->os_pretty_name);
    host_text(host, "kernel", h->kernel, sizeof h->kernel);
    host_text(host, "time", h->time, sizeof h->time);
    const cJSON *iface;
    cJSON_ArrayForEach(iface, array_member(host, "interfaces")) {
        if (h->nifaces == LD_HOST_IFACES_MAX) {
            h->ifaces_omitted++;
            continue;
        }
        ld_host_iface *f = &h->ifaces[h->nifaces++];
        host_text(iface, "name", f->name, sizeof f->name);
        host_text(iface, "state", f->state, sizeof f->state);
        double mtu = num_member(iface, "mtu", 0);
        f->mtu = mtu > 0 && mtu < 4294967296.0 ? (unsigned)mtu : 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, array_member(iface, "addresses")) {
            if (cJSON_IsString(a) && f->naddrs < LD_HOST_IFACE_ADDRS_MAX)
                ld_sanitize_to(a->valuestring, strlen(a->valuestring), f->addrs[f->naddrs++],
                               sizeof f->addrs[0]);
        }
    }
    double omitted = num_member(host, "interfaces_omitted", 0);
    if (omitted >= 1 && omitted < 1e9)
        h->ifaces_omitted += (size_t)omitted;
    host_text(rc, "path", h->resolv_path, sizeof h->resolv_path);
    host_text(rc, "error", h->resolv_error, sizeof h->resolv_error);
    h->resolv_read = !member(rc, "error");
    host_list(h, rc, "nameservers", ld_host_add_nameserver);
    host_list(h, rc, "search", ld_host_add_search);
    host_list(h, rc, "options", ld_host_add_option);
    host_text(rc, "hosts_file", h->hosts_path, sizeof h->hosts_path);
    const cJSON *line;
    cJSON_ArrayForEach(line, array_member(rc, "hosts_entries")) {
        const char *text = str_member(line, "text");
        if (text)
            ld_host_add_hosts_line(h, (int)num_member(line, "line", 0), text);
    }
    const cJSON *var, *proxy = member(host, "proxy_env");
    if (!cJSON_IsObject(proxy))
        proxy = NULL;
    cJSON_ArrayForEach(var, proxy) {
        if (!cJSON_IsString(var) || h->nproxy == LD_HOST_PROXY_MAX)
            continue;
        ld_host_var *p = &h->proxy[h->nproxy++];
        ld_sanitize_to(var->string, strlen(var->string), p->name, sizeof p->name);
        ld_sanitize_to(var->valuestring, strlen(var->valuestring), p->value, sizeof p->value);
    }
    return LD_OK;
}

/* --- the report -------------------------------------------------------------------------- */

/* Checks "schema": this version, or one line that says why not. */
static ld_status check_schema(const cJSON *root, ld_err *err) {
    const char *schema = str_member(root, "schema");
    size_t plen = strlen(SCHEMA_PREFIX);
    if (!schema || strncmp(schema, SCHEMA_PREFIX, plen) != 0)
        return ld_err_set(err, LD_EINVAL,
                          "not a linkdoctor report (no \"schema\": \"" SCHEMA_PREFIX "%d\")",
                          SCHEMA_VERSION);
    char *end;
    long version = strtol(schema + plen, &end, 10);
    char shown[64];
    ld_sanitize_to(schema, strlen(schema), shown, sizeof shown);
    if (end == schema + plen || *end || version < 1)
        return ld_err_set(err, LD_EINVAL, "not a linkdoctor report (schema \"%s\")", shown);
    if (version > SCHEMA_VERSION)
        return ld_err_set(err, LD_EINVAL,
                          "schema %s is newer than this linkdoctor reads (" SCHEMA_PREFIX
                          "%d): use a newer linkdoctor",
                          shown, SCHEMA_VERSION);
    return LD_OK;
}

/* Target i of the report: facts, probes, diagnoses, verdict. */
static ld_status read_target(ld_saved_report *s, size_t i, const cJSON *o, ld_err *err) {
    if (!cJSON_IsObject(o))
        return ld_err_set(err, LD_EINVAL, "not an object");
    if (!(s->facts[i] = ld_facts_create()))
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_status st = read_facts(s->facts[i], member(o, "facts"), err);
    if (st == LD_OK)
        st = read_probes(s->facts[i], member(o, "probes"), err);
    if (st == LD_OK)
        st = read_diagnoses(s, &s->diagnoses[i], o, err);
    if (st != LD_OK)
        return st;
    int verdict = ld_verdict_parse(str_member(o, "verdict"));
    if (verdict < 0)
        return ld_err_set(err, LD_EINVAL, "\"verdict\" is not ok, warning, critical or unknown");
    s->targets[i] = (ld_report_target){
        .facts = s->facts[i],
        .diagnoses = &s->diagnoses[i],
        .verdict = (ld_verdict)verdict,
        .duration_ms = num_member(o, "duration_ms", 0),
    };
    return LD_OK;
}

/* The whole report from its parsed root. */
static ld_status read_report(ld_saved_report *s, const cJSON *root, ld_err *err) {
    ld_status st = check_schema(root, err);
    if (st != LD_OK)
        return st;
    const cJSON *targets = member(root, "targets");
    int verdict = ld_verdict_parse(str_member(root, "verdict"));
    if (!cJSON_IsArray(targets))
        return ld_err_set(err, LD_EINVAL, "\"targets\" is missing or not an array");
    if (verdict < 0)
        return ld_err_set(err, LD_EINVAL, "\"verdict\" is not ok, warning, critical or unknown");
    size_t n = (size_t)cJSON_GetArraySize(targets);
    s->targets = calloc(n ? n : 1, sizeof *s->targets);
    s->facts = calloc(n ? n : 1, sizeof *s->facts);
    s->diagnoses = calloc(n ? n : 1, sizeof *s->diagnoses);
    if (!s->targets || !s->facts || !s->diagnoses || !(s->scratch = ld_facts_create()))
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const cJSON *o;
    cJSON_ArrayForEach(o, targets) {
        if ((st = read_target(s, s->n, o, err)) != LD_OK) {
            ld_err_prefix(err, "targets[%zu]: ", s->n);
            s->n++; /* what it made is freed with the rest */
            return st;
        }
        s->n++;
    }
    const cJSON *host = member(root, "host"), *cloud = member(host, "cloud");
    const cJSON *opts = member(root, "options");
    if ((st = read_host(s, host, err)) != LD_OK)
        return st;
    s->report = (ld_report){
        .command = keep(s, str_member(root, "command")),
        .started_at = parse_time(str_member(root, "started_at")),
        .duration_ms = num_member(root, "duration_ms", 0),
        .timeout_ms = num_member(opts, "timeout_ms", 0),
        .connect_timeout_ms = num_member(opts, "connect_timeout_ms", 0),
        .capture_file = keep(s, str_member(opts, "capture_file")),
        .hostname = keep(s, str_member(host, "hostname")),
        .cloud_provider = keep(s, str_member(cloud, "provider")),
        .cloud_source = keep(s, str_member(cloud, "source")),
        .host = s->host,
        .verdict = (ld_verdict)verdict,
        .targets = s->targets,
        .ntargets = s->n,
        /* Said again when it is rendered again: it was redacted when saved. */
        .redact = cJSON_IsTrue(member(opts, "redact")),
    };
    return LD_OK;
}

ld_saved_report *ld_saved_report_parse(const char *json, size_t len, ld_err *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        ld_err_set(err, LD_EINVAL, "not valid JSON (at byte %zu)", at);
        return NULL;
    }
    size_t rest = (size_t)(end - json);
    while (rest < len && strchr(" \t\r\n", json[rest]))
        rest++;
    if (rest < len) {
        /* --watch --format json writes one report per line: show takes one. */
        cJSON_Delete(root);
        ld_err_set(err, LD_EINVAL,
                   "more than one JSON value (at byte %zu): show reads one report, "
                   "e.g. one line of a --watch stream",
                   rest);
        return NULL;
    }
    ld_saved_report *s = calloc(1, sizeof *s);
    ld_status st = s ? read_report(s, root, err) : ld_err_set(err, LD_ENOMEM, "out of memory");
    cJSON_Delete(root);
    if (st != LD_OK) {
        ld_saved_report_free(s);
        return NULL;
    }
    return s;
}

const ld_report *ld_saved_report_get(const ld_saved_report *s) {
    return &s->report;
}

void ld_saved_report_free(ld_saved_report *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        ld_diagnoses_clear(&s->diagnoses[i]);
        ld_facts_free(s->facts[i]);
    }
    free(s->targets);
    free(s->facts);
    free(s->diagnoses);
    ld_facts_free(s->scratch);
    ld_host_free(s->host);
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s);
}
