/* options.c - the option table and its parser. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/allow.h"
#include "cli/targets.h"
#include "report/report.h"

/* What an option does (the switch in apply()). */
typedef enum opt_id {
    O_ENDPOINT_IP,
    O_DNS_SERVER,
    O_PROFILE,
    O_EXPECT_STATUS,
    O_SNI,
    O_CERT_WARN_DAYS,
    O_CACERT,
    O_TIMEOUT,
    O_CONNECT_TIMEOUT,
    O_CLOUD,
    O_CAPTURE,
    O_INTERFACE,
    O_FORMAT,
    O_OUTPUT,
    O_SAVE_JSON,
    O_RULES,
    O_TARGET,
    O_USER,
    O_WARNING,
    O_CRITICAL,
    O_TARGETS,
    O_WATCH,
    O_LISTEN,
    O_MAX_PROBES,
    O_ALLOW_TARGET,
    O_VERBOSE,
    O_HELP,
    O_IMDS_ENDPOINT,
    O_CLOUD_RESOLVER,
    O_EXPECT_AZ_ID,
    O_REDACT,
} opt_id;

#define OPT_PER_TARGET 1u /* may differ per target */
#define OPT_NAMES_FILE 2u /* names a local file */

#define PROBE      (LD_CMD_CHECK | LD_CMD_SERVE) /* options of the checks themselves */
#define DIAGNOSE   (LD_CMD_CHECK | LD_CMD_ANALYZE)
#define WITH_RULES (LD_CMD_CHECK | LD_CMD_ANALYZE | LD_CMD_RULES | LD_CMD_EXPLAIN | LD_CMD_SERVE)
#define ALL                                                                                        \
    (LD_CMD_CHECK | LD_CMD_ANALYZE | LD_CMD_RULES | LD_CMD_EXPLAIN | LD_CMD_SERVE | LD_CMD_SHOW)
#define RENDER (DIAGNOSE | LD_CMD_SHOW) /* commands that write a report */

/* One option. */
typedef struct opt_def {
    const char *name;  /* long name, without "--" */
    int has_arg;       /* required_argument or no_argument */
    opt_id id;         /* what it does */
    unsigned commands; /* the ld_command bits that take it */
    unsigned flags;    /* OPT_* */
} opt_def;

static const opt_def defs[] = {
    {"endpoint-ip", required_argument, O_ENDPOINT_IP, PROBE, OPT_PER_TARGET},
    {"dns-server", required_argument, O_DNS_SERVER, PROBE, OPT_PER_TARGET},
    {"profile", required_argument, O_PROFILE, PROBE, OPT_PER_TARGET},
    {"expect-status", required_argument, O_EXPECT_STATUS, PROBE, OPT_PER_TARGET},
    {"sni", required_argument, O_SNI, PROBE, OPT_PER_TARGET},
    {"cert-warn-days", required_argument, O_CERT_WARN_DAYS, PROBE, OPT_PER_TARGET},
    {"cacert", required_argument, O_CACERT, PROBE, OPT_PER_TARGET | OPT_NAMES_FILE},
    {"timeout", required_argument, O_TIMEOUT, PROBE, 0},
    {"connect-timeout", required_argument, O_CONNECT_TIMEOUT, PROBE, 0},
    {"cloud", required_argument, O_CLOUD, DIAGNOSE | LD_CMD_SERVE, 0},
    {"capture", required_argument, O_CAPTURE, PROBE, 0},
    {"interface", required_argument, O_INTERFACE, PROBE, 0},
    {"format", required_argument, O_FORMAT, RENDER, 0},
    {"output", required_argument, O_OUTPUT, RENDER, OPT_NAMES_FILE},
    {"save-json", required_argument, O_SAVE_JSON, DIAGNOSE, OPT_NAMES_FILE},
    {"rules", required_argument, O_RULES, WITH_RULES, OPT_NAMES_FILE},
    {"target", required_argument, O_TARGET, LD_CMD_ANALYZE, 0},
    {"user", required_argument, O_USER, PROBE, 0},
    {"warning", required_argument, O_WARNING, LD_CMD_CHECK, 0},
    {"critical", required_argument, O_CRITICAL, LD_CMD_CHECK, 0},
    {"targets", required_argument, O_TARGETS, LD_CMD_CHECK, OPT_NAMES_FILE},
    {"watch", required_argument, O_WATCH, LD_CMD_CHECK, 0},
    {"listen", required_argument, O_LISTEN, LD_CMD_SERVE, 0},
    {"max-probes", required_argument, O_MAX_PROBES, LD_CMD_SERVE, 0},
    {"allow-target", required_argument, O_ALLOW_TARGET, LD_CMD_SERVE, 0},
    {"verbose", no_argument, O_VERBOSE, PROBE, 0},
    {"help", no_argument, O_HELP, ALL, 0},
    {"imds-endpoint", required_argument, O_IMDS_ENDPOINT, PROBE, 0},
    {"cloud-resolver", required_argument, O_CLOUD_RESOLVER, PROBE, 0},
    {"expect-az-id", required_argument, O_EXPECT_AZ_ID, PROBE, OPT_PER_TARGET},
    {"redact", no_argument, O_REDACT, RENDER, 0},
};
#define NDEFS     (sizeof defs / sizeof defs[0])
#define LONG_BASE 2000 /* getopt_long's value for defs[i] is LONG_BASE + i */

