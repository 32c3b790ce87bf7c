/* fuzz_targets_file.c - the targets-file parser on arbitrary bytes: never a
 * crash, every line it hands over has its words NUL-terminated and NULL after
 * the last, and each line goes through the same option parser and spec
 * builder a line of a real file does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ld_status line(void *arg, int argc, char **argv, ld_err *err) {
    if (argc < 1 || argc > LD_TARGETS_WORDS_MAX || argv[argc] != NULL)
        abort();
    for (int i = 0; i < argc; i++)
        if (strlen(argv[i]) > LD_TARGETS_LINE_MAX)
            abort();
    const ld_profiles *profiles = arg;
    ld_target_opts defaults = {.cert_warn_days = 14}, t;
    const char *input;
    ld_status st = ld_opts_line(argc, argv, profiles, &defaults, &t, &input, err);
    if (st != LD_OK)
        return st;
    if (t.nendpoint_ips > LD_ENDPOINT_IPS_MAX || t.ndns_servers > LD_DNS_SERVERS_MAX)
        abort();
    ld_target_spec spec;
    return ld_opts_spec(input, &t, &spec, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ld_profiles *profiles;
    ld_err err;
    if (!profiles &&
        (!(profiles = malloc(sizeof *profiles)) || ld_cli_profiles(profiles, &err) != LD_OK))
        abort();
    ld_targets_parse((const char *)data, size, line, profiles, &err);
    return 0;
}
