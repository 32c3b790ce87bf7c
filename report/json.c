/* json.c - the JSON report (cJSON), driven by the fact table: every recorded
 * fact appears under its table name, every subject under probes.<kind>. */
#include "report.h"

#include <ares.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sanitize.h"
#include "core/utc.h"
#include "report/metrics.h"

/* A tree under construction that remembers whether any allocation failed,
 * so that the code below can stay linear. */
typedef struct jtree {
    int failed; /* some cJSON allocation returned NULL */
} jtree;

static cJSON *jt_check(jtree *jt, cJSON *item) {
    if (!item)
        jt->failed = 1;
    return item;
}

static void jt_add(jtree *jt, cJSON *obj, const char *key, cJSON *item) {
    if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
        jt->failed = 1;
        cJSON_Delete(item);
    }
}

/* A JSON string of text that does not come from the fact store (the host's
 * name, a file name): sanitized as every fact is, so the report stays valid
 * UTF-8 without control characters whatever the name holds. */
static cJSON *json_text(const char *s) {
    char *clean = ld_sanitize_dup(s ? s : "");
    cJSON *item = clean ? cJSON_CreateString(clean) : NULL;
    free(clean);
    return item;
}

static void jt_push(jtree *jt, cJSON *arr, cJSON *item) {
    if (!item || !arr || !cJSON_AddItemToArray(arr, item)) {
        jt->failed = 1;
        cJSON_Delete(item);
    }
}

static cJSON *json_value(jtree *jt, const ld_value *v) {
    switch (v->type) {
    case LD_T_BOOL:
        return jt_check(jt, cJSON_CreateBool(v->u.b));
    case LD_T_INT:
        return jt_check(jt, cJSON_CreateNumber((double)v->u.i));
    case LD_T_NUM:
        if (!isfinite(v->u.n))
            return jt_check(jt, cJSON_CreateNull());
        /* Milliseconds to the microsecond are plenty and keep reports short. */
        return jt_check(jt, cJSON_CreateNumber(round(v->u.n * 1000.0) / 1000.0));
    case LD_T_STR:
        return jt_check(jt, cJSON_CreateString(v->u.s));
    case LD_T_LIST: {
        cJSON *arr = jt_check(jt, cJSON_CreateArray());
        for (size_t i = 0; arr && i < v->u.list.len; i++)
            jt_push(jt, arr, cJSON_CreateString(v->u.list.items[i]));
        return arr;
    }
    case LD_T_NONE:
        break;
    }
    return jt_check(jt, cJSON_CreateNull());
}

/* {"name": value, ...} for every value of a bag; field names when subject. */
static cJSON *json_bag(jtree *jt, const ld_bag *b, int subject) {
    cJSON *obj = jt_check(jt, cJSON_CreateObject());
    for (size_t i = 0; obj && i < ld_bag_len(b); i++) {
        ld_fact_id id = ld_bag_id_at(b, i);
        const char *key = subject ? ld_fact_field(id) : ld_fact_def_get(id)->name;
        jt_add(jt, obj, key, json_value(jt, ld_bag_value_at(b, i)));
    }
    return obj;
}

/* {"dns": [...], "tcp": [...]}: subjects grouped by kind, in order seen. */
static cJSON *json_probes(jtree *jt, const ld_facts *f) {
    cJSON *obj = jt_check(jt, cJSON_CreateObject());
    for (size_t i = 0; obj && i < ld_facts_subject_count(f); i++) {
        const ld_bag *b = ld_facts_subject_at(f, i);
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, ld_bag_kind(b));
        if (!arr) {
            arr = jt_check(jt, cJSON_CreateArray());
            jt_add(jt, obj, ld_bag_kind(b), arr);
        }
        jt_push(jt, arr, json_bag(jt, b, 1));
    }
    return obj;
}

static cJSON *json_diagnosis(jtree *jt, const ld_diagnosis *d) {
    cJSON *o = jt_check(jt, cJSON_CreateObject());
    jt_add(jt, o, "id", cJSON_CreateString(d->id));
    jt_add(jt, o, "severity", cJSON_CreateString(ld_severity_name(d->severity)));
    jt_add(jt, o, "confidence", cJSON_CreateString(ld_confidence_name(d->confidence)));
    jt_add(jt, o, "title", cJSON_CreateString(d->title));
    jt_add(jt, o, "summary", cJSON_CreateString(d->summary));
    cJSON *ev = jt_check(jt, cJSON_CreateObject());
    for (size_t i = 0; ev && i < d->nevidence; i++)
        jt_add(jt, ev, ld_fact_def_get(d->evidence[i].id)->name,
               json_value(jt, &d->evidence[i].value));
    jt_add(jt, o, "evidence", ev);
    jt_add(jt, o, "remediation", cJSON_CreateString(d->remediation));
    jt_add(jt, o, "remediation_cloud", cJSON_CreateString(ld_cloud_name(d->remediation_cloud)));
    cJSON *docs = jt_check(jt, cJSON_CreateArray());
    for (size_t i = 0; docs && i < d->ndocs; i++)
        jt_push(jt, docs, cJSON_CreateString(d->docs[i]));
    jt_add(jt, o, "docs", docs);
    return o;
}