/* Short options and the long option they stand for. */
static const struct {
    char c;    /* the letter */
    opt_id id; /* what it does */
} shorts[] = {{'o', O_OUTPUT}, {'v', O_VERBOSE}, {'h', O_HELP}};

int ld_opts_remote_ok(const char *long_name) {
    for (size_t i = 0; i < NDEFS; i++)
        if (strcmp(defs[i].name, long_name) == 0)
            return (defs[i].flags & OPT_PER_TARGET) && !(defs[i].flags & OPT_NAMES_FILE) &&
                   (defs[i].commands & LD_CMD_SERVE);
    return 0;
}

static const ld_opts defaults = {
    .target = {.cert_warn_days = 14},
    .timeout_s = 10.0,
    .connect_timeout_s = 2.0,
    .cloud_auto = 1,
    .capture = LD_CAPTURE_MODE_AUTO,
    .format = LD_FORMAT_TEXT,
    .max_probes = 64,
};

ld_status ld_seconds_parse(const char *s, double *out, ld_err *err) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return ld_err_set(err, LD_EINVAL, "'%s' is not a number of seconds", s);
    if (v <= 0)
        return ld_err_set(err, LD_EINVAL, "'%s' must be more than 0 seconds", s);
    if (v > 86400)
        return ld_err_set(err, LD_EINVAL, "'%s' is more than a day", s);
    *out = v;
    return LD_OK;
}

/* Calls add(t, item, err) for each non-empty comma-separated item of s (cut
 * to a buffer of max bytes); an s with none is an error naming opt and what
 * it lists. */
static ld_status for_each_item(ld_target_opts *t, const char *s, const char *opt, const char *what,
                               size_t max,
                               ld_status (*add)(ld_target_opts *, const char *, ld_err *),
                               ld_err *err) {
    int any = 0;
    char one[LD_ADDR_STRLEN > LD_AZ_ID_MAX ? LD_ADDR_STRLEN + 1 : LD_AZ_ID_MAX + 1];
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            if (n >= max || n >= sizeof one)
                return ld_err_set(err, LD_EINVAL, "%s '%.*s': not %s", opt, (int)(n < 64 ? n : 64),
                                  p, what);
            memcpy(one, p, n);
            one[n] = '\0';
            ld_status st = add(t, one, err);
            if (st != LD_OK)
                return st;
            any = 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return any ? LD_OK : ld_err_set(err, LD_EINVAL, "%s: empty (give %s)", opt, what);
}

/* Adds one --endpoint-ip address. */
static ld_status add_endpoint_ip(ld_target_opts *t, const char *one, ld_err *err) {
    ld_err inner;
    if (t->nendpoint_ips >= LD_ENDPOINT_IPS_MAX)
        return ld_err_set(err, LD_EINVAL, "--endpoint-ip: at most %d addresses",
                          LD_ENDPOINT_IPS_MAX);
    if (ld_addr_parse(one, &t->endpoint_ips[t->nendpoint_ips], &inner) != LD_OK)
        return ld_err_set(err, LD_EINVAL, "--endpoint-ip: %s", inner.msg);
    t->nendpoint_ips++;
    return LD_OK;
}

