/* test_rules_builtin.c - every built-in rule against fact sets.
 *
 * The cases live in the JSON files of tests/data/factsets: each starts from the healthy
 * baseline.json, drops and overrides facts, and states exactly which
 * diagnoses are reported (and, optionally, suppressed). Exact sets show both
 * that a rule fires where it should and that the others stay silent. Every
 * built-in rule must be reported by at least one case. A case may also say
 * what a diagnosis's texts must contain (title_has, summary_has,
 * remediation_has) and what none of them may mention (text_lacks).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "unit.h"

static ld_ruleset *rules;       /* the built-in rules */
static cJSON *baseline;         /* baseline.json "facts" */
static int *reported_somewhere; /* per rule: some case reported it */

/* 1 when the JSON array of strings holds s. */
static int array_has(const cJSON *arr, const char *s) {
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0) return 1;
    return 0;
}

/* Compares a diagnosis list with the expected ids as sets; prints the
 * difference so a failure says what happened. */
static int same_ids(const char *what, const char *name, const ld_diagnosis *d, size_t n,
                    const cJSON *expect) {
    int same = (size_t)cJSON_GetArraySize(expect) == n;
    for (size_t i = 0; same && i < n; i++)
        same = array_has(expect, ld_rule_id(d[i].rule));
    if (!same) {
        fprintf(stderr, "\n  case %s: %s got [", name, what);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s%s", i ? ", " : "", ld_rule_id(d[i].rule));
        char *want = cJSON_PrintUnformatted(expect);
        fprintf(stderr, "], want %s\n", want);
        free(want);
    }
    return same;
}

static const ld_diagnosis *find(const ld_diagnoses *d, const char *id) {
    for (size_t i = 0; i < d->nreported; i++)
        if (strcmp(ld_rule_id(d->reported[i].rule), id) == 0)
            return &d->reported[i];
    return NULL;
}

/* For each "id": "text" of obj, the diagnosis id's field must contain text
 * (or, with lacks set, must not: a wording for other evidence stays out). */
static void check_contains(const char *name, const ld_diagnoses *d, const cJSON *obj, int field,
                           int lacks) {
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        const ld_diagnosis *diag = find(d, it->string);
        CU_ASSERT_PTR_NOT_NULL(diag);
        if (!diag)
            continue;
        const char *text = field == 0   ? diag->title
                           : field == 1 ? diag->summary
                                        : diag->remediation;
        int has = strstr(text, it->valuestring) != NULL;
        if (has == lacks)
            fprintf(stderr, "\n  case %s: %s text\n    '%s'\n  %s '%s'\n", name, it->string, text,
                    lacks ? "has" : "lacks", it->valuestring);
        CU_ASSERT_NOT_EQUAL(has, lacks);
    }
}

/* 1 when text contains word, ignoring case. */
static int contains_nocase(const char *text, const char *word) {
    size_t n = strlen(word);
    for (; *text; text++) {
        size_t i = 0;
        while (i < n && text[i] &&
               tolower((unsigned char)text[i]) == tolower((unsigned char)word[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* For each "id": "words" of obj, no text of diagnosis id (title, summary,
 * remediation) may mention words, in any case: what a finding must never
 * send the user after. */
static void check_lacks(const char *name, const ld_diagnoses *d, const cJSON *obj) {
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        const ld_diagnosis *diag = find(d, it->string);
        CU_ASSERT_PTR_NOT_NULL(diag);
        if (!diag)
            continue;
        const char *texts[] = {diag->title, diag->summary, diag->remediation};
        for (size_t i = 0; i < 3; i++) {
            if (contains_nocase(texts[i], it->valuestring))
                fprintf(stderr, "\n  case %s: %s text\n    '%s'\n  mentions '%s'\n", name,
                        it->string, texts[i], it->valuestring);
            CU_ASSERT_FALSE(contains_nocase(texts[i], it->valuestring));
        }
    }
}

static void run_case(const cJSON *c) {
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    cJSON *facts = cJSON_Duplicate(baseline, 1);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "drop"))
        cJSON_DeleteItemFromObject(facts, it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "facts")) {
        cJSON_DeleteItemFromObject(facts, it->string);
        cJSON_AddItemToObject(facts, it->string, cJSON_Duplicate(it, 1));
    }
    char *text = cJSON_PrintUnformatted(facts);
    ld_facts *f = ld_facts_create();
    ld_err err = {{0}};
    ld_status st = ld_facts_load_json(f, text, strlen(text), &err);
    if (st != LD_OK)
        fprintf(stderr, "\n  case %s: bad fact set: %s\n", name, err.msg);
    CU_ASSERT_EQUAL_FATAL(st, LD_OK);

    ld_diagnoses d = {0};
    CU_ASSERT_EQUAL_FATAL(ld_rules_eval(rules, f, &d, &err), LD_OK);
    CU_ASSERT_TRUE(
        same_ids("reported", name, d.reported, d.nreported, cJSON_GetObjectItem(c, "reported")));
    const cJSON *supp = cJSON_GetObjectItem(c, "suppressed");
    if (supp)
        CU_ASSERT_TRUE(same_ids("suppressed", name, d.suppressed, d.nsuppressed, supp));
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "confidence")) {
        const ld_diagnosis *diag = find(&d, it->string);
        CU_ASSERT_PTR_NOT_NULL(diag);
        if (diag)
            CU_ASSERT_STRING_EQUAL(ld_confidence_name(diag->confidence), it->valuestring);
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "severity")) {
        const ld_diagnosis *diag = find(&d, it->string);
        CU_ASSERT_PTR_NOT_NULL(diag);
        if (diag)
            CU_ASSERT_STRING_EQUAL(ld_severity_name(diag->severity), it->valuestring);
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "remediation_cloud")) {
        const ld_diagnosis *diag = find(&d, it->string);
        CU_ASSERT_PTR_NOT_NULL(diag);
        if (diag)
            CU_ASSERT_STRING_EQUAL(ld_cloud_name(diag->remediation_cloud), it->valuestring);
    }
    check_contains(name, &d, cJSON_GetObjectItem(c, "title_has"), 0, 0);
    check_contains(name, &d, cJSON_GetObjectItem(c, "summary_has"), 1, 0);
    check_contains(name, &d, cJSON_GetObjectItem(c, "remediation_has"), 2, 0);
    check_contains(name, &d, cJSON_GetObjectItem(c, "summary_lacks"), 1, 1);
    check_contains(name, &d, cJSON_GetObjectItem(c, "remediation_lacks"), 2, 1);
    check_lacks(name, &d, cJSON_GetObjectItem(c, "text_lacks"));
    for (size_t i = 0; i < d.nreported; i++)
        for (size_t r = 0; r < ld_ruleset_count(rules); r++)
            if (ld_ruleset_at(rules, r) == d.reported[i].rule)
                reported_somewhere[r] = 1;

    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    free(text);
    cJSON_Delete(facts);
}

