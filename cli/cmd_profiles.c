/* cmd_profiles.c - `linkdoctor profiles`: the service presets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/msg.h"
#include "core/target.h"
#include "rules/builtin.h"

ld_status ld_cli_profiles(ld_profiles *out, ld_err *err) {
    const ld_builtin_file *f = &ld_builtin_profiles[0];
    if (!f->text)
        return ld_err_set(err, LD_EINVAL, "no built-in profiles");
    return ld_profiles_parse(f->text, f->len, f->path, out, err);
}

ld_names *ld_cli_names(ld_err *err) {
    const ld_builtin_file *names = &ld_builtin_names[0], *profiles = &ld_builtin_profiles[0];
    ld_names *n = ld_names_create();
    if (!n) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    if ((names->text && ld_names_load(n, names->text, names->len, names->path, err) != LD_OK) ||
        (profiles->text &&
         ld_names_load_profiles(n, profiles->text, profiles->len, profiles->path, err) != LD_OK)) {
        ld_names_free(n);
        return NULL;
    }
    return n;
}

int ld_cmd_profiles(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: linkdoctor profiles\n\nThe service profiles --profile NAME can apply: the "
             "scheme, port and expectations each presets.");
        return 0;
    }
    if (argc > 1) {
        ld_msg_error("profiles: unexpected argument '%s'", argv[1]);
        return LD_EXIT_UNKNOWN;
    }
    ld_profiles *ps = malloc(sizeof *ps); /* ~140 KiB: not for the stack */
    ld_err err;
    if (!ps || ld_cli_profiles(ps, &err) != LD_OK) {
        ld_msg_error("%s", ps ? err.msg : "out of memory");
        free(ps);
        return LD_EXIT_UNKNOWN;
    }
    for (size_t i = 0; i < ps->n; i++) {
        const ld_profile *p = &ps->items[i];
        printf("%s\n  %s://HOST:%u%s%s\n  %s\n", p->name, ld_scheme_name(p->scheme), p->port,
               p->expect_status[0] ? ", expect status " : "", p->expect_status, p->description);
        for (size_t d = 0; d < p->ndocs; d++)
            printf("  %s\n", p->docs[d]);
        if (i + 1 < ps->n)
            putchar('\n');
    }
    free(ps);
    return 0;
}
