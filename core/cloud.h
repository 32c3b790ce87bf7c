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

#include "err.h"
#include "resolver.h"

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

/* The cloud's own resolver, which answers for the private zones linked to
 * the instance's network whatever /etc/resolv.conf says: AWS's Route 53
 * Resolver at 169.254.169.253, GCP's metadata server at 169.254.169.254,
 * Azure DNS at 168.63.129.16 (port 53, source LD_RESOLVER_CLOUD). Returns
 * LD_EINVAL for LD_CLOUD_GENERIC, which has none. */
ld_status ld_cloud_resolver(ld_cloud c, ld_resolver *out);

/* Checks an availability zone ID as AWS spells them ("use1-az1",
 * "use1-bos1-az1"): lower-case letters, digits and hyphens, a letter
 * first, shorter than LD_AZ_ID_MAX (core/spec.h), and not a zone name
 * (the error is then LD_AZ_NAME_NOT_ID). */
ld_status ld_az_id_check(const char *s, ld_err *err);
/* 1 when s is spelled as an AWS availability zone NAME ("us-east-1a",
 * "us-west-2-lax-1a"), which differs between accounts, not as an AZ ID. */
int ld_az_is_zone_name(const char *s);
/* What ld_az_id_check says of a zone name. */
#define LD_AZ_NAME_NOT_ID                                                                          \
    "that is an availability zone name; give its AZ ID (e.g. use1-az4: aws ec2 "                   \
    "describe-availability-zones)"

#endif
