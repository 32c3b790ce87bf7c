/* fuzz_targets_file.c - the targets-file parser on arbitrary bytes: never a
 * crash, every line it hands over has its words NUL-terminated and NULL after
 * the last, and each target word goes through the same spec builder a line
 * of a real file does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ld_status line(void *arg, int argc, char **argv, ld_err *err) {
    (void)arg;
    if (argc < 1 || argc > LD_TARGETS_WORDS_MAX || argv[argc] != NULL)
        abort();
    for (int i = 0; i < argc; i++)
        if (strlen(argv[i]) > LD_TARGETS_LINE_MAX)
            abort();
    ld_target_opts t = {.cert_warn_days = 14};
    ld_target_spec spec;
    return ld_opts_spec(argv[0], &t, &spec, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ld_err err;
    ld_targets_parse((const char *)data, size, line, NULL, &err);
    return 0;
}
