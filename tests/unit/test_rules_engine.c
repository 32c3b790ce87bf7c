/* test_rules_engine.c - the rule set: what a valid file loads into, every way
 * a rule file is rejected (and that a rejected load changes nothing), and what
 * evaluation reports: rendering, confidence, cloud remediation, evidence,
 * suppression, the ok rule and ordering.
 *
 * Fixtures are in tests/data/rules/{valid,invalid}; small variations of one
 * rule are built with cJSON next to the assertion they feed.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/builtin.h"
#include "rules/rules.h"
#include "unit.h"

/* --- helpers -------------------------------------------------------------------- */

/* Loads tests/data/rules/<rel> into rs, named origin in messages. */
static ld_status load(ld_ruleset *rs, const char *rel, const char *origin, ld_err *err) {
    char path[256];
    size_t len = 0;
    snprintf(path, sizeof path, "rules/%s", rel);
    char *text = ld_unit_read_data(path, &len);
    ld_status st = ld_ruleset_add_json(rs, text, len, origin, err);
    free(text);
    return st;
}

/* A set holding the fixture rel (origin: its file name); the test stops when it does not load. */
static ld_ruleset *ruleset_from(const char *rel) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
    const char *slash = strrchr(rel, '/');
    ld_status st = load(rs, rel, slash ? slash + 1 : rel, &err);
    if (st != LD_OK)
        fprintf(stderr, "\n  %s does not load: %s\n", rel, err.msg);
    CU_ASSERT_EQUAL_FATAL(st, LD_OK);
    return rs;
}

/* 1 when loading the fixture into an empty set fails with st and exactly msg,
 * and leaves the set empty. */
static int load_fails(const char *rel, ld_status st, const char *msg) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    const char *slash = strrchr(rel, '/');
    ld_status got = load(rs, rel, slash ? slash + 1 : rel, &err);
    int ok = got == st && strcmp(err.msg, msg) == 0 && ld_ruleset_count(rs) == 0;
    if (!ok)
        fprintf(stderr, "\n  %s: status %d \"%s\"\n  wanted status %d \"%s\"\n", rel, got, err.msg,
                st, msg);
    ld_ruleset_free(rs);
    return ok;
}

#define ASSERT_LOAD_FAILS(rel, st, msg) CU_ASSERT_TRUE(load_fails(rel, st, msg))

/* A minimal valid rule with this id, to be varied by a test. */
static cJSON *base_rule(const char *id) {
    cJSON *r = cJSON_CreateObject();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "severity", "warning");
    cJSON_AddStringToObject(r, "when", "tcp.timeout_count > 0");
    cJSON_AddStringToObject(r, "title", "t");
    cJSON_AddStringToObject(r, "description", "d");
    cJSON_AddStringToObject(r, "summary", "s");
    cJSON *rem = cJSON_AddObjectToObject(r, "remediation");
    cJSON_AddStringToObject(rem, "generic", "g");
    return r;
}

static void set_field(cJSON *rule, const char *field, cJSON *value) {
    if (cJSON_GetObjectItemCaseSensitive(rule, field))
        cJSON_ReplaceItemInObjectCaseSensitive(rule, field, value);
    else
        cJSON_AddItemToObject(rule, field, value);
}

/* Wraps rules (a cJSON array, taken) into a rules file and adds it to rs as "t.json". */
static ld_status load_rules(ld_ruleset *rs, cJSON *rules, ld_err *err) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "linkdoctor_rules", 1);
    cJSON_AddItemToObject(doc, "rules", rules);
    char *text = cJSON_PrintUnformatted(doc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    ld_status st = ld_ruleset_add_json(rs, text, strlen(text), "t.json", err);
    free(text);
    cJSON_Delete(doc);
    return st;
}

/* 1 when the single rule (taken) is rejected with st and exactly msg. */
static int rule_fails(cJSON *rule, ld_status st, const char *msg) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    cJSON *rules = cJSON_CreateArray();
    cJSON_AddItemToArray(rules, rule);
    ld_status got = load_rules(rs, rules, &err);
    int ok = got == st && strcmp(err.msg, msg) == 0 && ld_ruleset_count(rs) == 0;
    if (!ok)
        fprintf(stderr, "\n  status %d \"%s\"\n  wanted status %d \"%s\"\n", got, err.msg, st, msg);
    ld_ruleset_free(rs);
    return ok;
}

#define ASSERT_RULE_FAILS(rule, st, msg) CU_ASSERT_TRUE(rule_fails(rule, st, msg))

/* 1 when the single rule (taken) loads. */
static int rule_loads(cJSON *rule) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    cJSON *rules = cJSON_CreateArray();
    cJSON_AddItemToArray(rules, rule);
    ld_status st = load_rules(rs, rules, &err);
    if (st != LD_OK)
        fprintf(stderr, "\n  unexpected load error: %s\n", err.msg);
    ld_ruleset_free(rs);
    return st == LD_OK;
}

static ld_facts *new_facts(void) {
    ld_facts *f = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    return f;
}

static void set_int(ld_facts *f, ld_fact_id id, int64_t v) {
    CU_ASSERT_EQUAL(ld_bag_set_int(ld_facts_target(f), id, v), LD_OK);
}

static void set_str(ld_facts *f, ld_fact_id id, const char *v) {
    CU_ASSERT_EQUAL(ld_bag_set_str(ld_facts_target(f), id, v), LD_OK);
}

static void set_bool(ld_facts *f, ld_fact_id id, int v) {
    CU_ASSERT_EQUAL(ld_bag_set_bool(ld_facts_target(f), id, v), LD_OK);
}

static void eval(const ld_ruleset *rs, const ld_facts *f, ld_diagnoses *d) {
    ld_err err = {{0}};
    memset(d, 0, sizeof *d);
    CU_ASSERT_EQUAL_FATAL(ld_rules_eval(rs, f, d, &err), LD_OK);
}

/* The ids of diagnoses joined by spaces, e.g. "c.critical e.critical", to
 * assert membership and order in one line. */
static const char *ids(const ld_diagnosis *d, size_t n, char *buf, size_t bufsz) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < bufsz; i++)
        used +=
            (size_t)snprintf(buf + used, bufsz - used, "%s%s", i ? " " : "", ld_rule_id(d[i].rule));
    return buf;
}

#define REPORTED(d)   ids((d).reported, (d).nreported, (char[256]){0}, 256)
#define SUPPRESSED(d) ids((d).suppressed, (d).nsuppressed, (char[256]){0}, 256)

/* --- names -------------------------------------------------------------------------- */

static void severity_names_round_trip(void) {
    static const char *const names[] = {"ok", "info", "warning", "critical"};
    for (int s = LD_SEV_OK; s <= LD_SEV_CRITICAL; s++) {
        CU_ASSERT_STRING_EQUAL(ld_severity_name((ld_severity)s), names[s]);
        CU_ASSERT_EQUAL(ld_severity_parse(names[s]), s);
    }
    CU_ASSERT_EQUAL(ld_severity_parse("fatal"), -1);
    CU_ASSERT_EQUAL(ld_severity_parse("Critical"), -1);
    CU_ASSERT_EQUAL(ld_severity_parse(NULL), -1);
}

static void cloud_names_round_trip(void) {
    static const char *const names[] = {"generic", "aws", "gcp", "azure"};
    for (int c = LD_CLOUD_GENERIC; c < LD_CLOUD__COUNT; c++) {
        CU_ASSERT_STRING_EQUAL(ld_cloud_name((ld_cloud)c), names[c]);
        CU_ASSERT_EQUAL(ld_cloud_parse(names[c]), c);
    }
    CU_ASSERT_EQUAL(ld_cloud_parse("none"), -1);
    CU_ASSERT_EQUAL(ld_cloud_parse(NULL), -1);
}

