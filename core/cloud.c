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

int ld_az_is_zone_name(const char *s) {
    /* An AZ ID's first part ends in the region's number (use1, usw2,
     * apne1); a zone name's is the region's letters (us, ap, us-gov), and
     * the region's number starts a later part (us-east-1a, us-west-2-lax-1a). */
    size_t first = strspn(s, "abcdefghijklmnopqrstuvwxyz");
    if (first == 0 || s[first] != '-')
        return 0;
    for (const char *p = s + first; (p = strchr(p, '-')) != NULL; p++)
        if (isdigit((unsigned char)p[1]))
            return 1;
    return 0;
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
    if (ld_az_is_zone_name(s))
        return ld_err_set(err, LD_EINVAL, LD_AZ_NAME_NOT_ID);
    return LD_OK;
}
