/* fuzz_expr.c - libFuzzer harness for the condition language.
 *
 * Arbitrary bytes are parsed; what parses is evaluated against a small fixed
 * fact set (and against no facts). Besides memory errors, it checks the
 * parser's promises: a failed parse hands back nothing and says
 * "position N: ..." with N inside the input, and evaluation is deterministic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture cannot fail; if it does, the harness is broken, not the input. */
static void must(ld_status st) {
    if (st != LD_OK)
        abort();
}

/* Every value type, recorded and not: lists (one empty), strings, ints, a
 * number, bools; cloud.provider and tcp.connect_ms stay unrecorded. */
static ld_facts *fixed_facts(void) {
    ld_facts *f = ld_facts_create();
    if (!f)
        abort();
    ld_bag *t = ld_facts_target(f);
    must(ld_bag_set_str(t, LD_F_DNS_RCODE, "NXDOMAIN"));
    must(ld_bag_set_str(t, LD_F_TARGET_HOST, "db.example.com"));
    must(ld_bag_set_int(t, LD_F_TARGET_PORT, 19530));
    must(ld_bag_set_int(t, LD_F_TCP_TIMEOUT_COUNT, 2));
    must(ld_bag_set_int(t, LD_F_TCP_OPEN_COUNT, 0));
    must(ld_bag_set_num(t, LD_F_DNS_LATENCY_MS, 12.5));
    must(ld_bag_set_bool(t, LD_F_DNS_HOSTS_OVERRIDE, 1));
    must(ld_bag_set_bool(t, LD_F_TARGET_HOST_IS_IP, 0));
    must(ld_bag_list_add(t, LD_F_DNS_ADDRESSES, "10.0.1.23"));
    must(ld_bag_list_add(t, LD_F_DNS_ADDRESSES, "10.0.2.23"));
    must(ld_bag_set_empty_list(t, LD_F_DNS_PUBLIC_ADDRESSES));
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0'; /* the API takes a C string: an embedded NUL ends it */
    ld_facts *facts = fixed_facts();
    ld_err err = {{0}};
    ld_expr *e = NULL;
    ld_status st = ld_expr_parse(src, &e, &err);
    if (st == LD_OK) {
        int first = ld_expr_eval(e, facts);
        if (first != 0 && first != 1)
            abort();
        if (ld_expr_eval(e, facts) != first)
            abort();
        (void)ld_expr_eval(e, NULL);
    } else {
        unsigned long pos = 0;
        if (e != NULL || sscanf(err.msg, "position %lu: ", &pos) != 1 || pos < 1 ||
            pos > strlen(src) + 1)
            abort();
    }
    ld_expr_free(e);
    ld_facts_free(facts);
    free(src);
    return 0;
}
