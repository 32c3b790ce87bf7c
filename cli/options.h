/* options.h - parsing `linkdoctor check` options into one const struct.
 *
 * Everything the user typed is validated here, before any work starts: a bad
 * target, option value or output path is one clear error and exit code 3.
 */
#ifndef LD_OPTIONS_H
#define LD_OPTIONS_H

#include <stddef.h>

#include "core/err.h"
#include "core/expect.h"
#include "core/profile.h"
#include "core/run.h"
#include "probes/dns.h"

#define LD_OPT_LIST_MAX 16       /* most repeats of --endpoint-ip, --dns-server, --rules */
#define LD_OPT_TARGETS_MAX 10000 /* most targets on one command line */

/* Report formats. */
typedef enum ld_format {
    LD_FORMAT_TEXT = 0, /* for people */
    LD_FORMAT_JSON,     /* linkdoctor.report/1 */
} ld_format;

/* Options of `linkdoctor check`. */
typedef struct ld_check_opts {
    ld_target_spec *targets;                     /* parsed targets, owned */
    size_t ntargets;                             /* how many */
    ld_addr endpoint_ips[LD_ENDPOINT_IPS_MAX];   /* --endpoint-ip */
    size_t nendpoint_ips;                        /* how many */
    ld_resolver dns_servers[LD_OPT_LIST_MAX];    /* --dns-server */
    size_t ndns_servers;                         /* how many */
    double timeout_s;                            /* --timeout */
    double connect_timeout_s;                    /* --connect-timeout */
    const char *cloud;                           /* --cloud */
    ld_format format;                            /* --format */
    const char *output;                          /* -o, NULL for stdout */
    const char *rules_files[LD_OPT_LIST_MAX];    /* --rules */
    size_t nrules_files;                         /* how many */
    const ld_profile *profile;                   /* --profile, NULL for none */
    const char *expect_status;                   /* --expect-status, NULL for the profile's */
    const char *cacert;                          /* --cacert, NULL: the system trust store */
    const char *sni;                             /* --sni, NULL: the host name */
    int cert_warn_days;                          /* --cert-warn-days */
    const char *capture;                         /* --capture: auto, on or off */
    const char *interface;                       /* --interface, NULL: all ("any") */
    int verbose;                                 /* -v */
    int help;                                    /* --help was asked for */
} ld_check_opts;

/* The defaults every option starts from. */
extern const ld_check_opts ld_check_defaults;

/* Parses argv (argv[0] is the subcommand name) into *out, starting from the
 * defaults; --profile names one of profiles. err names the offending input.
 * *out must be cleared with ld_check_opts_clear() whatever the result. */
ld_status ld_check_opts_parse(int argc, char **argv, const ld_profiles *profiles,
                              ld_check_opts *out, ld_err *err);
/* Frees what parsing allocated. */
void ld_check_opts_clear(ld_check_opts *o);
/* Parses a duration in seconds ("2", "0.5"): finite, > 0, at most a day. */
ld_status ld_seconds_parse(const char *s, double *out, ld_err *err);

/* The text of `linkdoctor check --help`. */
extern const char ld_check_usage[];

#endif