static cJSON *json_target(jtree *jt, const ld_report_target *t) {
    cJSON *o = jt_check(jt, cJSON_CreateObject());
    const ld_value *v;
    v = ld_facts_get(t->facts, LD_F_TARGET_INPUT);
    jt_add(jt, o, "target", cJSON_CreateString(v ? v->u.s : ""));
    v = ld_facts_get(t->facts, LD_F_TARGET_HOST);
    jt_add(jt, o, "host", cJSON_CreateString(v ? v->u.s : ""));
    v = ld_facts_get(t->facts, LD_F_TARGET_PORT);
    jt_add(jt, o, "port", cJSON_CreateNumber(v ? (double)v->u.i : 0));
    v = ld_facts_get(t->facts, LD_F_TARGET_SCHEME);
    jt_add(jt, o, "scheme", cJSON_CreateString(v ? v->u.s : "tcp"));
    jt_add(jt, o, "verdict", cJSON_CreateString(ld_verdict_name(t->verdict)));
    jt_add(jt, o, "duration_ms", cJSON_CreateNumber(ld_report_kept_ms(t->duration_ms)));
    jt_add(jt, o, "facts", json_bag(jt, ld_facts_target_const(t->facts), 0));
    jt_add(jt, o, "probes", json_probes(jt, t->facts));
    cJSON *diags = jt_check(jt, cJSON_CreateArray());
    cJSON *supp = jt_check(jt, cJSON_CreateArray());
    if (t->diagnoses) {
        for (size_t i = 0; diags && i < t->diagnoses->nreported; i++)
            jt_push(jt, diags, json_diagnosis(jt, &t->diagnoses->reported[i]));
        for (size_t i = 0; supp && i < t->diagnoses->nsuppressed; i++) {
            const ld_diagnosis *d = &t->diagnoses->suppressed[i];
            cJSON *s = jt_check(jt, cJSON_CreateObject());
            jt_add(jt, s, "id", cJSON_CreateString(d->id));
            jt_add(jt, s, "by", cJSON_CreateString(d->suppressed_by_id));
            jt_push(jt, supp, s);
        }
    }
    jt_add(jt, o, "diagnoses", diags);
    jt_add(jt, o, "suppressed", supp);
    return o;
}

static cJSON *json_tool(jtree *jt) {
    cJSON *o = jt_check(jt, cJSON_CreateObject());
    jt_add(jt, o, "name", cJSON_CreateString("linkdoctor"));
    jt_add(jt, o, "version", cJSON_CreateString(LD_VERSION));
    cJSON *libs = jt_check(jt, cJSON_CreateObject());
    jt_add(jt, libs, "c-ares", cJSON_CreateString(ares_version(NULL)));
    jt_add(jt, libs, "libcurl", cJSON_CreateString(curl_version_info(CURLVERSION_NOW)->version));
    jt_add(jt, libs, "openssl", cJSON_CreateString(OpenSSL_version(OPENSSL_VERSION)));
    jt_add(jt, libs, "libpcap", cJSON_CreateString(pcap_lib_version()));
    jt_add(jt, libs, "cjson", cJSON_CreateString(cJSON_Version()));
    jt_add(jt, o, "libraries", libs);
    return o;
}

/* A JSON array of the n strings of a fixed-size table (stride bytes each). */
static cJSON *json_strings(jtree *jt, const char *first, size_t stride, size_t n) {
    cJSON *arr = jt_check(jt, cJSON_CreateArray());
    for (size_t i = 0; arr && i < n; i++)
        jt_push(jt, arr, cJSON_CreateString(first + i * stride));
    return arr;
}

/* host.os, kernel, time, interfaces, resolv_conf and proxy_env: the host
 * context (core/host.h), added to linkdoctor.report/1 beside host.cloud.
 * Without one (NULL), what is unknown says so: empty or null. */