static void confidence_names_are_lower_case_words(void) {
    CU_ASSERT_STRING_EQUAL(ld_confidence_name(LD_CONF_LOW), "low");
    CU_ASSERT_STRING_EQUAL(ld_confidence_name(LD_CONF_MEDIUM), "medium");
    CU_ASSERT_STRING_EQUAL(ld_confidence_name(LD_CONF_HIGH), "high");
}

/* --- loading valid files ------------------------------------------------------------- */

static void valid_file_loads_every_rule_in_order(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 3);
    CU_ASSERT_STRING_EQUAL(ld_rule_id(ld_ruleset_at(rs, 0)), "dns.no_record");
    CU_ASSERT_STRING_EQUAL(ld_rule_id(ld_ruleset_at(rs, 1)), "tcp.syn_dropped");
    CU_ASSERT_STRING_EQUAL(ld_rule_id(ld_ruleset_at(rs, 2)), "dns.hosts_override");
    CU_ASSERT_PTR_NULL(ld_ruleset_at(rs, 3));
    CU_ASSERT_STRING_EQUAL(ld_rule_origin(ld_ruleset_at(rs, 0)), "engine.json");
    ld_ruleset_free(rs);
}

static void rule_accessors_return_what_the_file_says(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    const ld_rule *r = ld_ruleset_find(rs, "dns.no_record");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(ld_rule_severity(r), LD_SEV_CRITICAL);
    CU_ASSERT_STRING_EQUAL(ld_rule_when(r), "dns.rcode in [\"NXDOMAIN\", \"NODATA\"]");
    CU_ASSERT_STRING_EQUAL(ld_rule_title(r), "{dns.name} does not resolve");
    CU_ASSERT_STRING_EQUAL(ld_rule_description(r),
                           "The name does not resolve: the private DNS record or zone is missing.");
    CU_ASSERT_STRING_EQUAL(
        ld_rule_summary(r),
        "The resolver {dns.answer_resolver} answered {dns.rcode} for {dns.name}.");
    CU_ASSERT_STRING_EQUAL(ld_rule_remediation(r, LD_CLOUD_GENERIC),
                           "Create the private DNS record for {dns.name}.");
    CU_ASSERT_PTR_NOT_NULL(ld_rule_remediation(r, LD_CLOUD_AZURE));
    CU_ASSERT_EQUAL(ld_rule_evidence_count(r), 3);
    CU_ASSERT_EQUAL(ld_rule_evidence_at(r, 0), LD_F_DNS_RCODE);
    CU_ASSERT_EQUAL(ld_rule_evidence_at(r, 2), LD_F_DNS_ANSWER_RESOLVER);
    CU_ASSERT_EQUAL(ld_rule_docs_count(r), 2);
    CU_ASSERT_STRING_EQUAL(ld_rule_doc_at(r, 0),
                           "https://docs.aws.amazon.com/vpc/latest/privatelink/");
    CU_ASSERT_EQUAL(ld_rule_suppresses_count(r), 1);
    CU_ASSERT_STRING_EQUAL(ld_rule_suppresses_at(r, 0), "tcp.syn_dropped");

    const ld_rule *h = ld_ruleset_find(rs, "dns.hosts_override");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NULL(ld_rule_remediation(h, LD_CLOUD_AWS));
    CU_ASSERT_EQUAL(ld_rule_evidence_count(h), 0);
    CU_ASSERT_EQUAL(ld_rule_docs_count(h), 0);
    CU_ASSERT_EQUAL(ld_rule_suppresses_count(h), 0);
    CU_ASSERT_PTR_NULL(ld_ruleset_find(rs, "dns.nope"));
    ld_ruleset_free(rs);
}

static void empty_rules_array_loads_nothing(void) {
    ld_ruleset *rs = ruleset_from("valid/empty_set.json");
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 0);
    ld_ruleset_free(rs);
}

static void suppresses_may_name_rules_loaded_earlier(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    CU_ASSERT_EQUAL(load(rs, "valid/second.json", "second.json", &err), LD_OK);
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 4);
    CU_ASSERT_STRING_EQUAL(ld_rule_origin(ld_ruleset_find(rs, "tcp.no_route")), "second.json");
    ld_ruleset_free(rs);
}

static void suppresses_cannot_name_rules_loaded_later(void) {
    ASSERT_LOAD_FAILS(
        "valid/second.json", LD_EINVAL,
        "second.json: rule 'tcp.no_route': suppresses: unknown rule 'tcp.syn_dropped'");
}

static void add_file_loads_a_rules_file_named_by_its_path(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    const char *path = LD_TEST_DATA "/rules/valid/engine.json";
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, path, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 3);
    CU_ASSERT_STRING_EQUAL(ld_rule_origin(ld_ruleset_at(rs, 0)), path);
    ld_ruleset_free(rs);
}

static void builtin_rules_load_as_one_batch(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    ld_status st = ld_ruleset_add_builtin(rs, &err);
    if (st != LD_OK)
        fprintf(stderr, "\n  embedded rules do not load: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(st, LD_OK);
    for (size_t i = 0; i < ld_ruleset_count(rs); i++) {
        const char *origin = ld_rule_origin(ld_ruleset_at(rs, i));
        int known = 0;
        for (unsigned k = 0; k < ld_builtin_rules_count; k++)
            known |= strcmp(origin, ld_builtin_rules[k].path) == 0;
        CU_ASSERT_TRUE(known);
    }
    /* Loading them again is a duplicate of every id, and changes nothing. */
    size_t n = ld_ruleset_count(rs);
    if (n > 0) {
        CU_ASSERT_EQUAL(ld_ruleset_add_builtin(rs, &err), LD_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "duplicate id (already defined in rules/"));
        CU_ASSERT_EQUAL(ld_ruleset_count(rs), n);
    }
    ld_ruleset_free(rs);
}

static void valid_ids_are_accepted(void) {
    CU_ASSERT_TRUE(rule_loads(base_rule("ok")));
    CU_ASSERT_TRUE(rule_loads(base_rule("a")));
    CU_ASSERT_TRUE(rule_loads(base_rule("tcp.syn_dropped")));
    CU_ASSERT_TRUE(rule_loads(base_rule("a.b_c.d2")));
    CU_ASSERT_TRUE(rule_loads(base_rule("a.1._x")));
    char id[65];
    memset(id, 'a', 64);
    id[64] = '\0';
    CU_ASSERT_TRUE(rule_loads(base_rule(id)));
}

static void valid_optional_fields_are_accepted(void) {
    cJSON *r = base_rule("a.b");
    set_field(r, "confidence", cJSON_CreateString("low"));
    set_field(r, "docs", cJSON_CreateArray());
    set_field(r, "evidence", cJSON_CreateArray());
    set_field(r, "description", cJSON_CreateString("braces {are} plain text here"));
    CU_ASSERT_TRUE(rule_loads(r));
}

/* --- loading errors --------------------------------------------------------------- */

static void malformed_json_names_line_and_column(void) {
    ASSERT_LOAD_FAILS("invalid/malformed.json", LD_EINVAL,
                      "malformed.json: line 4, column 18: malformed JSON");
}

static void text_after_the_object_is_malformed(void) {
    ASSERT_LOAD_FAILS("invalid/trailing_text.json", LD_EINVAL,
                      "trailing_text.json: line 2, column 1: malformed JSON (text after the "
                      "top-level object)");
}

