/* fuzz_metadata.c - the metadata services' parsers on arbitrary replies: the first
 * byte picks the request (modulo the number of them), the rest is the reply's body.
 * Never a crash, never a read past the body; a refused reply records nothing and
 * leaves the word empty; what is recorded has the shapes the parsers promise: a MAC
 * of hex and colons (it goes into later paths), a token without spaces, AWS IDs with
 * their prefix. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/imds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string of a recorded value, for the checks below. */
static void check_ids(const ld_bag *b) {
    const ld_value *v = ld_bag_get(b, LD_F_CLOUD_SECURITY_GROUP_IDS);
    for (size_t i = 0; v && i < v->u.list.len; i++)
        if (strncmp(v->u.list.items[i], "sg-", 3) != 0)
            abort();
    v = ld_bag_get(b, LD_F_CLOUD_INSTANCE_ID);
    for (const char *c = v ? v->u.s : ""; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    ld_imds_item item = (ld_imds_item)(data[0] % LD_IMDS__COUNT);
    size_t len = size - 1;
    char *body = malloc(len ? len : 1); /* exact size: ASan sees a read past it */
    ld_facts *f = ld_facts_create();
    if (!body || !f)
        abort();
    memcpy(body, data + 1, len);
    char word[LD_IMDS_TOKEN_MAX];
    word[0] = '\0';
    ld_err err;
    ld_bag *b = ld_facts_target(f);
    ld_status st = ld_imds_parse(item, body, len, b, word, sizeof word, &err);
    if (st != LD_OK) {
        if (ld_bag_len(b) != 0 || word[0] || !err.msg[0])
            abort();
    } else if (item == LD_IMDS_AWS_MAC) {
        if (strlen(word) != 17 || strspn(word, "0123456789abcdefABCDEF:") != 17)
            abort();
    } else if (item == LD_IMDS_AWS_TOKEN) {
        for (const char *c = word; *c; c++)
            if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
                abort();
        if (!word[0])
            abort();
    }
    check_ids(b);
    ld_facts_free(f);
    free(body);
    return 0;
}