static void json_host_context(jtree *jt, cJSON *host, const ld_host *h, double started_at) {
    cJSON *os = jt_check(jt, cJSON_CreateObject());
    if (h && h->os_id[0])
        jt_add(jt, os, "id", cJSON_CreateString(h->os_id));
    if (h && h->os_version_id[0])
        jt_add(jt, os, "version_id", cJSON_CreateString(h->os_version_id));
    if (h && h->os_pretty_name[0])
        jt_add(jt, os, "pretty_name", cJSON_CreateString(h->os_pretty_name));
    jt_add(jt, host, "os", os);
    jt_add(jt, host, "kernel",
           h && h->kernel[0] ? cJSON_CreateString(h->kernel) : cJSON_CreateNull());
    char when[32];
    ld_utc_format(started_at, when, sizeof when);
    jt_add(jt, host, "time", cJSON_CreateString(h && h->time[0] ? h->time : when));
    cJSON *ifaces = jt_check(jt, cJSON_CreateArray());
    for (size_t i = 0; ifaces && h && i < h->nifaces; i++) {
        const ld_host_iface *f = &h->ifaces[i];
        cJSON *o = jt_check(jt, cJSON_CreateObject());
        jt_add(jt, o, "name", cJSON_CreateString(f->name));
        jt_add(jt, o, "state", cJSON_CreateString(f->state));
        jt_add(jt, o, "mtu", f->mtu ? cJSON_CreateNumber(f->mtu) : cJSON_CreateNull());
        jt_add(jt, o, "addresses", json_strings(jt, f->addrs[0], sizeof f->addrs[0], f->naddrs));
        jt_push(jt, ifaces, o);
    }
    jt_add(jt, host, "interfaces", ifaces);
    if (h && h->ifaces_omitted)
        jt_add(jt, host, "interfaces_omitted", cJSON_CreateNumber((double)h->ifaces_omitted));
    cJSON *rc = h ? jt_check(jt, cJSON_CreateObject()) : jt_check(jt, cJSON_CreateNull());
    if (h) {
        jt_add(jt, rc, "path", cJSON_CreateString(h->resolv_path));
        if (!h->resolv_read)
            jt_add(jt, rc, "error", cJSON_CreateString(h->resolv_error));
        jt_add(jt, rc, "nameservers",
               json_strings(jt, h->nameservers[0], sizeof h->nameservers[0], h->nnameservers));
        jt_add(jt, rc, "search", json_strings(jt, h->search[0], sizeof h->search[0], h->nsearch));
        jt_add(jt, rc, "options",
               json_strings(jt, h->options[0], sizeof h->options[0], h->noptions));
        jt_add(jt, rc, "hosts_file", cJSON_CreateString(h->hosts_path));
        cJSON *lines = jt_check(jt, cJSON_CreateArray());
        for (size_t i = 0; lines && i < h->nhosts_lines; i++) {
            cJSON *l = jt_check(jt, cJSON_CreateObject());
            jt_add(jt, l, "line", cJSON_CreateNumber(h->hosts_lines[i].number));
            jt_add(jt, l, "text", cJSON_CreateString(h->hosts_lines[i].text));
            jt_push(jt, lines, l);
        }
        jt_add(jt, rc, "hosts_entries", lines);
    }
    jt_add(jt, host, "resolv_conf", rc);
    cJSON *proxy = jt_check(jt, cJSON_CreateObject());
    for (size_t i = 0; proxy && h && i < h->nproxy; i++)
        jt_add(jt, proxy, h->proxy[i].name, cJSON_CreateString(h->proxy[i].value));
    jt_add(jt, host, "proxy_env", proxy);
}

/* host.cloud beyond provider and source: every cloud.* fact of this host
 * (the same for every target; the first's), under its name without
 * "cloud." - region, zone, az_id, account, instance_id, vpc, ... */
static void json_host_cloud(jtree *jt, cJSON *cloud, const ld_facts *facts) {
    const ld_bag *b = ld_facts_target_const(facts);
    for (size_t i = 0; i < ld_bag_len(b); i++) {
        ld_fact_id id = ld_bag_id_at(b, i);
        const char *name = ld_fact_def_get(id)->name;
        if (strncmp(name, "cloud.", 6) != 0 || id == LD_F_CLOUD_PROVIDER ||
            id == LD_F_CLOUD_PROVIDER_SOURCE)
            continue;
        jt_add(jt, cloud, name + 6, json_value(jt, ld_bag_value_at(b, i)));
    }
}

/* "2026-11-21T21:42:00.123Z" */
static void iso_time(double epoch, char *buf, size_t len) {
    /* In whole milliseconds first, so that the text read back is the same. */
    long long total = llround(ld_report_kept_time(epoch) * 1000.0);
    time_t secs = (time_t)(total / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(total % 1000));
}

/* One target's object as cJSON prints it inside the report's "targets"
 * array: indented two levels deeper (every line break is followed by two
 * more tabs; strings hold none, cJSON escapes them) or on one line. */