static void nul_byte_is_rejected(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    static const char text[] = "{\"linkdoctor_rules\": 1,\n \"rules\": [\0]}";
    CU_ASSERT_EQUAL(ld_ruleset_add_json(rs, text, sizeof text - 1, "nul.json", &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "nul.json: line 2, column 12: NUL byte in a rules file");
    ld_ruleset_free(rs);
}

static void top_level_must_be_an_object(void) {
    ASSERT_LOAD_FAILS("invalid/not_an_object.json", LD_EINVAL,
                      "not_an_object.json: must be a JSON object {\"linkdoctor_rules\": 1, "
                      "\"rules\": [...]}");
}

static void format_version_must_be_1(void) {
    ASSERT_LOAD_FAILS("invalid/wrong_version.json", LD_EINVAL,
                      "wrong_version.json: linkdoctor_rules: unsupported format version (this "
                      "linkdoctor reads 1)");
    ASSERT_LOAD_FAILS("invalid/missing_version.json", LD_EINVAL,
                      "missing_version.json: missing required field \"linkdoctor_rules\"");
}

static void unknown_top_level_field_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/unknown_top_field.json", LD_EINVAL,
                      "unknown_top_field.json: unknown field \"comment\"");
}

static void rules_must_be_an_array(void) {
    ASSERT_LOAD_FAILS("invalid/rules_not_array.json", LD_EINVAL,
                      "rules_not_array.json: rules: must be an array");
}

static void rule_without_id_is_named_by_its_position(void) {
    ASSERT_LOAD_FAILS("invalid/missing_id.json", LD_EINVAL,
                      "missing_id.json: rule 3: missing required field \"id\"");
}

static void rule_must_be_an_object(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    cJSON *rules = cJSON_CreateArray();
    cJSON_AddItemToArray(rules, cJSON_CreateString("tcp.syn_dropped"));
    CU_ASSERT_EQUAL(load_rules(rs, rules, &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.json: rule 1: must be an object");
    ld_ruleset_free(rs);
}

static void every_required_field_is_required(void) {
    static const char *const required[] = {"severity",    "when",    "title",
                                           "description", "summary", "remediation"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char msg[128];
        cJSON *r = base_rule("a.b");
        cJSON_DeleteItemFromObjectCaseSensitive(r, required[i]);
        snprintf(msg, sizeof msg, "t.json: rule 'a.b': missing required field \"%s\"", required[i]);
        ASSERT_RULE_FAILS(r, LD_EINVAL, msg);
    }
    ASSERT_LOAD_FAILS("invalid/missing_severity.json", LD_EINVAL,
                      "missing_severity.json: rule 'a.b': missing required field \"severity\"");
}

static void unknown_field_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/unknown_field.json", LD_EINVAL,
                      "unknown_field.json: rule 'a.b': unknown field \"sumary\"");
}

static void repeated_field_is_rejected(void) {
    cJSON *r = base_rule("a.b");
    cJSON_AddItemToObject(r, "title", cJSON_CreateString("again"));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': field \"title\" given twice");
}

static void repeated_nested_and_top_level_fields_are_rejected(void) {
    cJSON *r = base_rule("a.b");
    cJSON_AddStringToObject(cJSON_GetObjectItem(r, "remediation"), "generic", "again");
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': remediation: field \"generic\" given twice");
    r = base_rule("a.b");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "default", "low");
    cJSON_AddStringToObject(c, "default", "medium");
    set_field(r, "confidence", c);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': confidence: field \"default\" given twice");
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    static const char text[] = "{\"linkdoctor_rules\": 1, \"rules\": [], \"rules\": []}";
    CU_ASSERT_EQUAL(ld_ruleset_add_json(rs, text, sizeof text - 1, "two.json", &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "two.json: field \"rules\" given twice");
    ld_ruleset_free(rs);
}

static void bad_severity_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/bad_severity.json", LD_EINVAL,
                      "bad_severity.json: rule 'a.b': severity: 'fatal' is not one of ok, info, "
                      "warning, critical");
    cJSON *r = base_rule("a.b");
    set_field(r, "severity", cJSON_CreateNumber(3));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': severity: must be a string");
}

/* A severity object whose parts are given by the test (NULL: left out). */
static cJSON *severity_object(const char *def, const char *critical_when, const char *extra) {
    cJSON *o = cJSON_CreateObject();
    if (def)
        cJSON_AddStringToObject(o, "default", def);
    if (critical_when)
        cJSON_AddStringToObject(o, "critical_when", critical_when);
    if (extra)
        cJSON_AddStringToObject(o, extra, "true");
    return o;
}

static void bad_severity_object_is_rejected(void) {
    static const struct {
        const char *def, *critical_when, *extra; /* the object */
        const char *msg;                         /* the error */
    } cases[] = {
        {NULL, "true", NULL, "severity: missing required field \"default\""},
        {"warning", NULL, NULL, "severity: missing required field \"critical_when\""},
        {"warning", "true", "high_when", "severity: unknown field \"high_when\""},
        {"fatal", "true", NULL,
         "severity.default: 'fatal' is not one of ok, info, warning, critical"},
        {"critical", "true", NULL, "severity: critical_when needs a default of info or warning"},
        {"ok", "true", NULL, "severity: critical_when needs a default of info or warning"},
        {"warning", "dns.latency_ms >= \"5\"", NULL,
         "severity.critical_when: position 16: '>=' compares numbers, not string \"5\""},
        {"warning", "dns.nope > 1", NULL,
         "severity.critical_when: position 1: unknown fact 'dns.nope'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *r = base_rule("a.b");
        set_field(r, "severity",
                  severity_object(cases[i].def, cases[i].critical_when, cases[i].extra));
        char msg[256];
        snprintf(msg, sizeof msg, "t.json: rule 'a.b': %s", cases[i].msg);
        ASSERT_RULE_FAILS(r, LD_EINVAL, msg);
    }
    cJSON *r = base_rule("a.b");
    set_field(r, "severity", severity_object("info", "dns.latency_ms >= 5000", NULL));
    CU_ASSERT_TRUE(rule_loads(r));
}

static void bad_id_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/bad_id.json", LD_EINVAL,
                      "bad_id.json: rule 1: id: 'Tcp.Bad' is not a rule id (a lower-case letter, "
                      "then lower-case letters, digits, '_' and single dots, at most 64 bytes)");
    static const char *const bad[] = {"",   "1abc", "_a",  "a..b",   "a.",
                                      ".a", "a-b",  "a b", "tcp.Syn"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[256];
        snprintf(msg, sizeof msg, "t.json: rule 1: id: '%s' is not a rule id", bad[i]);
        ld_err err = {{0}};
        ld_ruleset *rs = ld_ruleset_create();
        cJSON *rules = cJSON_CreateArray();
        cJSON_AddItemToArray(rules, base_rule(bad[i]));
        CU_ASSERT_EQUAL(load_rules(rs, rules, &err), LD_EINVAL);
        CU_ASSERT_EQUAL(strncmp(err.msg, msg, strlen(msg)), 0);
        ld_ruleset_free(rs);
    }
    char id[66];
    memset(id, 'a', 65);
    id[65] = '\0';
    ASSERT_RULE_FAILS(base_rule(id), LD_EINVAL,
                      "t.json: rule 1: id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not a "
                      "rule id (a lower-case letter, then lower-case letters, digits, '_' and "
                      "single dots, at most 64 bytes)");
    cJSON *r = base_rule("a.b");
    set_field(r, "id", cJSON_CreateNumber(1));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 1: id: must be a string");
}

static void duplicate_id_in_one_file_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/duplicate_id.json", LD_EINVAL,
                      "duplicate_id.json: rule 'a.b': duplicate id (already defined in "
                      "duplicate_id.json)");
}

