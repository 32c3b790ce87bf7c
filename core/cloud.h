/* cloud.h - which cloud a host runs on, as one enum with one name table.
 *
 * The plan decides it (DMI, --cloud, later instance metadata) and records it
 * as the fact cloud.provider; the rules pick the remediation text of that
 * cloud from the fact (rules read facts and nothing else, so a saved report
 * reproduces its diagnoses). "generic" is the remediation of no particular
 * cloud; the fact says "none" for a host on no known cloud.
 */
#ifndef LD_CLOUD_H
#define LD_CLOUD_H

/* A cloud provider, or none. */
typedef enum ld_cloud {
    LD_CLOUD_GENERIC = 0, /* no known cloud: generic remediation */
    LD_CLOUD_AWS,         /* Amazon Web Services */
    LD_CLOUD_GCP,         /* Google Cloud */
    LD_CLOUD_AZURE,       /* Microsoft Azure */
    LD_CLOUD__COUNT
} ld_cloud;

/* "generic", "aws", "gcp", "azure": remediation keys in rule files. */
const char *ld_cloud_name(ld_cloud c);
/* The value of the cloud.provider fact: "aws", "gcp", "azure", or "none". */
const char *ld_cloud_provider_name(ld_cloud c);
/* Parses a remediation key; -1 when s is not one. */
int ld_cloud_parse(const char *s);
/* Parses a cloud.provider value ("none" is LD_CLOUD_GENERIC); -1 when s is
 * not one. */
int ld_cloud_provider_parse(const char *s);

#endif
