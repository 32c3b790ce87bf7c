/* main.c - linkdoctor: why can't this VM reach a service through its
 * private link? Dispatches subcommands; the only place that exits. */
#include <ares.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/msg.h"

static const char usage[] =
    "usage: linkdoctor check TARGET... [options]   diagnose targets (see check --help)\n"
    "       linkdoctor analyze CAPTURE [--target HOST:PORT]   diagnose from a pcap/pcapng file\n"
    "       linkdoctor serve [--listen ADDR:PORT]  Prometheus exporter: GET /probe?target=T\n"
    "       linkdoctor show REPORT.json [--format F]  render a saved report again\n"
    "       linkdoctor rules list | lint FILE | facts\n"
    "       linkdoctor profiles                    service presets for --profile\n"
    "       linkdoctor explain ID                  what a diagnosis means and how to fix it\n"
    "       linkdoctor --version | --help\n"
    "\n"
    "linkdoctor tells you why this machine cannot reach a service through a private link\n"
    "(AWS PrivateLink, GCP Private Service Connect, Azure Private Endpoint): missing or\n"
    "public DNS records, resolvers that do not answer, security groups that drop SYNs,\n"
    "ports that refuse - with the evidence and the fix for your cloud.\n"
    "\n"
    "Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (bad input or nothing concluded).\n";

static void print_version(void) {
    printf("linkdoctor %s (c-ares %s, %s, %s, libcurl %s, cJSON %s)\n", LD_VERSION,
           ares_version(NULL), OpenSSL_version(OPENSSL_VERSION), pcap_lib_version(),
           curl_version_info(CURLVERSION_NOW)->version, cJSON_Version());
}

/* Descriptors 0-2 that our starter left closed would be handed to the
 * first files and sockets we open: -v lines would go to a peer's socket, a
 * report onto the event loop's descriptor. They get /dev/null instead.
 * Returns -1 when that is impossible (no /dev/null): nothing safe to do. */
static int reopen_stdio(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* The lowest free descriptor: fd itself, as 0..fd-1 are open by now. */
        int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got != fd)
            return -1;
    }
    return 0;
}

/* Every subcommand's output ends here: a write that failed (a full disk,
 * /dev/full, a closed pipe - SIGPIPE is ignored) makes the exit code 3 with
 * one line, whatever the command concluded. */
static int finish_stdout(int code) {
    int failed = fflush(stdout) != 0;
    int why = failed ? errno : 0;
    failed |= ferror(stdout);
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        why = errno;
    }
    if (!failed)
        return code;
    ld_msg_error("standard output: %s", why ? strerror(why) : "a write failed");
    return LD_EXIT_UNKNOWN;
}

/* Runs the subcommand argv[1]; returns the exit code. */
static int dispatch(int argc, char **argv, ld_time started) {
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        print_version();
        return 0;
    }
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ld_msg_error("cannot initialise c-ares and libcurl");
        return LD_EXIT_UNKNOWN;
    }
    int code;
    if (strcmp(cmd, "check") == 0)
        code = ld_cmd_check(argc - 1, argv + 1, started);
    else if (strcmp(cmd, "analyze") == 0)
        code = ld_cmd_analyze(argc - 1, argv + 1, started);
    else if (strcmp(cmd, "serve") == 0)
        code = ld_cmd_serve(argc - 1, argv + 1, started);
    else if (strcmp(cmd, "profiles") == 0)
        code = ld_cmd_profiles(argc - 1, argv + 1);
    else if (strcmp(cmd, "rules") == 0)
        code = ld_cmd_rules(argc - 1, argv + 1);
    else if (strcmp(cmd, "explain") == 0)
        code = ld_cmd_explain(argc - 1, argv + 1);
    else if (strcmp(cmd, "show") == 0)
        code = ld_cmd_show(argc - 1, argv + 1);
    else {
        ld_msg_error("unknown command '%s' (use check, analyze, serve, show, rules, profiles or "
                     "explain; see --help)",
                     cmd);
        code = LD_EXIT_UNKNOWN;
    }
    curl_global_cleanup();
    ares_library_cleanup();
    return code;
}

int main(int argc, char **argv) {
    ld_time started = ld_time_now();
    if (reopen_stdio() < 0)
        return LD_EXIT_UNKNOWN;
    /* A closed stdout (| head) must end in EPIPE, not a silent SIGPIPE death. */
    signal(SIGPIPE, SIG_IGN);
    /* Listings and help go out in one write at the end, where finish_stdout()
     * sees why a failed write failed (stdio forgets errno after a flush made
     * along the way). */
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (argc < 2) {
        fputs(usage, stderr);
        return LD_EXIT_UNKNOWN;
    }
    return finish_stdout(dispatch(argc, argv, started));
}