static void duplicate_id_across_files_names_the_first_file(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(load(rs, "valid/engine.json", "rules/dns.json", &err), LD_OK);
    CU_ASSERT_EQUAL(load(rs, "invalid/redefines_no_record.json", "my.json", &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "my.json: rule 'dns.no_record': duplicate id (already defined "
                                    "in rules/dns.json)");
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 3);
    ld_ruleset_free(rs);
}

static void unknown_suppress_target_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/unknown_suppress.json", LD_EINVAL,
                      "unknown_suppress.json: rule 'a.b': suppresses: unknown rule 'x.y'");
    cJSON *r = base_rule("a.b");
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_CreateString("Not.An.Id"));
    set_field(r, "suppresses", list);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': suppresses: 'Not.An.Id' is not a valid "
                      "rule id");
}

static void suppression_cycle_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/suppress_cycle.json", LD_EINVAL,
                      "suppress_cycle.json: rule 'e.f': suppresses: suppression cycle a.b -> c.d "
                      "-> e.f -> a.b");
    cJSON *r = base_rule("a.b");
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_CreateString("a.b"));
    set_field(r, "suppresses", list);
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': suppresses: suppression cycle a.b -> a.b");
}

static void bad_condition_names_rule_field_and_position(void) {
    ASSERT_LOAD_FAILS("invalid/bad_when.json", LD_EINVAL,
                      "bad_when.json: rule 'tcp.x': when: position 3: unknown fact 'tcp.nope'");
    cJSON *r = base_rule("a.b");
    set_field(r, "when", cJSON_CreateString(""));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': when: position 1: empty condition");
}

static void bad_template_names_rule_field_and_position(void) {
    ASSERT_LOAD_FAILS("invalid/bad_summary.json", LD_EINVAL,
                      "bad_summary.json: rule 'a.b': summary: position 45: tcp.attempt.interface "
                      "is per-attempt evidence; rules can only read target facts");
    cJSON *r = base_rule("a.b");
    set_field(r, "title", cJSON_CreateString("port {target.port"));
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': title: position 6: unclosed '{' (write "
                      "'{{' for a brace)");
}

static void title_must_be_one_nonempty_line(void) {
    cJSON *r = base_rule("a.b");
    set_field(r, "title", cJSON_CreateString("two\nlines"));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': title: must be one line");
    r = base_rule("a.b");
    set_field(r, "title", cJSON_CreateString(""));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': title: must not be empty");
}

/* 1 when the rules file text (one rule "a.b" in it) is rejected with st and msg. */
static int text_fails(const char *text, ld_status st, const char *msg) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    ld_status got = ld_ruleset_add_json(rs, text, strlen(text), "t.json", &err);
    int ok = got == st && strcmp(err.msg, msg) == 0 && ld_ruleset_count(rs) == 0;
    if (!ok)
        fprintf(stderr, "\n  status %d \"%s\"\n  wanted status %d \"%s\"\n", got, err.msg, st, msg);
    ld_ruleset_free(rs);
    return ok;
}

#define RULE_TEXT(when, title)                                                                     \
    "{\"linkdoctor_rules\": 1, \"rules\": [{\"id\": \"a.b\", \"severity\": \"warning\", "          \
    "\"when\": \"" when "\", \"title\": \"" title "\", \"description\": \"d\", \"summary\": "      \
    "\"s\", \"remediation\": {\"generic\": \"g\"}}]}"

static void nul_in_a_string_is_rejected_naming_rule_and_field(void) {
    /* cJSON would hand over "tcp.timeout_count > 0": the rest of the condition gone. */
    CU_ASSERT_TRUE(text_fails(RULE_TEXT("tcp.timeout_count > 0\\u0000 && false", "t"), LD_EINVAL,
                              "t.json: rule 'a.b': when: contains a NUL character (\\u0000), "
                              "which would cut it short"));
    CU_ASSERT_TRUE(text_fails(RULE_TEXT("tcp.timeout_count > 0", "cut\\u0000here"), LD_EINVAL,
                              "t.json: rule 'a.b': title: contains a NUL character (\\u0000), "
                              "which would cut it short"));
    /* An escaped backslash before "u0000" is text, not a NUL. */
    const char *text = RULE_TEXT("tcp.timeout_count > 0", "a \\\\u0000 b");
    ld_err err;
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(ld_ruleset_add_json(rs, text, strlen(text), "t.json", &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(ld_rule_title(ld_ruleset_find(rs, "a.b")), "a \\u0000 b");
    ld_ruleset_free(rs);
}

static void control_characters_are_rejected_in_rule_text(void) {
    cJSON *r = base_rule("a.b");
    set_field(r, "title", cJSON_CreateString("red \x1b[31m title"));
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': title: contains a control character (\\x1b); it is "
                      "one line of plain text");
    r = base_rule("a.b");
    set_field(r, "summary", cJSON_CreateString("reversed \u202e text"));
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': summary: contains a control character (\\u202e); it "
                      "is one line of plain text");
    r = base_rule("a.b");
    set_field(r, "description", cJSON_CreateString("lines\nare fine, a bell \a is not"));
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': description: contains a control character (\\x07)");
    r = base_rule("a.b");
    cJSON *rem = cJSON_CreateObject();
    cJSON_AddStringToObject(rem, "generic", "step 1\nstep\t2");
    set_field(r, "remediation", rem);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': remediation.generic: contains a control character "
                      "(\\x09)");
    r = base_rule("a.b");
    set_field(r, "description", cJSON_CreateString("two\nlines"));
    CU_ASSERT_TRUE(rule_loads(r));
}

static void rules_file_must_be_utf8(void) {
    CU_ASSERT_TRUE(text_fails("{\"linkdoctor_rules\": 1,\n \"rules\": [\"\xff\"]}", LD_EINVAL,
                              "t.json: line 2, column 13: not UTF-8 (rules are UTF-8 JSON)"));
}

static void evidence_must_name_target_facts_once(void) {
    ASSERT_LOAD_FAILS("invalid/subject_evidence.json", LD_EINVAL,
                      "subject_evidence.json: rule 'a.b': evidence: dns.resolver.rcode is "
                      "per-resolver evidence; rules can only read target facts");
    ASSERT_LOAD_FAILS("invalid/unknown_evidence.json", LD_EINVAL,
                      "unknown_evidence.json: rule 'a.b': evidence: unknown fact 'tcp.nope'");
    cJSON *r = base_rule("a.b");
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_CreateString("tcp.source_ip"));
    cJSON_AddItemToArray(list, cJSON_CreateString("tcp.source_ip"));
    set_field(r, "evidence", list);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': evidence: 'tcp.source_ip' is listed twice");
    r = base_rule("a.b");
    set_field(r, "evidence", cJSON_CreateString("tcp.source_ip"));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': evidence: must be an array");
    r = base_rule("a.b");
    list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_CreateNumber(1));
    set_field(r, "evidence", list);
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': evidence: must be a string");
}

static void lists_hold_at_most_64_entries(void) {
    cJSON *r = base_rule("a.b");
    cJSON *docs = cJSON_CreateArray();
    for (int i = 0; i < 65; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.com/%d", i);
        cJSON_AddItemToArray(docs, cJSON_CreateString(url));
    }
    cJSON *sixty_four = cJSON_Duplicate(docs, 1);
    cJSON_DeleteItemFromArray(sixty_four, 0);
    set_field(r, "docs", docs);
    ASSERT_RULE_FAILS(r, LD_ELIMIT, "t.json: rule 'a.b': docs: more than 64 entries");
    r = base_rule("a.b");
    set_field(r, "docs", sixty_four);
    CU_ASSERT_TRUE(rule_loads(r));
}

