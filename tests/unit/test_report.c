/* test_report.c - the report: JSON in the documented shape, text with the
 * verdict first, verdict arithmetic, and atomic output. The JSON reports it
 * renders are written to tests/out for the schema check (test_schema_reports). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"
#include "unit.h"

static ld_ruleset *rules;

/* The facts of tests/data/factsets/baseline.json, for a test to edit. */
static cJSON *baseline_facts(void) {
    char *base = ld_unit_read_data("factsets/baseline.json", NULL);
    cJSON *root = cJSON_Parse(base);
    free(base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    cJSON *facts = cJSON_DetachItemFromObject(root, "facts");
    cJSON_Delete(root);
    return facts;
}

/* A fact store holding facts (which it deletes). */
static ld_facts *facts_from(cJSON *facts) {
    ld_facts *f = ld_facts_create();
    ld_err err;
    char *text = cJSON_PrintUnformatted(facts);
    CU_ASSERT_EQUAL(ld_facts_load_json(f, text, strlen(text), &err), LD_OK);
    free(text);
    cJSON_Delete(facts);
    return f;
}

/* Facts of a target whose SYNs are dropped, with one attempt as evidence. */
static ld_facts *dropped_target(void) {
    cJSON *facts = baseline_facts();
    cJSON_ReplaceItemInObject(facts, "tcp.open_count", cJSON_CreateNumber(0));
    cJSON_ReplaceItemInObject(facts, "tcp.open_addresses", cJSON_CreateArray());
    cJSON_ReplaceItemInObject(facts, "tcp.timeout_count", cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObject(facts, "tcp.failed_count", cJSON_CreateNumber(1));
    const char *addrs[] = {"10.77.0.10"};
    cJSON_ReplaceItemInObject(facts, "tcp.timeout_addresses", cJSON_CreateStringArray(addrs, 1));
    cJSON_AddNumberToObject(facts, "tcp.syns_sent", 3);
    cJSON_AddNumberToObject(facts, "tcp.wait_ms", 2000.25);
    ld_facts *f = facts_from(facts);
    ld_bag *dns = ld_facts_subject(f, "dns", "10.77.0.1:53");
    ld_bag_set_str(dns, LD_F_DNS_R_SERVER, "10.77.0.1:53");
    ld_bag_set_str(dns, LD_F_DNS_R_SOURCE, "system");
    ld_bag_set_str(dns, LD_F_DNS_R_RCODE, "NOERROR");
    ld_bag_list_add(dns, LD_F_DNS_R_ADDRESSES, "10.77.0.10");
    ld_bag_list_add(dns, LD_F_DNS_R_SCOPES, "private");
    ld_bag_set_num(dns, LD_F_DNS_R_LATENCY_MS, 0.4);
    ld_bag *tcp = ld_facts_subject(f, "tcp", "10.77.0.10");
    ld_bag_set_str(tcp, LD_F_TCP_A_ADDRESS, "10.77.0.10");
    ld_bag_set_int(tcp, LD_F_TCP_A_PORT, 8080);
    ld_bag_list_add(tcp, LD_F_TCP_A_ORIGIN, "dns");
    ld_bag_set_bool(tcp, LD_F_TCP_A_EXPECTED, 1);
    ld_bag_set_str(tcp, LD_F_TCP_A_STATE, "timeout");
    ld_bag_set_num(tcp, LD_F_TCP_A_ELAPSED_MS, 2000.25);
    ld_bag_set_int(tcp, LD_F_TCP_A_SYNS_SENT, 3);
    ld_bag_set_str(tcp, LD_F_TCP_A_SOURCE_IP, "10.77.0.2");
    ld_bag_set_str(tcp, LD_F_TCP_A_ENDED_BY, "timeout");
    return f;
}

/* A one-target report around f, with diagnoses evaluated into d. */
static ld_report one_target_report(ld_facts *f, ld_diagnoses *d, ld_report_target *rt) {
    ld_err err;
    CU_ASSERT_EQUAL(ld_rules_eval(rules, f, d, &err), LD_OK);
    rt->facts = f;
    rt->diagnoses = d;
    rt->verdict = ld_verdict_of(d);
    rt->duration_ms = 2001.5;
    ld_report r = {
        .started_at = 1795305600.25, /* 2026-11-22T00:00:00.250Z */
        .duration_ms = 2003.0,
        .timeout_ms = 10000,
        .connect_timeout_ms = 2000,
        .hostname = "vm-1",
        .cloud_provider = "none",
        .cloud_source = "option",
        .verdict = rt->verdict,
        .targets = rt,
        .ntargets = 1,
    };
    return r;
}

static void save(const char *name, const ld_buf *b) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", LD_TEST_OUT, name);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_write(path, b->data, b->len, &err), LD_OK);
}

static void json_report_has_the_documented_shape(void) {
    ld_facts *f = dropped_target();
    ld_diagnoses d = {0};
    ld_report_target rt;
    ld_report r = one_target_report(f, &d, &rt);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_json(&r, &out, &err), LD_OK);
    save("report_syn_dropped.json", &out);

    cJSON *root = cJSON_Parse(out.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(root, "schema")->valuestring, "linkdoctor.report/1");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(root, "started_at")->valuestring,
                           "2026-11-22T00:00:00.250Z");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(root, "verdict")->valuestring, "critical");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(root, "exit_code")->valueint, 2);
    const cJSON *tool = cJSON_GetObjectItem(root, "tool");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(tool, "version")->valuestring, LD_VERSION);
    CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(tool, "libraries"), "c-ares"));
    const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "targets"), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(t, "target")->valuestring, "svc.lab.test:8080");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(t, "port")->valueint, 8080);
    const cJSON *facts = cJSON_GetObjectItem(t, "facts");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(facts, "tcp.timeout_count")->valueint, 1);
    CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(facts, "tcp.timeout_addresses")));
    CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(facts, "tcp.cut_by_deadline")));
    const cJSON *tcp =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "probes"), "tcp"), 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(tcp, "state")->valuestring, "timeout");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(tcp, "syns_sent")->valueint, 3);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(tcp, "elapsed_ms")->valuedouble, 2000.25, 1e-9);
    const cJSON *diag = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "diagnoses"), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(diag);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(diag, "id")->valuestring, "tcp.syn_dropped");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(diag, "severity")->valuestring, "critical");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(diag, "confidence")->valuestring, "medium");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(diag, "remediation_cloud")->valuestring, "generic");
    const cJSON *ev = cJSON_GetObjectItem(diag, "evidence");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(ev, "tcp.source_ip")->valuestring, "10.77.0.2");
    CU_ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItem(diag, "docs")) > 0);
    CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(t, "suppressed")));
    cJSON_Delete(root);
    ld_buf_clear(&out);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
}

