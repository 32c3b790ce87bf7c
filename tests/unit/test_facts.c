/* test_facts.c - the fact table and store: declared names only, declared
 * types only, subjects kept apart, and JSON fact sets loaded strictly. */
#include <string.h>

#include "core/facts.h"
#include "unit.h"

static void every_fact_name_is_unique_and_namespaced(void) {
    for (int i = 0; i < LD_F__COUNT; i++) {
        const ld_fact_def *d = ld_fact_def_get((ld_fact_id)i);
        CU_ASSERT_PTR_NOT_NULL(strchr(d->name, '.'));
        CU_ASSERT_TRUE(strlen(d->meaning) > 10);
        CU_ASSERT_EQUAL(ld_fact_lookup(d->name, strlen(d->name)), i);
        if (d->scope == LD_SCOPE_SUBJECT) /* probe.kind.field */
            CU_ASSERT_PTR_NOT_NULL(strchr(strchr(d->name, '.') + 1, '.'));
        for (int k = i + 1; k < LD_F__COUNT; k++)
            CU_ASSERT_STRING_NOT_EQUAL(d->name, ld_fact_def_get((ld_fact_id)k)->name);
    }
    CU_ASSERT_EQUAL(ld_fact_lookup("dns.rcod", 8), -1);
    CU_ASSERT_EQUAL(ld_fact_lookup("dns.rcode_x", 9), LD_F_DNS_RCODE); /* length-bounded */
    CU_ASSERT_STRING_EQUAL(ld_fact_field(LD_F_TCP_A_STATE), "state");
    CU_ASSERT_STRING_EQUAL(ld_fact_field(LD_F_DNS_RCODE), "dns.rcode");
}

static void setters_enforce_declared_type_and_scope(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *t = ld_facts_target(f);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_DNS_RCODE, "NXDOMAIN"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(t, LD_F_DNS_RCODE, 3), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_TCP_A_STATE, "open"), LD_EINVAL); /* subject fact */
    ld_bag *s = ld_facts_subject(f, "tcp", "10.0.0.1");
    CU_ASSERT_EQUAL(ld_bag_set_str(s, LD_F_TCP_A_STATE, "open"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(s, LD_F_TCP_OPEN_COUNT, 1), LD_EINVAL); /* target fact */
    CU_ASSERT_STRING_EQUAL(ld_facts_get(f, LD_F_DNS_RCODE)->u.s, "NXDOMAIN");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_DNS_ADDRESSES));
    ld_facts_free(f);
    ld_facts_free(NULL);
}

static void later_values_replace_earlier_ones(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *t = ld_facts_target(f);
    ld_bag_set_int(t, LD_F_TCP_OPEN_COUNT, 1);
    ld_bag_set_int(t, LD_F_TCP_OPEN_COUNT, 2);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_OPEN_COUNT)->u.i, 2);
    CU_ASSERT_EQUAL(ld_bag_len(t), 1);
    ld_facts_free(f);
}

static void values_iterate_in_table_order(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *t = ld_facts_target(f);
    ld_bag_set_int(t, LD_F_TCP_OPEN_COUNT, 1);
    ld_bag_set_str(t, LD_F_TARGET_HOST, "h");
    ld_bag_set_str(t, LD_F_DNS_RCODE, "NOERROR");
    CU_ASSERT_EQUAL(ld_bag_len(t), 3);
    CU_ASSERT_EQUAL(ld_bag_id_at(t, 0), LD_F_TARGET_HOST);
    CU_ASSERT_EQUAL(ld_bag_id_at(t, 1), LD_F_DNS_RCODE);
    CU_ASSERT_EQUAL(ld_bag_id_at(t, 2), LD_F_TCP_OPEN_COUNT);
    ld_facts_free(f);
}

static void empty_list_differs_from_not_recorded(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *t = ld_facts_target(f);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_DNS_ADDRESSES));
    ld_bag_set_empty_list(t, LD_F_DNS_ADDRESSES);
    const ld_value *v = ld_facts_get(f, LD_F_DNS_ADDRESSES);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->type, LD_T_LIST);
    CU_ASSERT_EQUAL(v->u.list.len, 0);
    ld_bag_list_add(t, LD_F_DNS_ADDRESSES, "10.0.0.1");
    ld_bag_list_add(t, LD_F_DNS_ADDRESSES, "10.0.0.2");
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_DNS_ADDRESSES)->u.list.len, 2);
    CU_ASSERT_TRUE(ld_value_list_has(ld_facts_get(f, LD_F_DNS_ADDRESSES), "10.0.0.2"));
    ld_facts_free(f);
}

static void subjects_are_found_by_kind_and_key(void) {
    ld_facts *f = ld_facts_create();
    ld_bag *a = ld_facts_subject(f, "tcp", "10.0.0.1");
    ld_bag *b = ld_facts_subject(f, "dns", "10.0.0.1");
    CU_ASSERT_PTR_NOT_EQUAL(a, b);
    CU_ASSERT_PTR_EQUAL(ld_facts_subject(f, "tcp", "10.0.0.1"), a);
    CU_ASSERT_EQUAL(ld_facts_subject_count(f), 2);
    CU_ASSERT_STRING_EQUAL(ld_bag_kind(ld_facts_subject_at(f, 1)), "dns");
    CU_ASSERT_STRING_EQUAL(ld_bag_key(ld_facts_subject_at(f, 0)), "10.0.0.1");
    CU_ASSERT_PTR_NULL(ld_facts_subject_at(f, 2));
    ld_facts_free(f);
}

static void json_fact_sets_load_strictly(void) {
    ld_facts *f = ld_facts_create();
    ld_err err;
    const char *good = "{\"dns.rcode\": \"NXDOMAIN\", \"tcp.open_count\": 2, "
                       "\"dns.hosts_override\": false, \"dns.addresses\": [\"10.0.0.1\"], "
                       "\"tcp.connect_ms\": 1.5}";
    CU_ASSERT_EQUAL(ld_facts_load_json(f, good, strlen(good), &err), LD_OK);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_TCP_OPEN_COUNT)->u.i, 2);
    CU_ASSERT_DOUBLE_EQUAL(ld_facts_get(f, LD_F_TCP_CONNECT_MS)->u.n, 1.5, 1e-9);
    const struct {
        const char *json;
        const char *phrase;
    } bad[] = {
        {"{\"dns.rcod\": 1}", "unknown fact 'dns.rcod'"},
        {"{\"tcp.attempt.state\": \"open\"}", "per-subject"},
        {"{\"tcp.open_count\": \"2\"}", "expected a value of type int"},
        {"{\"tcp.open_count\": 1.5}", "expected a value of type int"},
        {"{\"dns.addresses\": [1]}", "list items must be strings"},
        {"[1]", "expected a JSON object"},
        {"{\"dns.rcode\": ", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(ld_facts_load_json(f, bad[i].json, strlen(bad[i].json), &err), LD_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].phrase));
    }
    ld_facts_free(f);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(every_fact_name_is_unique_and_namespaced),
        LD_TEST(setters_enforce_declared_type_and_scope),
        LD_TEST(later_values_replace_earlier_ones),
        LD_TEST(values_iterate_in_table_order),
        LD_TEST(empty_list_differs_from_not_recorded),
        LD_TEST(subjects_are_found_by_kind_and_key),
        LD_TEST(json_fact_sets_load_strictly),
        {0},
    };
    return ld_unit_run("facts", cases);
}
