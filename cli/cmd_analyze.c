/* cmd_analyze.c - `linkdoctor analyze CAPTURE [--target HOST:PORT]`: the same
 * diagnosis from a pcap/pcapng file, offline. The file's TCP handshakes (and
 * the ICMP errors about them) become tcp.attempt.* evidence, grouped into
 * targets by destination port (or picked by --target), and go through the
 * same summaries, rules and reports as a live check. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/emit.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "core/target.h"
#include "probes/capture.h"
#include "probes/handshake.h"
#include "probes/probe.h"

#define ANALYZE_MAX_TARGETS 256 /* destination ports reported from one file */

static const char analyze_usage[] =
    "usage: linkdoctor analyze CAPTURE [--target HOST:PORT] [options]\n"
    "\n"
    "Diagnoses the TCP connection attempts in a pcap or pcapng file (Ethernet, Linux cooked\n"
    "v1/v2, raw IP or BSD loopback): which SYNs went unanswered, were reset, or were\n"
    "rejected by ICMP - the same rules and reports as `linkdoctor check`.\n"
    "\n"
    "  --target HOST:PORT    only attempts to this address and port (a host name matches\n"
    "                        by port: names cannot be resolved offline). Without it, one\n"
    "                        target per destination port\n"
    "  --cloud NAME          aws, gcp, azure or none (default): remediation text for this cloud\n"
    "  --rules FILE          add rules from FILE (repeatable)\n"
    "  --format FORMAT       text (default) or json\n"
    "  -o, --output FILE     write the report to FILE atomically\n"
    "\n"
    "Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (unreadable file, nothing to analyze).\n";

/* Options of analyze. */
typedef struct analyze_opts {
    const char *file;                          /* the capture */
    const char *target;                        /* --target as given, or NULL */
    ld_target parsed;                          /* --target parsed */
    const char *cloud;                         /* --cloud */
    const char *rules_files[LD_OPT_LIST_MAX];  /* --rules */
    size_t nrules_files;                       /* how many */
    ld_format format;                          /* --format */
    const char *output;                        /* -o */
} analyze_opts;

/* Parses argv; returns 1 for --help, 0 for go, -1 after printing an error. */
static int parse(int argc, char **argv, analyze_opts *o) {
    static const struct option longopts[] = {
        {"target", required_argument, NULL, 't'}, {"cloud", required_argument, NULL, 'c'},
        {"rules", required_argument, NULL, 'r'},  {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ld_err err;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (ld_target_parse(optarg, &o->parsed, &err) != LD_OK) {
                ld_msg_error("--target '%s': %s", optarg, err.msg);
                return -1;
            }
            o->target = optarg;
            break;
        case 'c':
            if (strcmp(optarg, "aws") && strcmp(optarg, "gcp") && strcmp(optarg, "azure") &&
                strcmp(optarg, "none")) {
                ld_msg_error("--cloud '%s': use aws, gcp, azure or none", optarg);
                return -1;
            }
            o->cloud = optarg;
            break;
        case 'r':
            if (o->nrules_files == LD_OPT_LIST_MAX) {
                ld_msg_error("--rules: at most %d files", LD_OPT_LIST_MAX);
                return -1;
            }
            o->rules_files[o->nrules_files++] = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
                ld_msg_error("--format '%s': use text or json", optarg);
                return -1;
            }
            o->format = strcmp(optarg, "json") == 0 ? LD_FORMAT_JSON : LD_FORMAT_TEXT;
            break;
        case 'o':
            if (ld_report_check_path(optarg, &err) != LD_OK) {
                ld_msg_error("-o %s: %s", optarg, err.msg);
                return -1;
            }
            o->output = optarg;
            break;
        case 'h':
            return 1;
        case ':':
            ld_msg_error("%s needs a value", argv[optind - 1]);
            return -1;
        default:
            ld_msg_error("unknown option '%s' (see linkdoctor analyze --help)", argv[optind - 1]);
            return -1;
        }
    }
    if (argc - optind != 1) {
        ld_msg_error(argc - optind == 0 ? "analyze: no capture file given (see --help)"
                                        : "analyze: one capture file at a time");
        return -1;
    }
    o->file = argv[optind];
    return 0;
}

