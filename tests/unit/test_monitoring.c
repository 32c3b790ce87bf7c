/* test_monitoring.c - the monitoring formats: Nagios plugin output and the
 * Prometheus exposition, compared with golden files (tests/data/golden) for a
 * healthy target, a dropped one and one with a hostile name; the same files
 * are checked by tests/nagios_check.py and `promtool check metrics` (ctest).
 * LD_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "unit.h"

static ld_ruleset *rules;

/* Facts of the healthy baseline target with changes applied (a JSON object
 * of facts to set), and input as target.input. */
static ld_facts *target(const char *input, const char *changes) {
    ld_facts *f = ld_facts_create();
    ld_err err;
    char *base = ld_unit_read_data("factsets/baseline.json", NULL);
    cJSON *root = cJSON_Parse(base);
    cJSON *facts = cJSON_GetObjectItem(root, "facts");
    cJSON *patch = cJSON_Parse(changes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(patch);
    for (cJSON *c = patch->child; c; c = c->next) {
        cJSON_DeleteItemFromObject(facts, c->string);
        if (!cJSON_IsNull(c)) /* null: the fact was not recorded */
            cJSON_AddItemToObject(facts, c->string, cJSON_Duplicate(c, 1));
    }
    char *text = cJSON_PrintUnformatted(facts);
    CU_ASSERT_EQUAL_FATAL(ld_facts_load_json(f, text, strlen(text), &err), LD_OK);
    ld_bag_set_str(ld_facts_target(f), LD_F_TARGET_INPUT, input);
    free(text);
    cJSON_Delete(patch);
    cJSON_Delete(root);
    free(base);
    return f;
}

#define NTARGETS 3

/* A report of n targets: healthy, dropped, hostile name (in that order). */
typedef struct fixture {
    ld_facts *facts[NTARGETS];
    ld_diagnoses d[NTARGETS];
    ld_report_target t[NTARGETS];
    ld_report r;
} fixture;

static void fixture_make(fixture *fx, size_t n) {
    memset(fx, 0, sizeof *fx);
    fx->facts[0] =
        target("svc.lab.test:19530",
               "{\"dns.latency_ms\": 0.412, \"tcp.connect_ms\": 0.153,"
               " \"target.duration_ms\": 4.5, \"threshold.connect_warning\": \"0.5\","
               " \"threshold.connect_critical\": \"1\", \"threshold.total_warning\": \"2\","
               " \"threshold.connect_state\": \"ok\", \"threshold.total_state\": \"ok\"}");
    fx->facts[1] =
        target("db.lab.test:5432",
               "{\"tcp.open_count\": 0, \"tcp.open_addresses\": [], \"tcp.timeout_count\": 1,"
               " \"tcp.failed_count\": 1, \"tcp.timeout_addresses\": [\"10.77.0.11\"],"
               " \"tcp.failed_addresses\": [\"10.77.0.11\"], \"tcp.syns_sent\": 2,"
               " \"tcp.wait_ms\": 1203.4, \"dns.latency_ms\": 0.5, \"tcp.connect_ms\": null,"
               " \"target.duration_ms\": 1204.0}");
    fx->facts[2] =
        target("a'b=c|d\"e\\f\nx:443",
               "{\"target.duration_ms\": 7, \"tcp.open_count\": 0, \"tcp.address_count\": 0,"
               " \"tcp.open_addresses\": [], \"tcp.connect_ms\": null}");
    for (size_t i = 0; i < n; i++) {
        ld_err err;
        CU_ASSERT_EQUAL_FATAL(ld_rules_eval(rules, fx->facts[i], &fx->d[i], &err), LD_OK);
        fx->t[i] = (ld_report_target){.facts = fx->facts[i],
                                      .diagnoses = &fx->d[i],
                                      .verdict = ld_verdict_of(&fx->d[i]),
                                      .duration_ms = 5};
    }
    fx->r = (ld_report){.command = "check",
                        .started_at = 1795305600.25,
                        .duration_ms = 1210.0,
                        .hostname = "vm-1",
                        .targets = fx->t,
                        .ntargets = n};
    fx->r.verdict = fx->t[0].verdict;
    for (size_t i = 1; i < n; i++)
        fx->r.verdict = ld_verdict_worse(fx->r.verdict, fx->t[i].verdict);
}

static void fixture_free(fixture *fx) {
    for (size_t i = 0; i < NTARGETS; i++) {
        ld_diagnoses_clear(&fx->d[i]);
        ld_facts_free(fx->facts[i]);
    }
}

/* Compares out with the golden file (or rewrites it). */
static void golden(const char *name, const ld_buf *out) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/%s", LD_TEST_DATA, name);
    if (getenv("LD_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fwrite(out->data, 1, out->len, f);
        fclose(f);
        return;
    }
    char rel[256];
    snprintf(rel, sizeof rel, "golden/%s", name);
    size_t len;
    char *want = ld_unit_read_data(rel, &len);
    CU_ASSERT_EQUAL(out->len, len);
    CU_ASSERT_STRING_EQUAL(out->data, want);
    free(want);
}

static void nagios_one_healthy_target_is_ok_with_plain_labels(void) {
    fixture fx;
    fixture_make(&fx, 1);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_nagios(&fx.r, &out, &err), LD_OK);
    CU_ASSERT_TRUE(strncmp(out.data, "LINKDOCTOR OK - svc.lab.test:19530: ", 36) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "'connect'=0.000153s;0.5;1;0; "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "'total'=0.004500s;2;;0;"));
    golden("nagios_one.txt", &out);
    ld_buf_clear(&out);
    fixture_free(&fx);
}

