/* options.c - `linkdoctor check` option parsing. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

const ld_check_opts ld_check_defaults = {
    .timeout_s = 10.0,
    .connect_timeout_s = 2.0,
    .cloud = "auto",
    .capture = "auto",
    .cert_warn_days = 14,
    .format = LD_FORMAT_TEXT,
    .output = NULL,
};

const char ld_check_usage[] =
    "usage: linkdoctor check TARGET... [options]\n"
    "\n"
    "Diagnoses why TARGET cannot be reached through a private link, and how to fix it.\n"
    "\n"
    "TARGET is HOST:PORT, [IPv6]:PORT, or a URL: tcp://, http://, https://, redis://,\n"
    "rediss://, mqtt://, mqtts:// (the port defaults per scheme).\n"
    "\n"
    "What you expect:\n"
    "  --profile NAME          preset scheme, port and expectations for a known service\n"
    "                          (zilliz, emqx-redis, emqx-mqtt: see `linkdoctor profiles`)\n"
    "  --expect-status SPEC    HTTP statuses that mean the service works: 400, 200-399,\n"
    "                          2xx,400 (default: any response)\n"
    "  --endpoint-ip IP        an address the private endpoint has (repeatable, or\n"
    "                          comma-separated); it is also connected to directly, so that\n"
    "                          \"network fine, DNS wrong\" is told apart from \"network broken\"\n"
    "  --dns-server IP[:PORT]  also ask this resolver and compare its answer with the\n"
    "                          system's (repeatable)\n"
    "  --cloud NAME            auto (default: from DMI), aws, gcp, azure or none: picks the\n"
    "                          remediation text\n"
    "  --rules FILE            add the rules in FILE (repeatable); see `linkdoctor rules`\n"
    "\n"
    "TLS (https://, rediss://, mqtts://):\n"
    "  --cacert FILE           trust only the CA certificates in FILE (PEM), not the system's\n"
    "  --sni NAME              send NAME as the server name and check the certificate for it\n"
    "  --cert-warn-days N      warn when the certificate expires within N days (default 14)\n"
    "\n"
    "Evidence:\n"
    "  --capture MODE          auto (default: capture packets when permitted), on (fail\n"
    "                          without), off. Capture proves each SYN's fate and ends a\n"
    "                          dropped attempt after the first retransmission (~1.2 s)\n"
    "  --interface IFACE       capture on IFACE only (default: all interfaces)\n"
    "\n"
    "Time:\n"
    "  --connect-timeout SEC   wait this long for each DNS query and each connect (default 2)\n"
    "  --timeout SEC           the whole run ends by then, whatever is pending (default 10)\n"
    "\n"
    "Output:\n"
    "  --format FORMAT         text (default) or json (schema linkdoctor.report/1)\n"
    "  -o, --output FILE       write the report to FILE (atomically) instead of stdout\n"
    "  -v, --verbose           print progress on stderr\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (bad input, nothing concluded).\n"
    "\n"
    "Examples:\n"
    "  linkdoctor check in01-abc.aws-us-west-2.vectordb.zillizcloud.com:19530\n"
    "  linkdoctor check redis.internal:6379 --endpoint-ip 10.0.1.23 --format json -o report.json\n";

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

/* Adds every comma-separated address of s to the --endpoint-ip list. */
static ld_status add_endpoint_ips(ld_check_opts *o, const char *s, ld_err *err) {
    char buf[1024];
    if (strlen(s) >= sizeof buf)
        return ld_err_set(err, LD_EINVAL, "--endpoint-ip: value is too long");
    strcpy(buf, s);
    char *save = NULL;
    int any = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->nendpoint_ips >= LD_ENDPOINT_IPS_MAX)
            return ld_err_set(err, LD_EINVAL, "--endpoint-ip: at most %d addresses",
                              LD_ENDPOINT_IPS_MAX);
        ld_err inner;
        if (ld_addr_parse(tok, &o->endpoint_ips[o->nendpoint_ips], &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "--endpoint-ip: %s", inner.msg);
        o->nendpoint_ips++;
        any = 1;
    }
    if (!any)
        return ld_err_set(err, LD_EINVAL, "--endpoint-ip: empty address");
    return LD_OK;
}

