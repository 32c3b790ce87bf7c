/* cloud.c - cloud names. */
#include "cloud.h"

#include <ctype.h>
#include <string.h>

#include "spec.h"

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

ld_status ld_cloud_resolver(ld_cloud c, ld_resolver *out) {
    static const char *const addrs[LD_CLOUD__COUNT] = {
        [LD_CLOUD_AWS] = "169.254.169.253",
        [LD_CLOUD_GCP] = "169.254.169.254",
        [LD_CLOUD_AZURE] = "168.63.129.16",
    };
    if ((unsigned)c >= LD_CLOUD__COUNT || !addrs[c])
        return LD_EINVAL;
    memset(out, 0, sizeof *out);
    out->port = 53;
    out->source = LD_RESOLVER_CLOUD;
    return ld_addr_parse(addrs[c], &out->addr, NULL);
}

ld_status ld_az_id_check(const char *s, ld_err *err) {
    size_t n = strlen(s);
    if (n == 0)
        return ld_err_set(err, LD_EINVAL, "empty AZ ID");
    if (n >= LD_AZ_ID_MAX)
        return ld_err_set(err, LD_EINVAL, "longer than %d characters", LD_AZ_ID_MAX - 1);
    if (!islower((unsigned char)s[0]))
        return ld_err_set(err, LD_EINVAL, "not an AZ ID (like use1-az1): it starts with a letter");
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
            return ld_err_set(err, LD_EINVAL,
                              "not an AZ ID (like use1-az1): lower-case letters, digits and "
                              "hyphens only");
    return LD_OK;
}
