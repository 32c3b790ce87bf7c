/* imds.h - the instance metadata services of AWS, GCP and Azure: what to
 * ask each one (paths, headers, order) and the pure parsers of its replies.
 *
 * Pure and fuzzed like the handshake decoder: no I/O, and any byte string is
 * safe to parse. The metadata probe (metadata.h) sends the requests and
 * hands each 200 reply's body here; what parses becomes cloud.* facts.
 *
 *   AWS    IMDSv2: PUT /latest/api/token (a TTL header), then GETs carrying
 *          the token: the identity document (account, region, zone,
 *          instance), the AZ ID, the local IPv4 and the primary MAC; then,
 *          per that MAC, the VPC and subnet IDs and CIDRs and the security
 *          group IDs.
 *   GCP    GETs under /computeMetadata/v1/ with Metadata-Flavor: Google (the
 *          project, the zone, the instance, nic0, the tags and the service
 *          account); the
 *          reply must carry the same header (a server without it is not
 *          Google's metadata server, whatever its body says).
 *   Azure  one GET of /metadata/instance?api-version=2021-02-01 with
 *          Metadata: true: a JSON document of compute and network.
 *
 * Every value is checked against the shape its provider documents (an
 * instance ID is i- and hex, a MAC six hex pairs, a CIDR a CIDR) before it
 * is recorded, so that a server that answers garbage records nothing, and a
 * MAC that goes into a later request's path cannot smuggle anything into it.
 */
#ifndef LD_PROBE_IMDS_H
#define LD_PROBE_IMDS_H

#include <stddef.h>

#include "core/cloud.h"
#include "core/err.h"
#include "core/facts.h"

/* One metadata request. */
typedef enum ld_imds_item {
    LD_IMDS_AWS_TOKEN = 0,       /* PUT /latest/api/token: the session token */
    LD_IMDS_AWS_DOCUMENT,        /* the instance identity document (JSON) */
    LD_IMDS_AWS_AZ_ID,           /* placement/availability-zone-id */
    LD_IMDS_AWS_LOCAL_IPV4,      /* local-ipv4 */
    LD_IMDS_AWS_MAC,             /* mac: the primary interface, for the paths below */
    LD_IMDS_AWS_VPC_ID,          /* .../macs/MAC/vpc-id */
    LD_IMDS_AWS_VPC_CIDRS,       /* .../macs/MAC/vpc-ipv4-cidr-blocks */
    LD_IMDS_AWS_SUBNET_ID,       /* .../macs/MAC/subnet-id */
    LD_IMDS_AWS_SUBNET_CIDR,     /* .../macs/MAC/subnet-ipv4-cidr-block */
    LD_IMDS_AWS_SECURITY_GROUPS, /* .../macs/MAC/security-group-ids */
    LD_IMDS_GCP_PROJECT_ID,      /* project/project-id */
    LD_IMDS_GCP_PROJECT_NUMBER,  /* project/numeric-project-id */
    LD_IMDS_GCP_ZONE,            /* instance/zone: projects/N/zones/ZONE */
    LD_IMDS_GCP_INSTANCE_ID,     /* instance/id */
    LD_IMDS_GCP_INSTANCE_NAME,   /* instance/name */
    LD_IMDS_GCP_NIC,             /* instance/network-interfaces/0/?recursive=true (JSON):
                                    network, ip and subnetmask of nic0 */
    LD_IMDS_GCP_TAGS,            /* instance/tags (a JSON list) */
    LD_IMDS_GCP_SERVICE_ACCOUNT, /* instance/service-accounts/default/email */
    LD_IMDS_AZURE_INSTANCE,      /* /metadata/instance (JSON) */
    LD_IMDS__COUNT
} ld_imds_item;

/* How one request is made. */
typedef struct ld_imds_def {
    ld_cloud cloud;   /* whose service */
    const char *path; /* appended to the base URL; "%s" stands for the MAC */
    int stage;        /* asked once every request of the stages before it ended:
                         0 the AWS token, 1 what needs only that, 2 per MAC */
    int essential;    /* without its reply the service gave nothing usable */
} ld_imds_def;

/* The request of item (item < LD_IMDS__COUNT). */
const ld_imds_def *ld_imds_def_get(ld_imds_item item);
/* The provider's own base URL: http://169.254.169.254 (AWS, Azure) or
 * http://metadata.google.internal (GCP, which the probe pins to
 * 169.254.169.254 rather than asking DNS). NULL for LD_CLOUD_GENERIC. */
const char *ld_imds_default_endpoint(ld_cloud c);

#define LD_IMDS_TOKEN_MAX 1024 /* longest session token kept (AWS sends 56 characters) */
#define LD_IMDS_MAC_MAX   18   /* "0e:49:61:0f:c3:11" and its NUL */

/* Parses the body of a 200 reply to item into cloud.* facts of bag (the
 * target bag of a fact store). For LD_IMDS_AWS_TOKEN and LD_IMDS_AWS_MAC
 * nothing is recorded: the token or MAC goes to word (wordlen bytes) for
 * the requests that need it. Returns LD_OK when the reply has the shape
 * the provider documents, else LD_EINVAL with err saying what is wrong
 * (and nothing recorded). */
ld_status ld_imds_parse(ld_imds_item item, const char *body, size_t len, ld_bag *bag, char *word,
                        size_t wordlen, ld_err *err);

#endif