enum {
    OPT_ENDPOINT_IP = 1000,
    OPT_DNS_SERVER,
    OPT_CONNECT_TIMEOUT,
    OPT_TIMEOUT,
    OPT_CLOUD,
    OPT_FORMAT,
    OPT_RULES,
    OPT_CAPTURE,
    OPT_INTERFACE,
    OPT_PROFILE,
    OPT_EXPECT_STATUS,
    OPT_CACERT,
    OPT_SNI,
    OPT_CERT_WARN_DAYS,
    OPT_LATER,
};

ld_status ld_check_opts_parse(int argc, char **argv, const ld_profiles *profiles,
                              ld_check_opts *o, ld_err *err) {
    *o = ld_check_defaults;
    static const struct option longopts[] = {
        {"endpoint-ip", required_argument, NULL, OPT_ENDPOINT_IP},
        {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"cloud", required_argument, NULL, OPT_CLOUD},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"rules", required_argument, NULL, OPT_RULES},
        {"capture", required_argument, NULL, OPT_CAPTURE},
        {"interface", required_argument, NULL, OPT_INTERFACE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        /* Options of the contract this version does not implement yet: the
         * user learns that, rather than "unknown option". */
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"expect-status", required_argument, NULL, OPT_EXPECT_STATUS},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"sni", required_argument, NULL, OPT_SNI},
        {"cert-warn-days", required_argument, NULL, OPT_CERT_WARN_DAYS},

        {"imds-endpoint", required_argument, NULL, OPT_LATER},
        {"expect-az-id", required_argument, NULL, OPT_LATER},
        {"redact", no_argument, NULL, OPT_LATER},
        {"watch", required_argument, NULL, OPT_LATER},
        {"targets", required_argument, NULL, OPT_LATER},
        {NULL, 0, NULL, 0},
    };
    ld_err inner;
    optind = 0; /* full reset: parse may run more than once (tests) */
    opterr = 0; /* we print our own one-line errors */
    int c, longidx = -1;
    while ((c = getopt_long(argc, argv, ":o:vh", longopts, &longidx)) != -1) {
        const char *name = longidx >= 0 ? longopts[longidx].name : NULL;
        switch (c) {
        case OPT_ENDPOINT_IP:
            if (add_endpoint_ips(o, optarg, err) != LD_OK)
                return LD_EINVAL;
            break;
        case OPT_DNS_SERVER:
            if (o->ndns_servers >= LD_OPT_LIST_MAX)
                return ld_err_set(err, LD_EINVAL, "--dns-server: at most %d resolvers",
                                  LD_OPT_LIST_MAX);
            ld_resolver *r = &o->dns_servers[o->ndns_servers];
            memset(r, 0, sizeof *r);
            if (ld_hostport_parse_ip(optarg, 53, &r->addr, &r->port, &inner) != LD_OK)
                return ld_err_set(err, LD_EINVAL, "--dns-server '%s': %s", optarg, inner.msg);
            o->ndns_servers++;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (ld_seconds_parse(optarg, &o->connect_timeout_s, &inner) != LD_OK)
                return ld_err_set(err, LD_EINVAL, "--connect-timeout: %s", inner.msg);
            break;
        case OPT_TIMEOUT:
            if (ld_seconds_parse(optarg, &o->timeout_s, &inner) != LD_OK)
                return ld_err_set(err, LD_EINVAL, "--timeout: %s", inner.msg);
            break;
        case OPT_CLOUD:
            if (strcmp(optarg, "auto") && strcmp(optarg, "aws") && strcmp(optarg, "gcp") &&
                strcmp(optarg, "azure") && strcmp(optarg, "none"))
                return ld_err_set(err, LD_EINVAL,
                                  "--cloud '%s': use auto, aws, gcp, azure or none", optarg);
            o->cloud = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o->format = LD_FORMAT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->format = LD_FORMAT_JSON;
            else if (strcmp(optarg, "nagios") == 0 || strcmp(optarg, "prometheus") == 0)
                return ld_err_set(err, LD_EINVAL,
                                  "--format %s: not available in linkdoctor %s yet (use text or "
                                  "json)",
                                  optarg, LD_VERSION);
            else
                return ld_err_set(err, LD_EINVAL, "--format '%s': use text or json", optarg);
            break;
        case 'o':
            if (ld_report_check_path(optarg, &inner) != LD_OK)
                return ld_err_set(err, LD_EINVAL, "-o %s: %s", optarg, inner.msg);
            o->output = optarg;
            break;
        case OPT_RULES:
            if (o->nrules_files >= LD_OPT_LIST_MAX)
                return ld_err_set(err, LD_EINVAL, "--rules: at most %d files", LD_OPT_LIST_MAX);
            o->rules_files[o->nrules_files++] = optarg;
            break;
        case OPT_CAPTURE:
            if (strcmp(optarg, "auto") && strcmp(optarg, "on") && strcmp(optarg, "off"))
                return ld_err_set(err, LD_EINVAL, "--capture '%s': use auto, on or off", optarg);
            o->capture = optarg;
            break;
        case OPT_PROFILE:
            if (!(o->profile = ld_profiles_find(profiles, optarg)))
                return ld_err_set(err, LD_EINVAL,
                                  "--profile '%s': no such profile (see linkdoctor profiles)",
                                  optarg);
            break;
        case OPT_EXPECT_STATUS: {
            ld_expect_status e;
            if (ld_expect_parse(optarg, &e, &inner) != LD_OK)
                return ld_err_set(err, LD_EINVAL, "--expect-status '%s': %s", optarg, inner.msg);
            o->expect_status = optarg;
            break;
        }
        case OPT_CACERT:
            if (access(optarg, R_OK) < 0)
                return ld_err_set(err, LD_EINVAL, "--cacert %s: %s", optarg, strerror(errno));
            o->cacert = optarg;
            break;
        case OPT_SNI:
            if (ld_host_name_check(optarg, &inner) != LD_OK)
                return ld_err_set(err, LD_EINVAL, "--sni '%s': %s", optarg, inner.msg);
            o->sni = optarg;
            break;
        case OPT_CERT_WARN_DAYS: {
            char *end;
            errno = 0;
            long days = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || days < 0 || days > 3650)
                return ld_err_set(err, LD_EINVAL,
                                  "--cert-warn-days '%s': a whole number of days from 0 to 3650",
                                  optarg);
            o->cert_warn_days = (int)days;
            break;
        }
        case OPT_INTERFACE:
            if (!*optarg || strlen(optarg) >= 16 || strchr(optarg, '/'))
                return ld_err_set(err, LD_EINVAL, "--interface '%s': not an interface name",
                                  optarg);
            o->interface = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'h':
            o->help = 1;
            return LD_OK;
        case OPT_LATER:
            return ld_err_set(err, LD_EINVAL, "--%s: not available in linkdoctor %s yet", name,
                              LD_VERSION);
        case ':':
            return ld_err_set(err, LD_EINVAL, "%s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                return ld_err_set(err, LD_EINVAL, "unknown option '-%c' (see --help)", optopt);
            return ld_err_set(err, LD_EINVAL, "unknown option '%s' (see --help)",
                              argv[optind - 1]);
        }
        longidx = -1;
    }
    size_t n = (size_t)(argc - optind);
    if (n == 0)
        return ld_err_set(err, LD_EINVAL, "no target given (see linkdoctor check --help)");
    if (n > LD_OPT_TARGETS_MAX)
        return ld_err_set(err, LD_EINVAL, "%zu targets; at most %d on one command line", n,
                          LD_OPT_TARGETS_MAX);
    o->targets = calloc(n, sizeof *o->targets);
    if (!o->targets)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    const ld_profile *pf = o->profile;
    const char *expect = o->expect_status ? o->expect_status : pf ? pf->expect_status : NULL;
    for (int i = optind; i < argc; i++) {
        ld_target_spec *spec = &o->targets[o->ntargets];
        if (ld_target_parse_with(argv[i], pf ? pf->scheme : LD_SCHEME_TCP, pf ? pf->port : 0,
                                 &spec->target, &inner) != LD_OK)
            return ld_err_set(err, LD_EINVAL, "target '%.200s': %s", argv[i], inner.msg);
        ld_expect_parse(expect, &spec->expect, NULL); /* checked above / by the profile */
        snprintf(spec->profile, sizeof spec->profile, "%s", pf ? pf->name : "");
        memcpy(spec->endpoint_ips, o->endpoint_ips, sizeof spec->endpoint_ips);
        spec->nendpoint_ips = o->nendpoint_ips;
        o->ntargets++;
    }
    return LD_OK;
}

void ld_check_opts_clear(ld_check_opts *o) {
    free(o->targets);
    o->targets = NULL;
    o->ntargets = 0;
}