static void text_report_puts_the_verdict_first_then_evidence_fix_and_timeline(void) {
    ld_facts *f = dropped_target();
    ld_diagnoses d = {0};
    ld_report_target rt;
    ld_report r = one_target_report(f, &d, &rt);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_text(&r, &out, &err), LD_OK);
    const char *s = out.data;
    CU_ASSERT_EQUAL(strncmp(s, "CRITICAL  svc.lab.test:8080 - SYNs to 10.77.0.10 port 8080", 58),
                    0);
    const char *ev = strstr(s, "Evidence:");
    const char *fix = strstr(s, "Fix:");
    const char *timeline = strstr(s, "Timeline:");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fix);
    CU_ASSERT_PTR_NOT_NULL_FATAL(timeline);
    CU_ASSERT_TRUE(ev < fix && fix < timeline);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "tcp.source_ip"));
    CU_ASSERT_PTR_NOT_NULL(strstr(timeline, "DNS  10.77.0.1:53"));
    CU_ASSERT_PTR_NOT_NULL(strstr(timeline, "NOERROR  10.77.0.10 (private)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(timeline, "TCP  10.77.0.10:8080"));
    CU_ASSERT_PTR_NOT_NULL(strstr(timeline, "no answer: 3 SYNs in 2000 ms"));
    /* Prose is wrapped: no line longer than 100 columns except unbreakable words. */
    for (const char *line = s; *line;) {
        size_t len = strcspn(line, "\n");
        if (len > 100)
            CU_ASSERT_PTR_NOT_NULL(strstr(line, "http")); /* a URL may not fit */
        line += len + (line[len] == '\n');
    }
    ld_buf_clear(&out);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
}

static void cloud_provider_selects_the_remediation(void) {
    ld_facts *f = dropped_target();
    ld_bag_set_str(ld_facts_target(f), LD_F_CLOUD_PROVIDER, "aws");
    ld_diagnoses d = {0};
    ld_report_target rt;
    ld_report r = one_target_report(f, &d, &rt);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_text(&r, &out, &err), LD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "Fix (AWS):"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "security group"));
    /* Text shows the AWS and vendor-neutral pages, not the other clouds'. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "https://docs.aws.amazon.com/"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "https://docs.zilliz.com/"));
    CU_ASSERT_PTR_NULL(strstr(out.data, "https://cloud.google.com/"));
    CU_ASSERT_PTR_NULL(strstr(out.data, "https://learn.microsoft.com/"));
    ld_buf_reset(&out);
    CU_ASSERT_EQUAL(ld_report_json(&r, &out, &err), LD_OK);
    save("report_aws.json", &out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"remediation_cloud\":\t\"aws\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "https://cloud.google.com/")); /* JSON keeps all */
    ld_buf_clear(&out);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
}