/* Adds one --expect-az-id AZ ID. */
static ld_status add_az_id(ld_target_opts *t, const char *one, ld_err *err) {
    ld_err inner;
    if (t->nexpected_az_ids >= LD_AZ_IDS_MAX)
        return ld_err_set(err, LD_EINVAL, "--expect-az-id: at most %d AZ IDs", LD_AZ_IDS_MAX);
    if (ld_az_id_check(one, &inner) != LD_OK) {
        /* A zone name is well formed, just the wrong thing: no quotes. */
        if (ld_az_is_zone_name(one))
            return ld_err_set(err, LD_EINVAL, "--expect-az-id %.40s: %s", one, inner.msg);
        return ld_err_set(err, LD_EINVAL, "--expect-az-id '%.40s': %s", one, inner.msg);
    }
    memcpy(t->expected_az_ids[t->nexpected_az_ids++], one, strlen(one) + 1);
    return LD_OK;
}

ld_status ld_imds_endpoint_check(const char *url, ld_err *err) {
    size_t skip = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!skip)
        return ld_err_set(err, LD_EINVAL, "not an http:// or https:// URL");
    if (strlen(url) > 1024)
        return ld_err_set(err, LD_EINVAL, "longer than 1024 bytes");
    if (!url[skip] || url[skip] == '/')
        return ld_err_set(err, LD_EINVAL, "no host");
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '?' || *c == '#')
            return ld_err_set(err, LD_EINVAL,
                              "a base URL has no white space, control character, query or "
                              "fragment: the provider's paths are appended to it");
    return LD_OK;
}

/* Checks that the file option opt names is a readable regular file. A FIFO,
 * a pipe (/dev/stdin fed by another program) or a device could keep the
 * read - done before the run starts - waiting past --timeout. */
