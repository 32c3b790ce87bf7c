/* profile.h - service profiles: data that presets scheme, port and
 * expectations for a known service ("--profile zilliz": https, port 19530,
 * expect 400). A profile file is
 *   {"linkdoctor_profiles": 1, "profiles": [{"name", "description", "scheme",
 *     "port", "expect_status"?, "expect_az_ids"?, "docs"?, "names"?}]}
 * and unknown fields, bad schemes, ports or status specs are load errors.
 * "names" are the vendor's name patterns (core/names.h, read with
 * ld_names_load_profiles for every target, whatever its profile: they
 * match only the vendor's own names).
 * Explicit target parts and options always win over a profile's presets. */
#ifndef LD_PROFILE_H
#define LD_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/spec.h"
#include "core/target.h"

#define LD_PROFILES_MAX     64 /* profiles in one set */
#define LD_PROFILE_DOCS_MAX 4

/* One profile. */
typedef struct ld_profile {
    char name[32];          /* what --profile names */
    char description[1024]; /* what it is for, and the source of its presets */
    ld_scheme scheme;       /* preset scheme */
    uint16_t port;          /* preset port */
    char expect_status[64]; /* preset --expect-status, "" for none */
    char expect_az_ids[LD_AZ_IDS_MAX][LD_AZ_ID_MAX]; /* preset --expect-az-id */
    size_t nexpect_az_ids;                           /* how many */
    char docs[LD_PROFILE_DOCS_MAX][256];             /* documentation URLs */
    size_t ndocs;                                    /* how many */
} ld_profile;

/* A set of profiles. */
typedef struct ld_profiles {
    ld_profile items[LD_PROFILES_MAX]; /* in file order */
    size_t n;                          /* how many */
} ld_profiles;

/* Parses a profile file's text into out (cleared first); errors name origin
 * and the profile. */
ld_status ld_profiles_parse(const char *text, size_t len, const char *origin, ld_profiles *out,
                            ld_err *err);
/* The profile called name, or NULL. */
const ld_profile *ld_profiles_find(const ld_profiles *ps, const char *name);

#endif