static void target_without_diagnoses_is_unknown_and_says_why(void) {
    ld_facts *f = ld_facts_create();
    ld_bag_set_str(ld_facts_target(f), LD_F_TARGET_INPUT, "late.example:443");
    ld_bag_set_bool(ld_facts_target(f), LD_F_TARGET_CHECKED, 0);
    ld_diagnoses d = {0};
    ld_report_target rt;
    ld_report r = one_target_report(f, &d, &rt);
    CU_ASSERT_EQUAL(rt.verdict, LD_VERDICT_UNKNOWN);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_text(&r, &out, &err), LD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "UNKNOWN  late.example:443 - not checked"));
    ld_buf_reset(&out);
    CU_ASSERT_EQUAL(ld_report_json(&r, &out, &err), LD_OK);
    save("report_unknown.json", &out);
    ld_buf_clear(&out);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
}

/* Facts of a target of scheme whose one connection opens (the baseline),
 * with its TCP attempt as evidence. */
static ld_facts *open_target(const char *scheme) {
    cJSON *facts = baseline_facts();
    cJSON_ReplaceItemInObject(facts, "target.scheme", cJSON_CreateString(scheme));
    cJSON_AddStringToObject(facts, "target.path", "/");
    ld_facts *f = facts_from(facts);
    ld_bag *tcp = ld_facts_subject(f, "tcp", "10.77.0.10");
    ld_bag_set_str(tcp, LD_F_TCP_A_ADDRESS, "10.77.0.10");
    ld_bag_set_int(tcp, LD_F_TCP_A_PORT, 8080);
    ld_bag_set_str(tcp, LD_F_TCP_A_STATE, "open");
    ld_bag_set_num(tcp, LD_F_TCP_A_ELAPSED_MS, 0.2);
    return f;
}

/* The text report of a one-target report around f (the caller frees it). */
static char *text_of(ld_facts *f) {
    ld_diagnoses d = {0};
    ld_report_target rt;
    ld_report r = one_target_report(f, &d, &rt);
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_text(&r, &out, &err), LD_OK);
    char *text = strdup(ld_buf_str(&out));
    ld_buf_clear(&out);
    ld_diagnoses_clear(&d);
    return text;
}

