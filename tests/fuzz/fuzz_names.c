/* fuzz_names.c - the name reader on arbitrary names: what a resolver hands back as a
 * CNAME chain is the network's to choose.
 *
 * The input is split at newlines: the first line is the name looked up, the rest its
 * chain. Each is read by the built-in table (rules/names.json and the profiles' names),
 * and the whole is recorded as facts. Besides memory errors and hangs, it checks the
 * reader's promises: what a match says is lower-case host name text no longer than a
 * name; the same name in upper case, and with the root's trailing dot, reads the same;
 * a recorded fact set names only names it was given, with one pattern per name.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 40 /* lines looked at: more than the reader reads */

/* The built-in table, made once: it is immutable, as in the tool. */
static const ld_names *table(void) {
    static ld_names *names;
    if (!names) {
        ld_err err;
        if (!(names = ld_cli_names(&err)))
            abort(); /* the built-in data is broken, not the input */
    }
    return names;
}

/* Every field is host name text: lower case, digits, '.', '-', '_', or the apex '@'
 * (and a service's description, which the table writes itself). */
static void check_match(const ld_name_match *m) {
    if (!m->pattern || !m->cloud || !m->kind || !m->vendor)
        abort();
    for (int f = 0; f < LD_NAME__COUNT; f++) {
        size_t len = strnlen(m->field[f], LD_NAME_MAX);
        if (len == LD_NAME_MAX)
            abort();
        for (size_t i = 0; f != LD_NAME_SERVICE && i < len; i++) {
            unsigned char c = (unsigned char)m->field[f][i];
            if (!(islower(c) || isdigit(c) || c == '.' || c == '-' || c == '_' || c == '@'))
                abort();
        }
    }
}

/* Reads name, and checks that its upper-case form and its fully qualified form read
 * the same. */
static void read_one(const char *name) {
    ld_name_match m, again;
    int ok = ld_names_read(table(), name, &m);
    if (!ok)
        return;
    check_match(&m);
    size_t len = strlen(name);
    char *variant = malloc(len + 2);
    if (!variant)
        abort();
    for (size_t i = 0; i <= len; i++)
        variant[i] = (char)toupper((unsigned char)name[i]);
    if (!ld_names_read(table(), variant, &again) || strcmp(again.pattern, m.pattern) != 0 ||
        memcmp(again.field, m.field, sizeof m.field) != 0)
        abort();
    if (len > 0 && name[len - 1] != '.') {
        memcpy(variant, name, len);
        memcpy(variant + len, ".", 2);
        if (!ld_names_read(table(), variant, &again) || strcmp(again.pattern, m.pattern) != 0 ||
            memcmp(again.field, m.field, sizeof m.field) != 0)
            abort();
    }
    free(variant);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *names[MAX_NAMES];
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < MAX_NAMES;
         line = strtok_r(NULL, "\n", &save))
        names[n++] = line;
    for (size_t i = 0; i < n; i++)
        read_one(names[i]);
    ld_value chain = {0};
    for (size_t i = 1; i < n; i++)
        if (ld_value_list_add(&chain, names[i]) != LD_OK)
            abort();
    ld_facts *f = ld_facts_create();
    if (!f)
        abort();
    if (n > 0 && ld_names_record(table(), names[0], &chain, ld_facts_target(f)) == LD_OK) {
        const ld_value *seen = ld_facts_get(f, LD_F_DNS_RECOGNIZED_NAMES);
        const ld_value *patterns = ld_facts_get(f, LD_F_DNS_NAME_PATTERNS);
        if (!seen || !patterns || seen->u.list.len != patterns->u.list.len || seen->u.list.len > n)
            abort();
        /* Endpoint facts only with a recognised name, and then always its kind. */
        if ((seen->u.list.len == 0) != (ld_facts_get(f, LD_F_DNS_ENDPOINT_NAME_KIND) == NULL))
            abort();
    }
    ld_facts_free(f);
    ld_value_clear(&chain);
    free(text);
    return 0;
}
