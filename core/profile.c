/* profile.c - service profiles from JSON. */
#include "profile.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/cloud.h"
#include "core/expect.h"

/* Copies a required (or optional) string field; errors name it. */
static ld_status get_string(const cJSON *obj, const char *field, int required, char *dst,
                            size_t len, ld_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v) {
        if (required)
            return ld_err_set(err, LD_EINVAL, "missing \"%s\"", field);
        dst[0] = '\0';
        return LD_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return ld_err_set(err, LD_EINVAL, "\"%s\" must be a non-empty string", field);
    if (strlen(v->valuestring) >= len)
        return ld_err_set(err, LD_EINVAL, "\"%s\" is longer than %zu characters", field, len - 1);
    strcpy(dst, v->valuestring);
    return LD_OK;
}

static ld_status parse_profile(const cJSON *o, ld_profile *p, ld_err *err) {
    static const char *const known[] = {"name", "description",   "scheme",
                                        "port", "expect_status", "expect_az_ids",
                                        "docs", "names",         NULL};
    if (!cJSON_IsObject(o))
        return ld_err_set(err, LD_EINVAL, "a profile must be an object");
    const cJSON *f;
    cJSON_ArrayForEach(f, o) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= strcmp(f->string, known[i]) == 0;
        if (!ok)
            return ld_err_set(err, LD_EINVAL, "unknown field \"%s\"", f->string);
    }
    char scheme[16];
    ld_status st;
    if ((st = get_string(o, "name", 1, p->name, sizeof p->name, err)) != LD_OK ||
        (st = get_string(o, "description", 1, p->description, sizeof p->description, err)) ||
        (st = get_string(o, "scheme", 1, scheme, sizeof scheme, err)) ||
        (st = get_string(o, "expect_status", 0, p->expect_status, sizeof p->expect_status, err)))
        return st;
    /* The scheme is checked by parsing a URL made of it. */
    char url[64];
    ld_target t;
    snprintf(url, sizeof url, "%s://h.example:1", scheme);
    if (ld_target_parse(url, &t, NULL) != LD_OK)
        return ld_err_set(err, LD_EINVAL, "unknown scheme \"%s\"", scheme);
    p->scheme = t.scheme;
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");
    if (!cJSON_IsNumber(port) || port->valuedouble < 1 || port->valuedouble > 65535 ||
        port->valuedouble != (int)port->valuedouble)
        return ld_err_set(err, LD_EINVAL, "\"port\" must be a whole number from 1 to 65535");
    p->port = (uint16_t)port->valueint;
    ld_expect_status e;
    ld_err inner;
    if (p->expect_status[0] && ld_expect_parse(p->expect_status, &e, &inner) != LD_OK)
        return ld_err_set(err, LD_EINVAL, "expect_status: %s", inner.msg);
    const cJSON *azs = cJSON_GetObjectItemCaseSensitive(o, "expect_az_ids");
    const cJSON *az;
    p->nexpect_az_ids = 0;
    if (azs && !cJSON_IsArray(azs))
        return ld_err_set(err, LD_EINVAL, "\"expect_az_ids\" must be a list of AZ IDs");
    cJSON_ArrayForEach(az, azs) {
        if (!cJSON_IsString(az) || ld_az_id_check(az->valuestring, &inner) != LD_OK)
            return cJSON_IsString(az)
                       ? ld_err_set(err, LD_EINVAL, "expect_az_ids: %.40s: %s", az->valuestring,
                                    inner.msg)
                       : ld_err_set(err, LD_EINVAL, "expect_az_ids: entries must be strings");
        if (p->nexpect_az_ids == LD_AZ_IDS_MAX)
            return ld_err_set(err, LD_EINVAL, "expect_az_ids: at most %d", LD_AZ_IDS_MAX);
        strcpy(p->expect_az_ids[p->nexpect_az_ids++], az->valuestring);
    }
    /* The vendor's name patterns are core/names.c's to read and check. */
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(o, "names");
    if (names && !cJSON_IsArray(names))
        return ld_err_set(err, LD_EINVAL, "\"names\" must be a list of name patterns");
    const cJSON *docs = cJSON_GetObjectItemCaseSensitive(o, "docs");
    p->ndocs = 0;
    if (docs && !cJSON_IsArray(docs))
        return ld_err_set(err, LD_EINVAL, "\"docs\" must be a list of URLs");
    const cJSON *d;
    cJSON_ArrayForEach(d, docs) {
        if (!cJSON_IsString(d) || strncmp(d->valuestring, "http", 4) != 0 ||
            strlen(d->valuestring) >= sizeof p->docs[0])
            return ld_err_set(err, LD_EINVAL, "\"docs\" entries must be http(s) URLs");
        if (p->ndocs == LD_PROFILE_DOCS_MAX)
            return ld_err_set(err, LD_EINVAL, "at most %d docs", LD_PROFILE_DOCS_MAX);
        strcpy(p->docs[p->ndocs++], d->valuestring);
    }
    return LD_OK;
}

ld_status ld_profiles_parse(const char *text, size_t len, const char *origin, ld_profiles *out,
                            ld_err *err) {
    memset(out, 0, sizeof *out);
    ld_status st = LD_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root)
        return ld_err_set(err, LD_EINVAL, "%s: malformed JSON", origin);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "linkdoctor_profiles");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "profiles");
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(version) || version->valueint != 1 ||
        !cJSON_IsArray(list)) {
        st = ld_err_set(err, LD_EINVAL,
                        "%s: expected {\"linkdoctor_profiles\": 1, \"profiles\": [...]}", origin);
        goto out;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, list) {
        if (out->n == LD_PROFILES_MAX) {
            st = ld_err_set(err, LD_ELIMIT, "%s: more than %d profiles", origin, LD_PROFILES_MAX);
            goto out;
        }
        ld_profile *p = &out->items[out->n];
        if ((st = parse_profile(o, p, err)) != LD_OK) {
            ld_err_prefix(err, "%s: profile %zu: ", origin, out->n + 1);
            goto out;
        }
        if (ld_profiles_find(out, p->name)) {
            st = ld_err_set(err, LD_EINVAL, "%s: profile '%s' is defined twice", origin, p->name);
            goto out;
        }
        out->n++;
    }
out:
    cJSON_Delete(root);
    if (st != LD_OK)
        out->n = 0;
    return st;
}

const ld_profile *ld_profiles_find(const ld_profiles *ps, const char *name) {
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->items[i].name, name) == 0)
            return &ps->items[i];
    return NULL;
}
