/* fuzz_expect.c - --expect-status specs on arbitrary bytes: never a crash, and
 * an accepted spec normalizes to text that parses back to the same spec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/expect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ld_expect_status e, again;
    ld_err err;
    if (ld_expect_parse(s, &e, &err) == LD_OK) {
        if (ld_expect_parse(e.text, &again, &err) != LD_OK || again.n != e.n)
            abort();
        for (int status = 100; status < 600; status++)
            if (ld_expect_match(&e, status) != ld_expect_match(&again, status))
                abort();
    }
    free(s);
    return 0;
}
