/* query.c - /probe queries as option words. */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ld_query_add(ld_query *q, const char *name, const char *value) {
    if (q->bad[0])
        return 1;
    if (strcmp(name, "target") == 0) {
        q->target = value;
        q->targets++;
        return 0;
    }
    if (strcmp(name, "format") == 0) {
        if (!value || (strcmp(value, "json") && strcmp(value, "prometheus"))) {
            snprintf(q->bad, sizeof q->bad, "format: use prometheus (the default) or json");
            return 1;
        }
        q->json = strcmp(value, "json") == 0;
        return 0;
    }
    char opt[64];
    if (strlen(name) >= sizeof opt - 2) {
        snprintf(q->bad, sizeof q->bad, "unknown query parameter '%.40s'", name);
        return 1;
    }
    snprintf(opt, sizeof opt, "--%s", name);
    for (char *c = opt + 2; *c; c++)
        if (*c == '_')
            *c = '-';
    if (!ld_opts_remote_ok(opt + 2)) {
        snprintf(q->bad, sizeof q->bad,
                 "query parameter '%.40s' is not allowed: use the long name of a per-target "
                 "option with '_' (options that name local files are the server's)",
                 name);
        return 1;
    }
    if (!value || q->nwords + 2 > LD_QUERY_WORDS_MAX) {
        snprintf(q->bad, sizeof q->bad, "%s",
                 value ? "too many query parameters" : "a query parameter without a value");
        return 1;
    }
    q->words[q->nwords] = strdup(opt);
    q->words[q->nwords + 1] = strdup(value);
    q->nwords += 2;
    if (!q->words[q->nwords - 1] || !q->words[q->nwords - 2]) {
        snprintf(q->bad, sizeof q->bad, "out of memory");
        return 1;
    }
    return 0;
}

ld_status ld_query_spec(ld_query *q, const ld_profiles *profiles, const ld_target_opts *t,
                        ld_target_spec *spec, ld_err *err) {
    if (!q->bad[0] && q->targets != 1)
        snprintf(q->bad, sizeof q->bad, q->targets ? "one target= at a time" : "no target= given");
    if (!q->bad[0] && (!q->target || !*q->target))
        snprintf(q->bad, sizeof q->bad, "target= is empty");
    if (q->bad[0])
        return ld_err_set(err, LD_EINVAL, "%s", q->bad);
    /* The target first, then its options: a targets-file line. */
    char *words[LD_QUERY_WORDS_MAX + 2];
    int n = 0;
    words[n++] = (char *)q->target;
    for (int i = 0; i < q->nwords; i++)
        words[n++] = q->words[i];
    words[n] = NULL;
    ld_target_opts line;
    const char *input;
    ld_status st = ld_opts_line(n, words, profiles, t, &line, &input, err);
    if (st != LD_OK)
        return st;
    ld_err inner;
    if (ld_opts_spec(input, &line, spec, &inner) != LD_OK) {
        char shown[LD_TARGET_INPUT_MAX + 1];
        ld_target_mask(input, 0, shown, sizeof shown);
        return ld_err_set(err, LD_EINVAL, "target '%.200s': %s", shown, inner.msg);
    }
    return LD_OK;
}

void ld_query_clear(ld_query *q) {
    for (int i = 0; i < q->nwords; i++)
        free(q->words[i]);
    q->nwords = 0;
}