static ld_status render_target(const ld_report_target *t, int one_line, ld_buf *out, ld_err *err) {
    jtree jt = {0};
    cJSON *obj = json_target(&jt, t);
    char *text = jt.failed || !obj ? NULL
                 : one_line        ? cJSON_PrintUnformatted(obj)
                                   : cJSON_Print(obj);
    cJSON_Delete(obj);
    if (!text)
        return ld_err_set(err, LD_ENOMEM, "out of memory while building the JSON report");
    ld_status st = LD_OK;
    const char *p = text;
    while (st == LD_OK && *p) {
        const char *nl = one_line ? NULL : strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        st = ld_buf_append(out, p, n);
        if (st == LD_OK && nl)
            st = ld_buf_puts(out, "\t\t");
        p += n;
    }
    cJSON_free(text);
    return st;
}

/* The report as JSON, printed with cJSON_Print (indented) or on one line. */
static ld_status render(const ld_report *r, int one_line, ld_buf *out, ld_err *err) {
    jtree jt = {0};
    cJSON *root = jt_check(&jt, cJSON_CreateObject());
    char when[40];
    iso_time(r->started_at, when, sizeof when);
    jt_add(&jt, root, "schema", cJSON_CreateString(LD_REPORT_SCHEMA));
    jt_add(&jt, root, "command", cJSON_CreateString(r->command ? r->command : "check"));
    jt_add(&jt, root, "tool", json_tool(&jt));
    jt_add(&jt, root, "started_at", cJSON_CreateString(when));
    jt_add(&jt, root, "duration_ms", cJSON_CreateNumber(ld_report_kept_ms(r->duration_ms)));
    cJSON *host = jt_check(&jt, cJSON_CreateObject());
    jt_add(&jt, host, "hostname", json_text(r->hostname));
    cJSON *cloud = jt_check(&jt, cJSON_CreateObject());
    jt_add(&jt, cloud, "provider",
           r->cloud_provider ? cJSON_CreateString(r->cloud_provider) : cJSON_CreateNull());
    jt_add(&jt, cloud, "source",
           r->cloud_source ? cJSON_CreateString(r->cloud_source) : cJSON_CreateNull());
    if (r->ntargets > 0)
        json_host_cloud(&jt, cloud, r->targets[0].facts);
    jt_add(&jt, host, "cloud", cloud);
    /* An analysis of a capture file has none: the machine that read the
     * file is not the one that captured it (the fields are absent). */
    if (r->host || !r->capture_file)
        json_host_context(&jt, host, r->host, r->started_at);
    jt_add(&jt, root, "host", host);
    cJSON *opts = jt_check(&jt, cJSON_CreateObject());
    if (r->timeout_ms > 0)
        jt_add(&jt, opts, "timeout_ms", cJSON_CreateNumber(r->timeout_ms));
    if (r->connect_timeout_ms > 0)
        jt_add(&jt, opts, "connect_timeout_ms", cJSON_CreateNumber(r->connect_timeout_ms));
    if (r->capture_file)
        jt_add(&jt, opts, "capture_file", json_text(r->capture_file));
    if (r->redact)
        jt_add(&jt, opts, "redact", cJSON_CreateBool(1));
    jt_add(&jt, root, "options", opts);
    jt_add(&jt, root, "verdict", cJSON_CreateString(ld_verdict_name(r->verdict)));
    jt_add(&jt, root, "exit_code", cJSON_CreateNumber((double)r->verdict));
    jt_add(&jt, root, "targets", cJSON_CreateArray()); /* the last member, filled below */

    ld_status st = LD_OK;
    char *text = jt.failed ? NULL : one_line ? cJSON_PrintUnformatted(root) : cJSON_Print(root);
    cJSON_Delete(root);
    /* The targets are printed one at a time into the empty array, as cJSON
     * would print them in place, so that a report of many targets never holds
     * all their trees at once. */
    size_t len = text ? strlen(text) : 0;
    const char *tail = one_line ? "[]}" : "[]\n}";
    size_t tail_len = strlen(tail);
    if (!text || len < tail_len || strcmp(text + len - tail_len, tail) != 0)
        st = ld_err_set(err, LD_ENOMEM, "out of memory while building the JSON report");
    else
        st = ld_buf_append(out, text, len - tail_len + 1); /* up to "[" */
    cJSON_free(text);
    for (size_t i = 0; st == LD_OK && i < r->ntargets; i++) {
        if (i > 0)
            st = ld_buf_puts(out, one_line ? "," : ", ");
        if (st == LD_OK)
            st = render_target(&r->targets[i], one_line, out, err);
    }
    if (st == LD_OK)
        st = ld_buf_puts(out, one_line ? "]}\n" : "]\n}\n");
    if (st == LD_ELIMIT)
        ld_err_set(err, st, "the JSON report exceeds %zu bytes", out->limit);
    return st;
}

ld_status ld_report_json(const ld_report *r, ld_buf *out, ld_err *err) {
    return render(r, 0, out, err);
}

ld_status ld_report_json_line(const ld_report *r, ld_buf *out, ld_err *err) {
    return render(r, 1, out, err);
}
