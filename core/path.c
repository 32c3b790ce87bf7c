/* path.c - file name helpers. */
#include "path.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>

void ld_path_dir(const char *path, char *buf, size_t len) {
    /* dirname() may write into its argument: it gets a copy. */
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(buf, len, "%s", dirname(copy));
}
