/* fuzz_target.c - target, address and --dns-server parsing on arbitrary bytes:
 * never a crash, and what parses satisfies the documented limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ld_target t;
    ld_err err;
    if (ld_target_parse(s, &t, &err) == LD_OK) {
        if (t.port == 0 || strlen(t.host) > LD_HOST_MAX + 1 ||
            strlen(t.input) > LD_TARGET_INPUT_MAX)
            abort();
        if (!t.host_is_ip && ld_host_name_check(t.host, &err) != LD_OK)
            abort();
    }
    ld_addr a;
    uint16_t port;
    if (ld_hostport_parse_ip(s, 53, &a, &port, &err) == LD_OK && port == 0)
        abort();
    free(s);
    return 0;
}