/* 1 when the flow is an attempt to what --target names (anything without it). */
static int flow_matches(const analyze_opts *o, const ld_hs_flow *f) {
    if (!o->target)
        return 1;
    if (f->server_port != o->parsed.port)
        return 0;
    return !o->parsed.host_is_ip || ld_addr_equal(&f->server, &o->parsed.ip);
}

/* One target: the attempts to one port. */
typedef struct group {
    uint16_t port;              /* destination port */
    const ld_hs_flow **flows;   /* latest attempt per server address */
    size_t nflows;              /* how many */
} group;

/* Adds f to its port's group, keeping the latest attempt per address. */
static ld_status group_add(group *groups, size_t *ngroups, const ld_hs_flow *f) {
    size_t g = 0;
    while (g < *ngroups && groups[g].port != f->server_port)
        g++;
    if (g == *ngroups) {
        if (*ngroups == ANALYZE_MAX_TARGETS)
            return LD_ELIMIT;
        groups[g].port = f->server_port;
        (*ngroups)++;
    }
    group *gr = &groups[g];
    for (size_t i = 0; i < gr->nflows; i++) {
        if (ld_addr_equal(&gr->flows[i]->server, &f->server)) {
            if (f->first_ts >= gr->flows[i]->first_ts)
                gr->flows[i] = f; /* a later attempt to the same address wins */
            return LD_OK;
        }
    }
    const ld_hs_flow **n = realloc(gr->flows, (gr->nflows + 1) * sizeof *n);
    if (!n)
        return LD_ENOMEM;
    gr->flows = n;
    gr->flows[gr->nflows++] = f;
    return LD_OK;
}

/* The facts of one target from its group of flows. */
static ld_facts *group_facts(const analyze_opts *o, const group *gr, double t0) {
    ld_facts *f = ld_facts_create();
    if (!f)
        return NULL;
    ld_bag *t = ld_facts_target(f);
    char first[LD_ADDR_STRLEN], input[LD_TARGET_INPUT_MAX + 1];
    ld_addr_format(&gr->flows[0]->server, first);
    if (o->target)
        snprintf(input, sizeof input, "%s", o->target);
    else if (gr->flows[0]->server.family == AF_INET6)
        snprintf(input, sizeof input, "[%s]:%u", first, gr->port);
    else
        snprintf(input, sizeof input, "%s:%u", first, gr->port);
    if (!o->target && gr->nflows > 1) {
        size_t len = strlen(input);
        snprintf(input + len, sizeof input - len, " (+%zu more address%s)", gr->nflows - 1,
                 gr->nflows > 2 ? "es" : "");
    }
    ld_bag_set_str(t, LD_F_TARGET_INPUT, input);
    ld_bag_set_str(t, LD_F_TARGET_SCHEME, "tcp");
    ld_bag_set_str(t, LD_F_TARGET_HOST, o->target ? o->parsed.host : first);
    ld_bag_set_int(t, LD_F_TARGET_PORT, gr->port);
    ld_bag_set_bool(t, LD_F_TARGET_HOST_IS_IP, o->target ? o->parsed.host_is_ip : 1);
    ld_bag_set_empty_list(t, LD_F_TARGET_ENDPOINT_IPS);
    ld_bag_set_int(t, LD_F_TARGET_ENDPOINT_IP_COUNT, 0);
    ld_bag_set_bool(t, LD_F_TARGET_CHECKED, 1);
    ld_bag_set_str(t, LD_F_CLOUD_PROVIDER, o->cloud);
    ld_bag_set_str(t, LD_F_CLOUD_PROVIDER_SOURCE, "option");
    ld_bag_set_str(t, LD_F_CAPTURE_MODE, "file");
    ld_bag_set_bool(t, LD_F_CAPTURE_AVAILABLE, 1);
    ld_bag_set_str(t, LD_F_CAPTURE_SOURCE, "file");
    ld_bag_set_str(t, LD_F_CAPTURE_FILE, o->file);
    for (size_t i = 0; i < gr->nflows; i++)
        if (ld_capture_attempt_from_flow(f, gr->flows[i], t0) != LD_OK) {
            ld_facts_free(f);
            return NULL;
        }
    ld_capture_summarize(f);
    for (const ld_probe_ops *const *ops = ld_probe_registry; *ops; ops++)
        if ((*ops)->summarize)
            (*ops)->summarize(f);
    return f;
}

