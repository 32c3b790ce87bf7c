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

void ld_cli_profile_print(FILE *out, const ld_profile *p, const ld_names *names) {
    fprintf(out, "%s\n  %s://HOST:%u%s%s\n", p->name, ld_scheme_name(p->scheme), p->port,
            p->expect_status[0] ? ", expect status " : "", p->expect_status);
    for (size_t a = 0; a < p->nexpect_az_ids; a++)
        fprintf(out, "%s%s%s", a ? ", " : "  expected AZ IDs: ", p->expect_az_ids[a],
                a + 1 == p->nexpect_az_ids ? "\n" : "");
    ld_name_pattern_info info;
    for (size_t i = 0; ld_names_pattern_at(names, i, &info); i++)
        if (strcmp(info.vendor, p->name) == 0)
            fprintf(out, "  %s name: %s (%s)\n", info.cloud, info.shown, info.id);
    fprintf(out, "  %s\n", p->description);
    for (size_t d = 0; d < p->ndocs; d++)
        fprintf(out, "  %s\n", p->docs[d]);
}

int ld_cmd_profiles(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: linkdoctor profiles\n\nThe service profiles --profile NAME can apply: the "
             "scheme, port, expectations and AZ IDs each presets, and the vendor's name "
             "patterns it carries.");
        return 0;
    }
    if (argc > 1) {
        ld_msg_error("profiles: unexpected argument '%s'", argv[1]);
        return LD_EXIT_UNKNOWN;
    }
    ld_profiles *ps = malloc(sizeof *ps); /* ~140 KiB: not for the stack */
    ld_names *names = NULL;
    ld_err err;
    int code = LD_EXIT_UNKNOWN;
    if (!ps) {
        ld_msg_error("out of memory");
        goto out;
    }
    if (ld_cli_profiles(ps, &err) != LD_OK || !(names = ld_cli_names(&err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < ps->n; i++) {
        ld_cli_profile_print(stdout, &ps->items[i], names);
        if (i + 1 < ps->n)
            putchar('\n');
    }
    code = 0;
out:
    ld_names_free(names);
    free(ps);
    return code;
}
