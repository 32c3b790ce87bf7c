/* metadata.h - the cloud metadata probe: what the instance metadata service
 * says about this instance (account, region, zone and AZ ID, instance, VPC
 * or network, subnet, security groups or network tags, resource group).
 *
 * One probe per plan, not per target: it records cloud.* target facts into
 * a fact store of its own, which the plan copies into every target's facts.
 * It asks the provider the plan decided (imds.h says what and how) with
 * libcurl's multi interface in the loop (curlmulti.h), several requests at
 * once, never through a proxy. Its deadline is the plan's business (about a
 * second, never past the run's): whatever is missing, refused, garbage or
 * silent then ends as cloud.metadata_available false with
 * cloud.metadata_failure and cloud.metadata_error saying why.
 *
 * AWS: IMDSv2 only, unless the token request is refused with 403 or 405;
 * then the same requests go without a token, and when they work
 * cloud.imds_version says v1; when they are unauthorized (401: IMDSv2 is
 * required) the failure is token_refused. The token is never recorded.
 */
#ifndef LD_PROBE_METADATA_H
#define LD_PROBE_METADATA_H

#include "core/cloud.h"
#include "probes/probe.h"

/* What the metadata probe asks. */
typedef struct ld_metadata_config {
    ld_cloud cloud;       /* whose service: aws, gcp or azure */
    const char *endpoint; /* base URL the provider's paths are appended to (--imds-endpoint);
                             NULL: the provider's own (ld_imds_default_endpoint) */
} ld_metadata_config;

extern const ld_probe_ops ld_probe_metadata;

#endif
