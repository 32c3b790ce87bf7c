/* test_schema.c - report/report.schema.json declares exactly the facts of the
 * fact table, with their types: a fact added without its schema entry (run
 * tools/gen-schema-facts.py) fails here. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/facts.h"
#include "unit.h"

static cJSON *schema;

static const char *json_type_of(ld_type t) {
    switch (t) {
    case LD_T_BOOL:
        return "boolean";
    case LD_T_INT:
        return "integer";
    case LD_T_STR:
        return "string";
    case LD_T_LIST:
        return "array";
    default:
        return "number";
    }
}

/* 1 when the schema entry's "type" names (or includes) want. */
static int has_type(const cJSON *entry, const char *want) {
    const cJSON *type = cJSON_GetObjectItem(entry, "type");
    if (cJSON_IsString(type))
        return strcmp(type->valuestring, want) == 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, type) if (strcmp(it->valuestring, want) == 0) return 1;
    return 0;
}

static const cJSON *def(const char *name) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(schema, "$defs"), name);
}

static void every_target_fact_is_in_the_schema_with_its_type(void) {
    const cJSON *props = cJSON_GetObjectItem(def("facts"), "properties");
    int n = 0;
    for (int i = 0; i < LD_F__COUNT; i++) {
        const ld_fact_def *d = ld_fact_def_get((ld_fact_id)i);
        if (d->scope != LD_SCOPE_TARGET)
            continue;
        n++;
        const cJSON *entry = cJSON_GetObjectItem(props, d->name);
        if (!entry || !has_type(entry, json_type_of(d->type)))
            fprintf(stderr, "\n  schema lacks %s (%s): run tools/gen-schema-facts.py\n", d->name,
                    json_type_of(d->type));
        CU_ASSERT_PTR_NOT_NULL(entry);
        if (entry)
            CU_ASSERT_TRUE(has_type(entry, json_type_of(d->type)));
    }
    CU_ASSERT_EQUAL(cJSON_GetArraySize(props), n); /* and nothing else */
}

static void every_subject_fact_is_in_its_probe_section(void) {
    const cJSON *probes = cJSON_GetObjectItem(def("probes"), "properties");
    int n = 0;
    for (int i = 0; i < LD_F__COUNT; i++) {
        const ld_fact_def *d = ld_fact_def_get((ld_fact_id)i);
        if (d->scope != LD_SCOPE_SUBJECT)
            continue;
        n++;
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)strcspn(d->name, "."), d->name);
        const cJSON *items = cJSON_GetObjectItem(cJSON_GetObjectItem(probes, kind), "items");
        const cJSON *entry = cJSON_GetObjectItem(cJSON_GetObjectItem(items, "properties"),
                                                 ld_fact_field((ld_fact_id)i));
        if (!entry)
            fprintf(stderr, "\n  schema lacks probes.%s.%s\n", kind, ld_fact_field((ld_fact_id)i));
        CU_ASSERT_PTR_NOT_NULL(entry);
        if (entry)
            CU_ASSERT_TRUE(has_type(entry, json_type_of(d->type)));
    }
    int declared = 0;
    const cJSON *kind;
    cJSON_ArrayForEach(kind, probes) declared +=
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(kind, "items"), "properties"));
    CU_ASSERT_EQUAL(declared, n);
}

int main(void) {
    char *text = ld_unit_read_data("../../report/report.schema.json", NULL);
    schema = cJSON_Parse(text);
    free(text);
    if (!schema) {
        fprintf(stderr, "report/report.schema.json is not valid JSON\n");
        return 1;
    }
    static const ld_test_case cases[] = {
        LD_TEST(every_target_fact_is_in_the_schema_with_its_type),
        LD_TEST(every_subject_fact_is_in_its_probe_section),
        {0},
    };
    int rc = ld_unit_run("schema", cases);
    cJSON_Delete(schema);
    return rc;
}