static void docs_must_be_urls(void) {
    cJSON *r = base_rule("a.b");
    cJSON *docs = cJSON_CreateArray();
    cJSON_AddItemToArray(docs, cJSON_CreateString("see the wiki"));
    set_field(r, "docs", docs);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': docs: 'see the wiki' is not an http(s) URL");
}

static void remediation_needs_generic_and_known_clouds(void) {
    ASSERT_LOAD_FAILS("invalid/no_generic_remediation.json", LD_EINVAL,
                      "no_generic_remediation.json: rule 'a.b': remediation: missing required "
                      "field \"generic\"");
    ASSERT_LOAD_FAILS("invalid/unknown_cloud.json", LD_EINVAL,
                      "unknown_cloud.json: rule 'a.b': remediation: unknown field \"oracle\" (use "
                      "generic, aws, gcp or azure)");
    cJSON *r = base_rule("a.b");
    set_field(r, "remediation", cJSON_CreateString("g"));
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': remediation: must be an object");
    r = base_rule("a.b");
    cJSON_AddStringToObject(cJSON_GetObjectItem(r, "remediation"), "aws", "{tcp.nope}");
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': remediation.aws: position 2: unknown "
                      "fact 'tcp.nope'");
}

static void bad_confidence_is_rejected(void) {
    ASSERT_LOAD_FAILS("invalid/bad_confidence.json", LD_EINVAL,
                      "bad_confidence.json: rule 'a.b': confidence: 'sure' is not one of high, "
                      "medium, low");
    ASSERT_LOAD_FAILS("invalid/bad_high_when.json", LD_EINVAL,
                      "bad_high_when.json: rule 'a.b': confidence.high_when: position 15: '>=' "
                      "compares numbers, not string \"2\"");
    cJSON *r = base_rule("a.b");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "high_when", "true");
    set_field(r, "confidence", c);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': confidence: missing required field "
                      "\"default\"");
    r = base_rule("a.b");
    c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "default", "low");
    cJSON_AddStringToObject(c, "when", "true");
    set_field(r, "confidence", c);
    ASSERT_RULE_FAILS(r, LD_EINVAL, "t.json: rule 'a.b': confidence: unknown field \"when\"");
    r = base_rule("a.b");
    c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "default", "high");
    cJSON_AddStringToObject(c, "high_when", "true");
    set_field(r, "confidence", c);
    ASSERT_RULE_FAILS(r, LD_EINVAL,
                      "t.json: rule 'a.b': confidence: high_when has no effect when "
                      "the default is high");
}

static void suppress_when_needs_suppresses(void) {
    ASSERT_LOAD_FAILS("invalid/suppress_when_alone.json", LD_EINVAL,
                      "suppress_when_alone.json: rule 'a.b': suppress_when: has no effect without "
                      "suppresses");
}

static void strings_hold_at_most_8192_bytes(void) {
    char *text = malloc(8194);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    memset(text, 'x', 8193);
    text[8193] = '\0';
    cJSON *r = base_rule("a.b");
    set_field(r, "description", cJSON_CreateString(text));
    ASSERT_RULE_FAILS(r, LD_ELIMIT, "t.json: rule 'a.b': description: longer than 8192 bytes");
    text[8192] = '\0';
    r = base_rule("a.b");
    set_field(r, "description", cJSON_CreateString(text));
    CU_ASSERT_TRUE(rule_loads(r));
    free(text);
}

static void set_holds_at_most_1024_rules(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    cJSON *rules = cJSON_CreateArray();
    for (int i = 0; i < 1024; i++) {
        char id[32];
        snprintf(id, sizeof id, "r%d", i);
        cJSON_AddItemToArray(rules, base_rule(id));
    }
    CU_ASSERT_EQUAL(load_rules(rs, rules, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 1024);
    rules = cJSON_CreateArray();
    cJSON_AddItemToArray(rules, base_rule("one.more"));
    CU_ASSERT_EQUAL(load_rules(rs, rules, &err), LD_ELIMIT);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.json: rule 1: a rule set holds at most 1024 rules");
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 1024);
    ld_ruleset_free(rs);
}

static void failed_load_leaves_the_set_unchanged(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    /* A good rule followed by a bad one: neither joins. */
    CU_ASSERT_EQUAL(load(rs, "invalid/second_rule_bad.json", "x.json", &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "x.json: rule 'c.d': severity: 'fatal' is not one of ok, "
                                    "info, warning, critical");
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 3);
    CU_ASSERT_PTR_NULL(ld_ruleset_find(rs, "a.b"));
    /* A reference that does not resolve is found after parsing: still nothing joins. */
    CU_ASSERT_EQUAL(load(rs, "invalid/unknown_suppress.json", "y.json", &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 3);
    /* And the set still works. */
    CU_ASSERT_EQUAL(load(rs, "valid/second.json", "second.json", &err), LD_OK);
    CU_ASSERT_EQUAL(ld_ruleset_count(rs), 4);
    ld_ruleset_free(rs);
}

/* --- files ------------------------------------------------------------------------- */

static void missing_file_cannot_be_opened(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, LD_TEST_DATA "/rules/nope.json", &err), LD_EIO);
    CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_DATA "/rules/nope.json: cannot open: No such file or "
                                                 "directory");
    ld_ruleset_free(rs);
}

static void unreadable_file_cannot_be_opened(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    /* A path through a regular file fails for every user, root included. */
    const char *path = LD_TEST_DATA "/rules/valid/engine.json/rules.json";
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, path, &err), LD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "engine.json/rules.json: cannot open: Not a directory"));
    if (geteuid() != 0) {
        const char *locked = LD_TEST_OUT "/unreadable.json";
        FILE *f = fopen(locked, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fclose(f);
        chmod(locked, 0);
        CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, locked, &err), LD_EIO);
        CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_OUT "/unreadable.json: cannot open: Permission "
                                                    "denied");
        unlink(locked);
    }
    ld_ruleset_free(rs);
}

static void directory_is_not_a_rules_file(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, LD_TEST_DATA "/rules", &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_DATA "/rules: is a directory");
    ld_ruleset_free(rs);
}

static void fifo_is_not_a_rules_file(void) {
    /* Opening it for reading would wait for a writer, past any --timeout. */
    const char *path = LD_TEST_OUT "/rules.fifo";
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, path, &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_OUT "/rules.fifo: not a regular file (save the rules "
                                                "to a file)");
    ld_ruleset_free(rs);
    unlink(path);
}

static void empty_file_is_rejected(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, LD_TEST_DATA "/rules/invalid/empty.json", &err),
                    LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_DATA "/rules/invalid/empty.json: empty file");
    ld_ruleset_free(rs);
}

static void malformed_file_names_its_path_line_and_column(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, LD_TEST_DATA "/rules/invalid/malformed.json", &err),
                    LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_DATA "/rules/invalid/malformed.json: line 4, column "
                                                 "18: malformed JSON");
    ld_ruleset_free(rs);
}

/* Writes an empty rule file padded with spaces to exactly size bytes. */
static void write_padded(const char *path, size_t size) {
    static const char doc[] = "{\"linkdoctor_rules\": 1, \"rules\": []}";
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(doc, f);
    for (size_t i = sizeof doc - 1; i < size; i++)
        fputc(' ', f);
    fclose(f);
}

static void file_at_the_size_limit_is_read(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    const char *path = LD_TEST_OUT "/at_limit.json";
    write_padded(path, LD_RULES_FILE_MAX);
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, path, &err), LD_OK);
    unlink(path);
    ld_ruleset_free(rs);
}

