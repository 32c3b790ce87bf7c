/* cloud.h - which cloud this host runs on.
 *
 * From DMI (/sys/class/dmi/id, a local file read): the vendor
 * strings AWS, Google and Azure put there.
 */
#ifndef LD_PROBE_CLOUD_H
#define LD_PROBE_CLOUD_H

#include "core/cloud.h"

/* Decides the cloud from the DMI files under dmi_dir ("/sys/class/dmi/id").
 * Returns LD_CLOUD_GENERIC when the host is on none of them (or unreadable). */
ld_cloud ld_cloud_detect_dmi(const char *dmi_dir);

#endif
