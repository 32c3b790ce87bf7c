/* fuzz_query.c - serve's /probe query on arbitrary bytes ("name=value&..."):
 * never a crash, never a spec from a refused query, and never an option that
 * names a local file taken from a request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ld_profiles *profiles;
    ld_err err;
    if (!profiles &&
        (!(profiles = malloc(sizeof *profiles)) || ld_cli_profiles(profiles, &err) != LD_OK))
        abort();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ld_query q = {0};
    char *save = NULL;
    for (char *pair = strtok_r(text, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq)
            *eq = '\0';
        if (ld_query_add(&q, pair, eq ? eq + 1 : NULL))
            break;
    }
    for (int i = 0; i < q.nwords; i += 2)
        if (strcmp(q.words[i], "--cacert") == 0 || strcmp(q.words[i], "--rules") == 0 ||
            strcmp(q.words[i], "--targets") == 0 || strcmp(q.words[i], "--output") == 0)
            abort();
    int refused = q.bad[0] != '\0';
    ld_target_opts t = {.cert_warn_days = 14};
    ld_target_spec spec;
    if (ld_query_spec(&q, profiles, &t, &spec, &err) == LD_OK && (refused || spec.target.port == 0))
        abort();
    ld_query_clear(&q);
    free(text);
    return 0;
}