static void file_over_the_size_limit_is_a_limit_error(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    const char *path = LD_TEST_OUT "/too_big.json";
    write_padded(path, LD_RULES_FILE_MAX + 1);
    CU_ASSERT_EQUAL(ld_ruleset_add_file(rs, path, &err), LD_ELIMIT);
    CU_ASSERT_STRING_EQUAL(err.msg, LD_TEST_OUT "/too_big.json: larger than 4194304 bytes, the "
                                                "limit for a rules file");
    unlink(path);
    ld_ruleset_free(rs);
}

/* --- evaluation: what a diagnosis says ---------------------------------------------- */

static void nothing_fires_without_facts(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    eval(rs, f, &d);
    CU_ASSERT_EQUAL(d.nreported, 0);
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void rule_fires_when_its_condition_holds(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NOERROR");
    eval(rs, f, &d);
    CU_ASSERT_EQUAL(d.nreported, 0);
    ld_diagnoses_clear(&d);
    set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "dns.no_record");
    CU_ASSERT_PTR_EQUAL(d.reported[0].rule, ld_ruleset_find(rs, "dns.no_record"));
    CU_ASSERT_EQUAL(d.reported[0].severity, LD_SEV_CRITICAL);
    CU_ASSERT_PTR_NULL(d.reported[0].suppressed_by);
    /* the id and the docs travel with the diagnosis (a report read back has no rule) */
    const ld_rule *r = d.reported[0].rule;
    CU_ASSERT_STRING_EQUAL(d.reported[0].id, "dns.no_record");
    CU_ASSERT_PTR_NOT_EQUAL(d.reported[0].id, ld_rule_id(r));
    CU_ASSERT_EQUAL_FATAL(d.reported[0].ndocs, ld_rule_docs_count(r));
    for (size_t i = 0; i < d.reported[0].ndocs; i++)
        CU_ASSERT_STRING_EQUAL(d.reported[0].docs[i], ld_rule_doc_at(r, i));
    CU_ASSERT_PTR_NULL(d.reported[0].suppressed_by_id);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void title_summary_and_remediation_are_rendered_with_facts(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");
    set_str(f, LD_F_DNS_NAME, "db.example.com");
    set_str(f, LD_F_DNS_ANSWER_RESOLVER, "10.0.0.2:53");
    eval(rs, f, &d);
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    CU_ASSERT_STRING_EQUAL(d.reported[0].title, "db.example.com does not resolve");
    CU_ASSERT_STRING_EQUAL(d.reported[0].summary,
                           "The resolver 10.0.0.2:53 answered NXDOMAIN for db.example.com.");
    CU_ASSERT_STRING_EQUAL(d.reported[0].remediation,
                           "Create the private DNS record for db.example.com.");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void absent_facts_render_as_not_recorded(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NODATA");
    eval(rs, f, &d);
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    CU_ASSERT_STRING_EQUAL(d.reported[0].summary,
                           "The resolver (not recorded) answered NODATA for (not recorded).");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void escaped_braces_render_as_braces(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1);
    set_str(f, LD_F_DNS_NAME, "db.example.com");
    eval(rs, f, &d);
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    CU_ASSERT_STRING_EQUAL(d.reported[0].title, "/etc/hosts decides {db.example.com}");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

/* The remediation and its cloud for dns.no_record or tcp.syn_dropped when cloud.provider is
 * provider. */
static void remediation_for(const char *rule, const char *provider, ld_cloud want_cloud,
                            const char *want_prefix) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    if (strcmp(rule, "dns.no_record") == 0)
        set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");
    else
        set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    if (provider)
        set_str(f, LD_F_CLOUD_PROVIDER, provider);
    eval(rs, f, &d);
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    CU_ASSERT_EQUAL(d.reported[0].remediation_cloud, want_cloud);
    CU_ASSERT_EQUAL(strncmp(d.reported[0].remediation, want_prefix, strlen(want_prefix)), 0);
    if (strncmp(d.reported[0].remediation, want_prefix, strlen(want_prefix)) != 0)
        fprintf(stderr, "\n  %s on %s: \"%s\"\n", rule, provider ? provider : "(no provider)",
                d.reported[0].remediation);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void remediation_follows_the_cloud_provider(void) {
    remediation_for("dns.no_record", "aws", LD_CLOUD_AWS, "Enable private DNS names");
    remediation_for("dns.no_record", "gcp", LD_CLOUD_GCP, "Add (not recorded) to a Cloud DNS");
    remediation_for("dns.no_record", "azure", LD_CLOUD_AZURE, "Link the private DNS zone");
    remediation_for("tcp.syn_dropped", "aws", LD_CLOUD_AWS, "Add an inbound rule");
}

static void remediation_falls_back_to_generic_when_the_rule_has_no_text_for_the_cloud(void) {
    remediation_for("tcp.syn_dropped", "azure", LD_CLOUD_GENERIC, "Allow inbound TCP");
}

static void remediation_is_generic_without_a_known_cloud(void) {
    remediation_for("dns.no_record", NULL, LD_CLOUD_GENERIC, "Create the private DNS record");
    remediation_for("dns.no_record", "none", LD_CLOUD_GENERIC, "Create the private DNS record");
    remediation_for("dns.no_record", "AWS", LD_CLOUD_GENERIC, "Create the private DNS record");
}

/* The confidence of tcp.syn_dropped ({"default": "medium", "high_when": "tcp.syns_sent >= 2"}). */
static ld_confidence syn_dropped_confidence(int64_t syns_sent) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    if (syns_sent >= 0)
        set_int(f, LD_F_TCP_SYNS_SENT, syns_sent);
    eval(rs, f, &d);
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    ld_confidence c = d.reported[0].confidence;
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
    return c;
}

static void confidence_is_high_when_high_when_holds(void) {
    CU_ASSERT_EQUAL(syn_dropped_confidence(2), LD_CONF_HIGH);
    CU_ASSERT_EQUAL(syn_dropped_confidence(5), LD_CONF_HIGH);
}

static void confidence_is_the_default_when_high_when_does_not_hold(void) {
    CU_ASSERT_EQUAL(syn_dropped_confidence(1), LD_CONF_MEDIUM);
    CU_ASSERT_EQUAL(syn_dropped_confidence(-1), LD_CONF_MEDIUM); /* tcp.syns_sent not recorded */
}

static void confidence_given_as_a_word_is_used_as_is(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");  /* dns.no_record: "medium" */
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1); /* dns.hosts_override: no confidence given */
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "dns.no_record dns.hosts_override");
    CU_ASSERT_EQUAL(d.reported[0].confidence, LD_CONF_MEDIUM);
    CU_ASSERT_EQUAL(d.reported[1].confidence, LD_CONF_HIGH); /* the default */
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void evidence_copies_recorded_facts_in_rule_order(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    ld_bag *t = ld_facts_target(f);
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 2);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_TCP_TIMEOUT_ADDRESSES, "10.0.1.23"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_TCP_TIMEOUT_ADDRESSES, "10.0.2.23"), LD_OK);
    set_str(f, LD_F_TCP_SOURCE_IP, "10.0.1.5");
    set_int(f, LD_F_TCP_SYNS_SENT, 3);
    /* tcp.wait_ms, also listed as evidence, is not recorded. */
    eval(rs, f, &d);
    ld_facts_free(f); /* the diagnosis owns copies */
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    const ld_diagnosis *dg = &d.reported[0];
    CU_ASSERT_EQUAL_FATAL(dg->nevidence, 3);
    CU_ASSERT_EQUAL(dg->evidence[0].id, LD_F_TCP_TIMEOUT_ADDRESSES);
    CU_ASSERT_EQUAL(dg->evidence[0].value.type, LD_T_LIST);
    CU_ASSERT_EQUAL(dg->evidence[0].value.u.list.len, 2);
    CU_ASSERT_STRING_EQUAL(dg->evidence[0].value.u.list.items[1], "10.0.2.23");
    CU_ASSERT_EQUAL(dg->evidence[1].id, LD_F_TCP_SOURCE_IP);
    CU_ASSERT_STRING_EQUAL(dg->evidence[1].value.u.s, "10.0.1.5");
    CU_ASSERT_EQUAL(dg->evidence[2].id, LD_F_TCP_SYNS_SENT);
    CU_ASSERT_EQUAL(dg->evidence[2].value.u.i, 3);
    CU_ASSERT_STRING_EQUAL(dg->title, "SYNs to 10.0.1.23, 10.0.2.23 get no answer");
    ld_diagnoses_clear(&d);
    ld_ruleset_free(rs);
}