int ld_cmd_analyze(int argc, char **argv, ld_time started) {
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    analyze_opts o = {.cloud = "none", .format = LD_FORMAT_TEXT};
    int code = LD_EXIT_UNKNOWN;
    ld_err err;
    ld_ruleset *rules = NULL;
    ld_hs_table *table = NULL;
    group *groups = calloc(ANALYZE_MAX_TARGETS, sizeof *groups);
    size_t ngroups = 0;
    ld_facts **facts = NULL;

    int p = groups ? parse(argc, argv, &o) : -1;
    if (p != 0) {
        if (p == 1)
            fputs(analyze_usage, stdout);
        code = p == 1 ? 0 : LD_EXIT_UNKNOWN;
        goto out;
    }
    if (!(rules = ld_cli_rules(o.rules_files, o.nrules_files, &err))) {
        ld_msg_error("%s", err.msg);
        goto out;
    }
    ld_hs_file_stats stats;
    if (!(table = ld_hs_create(0)) || ld_hs_read_file(table, o.file, 0, &stats, &err) != LD_OK) {
        ld_msg_error("%s: %s", o.file, table ? err.msg : "out of memory");
        goto out;
    }
    double t0 = 0;
    for (size_t i = 0; i < ld_hs_count(table); i++) {
        const ld_hs_flow *f = ld_hs_at(table, i);
        if (strcmp(ld_hs_conn_state(f), "OTH") == 0 && !f->icmp_seen)
            continue; /* midstream traffic: no handshake to judge */
        if (!flow_matches(&o, f))
            continue;
        if (t0 == 0 || f->first_ts < t0)
            t0 = f->first_ts;
        ld_status st = group_add(groups, &ngroups, f);
        if (st == LD_ELIMIT) {
            ld_msg_error("%s: attempts to more than %d ports; pick one with --target", o.file,
                         ANALYZE_MAX_TARGETS);
            goto out;
        } else if (st != LD_OK) {
            ld_msg_error("out of memory");
            goto out;
        }
    }
    if (ngroups == 0) {
        ld_msg_error("%s: no TCP connection attempts%s%s in %lu packets", o.file,
                     o.target ? " to " : "", o.target ? o.target : "", stats.packets);
        goto out;
    }
    facts = calloc(ngroups, sizeof *facts);
    for (size_t g = 0; facts && g < ngroups; g++)
        if (!(facts[g] = group_facts(&o, &groups[g], t0))) {
            ld_msg_error("out of memory");
            goto out;
        }
    if (!facts) {
        ld_msg_error("out of memory");
        goto out;
    }
    ld_report base = {
        .command = "analyze",
        .started_at = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9,
        .capture_file = o.file,
    };
    code = ld_cli_emit(rules, (const ld_facts *const *)facts, NULL, ngroups, &base, started,
                       o.format, o.output);
out:
    for (size_t g = 0; facts && g < ngroups; g++)
        ld_facts_free(facts[g]);
    free(facts);
    for (size_t g = 0; groups && g < ngroups; g++)
        free(groups[g].flows);
    free(groups);
    ld_hs_free(table);
    ld_ruleset_free(rules);
    return code;
}
