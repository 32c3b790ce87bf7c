/* facts_json.c - facts from JSON (a report's "facts" object, its probes). */
#include "facts.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

ld_status ld_bag_set_json(ld_bag *t, ld_fact_id id, const cJSON *v, ld_err *err) {
    const ld_fact_def *def = ld_fact_def_get(id);
    switch (def->type) {
    case LD_T_BOOL:
        if (cJSON_IsBool(v))
            return ld_bag_set_bool(t, id, cJSON_IsTrue(v));
        break;
    case LD_T_INT:
        if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
            fabs(v->valuedouble) < 9007199254740992.0)
            return ld_bag_set_int(t, id, (int64_t)v->valuedouble);
        break;
    case LD_T_NUM:
        if (cJSON_IsNumber(v))
            return ld_bag_set_num(t, id, v->valuedouble);
        if (cJSON_IsNull(v))
            return ld_bag_set_num(t, id, NAN);
        break;
    case LD_T_STR:
        if (cJSON_IsString(v))
            return ld_bag_set_str(t, id, v->valuestring);
        break;
    case LD_T_LIST:
        if (!cJSON_IsArray(v))
            break;
        ld_status st = ld_bag_set_empty_list(t, id);
        const cJSON *item;
        cJSON_ArrayForEach(item, v) {
            if (!cJSON_IsString(item))
                return ld_err_set(err, LD_EINVAL, "fact %s: list items must be strings", def->name);
            if (st == LD_OK)
                st = ld_bag_list_add(t, id, item->valuestring);
        }
        return st;
    case LD_T_NONE:
        break;
    }
    return ld_err_set(err, LD_EINVAL, "fact %s: expected a value of type %s", def->name,
                      ld_type_name(def->type));
}

ld_status ld_facts_load_json(ld_facts *f, const char *json, size_t len, ld_err *err) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return ld_err_set(err, LD_EINVAL, "facts: malformed JSON");
    ld_status st = LD_OK;
    if (!cJSON_IsObject(root)) {
        st = ld_err_set(err, LD_EINVAL, "facts: expected a JSON object");
        goto out;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, root) {
        int id = ld_fact_lookup(v->string, strlen(v->string));
        if (id < 0) {
            st = ld_err_set(err, LD_EINVAL, "facts: unknown fact '%s'", v->string);
            goto out;
        }
        if (ld_fact_def_get((ld_fact_id)id)->scope != LD_SCOPE_TARGET) {
            st = ld_err_set(err, LD_EINVAL, "facts: %s is per-subject evidence, not a target fact",
                            v->string);
            goto out;
        }
        if ((st = ld_bag_set_json(ld_facts_target(f), (ld_fact_id)id, v, err)) != LD_OK)
            goto out;
    }
out:
    cJSON_Delete(root);
    return st;
}
