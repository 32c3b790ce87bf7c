/* names.h - the name reader: what the providers' private link names say.
 *
 * Private link names carry what the troubleshooting needs: an AWS interface
 * endpoint's DNS name its endpoint ID, service, region and - for a zonal name -
 * the one availability zone it answers for; a name in Azure's privatelink.*
 * zones the private DNS zone that must hold it and the public zone it shadows;
 * a vendor's private link name (Zilliz's in01-ID.aws-REGION...) its cloud and
 * region, and the zone and record its guide tells the user to create. The DNS
 * probe already records the CNAME chain; this module reads the target's name
 * and every name of the chain against a table of patterns, and records what
 * it recognised as dns.* facts the rules read.
 *
 * The patterns are data, not code: rules/names.json (the providers') and the
 * "names" of each service profile in rules/profiles.json (a vendor's own
 * conventions). A names file is
 *
 *   {"linkdoctor_names": 1,
 *    "classes": {"CLASS": "ERE fragment" | ["literal", ...], ...},
 *    "tables":  {"TABLE": [{"FIELD": "literal", ...}, ...], ...},
 *    "patterns": [PATTERN, ...]}
 *
 * and PATTERN (also the shape of a profile's "names" entries) is
 *
 *   "id"        required  stable name, e.g. "aws.interface_endpoint.zonal"
 *   "cloud"     required  aws, gcp or azure
 *   "kind"      required  regional, zonal, privatelink, service_public,
 *                         service_alias, psc or vendor (dns.endpoint_name_kind)
 *   "authority" optional  provider (the cloud's own naming, the default) or
 *                         vendor (a service vendor's; always so in a profile)
 *   "name"      required  the whole name: literal text and {FIELD:CLASS}
 *                         captures; with "rows", {FIELD} is the row's value
 *   "fields"    optional  {"FIELD": "text with {FIELD} of the captures, {name}
 *                         for the whole name"}: what the match also says
 *   "unless"    optional  [names like "name"]: the pattern does not apply to
 *                         a name one of them matches
 *   "rows"      optional  a table's name: one pattern per row, the row's
 *                         values filled in and recorded as fields
 *   "source"    optional  where the naming is documented (a URL or the seed)
 *
 * FIELD is one of endpoint_id, service, region, zone, regional_name,
 * privatelink_zone, record, public_zone (each a dns.* fact, see facts.def), or
 * a helper whose name starts with '_'. Literal text is matched as written
 * (a dot is a dot). Names are read in lower case without a trailing dot, as
 * DNS compares them; a name that is not a host name matches nothing. A
 * profile's patterns are tried before the provider table's, then each in
 * file order; the first that matches a name reads it.
 */
#ifndef LD_NAMES_H
#define LD_NAMES_H

#include <stddef.h>

#include "err.h"
#include "facts.h"
#include "value.h"

#define LD_NAME_MAX           254 /* a host name (253 characters) and its NUL */
#define LD_NAMES_PATTERNS_MAX 512 /* patterns in one table, rows expanded */

/* What a recognised name says; each a dns.* fact (ld_names_record). */
typedef enum ld_name_field {
    LD_NAME_ENDPOINT_ID = 0,  /* the endpoint's ID: vpce-..., a PSC endpoint's name */
    LD_NAME_SERVICE,          /* the service behind it: vpce-svc-..., an AWS or Google
                                 service, an Azure resource type */
    LD_NAME_REGION,           /* the region the name carries */
    LD_NAME_ZONE,             /* the availability zone of a zonal name */
    LD_NAME_REGIONAL_NAME,    /* of a zonal name: the endpoint's regional DNS name */
    LD_NAME_PRIVATELINK_ZONE, /* the private DNS zone that must answer for the name */
    LD_NAME_RECORD,           /* the record in that zone ("@": its apex) */
    LD_NAME_PUBLIC_ZONE,      /* the public zone the private zone shadows */
    LD_NAME__COUNT
} ld_name_field;

/* One name read by a pattern. */
typedef struct ld_name_match {
    const char *pattern; /* the pattern's id (the table's: valid while it is) */
    const char *cloud;   /* aws, gcp or azure (the table's) */
    const char *kind;    /* regional, zonal, ... (the table's) */
    const char *vendor;  /* the profile that carries the pattern, "" for the
                            provider table (the table's) */
    int vendor_naming;   /* the pattern's authority is a vendor, not the cloud */
    char field[LD_NAME__COUNT][LD_NAME_MAX]; /* what it says, "" where nothing */
} ld_name_match;

typedef struct ld_names ld_names; /* a compiled table of name patterns */

/* Creates an empty table; NULL when out of memory. */
ld_names *ld_names_create(void);
/* Frees the table; NULL is harmless. */
void ld_names_free(ld_names *n);
/* Adds the classes, tables and patterns of a names file. All or nothing:
 * on failure the table is as it was, and err names origin and the pattern. */
ld_status ld_names_load(ld_names *n, const char *text, size_t len, const char *origin, ld_err *err);
/* Adds the "names" of every profile of a profiles file (core/profile.h), as
 * vendor patterns named after their profile, with the classes loaded so far.
 * All or nothing, like ld_names_load. */
ld_status ld_names_load_profiles(ld_names *n, const char *text, size_t len, const char *origin,
                                 ld_err *err);
/* Compiles every expression of the table now (reading compiles each on its
 * first use); LD_EINVAL with err naming the pattern when one does not. */
ld_status ld_names_compile(ld_names *n, ld_err *err);
/* How many patterns the table holds (rows expanded). */
size_t ld_names_count(const ld_names *n);

/* What a pattern is, for listing (pointers into the table: valid while it
 * is). */
typedef struct ld_name_pattern_info {
    const char *id;     /* its "id" (zilliz.aws) */
    const char *cloud;  /* aws, gcp or azure */
    const char *kind;   /* regional, zonal, vendor, ... */
    const char *vendor; /* the profile that carries it, "" for the provider table */
    const char *shown;  /* its name with each placeholder in capitals
                           (CLUSTER.aws-REGION.vectordb.zillizcloud.com) */
} ld_name_pattern_info;

/* Pattern i of the table (load order, i < ld_names_count): 1 and *out
 * filled, 0 when there is no such pattern. */
int ld_names_pattern_at(const ld_names *n, size_t i, ld_name_pattern_info *out);

/* Reads one name: 1 and *out filled when a pattern recognises it, else 0. */
int ld_names_read(const ld_names *n, const char *name, ld_name_match *out);

/* Reads the looked-up name and then each name of its CNAME chain (a list
 * value, NULL or not recorded when there is none) and records on the target
 * bag: dns.recognized_names and dns.name_patterns always (empty when none is
 * recognised), and the dns.endpoint_* / dns.privatelink_* facts of what was.
 * Each fact comes from the best name that says it: the provider's naming
 * before a vendor's, and a later name of the chain (nearer the endpoint)
 * before an earlier one. A NULL table records nothing. */
ld_status ld_names_record(const ld_names *n, const char *name, const ld_value *chain,
                          ld_bag *target);

#endif