static ld_status readable_file(const char *opt, const char *path, ld_err *err) {
    struct stat sb;
    if (stat(path, &sb) < 0 || access(path, R_OK) < 0)
        return ld_err_set(err, LD_EINVAL, "%s %s: %s", opt, path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return ld_err_set(err, LD_EINVAL,
                          "%s %s: %s, not a regular file (a pipe or device could hold the run "
                          "past --timeout: save it to a file)",
                          opt, path,
                          S_ISDIR(sb.st_mode)                          ? "a directory"
                          : S_ISFIFO(sb.st_mode)                       ? "a pipe"
                          : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device"
                                                                       : "a socket");
    return LD_OK;
}

/* Checks that path can be opened for reading (a targets file may be a pipe:
 * it is read with --timeout as its deadline). */
static ld_status readable_path(const char *opt, const char *path, ld_err *err) {
    struct stat sb;
    if (stat(path, &sb) < 0 || access(path, R_OK) < 0)
        return ld_err_set(err, LD_EINVAL, "%s %s: %s", opt, path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return ld_err_set(err, LD_EINVAL, "%s %s: a directory", opt, path);
    return LD_OK;
}

/* --warning / --critical [connect=|total=]RANGE: the range for one metric
 * (the whole check's time when none is named). */
static ld_status add_threshold(ld_opt_thresholds *th, int critical, const char *opt, const char *v,
                               ld_err *err) {
    static const char *const metrics[] = {"connect", "total"};
    size_t metric = 1, skip = 0;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(metrics[i]);
        if (strncmp(v, metrics[i], n) == 0 && v[n] == '=') {
            metric = i;
            skip = n + 1;
        }
    }
    if (!skip && strchr(v, '='))
        return ld_err_set(err, LD_EINVAL, "--%s '%s': name connect= or total= (or none: total)",
                          opt, v);
    unsigned bit = 1u << (metric * 2 + (unsigned)critical);
    if (th->set & bit)
        return ld_err_set(err, LD_EINVAL, "--%s %s=: given twice", opt, metrics[metric]);
    ld_range *r = metric == 0 ? critical ? &th->connect_critical : &th->connect_warning
                  : critical  ? &th->total_critical
                              : &th->total_warning;
    ld_err inner;
    if (ld_range_parse(v + skip, r, &inner) != LD_OK)
        return ld_err_set(err, LD_EINVAL, "--%s '%s': %s (seconds, e.g. 0.5, 1:, @0:0.001)", opt, v,
                          inner.msg);
    th->set |= bit;
    return LD_OK;
}

/* Applies one option to o. */
static ld_status apply(ld_opts *o, const opt_def *d, ld_command command, const char *v,
                       const ld_profiles *profiles, ld_err *err) {
    ld_target_opts *t = &o->target;
    ld_err inner;
    switch (d->id) {
    case O_ENDPOINT_IP:
        return for_each_item(t, v, "--endpoint-ip", "an IP address", LD_ADDR_STRLEN,
                             add_endpoint_ip, err);
    case O_DNS_SERVER: {
        if (t->ndns_servers >= LD_DNS_SERVERS_MAX)
            return ld_err_set(err, LD_EINVAL, "--dns-server: at most %d resolvers",
                              LD_DNS_SERVERS_MAX);
        ld_resolver *r = &t->dns_servers[t->ndns_servers];
        memset(r, 0, sizeof *r);
        r->source = LD_RESOLVER_OPTION;
        if (ld_hostport_parse_ip(v, 53, &r->addr, &r->port, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--dns-server '%s': %s", v, inner.msg);
        t->ndns_servers++;
        return LD_OK;
    }
    case O_PROFILE:
        if (!profiles || !(t->profile = ld_profiles_find(profiles, v)))
            return ld_err_set(err, LD_EINVAL,
                              "--profile '%s': no such profile (see linkdoctor profiles)", v);
        return LD_OK;
    case O_EXPECT_STATUS: {
        ld_expect_status e;
        if (ld_expect_parse(v, &e, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--expect-status '%s': %s", v, inner.msg);
        t->expect_status = v;
        return LD_OK;
    }
    case O_SNI:
        if (ld_host_name_check(v, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--sni '%s': %s", v, inner.msg);
        t->sni = v;
        return LD_OK;
    case O_CERT_WARN_DAYS: {
        char *end;
        errno = 0;
        long days = strtol(v, &end, 10);
        if (!*v || *end || errno || days < 0 || days > 3650)
            return ld_err_set(err, LD_EINVAL,
                              "--cert-warn-days '%s': a whole number of days from 0 to 3650", v);
        t->cert_warn_days = (int)days;
        return LD_OK;
    }
    case O_CACERT:
        if (readable_file("--cacert", v, err) != LD_OK)
            return LD_EINVAL;
        t->cacert = v;
        return LD_OK;
    case O_TIMEOUT:
        if (ld_seconds_parse(v, &o->timeout_s, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--timeout: %s", inner.msg);
        return LD_OK;
    case O_CONNECT_TIMEOUT:
        if (ld_seconds_parse(v, &o->connect_timeout_s, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--connect-timeout: %s", inner.msg);
        return LD_OK;
    case O_CLOUD: {
        int auto_ok = command == LD_CMD_CHECK;
        int c = ld_cloud_provider_parse(v);
        o->cloud_auto = auto_ok && strcmp(v, "auto") == 0;
        if (o->cloud_auto)
            return LD_OK;
        if (c < 0)
            return ld_err_set(err, LD_EINVAL, "--cloud '%s': use %saws, gcp, azure or none", v,
                              auto_ok ? "auto, " : "");
        o->cloud = (ld_cloud)c;
        return LD_OK;
    }
    case O_CAPTURE: {
        int m = ld_capture_mode_parse(v);
        if (m < 0)
            return ld_err_set(err, LD_EINVAL, "--capture '%s': use auto, on or off", v);
        o->capture = (ld_capture_mode)m;
        return LD_OK;
    }
    case O_INTERFACE:
        if (!*v || strlen(v) >= 16 || strchr(v, '/'))
            return ld_err_set(err, LD_EINVAL, "--interface '%s': not an interface name", v);
        o->interface = v;
        return LD_OK;
    case O_FORMAT: {
        int f = ld_format_parse(v);
        if (f < 0)
            return ld_err_set(err, LD_EINVAL, "--format '%s': use %s", v, ld_format_list());
        o->format = (ld_format)f;
        return LD_OK;
    }
    case O_OUTPUT:
        if (ld_report_check_path(v, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "-o %s: %s", v, inner.msg);
        o->output = v;
        return LD_OK;
    case O_SAVE_JSON:
        if (ld_report_check_path(v, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--save-json %s: %s", v, inner.msg);
        o->save_json = v;
        return LD_OK;
    case O_RULES:
        if (o->nrules_files >= LD_OPT_LIST_MAX)
            return ld_err_set(err, LD_EINVAL, "--rules: at most %d files", LD_OPT_LIST_MAX);
        if (readable_file("--rules", v, err) != LD_OK)
            return LD_EINVAL;
        o->rules_files[o->nrules_files++] = v;
        return LD_OK;
    case O_TARGET:
        if (ld_target_parse(v, &o->only_target, &inner) != LD_OK) {
            char shown[LD_TARGET_INPUT_MAX + 1];
            ld_target_mask(v, 0, shown, sizeof shown);
            return ld_err_set(err, LD_EINVAL, "--target '%.200s': %s", shown, inner.msg);
        }
        o->only = v;
        return LD_OK;
    case O_WARNING:
    case O_CRITICAL:
        return add_threshold(&o->thresholds, d->id == O_CRITICAL, d->name, v, err);
    case O_TARGETS:
        if (o->ntargets_files >= LD_OPT_LIST_MAX)
            return ld_err_set(err, LD_EINVAL, "--targets: at most %d files", LD_OPT_LIST_MAX);
        if (strcmp(v, "-") != 0 && readable_path("--targets", v, err) != LD_OK)
            return LD_EINVAL;
        o->targets_files[o->ntargets_files++] = v;
        return LD_OK;
    case O_WATCH:
        if (ld_seconds_parse(v, &o->watch_s, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--watch: %s", inner.msg);
        return LD_OK;
    case O_LISTEN:
        if (ld_hostport_parse_ip(v, 0, &o->listen_addr, &o->listen_port, &inner) != LD_OK ||
            o->listen_port == 0)
            return ld_err_set(err, LD_EINVAL, "--listen '%s': %s", v,
                              o->listen_port == 0 && inner.msg[0] == '\0'
                                  ? "give the port too (ADDR:PORT)"
                                  : inner.msg);
        o->listen = v;
        return LD_OK;
    case O_MAX_PROBES: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno || n < 1 || n > 4096)
            return ld_err_set(err, LD_EINVAL, "--max-probes '%s': a number from 1 to 4096", v);
        o->max_probes = (unsigned)n;
        return LD_OK;
    }
    case O_ALLOW_TARGET:
        if (o->nallow >= LD_OPT_LIST_MAX)
            return ld_err_set(err, LD_EINVAL, "--allow-target: at most %d patterns",
                              LD_OPT_LIST_MAX);
        if (ld_allow_check(v, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--allow-target '%s': %s", v, inner.msg);
        o->allow[o->nallow++] = v;
        return LD_OK;
    case O_USER:
        if (!*v)
            return ld_err_set(err, LD_EINVAL, "--user: empty user name");
        o->user = v; /* resolved by ld_privs_plan() */
        return LD_OK;
    case O_VERBOSE:
        o->verbose = 1;
        return LD_OK;
    case O_HELP:
        o->help = 1;
        return LD_OK;
    case O_IMDS_ENDPOINT: {
        if (ld_imds_endpoint_check(v, &inner) != LD_OK) {
            char shown[128];
            ld_target_mask(v, 0, shown, sizeof shown);
            return ld_err_set(err, LD_EINVAL, "--imds-endpoint '%s': %s", shown, inner.msg);
        }
        o->imds_endpoint = v;
        return LD_OK;
    }
    case O_CLOUD_RESOLVER:
        o->cloud_resolver_off = strcmp(v, "none") == 0;
        o->cloud_resolver_given = !o->cloud_resolver_off;
        if (o->cloud_resolver_off)
            return LD_OK;
        memset(&o->cloud_resolver, 0, sizeof o->cloud_resolver);
        o->cloud_resolver.source = LD_RESOLVER_CLOUD;
        if (ld_hostport_parse_ip(v, 53, &o->cloud_resolver.addr, &o->cloud_resolver.port, &inner) !=
            LD_OK)
            return ld_err_set(err, LD_EINVAL, "--cloud-resolver '%s': %s (or none)", v, inner.msg);
        return LD_OK;
    case O_EXPECT_AZ_ID:
        return for_each_item(t, v, "--expect-az-id", "an AZ ID", LD_AZ_ID_MAX, add_az_id, err);
    case O_REDACT:
        o->redact = 1;
        return LD_OK;
    }
    return ld_err_set(err, LD_EINVAL, "--%s: not handled", d->name);
}

/* The subcommand's name, for "not an option of linkdoctor X". */
static const char *command_name(ld_command command) {
    switch (command) {
    case LD_CMD_CHECK:
        return "check";
    case LD_CMD_ANALYZE:
        return "analyze";
    case LD_CMD_RULES:
        return "rules";
    case LD_CMD_EXPLAIN:
        return "explain";
    case LD_CMD_SERVE:
        return "serve";
    case LD_CMD_SHOW:
        return "show";
    }
    return "linkdoctor";
}

/* Parses argv into o (already set to its starting values); with per_target,
 * only the options a single target may have are taken. */
static ld_status parse(ld_command command, int per_target, int argc, char **argv,
                       const ld_profiles *profiles, ld_opts *o, ld_err *err) {
    struct option longopts[NDEFS + 1];
    char optstring[16] = ":";
    size_t ns = 1;
    for (size_t i = 0; i < NDEFS; i++)
        longopts[i] = (struct option){defs[i].name, defs[i].has_arg, NULL, LONG_BASE + (int)i};
    longopts[NDEFS] = (struct option){NULL, 0, NULL, 0};
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++) {
        optstring[ns++] = shorts[i].c;
        if (shorts[i].id == O_OUTPUT)
            optstring[ns++] = ':';
    }
    optstring[ns] = '\0';

    o->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof *o->args);
    if (!o->args)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    optind = 0; /* full reset: parse may run more than once (tests) */
    opterr = 0; /* we print our own one-line errors */
    int c;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        if (c == ':')
            return ld_err_set(err, LD_EINVAL, "%s needs a value", argv[optind - 1]);
        const opt_def *d =
            c >= LONG_BASE && c < LONG_BASE + (int)NDEFS ? &defs[c - LONG_BASE] : NULL;
        for (size_t i = 0; i < sizeof shorts / sizeof shorts[0] && !d; i++)
            for (size_t k = 0; c == shorts[i].c && k < NDEFS && !d; k++)
                if (defs[k].id == shorts[i].id)
                    d = &defs[k];
        if (!d) {
            if (optopt && optopt < 256)
                return ld_err_set(err, LD_EINVAL, "unknown option '-%c' (see --help)", optopt);
            return ld_err_set(err, LD_EINVAL, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
        if (!(d->commands & command))
            return ld_err_set(err, LD_EINVAL, "--%s is not an option of linkdoctor %s (see --help)",
                              d->name, command_name(command));
        if (per_target && !(d->flags & OPT_PER_TARGET))
            return ld_err_set(err, LD_EINVAL,
                              "--%s applies to the whole run: give it on the command line",
                              d->name);
        ld_status st = apply(o, d, command, optarg, profiles, err);
        if (st != LD_OK || o->help)
            return st;
    }
    for (int i = optind; i < argc; i++)
        o->args[o->nargs++] = argv[i];
    return LD_OK;
}

ld_status ld_opts_parse(ld_command command, int argc, char **argv, const ld_profiles *profiles,
                        ld_opts *o, ld_err *err) {
    *o = defaults;
    o->cloud_auto = command == LD_CMD_CHECK; /* analyze: the file may be from anywhere */
    ld_status st = parse(command, 0, argc, argv, profiles, o, err);
    const char *env = command == LD_CMD_CHECK ? getenv(LD_IMDS_ENDPOINT_ENV) : NULL;
    ld_err inner;
    if (st == LD_OK && !o->help && !o->imds_endpoint && env && *env) {
        if (ld_imds_endpoint_check(env, &inner) != LD_OK) {
            char shown[128];
            ld_target_mask(env, 0, shown, sizeof shown);
            return ld_err_set(err, LD_EINVAL, "%s '%s': %s", LD_IMDS_ENDPOINT_ENV, shown,
                              inner.msg);
        }
        o->imds_endpoint = env;
    }
    return st;
}

ld_status ld_opts_line(int argc, char **argv, const ld_profiles *profiles,
                       const ld_target_opts *defaults_, ld_target_opts *t, const char **target,
                       ld_err *err) {
    /* The line's own options, then each one the line set replaces the
     * default (a list the line names is the line's alone). */
    ld_opts line = {.target = {.cert_warn_days = -1}};
    char *args[LD_TARGETS_WORDS_MAX + 2];
    int n = 0;
    args[n++] = (char *)"line";
    for (int i = 0; i < argc && n < LD_TARGETS_WORDS_MAX + 1; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    ld_status st = parse(LD_CMD_CHECK, 1, n, args, profiles, &line, err);
    if (st == LD_OK && line.help)
        st = ld_err_set(err, LD_EINVAL, "--help belongs on the command line");
    else if (st == LD_OK && line.nargs != 1)
        st = ld_err_set(err, LD_EINVAL, line.nargs ? "more than one target (%s, %s)" : "no target",
                        line.nargs ? line.args[0] : "", line.nargs > 1 ? line.args[1] : "");
    if (st == LD_OK) {
        const ld_target_opts *l = &line.target;
        *t = *defaults_;
        if (l->nendpoint_ips) {
            memcpy(t->endpoint_ips, l->endpoint_ips, sizeof t->endpoint_ips);
            t->nendpoint_ips = l->nendpoint_ips;
        }
        if (l->ndns_servers) {
            memcpy(t->dns_servers, l->dns_servers, sizeof t->dns_servers);
            t->ndns_servers = l->ndns_servers;
        }
        if (l->profile)
            t->profile = l->profile;
        if (l->expect_status)
            t->expect_status = l->expect_status;
        if (l->sni)
            t->sni = l->sni;
        if (l->cert_warn_days >= 0)
            t->cert_warn_days = l->cert_warn_days;
        if (l->cacert)
            t->cacert = l->cacert;
        if (l->nexpected_az_ids) {
            memcpy(t->expected_az_ids, l->expected_az_ids, sizeof t->expected_az_ids);
            t->nexpected_az_ids = l->nexpected_az_ids;
        }
        *target = line.args[0];
    }
    ld_opts_clear(&line);
    return st;
}

void ld_opts_clear(ld_opts *o) {
    free(o->args);
    o->args = NULL;
    o->nargs = 0;
}

ld_status ld_opts_spec(const char *input, const ld_target_opts *t, ld_target_spec *spec,
                       ld_err *err) {
    const ld_profile *pf = t->profile;
    memset(spec, 0, sizeof *spec);
    ld_status st = ld_target_parse_with(input, pf ? pf->scheme : LD_SCHEME_TCP, pf ? pf->port : 0,
                                        &spec->target, err);
    if (st != LD_OK)
        return st;
    const char *expect = t->expect_status ? t->expect_status : pf ? pf->expect_status : NULL;
    if ((st = ld_expect_parse(expect, &spec->expect, err)) != LD_OK)
        return st; /* checked when parsed, or by the profile's loader */
    memcpy(spec->endpoint_ips, t->endpoint_ips, sizeof spec->endpoint_ips);
    spec->nendpoint_ips = t->nendpoint_ips;
    memcpy(spec->dns_servers, t->dns_servers, sizeof spec->dns_servers);
    spec->ndns_servers = t->ndns_servers;
    snprintf(spec->profile, sizeof spec->profile, "%s", pf ? pf->name : "");
    snprintf(spec->sni, sizeof spec->sni, "%s", t->sni ? t->sni : "");
    spec->cert_warn_days = t->cert_warn_days;
    /* --expect-az-id replaces the profile's AZ IDs. */
    if (t->nexpected_az_ids) {
        memcpy(spec->expected_az_ids, t->expected_az_ids, sizeof spec->expected_az_ids);
        spec->nexpected_az_ids = t->nexpected_az_ids;
    } else if (pf) {
        memcpy(spec->expected_az_ids, pf->expect_az_ids, sizeof spec->expected_az_ids);
        spec->nexpected_az_ids = pf->nexpect_az_ids;
    }
    return LD_OK;
}