static void rule_without_evidence_quotes_nothing(void) {
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1);
    eval(rs, f, &d);
    CU_ASSERT_EQUAL_FATAL(d.nreported, 1);
    CU_ASSERT_EQUAL(d.reported[0].nevidence, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

/* --- evaluation: suppression ------------------------------------------------------------ */

static void root_cause_hides_its_consequence(void) {
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "root.cause");
    CU_ASSERT_STRING_EQUAL(SUPPRESSED(d), "middle.effect");
    CU_ASSERT_PTR_EQUAL(d.suppressed[0].suppressed_by, ld_ruleset_find(rs, "root.cause"));
    CU_ASSERT_STRING_EQUAL(d.suppressed[0].suppressed_by_id, "root.cause");
    CU_ASSERT_PTR_NOT_NULL(d.suppressed[0].title); /* rendered too, for reports that show it */
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void suppression_needs_the_root_cause_to_fire(void) {
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NOERROR");
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "middle.effect");
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void suppressed_rule_still_suppresses_what_it_lists(void) {
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "root.cause");
    CU_ASSERT_STRING_EQUAL(SUPPRESSED(d), "middle.effect leaf.effect"); /* load order */
    CU_ASSERT_PTR_EQUAL(d.suppressed[0].suppressed_by, ld_ruleset_find(rs, "root.cause"));
    CU_ASSERT_PTR_EQUAL(d.suppressed[1].suppressed_by, ld_ruleset_find(rs, "middle.effect"));
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void suppression_is_not_transitive(void) {
    /* root.cause lists middle.effect only: with middle.effect silent, leaf.effect stays. */
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_str(f, LD_F_DNS_RCODE, "NXDOMAIN");
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "root.cause leaf.effect");
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void suppress_when_true_suppresses(void) {
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_NO_ROUTE_COUNT, 1);
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    set_int(f, LD_F_TCP_OPEN_COUNT, 0); /* suppress_when: tcp.open_count == 0 */
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "guarded.cause");
    CU_ASSERT_STRING_EQUAL(SUPPRESSED(d), "leaf.effect");
    CU_ASSERT_PTR_EQUAL(d.suppressed[0].suppressed_by, ld_ruleset_find(rs, "guarded.cause"));
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void suppress_when_false_keeps_the_consequence_reported(void) {
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_NO_ROUTE_COUNT, 1);
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    set_int(f, LD_F_TCP_OPEN_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "guarded.cause leaf.effect");
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    /* suppress_when over a fact that was not recorded is false as well. */
    ld_facts_free(f);
    f = new_facts();
    set_int(f, LD_F_TCP_NO_ROUTE_COUNT, 1);
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "guarded.cause leaf.effect");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void first_suppressor_in_load_order_is_recorded(void) {
    ld_ruleset *rs = ruleset_from("valid/suppression.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);  /* middle.effect (2nd) lists leaf.effect */
    set_int(f, LD_F_TCP_NO_ROUTE_COUNT, 1); /* guarded.cause (4th) lists it too */
    set_int(f, LD_F_TCP_OPEN_COUNT, 0);
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "middle.effect guarded.cause");
    CU_ASSERT_STRING_EQUAL(SUPPRESSED(d), "leaf.effect");
    CU_ASSERT_PTR_EQUAL(d.suppressed[0].suppressed_by, ld_ruleset_find(rs, "middle.effect"));
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void rules_from_a_later_file_suppress_earlier_ones(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ruleset_from("valid/engine.json");
    CU_ASSERT_EQUAL_FATAL(load(rs, "valid/second.json", "second.json", &err), LD_OK);
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    set_int(f, LD_F_TCP_NO_ROUTE_COUNT, 1);
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "tcp.no_route");
    CU_ASSERT_STRING_EQUAL(SUPPRESSED(d), "tcp.syn_dropped dns.hosts_override");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

/* --- evaluation: ok and ordering ------------------------------------------------------- */

static void reported_is_sorted_by_severity_then_load_order(void) {
    ld_ruleset *rs = ruleset_from("valid/ordering.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, 900), LD_OK);
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1);
    set_int(f, LD_F_TCP_TIMEOUT_COUNT, 1);
    set_int(f, LD_F_TCP_OPEN_COUNT, 1);
    set_int(f, LD_F_TCP_FAILED_COUNT, 1);
    set_int(f, LD_F_TCP_REFUSED_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "c.critical e.critical b.warning d.warning a.info");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

/* A set of two rules on dns.latency_ms: "slow.lookup" (warning, critical
 * from 5000 ms on) and "other.warning", loaded in that order. */
static ld_ruleset *escalating_set(void) {
    ld_err err = {{0}};
    ld_ruleset *rs = ld_ruleset_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
    cJSON *rules = cJSON_CreateArray();
    cJSON *slow = base_rule("slow.lookup");
    set_field(slow, "when", cJSON_CreateString("dns.latency_ms > 0"));
    set_field(slow, "severity", severity_object("warning", "dns.latency_ms >= 5000", NULL));
    cJSON *other = base_rule("other.warning");
    set_field(other, "when", cJSON_CreateString("dns.latency_ms > 0"));
    cJSON_AddItemToArray(rules, slow);
    cJSON_AddItemToArray(rules, other);
    CU_ASSERT_EQUAL_FATAL(load_rules(rs, rules, &err), LD_OK);
    return rs;
}

static void severity_is_critical_when_critical_when_holds(void) {
    ld_ruleset *rs = escalating_set();
    ld_facts *f = new_facts();
    ld_diagnoses d;
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, 5000), LD_OK);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "slow.lookup other.warning");
    CU_ASSERT_EQUAL(d.reported[0].severity, LD_SEV_CRITICAL);
    CU_ASSERT_EQUAL(d.reported[1].severity, LD_SEV_WARNING);
    const ld_rule *r = ld_ruleset_find(rs, "slow.lookup");
    CU_ASSERT_EQUAL(ld_rule_severity(r), LD_SEV_WARNING); /* the rule's default is unchanged */
    CU_ASSERT_STRING_EQUAL(ld_rule_critical_when(r), "dns.latency_ms >= 5000");
    CU_ASSERT_PTR_NULL(ld_rule_critical_when(ld_ruleset_find(rs, "other.warning")));
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void severity_is_the_default_when_critical_when_does_not_hold(void) {
    ld_ruleset *rs = escalating_set();
    ld_facts *f = new_facts();
    ld_diagnoses d;
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, 4999), LD_OK);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "slow.lookup other.warning");
    CU_ASSERT_EQUAL(d.reported[0].severity, LD_SEV_WARNING);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void ok_is_dropped_when_a_warning_is_reported(void) {
    ld_ruleset *rs = ruleset_from("valid/ordering.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_OPEN_COUNT, 1); /* ok fires */
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "b.warning");
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void ok_is_dropped_when_a_critical_is_reported(void) {
    ld_ruleset *rs = ruleset_from("valid/ordering.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_OPEN_COUNT, 1);
    set_int(f, LD_F_TCP_REFUSED_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "e.critical");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void ok_stays_beside_info(void) {
    ld_ruleset *rs = ruleset_from("valid/ordering.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_OPEN_COUNT, 1);
    CU_ASSERT_EQUAL(ld_bag_set_num(ld_facts_target(f), LD_F_DNS_LATENCY_MS, 900), LD_OK);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "a.info ok");
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void ok_alone_is_reported(void) {
    ld_ruleset *rs = ruleset_from("valid/ordering.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_OPEN_COUNT, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "ok");
    CU_ASSERT_EQUAL(d.reported[0].severity, LD_SEV_OK);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void suppressed_ok_is_listed_beside_info_but_dropped_beside_a_warning(void) {
    ld_ruleset *rs = ruleset_from("valid/ordering.json");
    ld_facts *f = new_facts();
    ld_diagnoses d;
    set_int(f, LD_F_TCP_OPEN_COUNT, 1);
    set_int(f, LD_F_DNS_CGNAT_COUNT, 1); /* f.info suppresses ok */
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "f.info");
    CU_ASSERT_STRING_EQUAL(SUPPRESSED(d), "ok");
    ld_diagnoses_clear(&d);
    set_bool(f, LD_F_DNS_HOSTS_OVERRIDE, 1);
    eval(rs, f, &d);
    CU_ASSERT_STRING_EQUAL(REPORTED(d), "b.warning f.info");
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void empty_set_reports_nothing(void) {
    ld_ruleset *rs = ld_ruleset_create();
    ld_facts *f = new_facts();
    ld_diagnoses d;
    eval(rs, f, &d);
    CU_ASSERT_EQUAL(d.nreported, 0);
    CU_ASSERT_EQUAL(d.nsuppressed, 0);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
    ld_ruleset_free(rs);
}

static void clear_and_free_accept_null_and_cleared_values(void) {
    ld_diagnoses d;
    memset(&d, 0, sizeof d);
    ld_diagnoses_clear(&d);
    ld_diagnoses_clear(&d);
    ld_diagnoses_clear(NULL);
    ld_ruleset_free(NULL);
    CU_ASSERT_EQUAL(d.nreported, 0);
    CU_ASSERT_PTR_NULL(d.reported);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(severity_names_round_trip),
        LD_TEST(cloud_names_round_trip),
        LD_TEST(confidence_names_are_lower_case_words),
        LD_TEST(valid_file_loads_every_rule_in_order),
        LD_TEST(rule_accessors_return_what_the_file_says),
        LD_TEST(empty_rules_array_loads_nothing),
        LD_TEST(suppresses_may_name_rules_loaded_earlier),
        LD_TEST(suppresses_cannot_name_rules_loaded_later),
        LD_TEST(add_file_loads_a_rules_file_named_by_its_path),
        LD_TEST(builtin_rules_load_as_one_batch),
        LD_TEST(valid_ids_are_accepted),
        LD_TEST(valid_optional_fields_are_accepted),
        LD_TEST(malformed_json_names_line_and_column),
        LD_TEST(text_after_the_object_is_malformed),
        LD_TEST(nul_byte_is_rejected),
        LD_TEST(top_level_must_be_an_object),
        LD_TEST(format_version_must_be_1),
        LD_TEST(unknown_top_level_field_is_rejected),
        LD_TEST(rules_must_be_an_array),
        LD_TEST(rule_without_id_is_named_by_its_position),
        LD_TEST(rule_must_be_an_object),
        LD_TEST(every_required_field_is_required),
        LD_TEST(unknown_field_is_rejected),
        LD_TEST(repeated_field_is_rejected),
        LD_TEST(repeated_nested_and_top_level_fields_are_rejected),
        LD_TEST(bad_severity_is_rejected),
        LD_TEST(bad_id_is_rejected),
        LD_TEST(duplicate_id_in_one_file_is_rejected),
        LD_TEST(duplicate_id_across_files_names_the_first_file),
        LD_TEST(unknown_suppress_target_is_rejected),
        LD_TEST(suppression_cycle_is_rejected),
        LD_TEST(bad_condition_names_rule_field_and_position),
        LD_TEST(bad_template_names_rule_field_and_position),
        LD_TEST(title_must_be_one_nonempty_line),
        LD_TEST(nul_in_a_string_is_rejected_naming_rule_and_field),
        LD_TEST(control_characters_are_rejected_in_rule_text),
        LD_TEST(rules_file_must_be_utf8),
        LD_TEST(evidence_must_name_target_facts_once),
        LD_TEST(lists_hold_at_most_64_entries),
        LD_TEST(docs_must_be_urls),
        LD_TEST(remediation_needs_generic_and_known_clouds),
        LD_TEST(bad_confidence_is_rejected),
        LD_TEST(bad_severity_object_is_rejected),
        LD_TEST(suppress_when_needs_suppresses),
        LD_TEST(strings_hold_at_most_8192_bytes),
        LD_TEST(set_holds_at_most_1024_rules),
        LD_TEST(failed_load_leaves_the_set_unchanged),
        LD_TEST(missing_file_cannot_be_opened),
        LD_TEST(unreadable_file_cannot_be_opened),
        LD_TEST(directory_is_not_a_rules_file),
        LD_TEST(fifo_is_not_a_rules_file),
        LD_TEST(empty_file_is_rejected),
        LD_TEST(malformed_file_names_its_path_line_and_column),
        LD_TEST(file_at_the_size_limit_is_read),
        LD_TEST(file_over_the_size_limit_is_a_limit_error),
        LD_TEST(nothing_fires_without_facts),
        LD_TEST(rule_fires_when_its_condition_holds),
        LD_TEST(title_summary_and_remediation_are_rendered_with_facts),
        LD_TEST(absent_facts_render_as_not_recorded),
        LD_TEST(escaped_braces_render_as_braces),
        LD_TEST(remediation_follows_the_cloud_provider),
        LD_TEST(remediation_falls_back_to_generic_when_the_rule_has_no_text_for_the_cloud),
        LD_TEST(remediation_is_generic_without_a_known_cloud),
        LD_TEST(confidence_is_high_when_high_when_holds),
        LD_TEST(confidence_is_the_default_when_high_when_does_not_hold),
        LD_TEST(confidence_given_as_a_word_is_used_as_is),
        LD_TEST(evidence_copies_recorded_facts_in_rule_order),
        LD_TEST(rule_without_evidence_quotes_nothing),
        LD_TEST(root_cause_hides_its_consequence),
        LD_TEST(suppression_needs_the_root_cause_to_fire),
        LD_TEST(suppressed_rule_still_suppresses_what_it_lists),
        LD_TEST(suppression_is_not_transitive),
        LD_TEST(suppress_when_true_suppresses),
        LD_TEST(suppress_when_false_keeps_the_consequence_reported),
        LD_TEST(first_suppressor_in_load_order_is_recorded),
        LD_TEST(rules_from_a_later_file_suppress_earlier_ones),
        LD_TEST(reported_is_sorted_by_severity_then_load_order),
        LD_TEST(severity_is_critical_when_critical_when_holds),
        LD_TEST(severity_is_the_default_when_critical_when_does_not_hold),
        LD_TEST(ok_is_dropped_when_a_warning_is_reported),
        LD_TEST(ok_is_dropped_when_a_critical_is_reported),
        LD_TEST(ok_stays_beside_info),
        LD_TEST(ok_alone_is_reported),
        LD_TEST(suppressed_ok_is_listed_beside_info_but_dropped_beside_a_warning),
        LD_TEST(empty_set_reports_nothing),
        LD_TEST(clear_and_free_accept_null_and_cleared_values),
        {0},
    };
    return ld_unit_run("rules_engine", cases);
}