static void dripped_tls_reply_is_worded_alike_in_diagnosis_and_timeline(void) {
    /* Issue 13, item 15: the diagnosis said "no reply" where the timeline
     * said the reply stalled. Both now word tls.reply_bytes. */
    ld_facts *f = open_target("https");
    ld_bag *t = ld_facts_target(f);
    ld_bag_set_bool(t, LD_F_TLS_ATTEMPTED, 1);
    ld_bag_set_str(t, LD_F_TLS_RESULT, "incomplete");
    ld_bag_list_add(t, LD_F_TLS_FAILED_ADDRESSES, "10.77.0.10");
    ld_bag_set_int(t, LD_F_TLS_REPLY_BYTES, 2);
    ld_bag *a = ld_facts_subject(f, "tls", "10.77.0.10");
    ld_bag_set_str(a, LD_F_TLS_A_ADDRESS, "10.77.0.10");
    ld_bag_set_str(a, LD_F_TLS_A_RESULT, "incomplete");
    ld_bag_set_int(a, LD_F_TLS_A_REPLY_BYTES, 2);
    char *text = text_of(f);
    const char *timeline = strstr(text, "Timeline:");
    CU_ASSERT_PTR_NOT_NULL_FATAL(timeline);
    const char *said = "only 2 bytes of a reply to the ClientHello";
    const char *in_summary = strstr(text, said);
    CU_ASSERT_TRUE(in_summary && in_summary < timeline);
    CU_ASSERT_PTR_NOT_NULL(strstr(timeline, said));
    CU_ASSERT_PTR_NULL(strstr(text, "no reply"));
    free(text);
    ld_facts_free(f);
}

static void http_timeline_says_what_came_back(void) {
    static const struct {
        const char *result;     /* http.attempt.result */
        const char *reply;      /* http.attempt.reply, or NULL */
        const char *incomplete; /* http.attempt.incomplete, or NULL */
        int status;             /* http.attempt.status, or 0 */
        const char *line;       /* what the HTTP line must say */
    } cases[] = {
        {"not_http", "15 03 03 00 02 02 46", NULL, 0,
         "HTTP  not HTTP: \"15 03 03 00 02 02 46\" (a TLS record: the port speaks TLS)"},
        {"incomplete", NULL, "interim_only", 100,
         "HTTP  100 (HTTP/1.1) \u00b7 incomplete: only interim 1xx statuses, never a final one"},
        {"incomplete", NULL, "stalled", 0,
         "HTTP  incomplete: status line and headers unfinished at the deadline"},
        {"closed", NULL, NULL, 0, "HTTP  closed without a byte of reply (Empty reply from server)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ld_facts *f = open_target("http");
        ld_bag *a = ld_facts_subject(f, "http", "10.77.0.10");
        ld_bag_set_str(a, LD_F_HTTP_A_ADDRESS, "10.77.0.10");
        ld_bag_set_str(a, LD_F_HTTP_A_RESULT, cases[i].result);
        ld_bag_set_str(a, LD_F_HTTP_A_ERROR, "Empty reply from server");
        if (cases[i].reply) {
            ld_bag_set_str(a, LD_F_HTTP_A_REPLY, cases[i].reply);
            ld_bag_set_bool(a, LD_F_HTTP_A_TLS_REPLY, 1);
        }
        if (cases[i].incomplete)
            ld_bag_set_str(a, LD_F_HTTP_A_INCOMPLETE, cases[i].incomplete);
        if (cases[i].status) {
            ld_bag_set_int(a, LD_F_HTTP_A_STATUS, cases[i].status);
            ld_bag_set_str(a, LD_F_HTTP_A_VERSION, "1.1");
        }
        char *text = text_of(f);
        if (!strstr(text, cases[i].line))
            fprintf(stderr, "\n  wanted '%s' in:\n%s\n", cases[i].line, text);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, cases[i].line));
        free(text);
        ld_facts_free(f);
    }
}

