/* builtin.h - the rule files, service profiles and name patterns embedded at build time
 * (rules/embed.cmake). */
#ifndef LD_RULES_BUILTIN_H
#define LD_RULES_BUILTIN_H

#include <stddef.h>

/* One embedded rules file. */
typedef struct ld_builtin_file {
    const char *path; /* path in the source tree, e.g. "rules/dns.json" */
    const char *text; /* its contents, NUL-terminated */
    size_t len;       /* length without the NUL */
} ld_builtin_file;

/* The embedded rule files, in path order, followed by an all-zero entry. */
extern const ld_builtin_file ld_builtin_rules[];
extern const unsigned ld_builtin_rules_count;
/* The embedded service profiles (rules/profiles.json), the same way. */
extern const ld_builtin_file ld_builtin_profiles[];
extern const unsigned ld_builtin_profiles_count;
/* The embedded name patterns of the providers (rules/names.json), the same way. */
extern const ld_builtin_file ld_builtin_names[];
extern const unsigned ld_builtin_names_count;

#endif
