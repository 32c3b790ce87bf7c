/* cloud.c - cloud provider detection from DMI strings.
 *
 * What each provider documents writing into SMBIOS:
 *   AWS    sys_vendor / bios_vendor "Amazon EC2" (Nitro), bios_version "...amazon" (Xen)
 *   GCP    sys_vendor "Google", product_name "Google Compute Engine"
 *   Azure  sys_vendor "Microsoft Corporation" with chassis_asset_tag
 *          7783-7084-3265-9085-8269-3286-77
 */
#include "cloud.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Reads the first line of dir/name into buf ("" when unreadable). */
static void dmi_read(const char *dir, const char *name, char *buf, size_t len) {
    char path[512];
    buf[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\r\n")] = '\0';
    fclose(f);
}

ld_cloud ld_cloud_detect_dmi(const char *dmi_dir) {
    char sys_vendor[128], bios_vendor[128], bios_version[128], product[128], asset[128];
    dmi_read(dmi_dir, "sys_vendor", sys_vendor, sizeof sys_vendor);
    dmi_read(dmi_dir, "bios_vendor", bios_vendor, sizeof bios_vendor);
    dmi_read(dmi_dir, "bios_version", bios_version, sizeof bios_version);
    dmi_read(dmi_dir, "product_name", product, sizeof product);
    dmi_read(dmi_dir, "chassis_asset_tag", asset, sizeof asset);
    if (strcasestr(sys_vendor, "Amazon") || strcasestr(bios_vendor, "Amazon") ||
        strcasestr(bios_version, "amazon"))
        return LD_CLOUD_AWS;
    if (strcasestr(sys_vendor, "Google") || strcasestr(product, "Google Compute Engine"))
        return LD_CLOUD_GCP;
    if (strcmp(asset, "7783-7084-3265-9085-8269-3286-77") == 0)
        return LD_CLOUD_AZURE;
    return LD_CLOUD_GENERIC;
}
