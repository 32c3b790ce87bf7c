/* fuzz_rules.c - libFuzzer harness for the rules loader and evaluator.
 *
 * Arbitrary bytes are loaded as a rules file; a set that loads is evaluated
 * against a small fixed fact set. Besides memory errors, it checks the
 * loader's and evaluator's promises: a failed load leaves the set empty and
 * names the origin; results are ordered worst first and every suppressed
 * diagnosis names its root cause.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture cannot fail; if it does, the harness is broken, not the input. */
static void must(ld_status st) {
    if (st != LD_OK)
        abort();
}

/* Enough facts for typical rules to fire, suppress and render. */
static ld_facts *fixed_facts(void) {
    ld_facts *f = ld_facts_create();
    if (!f)
        abort();
    ld_bag *t = ld_facts_target(f);
    must(ld_bag_set_str(t, LD_F_DNS_RCODE, "NXDOMAIN"));
    must(ld_bag_set_str(t, LD_F_DNS_NAME, "db.example.com"));
    must(ld_bag_set_str(t, LD_F_CLOUD_PROVIDER, "aws"));
    must(ld_bag_set_int(t, LD_F_TARGET_PORT, 19530));
    must(ld_bag_set_int(t, LD_F_TCP_TIMEOUT_COUNT, 2));
    must(ld_bag_set_int(t, LD_F_TCP_OPEN_COUNT, 1));
    must(ld_bag_set_int(t, LD_F_TCP_FAILED_COUNT, 1));
    must(ld_bag_set_num(t, LD_F_DNS_LATENCY_MS, 12.5));
    must(ld_bag_set_bool(t, LD_F_DNS_HOSTS_OVERRIDE, 1));
    must(ld_bag_list_add(t, LD_F_TCP_TIMEOUT_ADDRESSES, "10.0.1.23"));
    must(ld_bag_set_str(t, LD_F_TCP_SOURCE_IP, "10.0.1.5"));
    return f;
}

/* Aborts unless d keeps the promises of rules.h. */
static void check(const ld_ruleset *rs, const ld_diagnoses *d) {
    if (d->nreported + d->nsuppressed > ld_ruleset_count(rs))
        abort();
    int has_bad = 0;
    for (size_t i = 0; i < d->nreported; i++) {
        const ld_diagnosis *x = &d->reported[i];
        if (!x->rule || x->suppressed_by || !x->title || !x->summary || !x->remediation)
            abort();
        if (i > 0 && x->severity > d->reported[i - 1].severity)
            abort();
        has_bad |= x->severity >= LD_SEV_WARNING;
    }
    for (size_t i = 0; i < d->nreported; i++)
        if (has_bad && d->reported[i].severity == LD_SEV_OK)
            abort();
    for (size_t i = 0; i < d->nsuppressed; i++)
        if (!d->suppressed[i].suppressed_by ||
            d->suppressed[i].suppressed_by == d->suppressed[i].rule)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ld_ruleset *rs = ld_ruleset_create();
    ld_err err = {{0}};
    if (!rs)
        return 0;
    ld_status st = ld_ruleset_add_json(rs, (const char *)data, size, "fuzz.json", &err);
    if (st != LD_OK) {
        if (ld_ruleset_count(rs) != 0 || strncmp(err.msg, "fuzz.json: ", 11) != 0)
            abort();
    } else {
        ld_facts *facts = fixed_facts();
        ld_diagnoses d;
        memset(&d, 0, sizeof d);
        if (ld_rules_eval(rs, facts, &d, &err) != LD_OK)
            abort();
        check(rs, &d);
        ld_diagnoses_clear(&d);
        ld_facts_free(facts);
    }
    ld_ruleset_free(rs);
    return 0;
}
