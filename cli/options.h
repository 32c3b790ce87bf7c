/* options.h - one option parser for every subcommand.
 *
 * One table names each option once: its argument, the subcommands that take
 * it, whether it may differ per target (a targets-file line or a serve
 * request may set it), and whether it names a local file (never accepted
 * from a remote request). Everything the user typed is validated here,
 * before any work starts: a bad value, target or output path is one clear
 * error naming the input, and exit code 3.
 */
#ifndef LD_OPTIONS_H
#define LD_OPTIONS_H

#include <stddef.h>

#include "core/cloud.h"
#include "core/err.h"
#include "core/profile.h"
#include "core/range.h"
#include "core/spec.h"
#include "probes/capture.h"
#include "report/report.h"

#define LD_OPT_LIST_MAX    16    /* most repeats of --endpoint-ip, --dns-server, --rules */
#define LD_OPT_TARGETS_MAX 10000 /* most targets on one command line */

/* The subcommands, as bits of an option's "taken by" set. */
typedef enum ld_command {
    LD_CMD_CHECK = 1u << 0,   /* linkdoctor check */
    LD_CMD_ANALYZE = 1u << 1, /* linkdoctor analyze */
    LD_CMD_RULES = 1u << 2,   /* linkdoctor rules list|lint|facts */
    LD_CMD_EXPLAIN = 1u << 3, /* linkdoctor explain */
    LD_CMD_SERVE = 1u << 4,   /* linkdoctor serve */
    LD_CMD_SHOW = 1u << 5,    /* linkdoctor show */
} ld_command;

/* Options that may differ from one target to the next. */
typedef struct ld_target_opts {
    ld_addr endpoint_ips[LD_ENDPOINT_IPS_MAX];   /* --endpoint-ip */
    size_t nendpoint_ips;                        /* how many */
    ld_resolver dns_servers[LD_DNS_SERVERS_MAX]; /* --dns-server */
    size_t ndns_servers;                         /* how many */
    const ld_profile *profile;                   /* --profile, NULL for none */
    const char *expect_status;                   /* --expect-status (valid), NULL: the profile's */
    const char *sni;                             /* --sni (valid), NULL: the host name */
    int cert_warn_days;                          /* --cert-warn-days */
    const char *cacert;                          /* --cacert, NULL: the system trust store */
    char expected_az_ids[LD_AZ_IDS_MAX][LD_AZ_ID_MAX]; /* --expect-az-id */
    size_t nexpected_az_ids;                           /* how many (0: the profile's) */
} ld_target_opts;

/* --warning / --critical: ranges (seconds) on the connect and total times. */
typedef struct ld_opt_thresholds {
    ld_range connect_warning;  /* --warning connect=RANGE */
    ld_range connect_critical; /* --critical connect=RANGE */
    ld_range total_warning;    /* --warning [total=]RANGE */
    ld_range total_critical;   /* --critical [total=]RANGE */
    unsigned set;              /* which are given: bit 0 connect warning, 1 connect
                                  critical, 2 total warning, 3 total critical */
} ld_opt_thresholds;

/* Every option of every subcommand, parsed. */
typedef struct ld_opts {
    ld_target_opts target;                      /* defaults of every target */
    double timeout_s;                           /* --timeout: the whole run */
    double connect_timeout_s;                   /* --connect-timeout: each probe step */
    int cloud_auto;                             /* --cloud auto (the default of check) */
    ld_cloud cloud;                             /* --cloud otherwise */
    const char *imds_endpoint;                  /* --imds-endpoint, else LINKDOCTOR_IMDS_ENDPOINT
                                                   (check), NULL: the provider's */
    int cloud_resolver_off;                     /* --cloud-resolver none */
    int cloud_resolver_given;                   /* --cloud-resolver IP[:PORT] ... */
    ld_resolver cloud_resolver;                 /* ... this one */
    int redact;                                 /* --redact */
    ld_format format;                           /* --format */
    const char *output;                         /* -o, NULL for stdout */
    const char *save_json;                      /* --save-json FILE: the JSON report too,
                                                   NULL for none */
    const char *rules_files[LD_OPT_LIST_MAX];   /* --rules */
    size_t nrules_files;                        /* how many */
    ld_capture_mode capture;                    /* --capture */
    const char *interface;                      /* --interface, NULL: all ("any") */
    const char *only;                           /* analyze --target as given, NULL for none */
    ld_target only_target;                      /* ... parsed */
    const char *user;                           /* --user: whom to become, NULL: the default */
    ld_opt_thresholds thresholds;               /* --warning / --critical */
    const char *targets_files[LD_OPT_LIST_MAX]; /* --targets FILE ("-": stdin) */
    size_t ntargets_files;                      /* how many */
    double watch_s;                             /* --watch SEC, 0: one run */
    const char *listen;                         /* serve --listen ADDR:PORT as given */
    ld_addr listen_addr;                        /* ... its address */
    uint16_t listen_port;                       /* ... its port */
    unsigned max_probes;                        /* serve --max-probes */
    const char *allow[LD_OPT_LIST_MAX];         /* serve --allow-target CIDR|SUFFIX */
    size_t nallow;                              /* how many */
    int verbose;                                /* -v */
    int help;                                   /* --help was asked for */
    char **args;                                /* the positional arguments (argv's) */
    size_t nargs;                               /* how many */
} ld_opts;

/* Parses argv (argv[0] is the subcommand's name, or its action for rules)
 * for command into *out, starting from the defaults; --profile names one of
 * profiles (NULL: the command takes no --profile). For check, an unset
 * --imds-endpoint comes from LINKDOCTOR_IMDS_ENDPOINT, checked the same way.
 * err names the offending input. *out must be cleared with ld_opts_clear()
 * whatever the result. */
ld_status ld_opts_parse(ld_command command, int argc, char **argv, const ld_profiles *profiles,
                        ld_opts *out, ld_err *err);
/* Frees what parsing allocated. */
void ld_opts_clear(ld_opts *o);

/* One line of a targets file (words, the target among them): the target
 * word into *target (one of argv's) and its options into *t - the defaults,
 * with each option the line gives replacing the default's (a list the line
 * names is the line's alone). Only options that may differ per target are
 * taken; err says what is wrong without the line number. */
ld_status ld_opts_line(int argc, char **argv, const ld_profiles *profiles,
                       const ld_target_opts *defaults, ld_target_opts *t, const char **target,
                       ld_err *err);

/* The spec of one target typed as input, with the per-target options t
 * (a profile presets the scheme, port and expected statuses). err describes
 * the problem without repeating the input. */
ld_status ld_opts_spec(const char *input, const ld_target_opts *t, ld_target_spec *spec,
                       ld_err *err);

/* 1 when a remote request (serve's query) may set the option long_name
 * ("endpoint-ip"): one that may differ per target and names no local file. */
int ld_opts_remote_ok(const char *long_name);
/* The environment variable that sets --imds-endpoint's default. */
#define LD_IMDS_ENDPOINT_ENV "LINKDOCTOR_IMDS_ENDPOINT"
/* Checks a metadata base URL: http:// or https://, a host, no query,
 * fragment, white space or control character, at most 1024 bytes. */
ld_status ld_imds_endpoint_check(const char *url, ld_err *err);

/* Parses a duration in seconds ("2", "0.5"): finite, > 0, at most a day. */
ld_status ld_seconds_parse(const char *s, double *out, ld_err *err);

#endif
