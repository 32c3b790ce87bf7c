/* cloud.c - cloud names. */
#include "cloud.h"

#include <string.h>

static const char *const names[LD_CLOUD__COUNT] = {"generic", "aws", "gcp", "azure"};

const char *ld_cloud_name(ld_cloud c) {
    return (unsigned)c < LD_CLOUD__COUNT ? names[c] : "unknown";
}

const char *ld_cloud_provider_name(ld_cloud c) {
    return c == LD_CLOUD_GENERIC ? "none" : ld_cloud_name(c);
}

int ld_cloud_parse(const char *s) {
    for (int i = 0; s && i < LD_CLOUD__COUNT; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int ld_cloud_provider_parse(const char *s) {
    if (s && strcmp(s, "none") == 0)
        return LD_CLOUD_GENERIC;
    int c = ld_cloud_parse(s);
    return c == LD_CLOUD_GENERIC ? -1 : c;
}