static void run_file(const char *file) {
    char rel[512];
    snprintf(rel, sizeof rel, "factsets/%s", file);
    char *text = ld_unit_read_data(rel, NULL);
    cJSON *root = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        run_case(c);
        n++;
    }
    CU_ASSERT_TRUE(n > 0);
    cJSON_Delete(root);
    free(text);
}

static void every_fact_set_gives_exactly_the_expected_diagnoses(void) {
    DIR *dir = opendir(LD_TEST_DATA "/factsets");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 ||
            strcmp(e->d_name, "baseline.json") == 0)
            continue;
        run_file(e->d_name);
        files++;
    }
    closedir(dir);
    CU_ASSERT_TRUE(files >= 3);
}

static void every_builtin_rule_fires_in_some_case(void) {
    for (size_t r = 0; r < ld_ruleset_count(rules); r++) {
        if (!reported_somewhere[r])
            fprintf(stderr, "\n  no fact set makes %s fire\n", ld_rule_id(ld_ruleset_at(rules, r)));
        CU_ASSERT_TRUE(reported_somewhere[r]);
    }
}

static void catalog_ids_of_the_design_are_all_builtin(void) {
    static const char *const ids[] = {"ok",
                                      "dns.no_record",
                                      "dns.public_address",
                                      "dns.endpoint_mismatch",
                                      "dns.resolver_unreachable",
                                      "dns.resolver_divergence",
                                      "dns.hosts_override",
                                      "tcp.syn_dropped",
                                      "tcp.refused",
                                      "tcp.icmp_rejected",
                                      "tcp.no_route",
                                      "tcp.local_firewall",
                                      "tcp.partial",
                                      "dns.slow_resolution",
                                      "tcp.reply_dropped",
                                      "cloud.az_mismatch",
                                      "cloud.metadata_unavailable",
                                      NULL};
    for (int i = 0; ids[i]; i++)
        CU_ASSERT_PTR_NOT_NULL(ld_ruleset_find(rules, ids[i]));
}

int main(void) {
    ld_err err;
    rules = ld_ruleset_create();
    if (!rules || ld_ruleset_add_builtin(rules, &err) != LD_OK) {
        fprintf(stderr, "built-in rules do not load: %s\n", err.msg);
        return 1;
    }
    char *text = ld_unit_read_data("factsets/baseline.json", NULL);
    cJSON *root = cJSON_Parse(text);
    baseline = cJSON_DetachItemFromObject(root, "facts");
    cJSON_Delete(root);
    free(text);
    reported_somewhere = calloc(ld_ruleset_count(rules), sizeof *reported_somewhere);

    static const ld_test_case cases[] = {
        LD_TEST(catalog_ids_of_the_design_are_all_builtin),
        LD_TEST(every_fact_set_gives_exactly_the_expected_diagnoses),
        LD_TEST(every_builtin_rule_fires_in_some_case),
        {0},
    };
    int rc = ld_unit_run("rules_builtin", cases);
    free(reported_somewhere);
    cJSON_Delete(baseline);
    ld_ruleset_free(rules);
    return rc;
}