static void names_from_outside_the_facts_are_sanitized_in_json(void) {
    /* The host's name and a capture file's name come from this machine and
     * the user, not from the fact store: they get the same sanitizer. */
    ld_facts *f = dropped_target();
    ld_diagnoses d = {0};
    ld_report_target rt;
    ld_report r = one_target_report(f, &d, &rt);
    r.hostname = "vm\x1b]0;pwned\x07\xff";
    r.capture_file = "cap\x1b[2J.pcap";
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_json(&r, &out, &err), LD_OK);
    cJSON *root = cJSON_Parse(out.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const cJSON *host = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "host"), "hostname");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(host), "vm\\x1b]0;pwned\\x07\\xff");
    const cJSON *file = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "options"), "capture_file");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(file), "cap\\x1b[2J.pcap");
    cJSON_Delete(root);
    ld_buf_clear(&out);
    ld_diagnoses_clear(&d);
    ld_facts_free(f);
}

static void verdicts_combine_worst_first(void) {
    CU_ASSERT_EQUAL(ld_verdict_worse(LD_VERDICT_OK, LD_VERDICT_WARNING), LD_VERDICT_WARNING);
    CU_ASSERT_EQUAL(ld_verdict_worse(LD_VERDICT_CRITICAL, LD_VERDICT_UNKNOWN), LD_VERDICT_CRITICAL);
    CU_ASSERT_EQUAL(ld_verdict_worse(LD_VERDICT_UNKNOWN, LD_VERDICT_OK), LD_VERDICT_UNKNOWN);
    CU_ASSERT_EQUAL(ld_verdict_worse(LD_VERDICT_WARNING, LD_VERDICT_UNKNOWN), LD_VERDICT_WARNING);
    CU_ASSERT_EQUAL(ld_verdict_of(NULL), LD_VERDICT_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(ld_verdict_name(LD_VERDICT_CRITICAL), "critical");
    CU_ASSERT_EQUAL((int)LD_VERDICT_WARNING, 1); /* the exit codes are a contract */
    CU_ASSERT_EQUAL((int)LD_VERDICT_CRITICAL, 2);
    CU_ASSERT_EQUAL((int)LD_VERDICT_UNKNOWN, 3);
}

/* Number of entries in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void output_replaces_the_file_atomically_and_leaves_no_temporary(void) {
    char dir[] = "/tmp/ld-report-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/report.json", dir);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_check_path(path, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_report_write(path, "first\n", 6, &err), LD_OK);
    CU_ASSERT_EQUAL(ld_report_write(path, "second\n", 7, &err), LD_OK);
    FILE *fp = fopen(path, "r");
    char buf[32] = "";
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, fp));
    fclose(fp);
    CU_ASSERT_STRING_EQUAL(buf, "second\n");
    CU_ASSERT_EQUAL(count_prefixed(dir, "report.json.tmp"), 0);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_TRUE(sb.st_mode & S_IRUSR);
    unlink(path);
    rmdir(dir);
}

static void unwritable_output_paths_are_refused_before_any_work(void) {
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_check_path("/nonexistent-dir/report.json", &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not exist"));
    CU_ASSERT_EQUAL(ld_report_check_path("/tmp", &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is a directory"));
    CU_ASSERT_EQUAL(ld_report_check_path("", &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_report_check_path("/etc/passwd/x", &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a directory"));
    CU_ASSERT_EQUAL(ld_report_write("/nonexistent-dir/r.json", "x", 1, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent-dir/r.json"));
}

/* Waits up to 2 s for no entry of dir to start with prefix; returns how many are left. */
static int wait_gone(const char *dir, const char *prefix) {
    for (int i = 0; i < 200 && count_prefixed(dir, prefix) > 0; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    return count_prefixed(dir, prefix);
}

static void output_refuses_devices_fifos_and_symbolic_links(void) {
    char dir[] = "/tmp/ld-report-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char fifo[256], link[256], target[256];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(target, sizeof target, "%s/target", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
    ld_err err;
    CU_ASSERT_EQUAL(ld_report_write("/dev/null", "x", 1, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/dev/null: is a device, not a file"));
    CU_ASSERT_EQUAL(ld_report_write(fifo, "x", 1, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is a FIFO, not a file"));
    CU_ASSERT_EQUAL(ld_report_write(link, "x", 1, &err), LD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is a symbolic link"));
    CU_ASSERT_EQUAL(ld_report_check_path(fifo, &err), LD_EINVAL);
    struct stat sb;
    CU_ASSERT_TRUE(stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode));
    CU_ASSERT_TRUE(lstat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode));
    CU_ASSERT_TRUE(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
    CU_ASSERT_EQUAL(access(target, F_OK), -1); /* not written through */
    CU_ASSERT_EQUAL(count_prefixed(dir, "fifo.tmp") + count_prefixed(dir, "link.tmp"), 0);
    unlink(fifo);
    unlink(link);
    rmdir(dir);
}

static void output_file_exists_from_the_start_and_goes_unless_written(void) {
    char dir[] = "/tmp/ld-report-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/report.json", dir);
    ld_report_out out = {0};
    ld_report_out_clear(&out); /* a zeroed one clears harmlessly */
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_out_open(&out, path, &err), LD_OK);
    CU_ASSERT_EQUAL(count_prefixed(dir, "report.json.tmp."), 1);
    CU_ASSERT_TRUE(ld_report_out_fd(&out) >= 0);
    ld_report_out_clear(&out); /* the run failed: no report, no temporary */
    CU_ASSERT_EQUAL(count_prefixed(dir, "report.json"), 0);
    ld_report_out_clear(&out);

    /* The process dies, even by SIGKILL: its helper still removes the file. */
    pid_t child = fork();
    if (child == 0) {
        if (ld_report_out_open(&out, path, &err) == LD_OK)
            raise(SIGKILL);
        _exit(1);
    }
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
    CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CU_ASSERT_EQUAL(wait_gone(dir, "report.json"), 0);
    rmdir(dir);
}

static void output_is_checked_again_before_the_rename(void) {
    char dir[] = "/tmp/ld-report-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/report.json", dir);
    ld_report_out out = {0};
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_out_open(&out, path, &err), LD_OK);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0); /* during the run, it became a FIFO */
    CU_ASSERT_EQUAL(ld_report_out_write(&out, "x\n", 2, &err), LD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "report.json: is a FIFO, not a file"));
    struct stat sb;
    CU_ASSERT_TRUE(lstat(path, &sb) == 0 && S_ISFIFO(sb.st_mode));
    CU_ASSERT_EQUAL(count_prefixed(dir, "report.json.tmp"), 0);
    ld_report_out_clear(&out);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    ld_err err;
    rules = ld_ruleset_create();
    if (!rules || ld_ruleset_add_builtin(rules, &err) != LD_OK)
        return 1;
    static const ld_test_case cases[] = {
        LD_TEST(json_report_has_the_documented_shape),
        LD_TEST(text_report_puts_the_verdict_first_then_evidence_fix_and_timeline),
        LD_TEST(cloud_provider_selects_the_remediation),
        LD_TEST(target_without_diagnoses_is_unknown_and_says_why),
        LD_TEST(dripped_tls_reply_is_worded_alike_in_diagnosis_and_timeline),
        LD_TEST(http_timeline_says_what_came_back),
        LD_TEST(names_from_outside_the_facts_are_sanitized_in_json),
        LD_TEST(verdicts_combine_worst_first),
        LD_TEST(output_replaces_the_file_atomically_and_leaves_no_temporary),
        LD_TEST(unwritable_output_paths_are_refused_before_any_work),
        LD_TEST(output_refuses_devices_fifos_and_symbolic_links),
        LD_TEST(output_file_exists_from_the_start_and_goes_unless_written),
        LD_TEST(output_is_checked_again_before_the_rename),
        {0},
    };
    int rc = ld_unit_run("report", cases);
    ld_ruleset_free(rules);
    return rc;
}