static void nagios_several_targets_name_the_failing_ones_first(void) {
    fixture fx;
    fixture_make(&fx, NTARGETS);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_nagios(&fx.r, &out, &err), LD_OK);
    const char *status = "LINKDOCTOR CRITICAL - 2 of 3 targets not ok: tcp.syn_dropped on "
                         "db.lab.test:5432; no conclusion on a'b=c/d\"e\\f\\x0ax:443 | ";
    CU_ASSERT_TRUE(strncmp(out.data, status, strlen(status)) == 0);
    /* Labels carry the target; its quote and '=' would break the syntax. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "'db.lab.test:5432 syns'=2;;;0;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "'a_b_c_d\"e\\f\\x0ax:443 total'=0.007000s;;;0;"));
    CU_ASSERT_PTR_NULL(strstr(out.data, "'db.lab.test:5432 connect'")); /* it never connected */
    const char *nl = strchr(out.data, '\n');
    CU_ASSERT_PTR_NULL(strchr(nl, '|')); /* no '|' in the long text */
    golden("nagios_many.txt", &out);
    ld_buf_clear(&out);
    fixture_free(&fx);
}

/* Labels stay unique when a target is given twice or two differ only in what
 * a label cannot hold ('=' becomes '_'): later ones go by "TARGET #N". */
static void nagios_labels_of_colliding_targets_are_numbered(void) {
    fixture fx;
    fixture_make(&fx, NTARGETS);
    ld_bag_set_str(ld_facts_target(fx.facts[0]), LD_F_TARGET_INPUT, "http://h/a=b");
    ld_bag_set_str(ld_facts_target(fx.facts[1]), LD_F_TARGET_INPUT, "http://h/a_b");
    ld_bag_set_str(ld_facts_target(fx.facts[2]), LD_F_TARGET_INPUT, "http://h/a=b");
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_nagios(&fx.r, &out, &err), LD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, " | 'http://h/a_b dns'=0.000412s;;;0; "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, " 'http://h/a_b #2 syns'=2;;;0; "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, " 'http://h/a_b #3 total'=0.007000s;;;0;\n"));
    CU_ASSERT_PTR_NULL(strstr(out.data, "'http://h/a_b total'=0.007"));
    golden("nagios_repeated.txt", &out); /* tests/nagios_check.py checks it (ctest) */
    ld_buf_clear(&out);
    fixture_free(&fx);
}

static void prometheus_families_have_help_type_and_escaped_labels(void) {
    fixture fx;
    fixture_make(&fx, NTARGETS);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_prometheus(&fx.r, &out, &err), LD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "# TYPE linkdoctor_diagnosis gauge\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "linkdoctor_diagnosis{target=\"db.lab.test:5432\","
                                            "id=\"tcp.syn_dropped\",severity=\"critical\","
                                            "confidence=\"medium\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.data, "linkdoctor_verdict{target=\"a'b=c|d\\\"e\\\\f\\\\x0ax:443\"} 3\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.data, "linkdoctor_tcp_syns_sent{target=\"db.lab.test:5432\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.data, "linkdoctor_last_run_timestamp_seconds 1795305600.25\n"));
    golden("prometheus_many.prom", &out);
    ld_buf_clear(&out);
    fixture_free(&fx);
}

/* A target given twice (say with --expect-status 200, then 404) keeps both
 * its verdicts and the second's diagnosis, under target="TEXT #2". */
static void prometheus_numbers_a_repeated_target(void) {
    fixture fx;
    fixture_make(&fx, 2);
    ld_bag_set_str(ld_facts_target(fx.facts[1]), LD_F_TARGET_INPUT, "svc.lab.test:19530");
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_prometheus(&fx.r, &out, &err), LD_OK);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.data, "linkdoctor_verdict{target=\"svc.lab.test:19530\"} 0\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.data, "linkdoctor_verdict{target=\"svc.lab.test:19530 #2\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "linkdoctor_diagnosis{target=\"svc.lab.test:19530 #2\","
                                            "id=\"tcp.syn_dropped\",severity=\"critical\","));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out.data, "linkdoctor_tcp_syns_sent{target=\"svc.lab.test:19530 #2\"} 2\n"));
    golden("prometheus_repeated.prom", &out); /* promtool checks it (ctest) */
    ld_buf_clear(&out);
    fixture_free(&fx);
}

int main(void) {
    ld_err err;
    rules = ld_ruleset_create();
    if (!rules || ld_ruleset_add_builtin(rules, &err) != LD_OK)
        return 1;
    static const ld_test_case cases[] = {
        LD_TEST(nagios_one_healthy_target_is_ok_with_plain_labels),
        LD_TEST(nagios_several_targets_name_the_failing_ones_first),
        LD_TEST(nagios_labels_of_colliding_targets_are_numbered),
        LD_TEST(prometheus_families_have_help_type_and_escaped_labels),
        LD_TEST(prometheus_numbers_a_repeated_target),
        {0},
    };
    int rc = ld_unit_run("monitoring", cases);
    ld_ruleset_free(rules);
    return rc;
}
