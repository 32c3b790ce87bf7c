/* test_show.c - a saved report read back (report/read.c) renders as the run
 * did, in every format; what is not a report this linkdoctor reads is one
 * clear error; and the Markdown report, compared with golden files
 * (tests/data/golden/markdown_*.md, also rendered by a real Markdown renderer
 * in ctest: tests/markdown_check.py), keeps hostile strings text.
 * LD_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "unit.h"

static ld_ruleset *rules;

/* A string no renderer may let through as markup, nor as a link (GFM links
 * a bare URL and "www." without any markup). */
#define HOSTILE                                                                                    \
    "<script>alert(1)</script> | **b** _i_ `tick` ``` [x](javascript:y) &amp; #1 ~s~ "             \
    "https://evil.example/x www.evil.example"

/* Facts of the healthy baseline target with changes applied (a JSON object
 * of facts to set; null removes one), and input as target.input. */
static ld_facts *target(const char *input, const char *changes) {
    ld_facts *f = ld_facts_create();
    ld_err err;
    char *base = ld_unit_read_data("factsets/baseline.json", NULL);
    cJSON *root = cJSON_Parse(base);
    cJSON *facts = cJSON_GetObjectItem(root, "facts");
    cJSON *patch = cJSON_Parse(changes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(patch);
    for (cJSON *c = patch->child; c; c = c->next) {
        cJSON_DeleteItemFromObject(facts, c->string);
        if (!cJSON_IsNull(c))
            cJSON_AddItemToObject(facts, c->string, cJSON_Duplicate(c, 1));
    }
    char *text = cJSON_PrintUnformatted(facts);
    CU_ASSERT_EQUAL_FATAL(ld_facts_load_json(f, text, strlen(text), &err), LD_OK);
    ld_bag_set_str(ld_facts_target(f), LD_F_TARGET_INPUT, input);
    free(text);
    cJSON_Delete(patch);
    cJSON_Delete(root);
    free(base);
    return f;
}

/* The evidence of a target: a resolver, an attempt with its route, TLS and HTTP on it. */
static void add_subjects(ld_facts *f, const char *reply) {
    ld_bag *d = ld_facts_subject(f, "dns", "10.77.0.2:53");
    ld_bag_set_str(d, LD_F_DNS_R_SERVER, "10.77.0.2:53");
    ld_bag_set_str(d, LD_F_DNS_R_SOURCE, "system");
    ld_bag_set_str(d, LD_F_DNS_R_RCODE, "NOERROR");
    ld_bag_list_add(d, LD_F_DNS_R_ADDRESSES, "10.77.0.11");
    ld_bag_list_add(d, LD_F_DNS_R_SCOPES, "private");
    ld_bag_set_int(d, LD_F_DNS_R_TTL_MIN, 60);
    ld_bag_set_num(d, LD_F_DNS_R_LATENCY_MS, 0.4123456); /* kept to the thousandth */
    /* the same resolver asked again (a --dns-server that is in resolv.conf too) */
    ld_bag *d2 = ld_facts_subject(f, "dns", "10.77.0.2:53 (option 2)");
    ld_bag_set_str(d2, LD_F_DNS_R_SERVER, "10.77.0.2:53");
    ld_bag_set_str(d2, LD_F_DNS_R_SOURCE, "option");
    ld_bag_set_str(d2, LD_F_DNS_R_RCODE, "TIMEOUT");
    ld_bag *t = ld_facts_subject(f, "tcp", "10.77.0.11");
    ld_bag_set_str(t, LD_F_TCP_A_ADDRESS, "10.77.0.11");
    ld_bag_set_int(t, LD_F_TCP_A_PORT, 8080);
    ld_bag_list_add(t, LD_F_TCP_A_ORIGIN, "dns");
    ld_bag_set_bool(t, LD_F_TCP_A_EXPECTED, 1);
    ld_bag_set_str(t, LD_F_TCP_A_STATE, "open");
    ld_bag_set_num(t, LD_F_TCP_A_ELAPSED_MS, 0.9996); /* 1.000 once kept: "1.0 ms" both ways */
    ld_bag_set_str(t, LD_F_TCP_A_SOURCE_IP, "10.77.0.1");
    ld_bag_set_str(t, LD_F_TCP_A_INTERFACE, "vc");
    ld_bag_set_str(t, LD_F_TCP_A_ROUTE, "gateway");
    ld_bag_set_str(t, LD_F_TCP_A_ROUTE_GATEWAY, "10.77.0.2");
    ld_bag_set_str(t, LD_F_TCP_A_ROUTE_INTERFACE, "vc");
    ld_bag_set_str(t, LD_F_TCP_A_ROUTE_SOURCE, "10.77.0.1");
    ld_bag_set_int(t, LD_F_TCP_A_ROUTE_MTU, 1400);
    ld_bag *h = ld_facts_subject(f, "http", "10.77.0.11");
    ld_bag_set_str(h, LD_F_HTTP_A_ADDRESS, "10.77.0.11");
    ld_bag_set_str(h, LD_F_HTTP_A_RESULT, "not_http");
    ld_bag_set_str(h, LD_F_HTTP_A_REPLY, reply);
}

/* A host context with a hostile string in every place one can come from. */
static ld_host *host(void) {
    ld_host *h = ld_host_create();
    snprintf(h->os_id, sizeof h->os_id, "debian");
    snprintf(h->os_version_id, sizeof h->os_version_id, "12");
    snprintf(h->os_pretty_name, sizeof h->os_pretty_name, "Debian %s", HOSTILE);
    snprintf(h->kernel, sizeof h->kernel, "6.1.0-lab");
    snprintf(h->time, sizeof h->time, "2026-11-22T00:00:00Z");
    ld_host_iface *i = &h->ifaces[h->nifaces++];
    snprintf(i->name, sizeof i->name, "vc");
    snprintf(i->state, sizeof i->state, "up");
    i->mtu = 1450;
    snprintf(i->addrs[i->naddrs++], sizeof i->addrs[0], "10.77.0.1/24");
    snprintf(i->addrs[i->naddrs++], sizeof i->addrs[0], "fd77::1/64");
    h->resolv_read = 1;
    snprintf(h->resolv_path, sizeof h->resolv_path, "/etc/resolv.conf");
    ld_host_add_nameserver(h, "10.77.0.2:53");
    ld_host_add_search(h, "lab.test");
    ld_host_add_option(h, "timeout:1");
    snprintf(h->hosts_path, sizeof h->hosts_path, "/etc/hosts");
    ld_host_add_hosts_line(h, 3, "10.77.0.11 svc.lab.test # " HOSTILE);
    snprintf(h->proxy[0].name, sizeof h->proxy[0].name, "HTTPS_PROXY");
    snprintf(h->proxy[0].value, sizeof h->proxy[0].value, "http://***@proxy.lab.test:3128");
    h->nproxy = 1;
    return h;
}

#define NTARGETS 2

/* A report of n targets: one whose port answers with a hostile non-HTTP
 * reply (every evidence kind), one healthy. */
typedef struct fixture {
    ld_facts *facts[NTARGETS];
    ld_diagnoses d[NTARGETS];
    ld_report_target t[NTARGETS];
    ld_host *host;
    ld_report r;
} fixture;

static void fixture_make(fixture *fx, size_t n, int with_host) {
    memset(fx, 0, sizeof *fx);
    fx->facts[0] = target("http://svc.lab.test:8080/" HOSTILE,
                          "{\"target.scheme\": \"http\", \"http.attempted\": true,"
                          " \"http.result\": \"not_http\", \"http.reply\": \"" HOSTILE "\","
                          " \"http.failed_addresses\": [\"10.77.0.11\"],"
                          " \"dns.latency_ms\": 0.4123456}");
    add_subjects(fx->facts[0], HOSTILE);
    fx->facts[1] = target("db.lab.test:5432", "{\"tcp.connect_ms\": 0.153}");
    fx->host = with_host ? host() : NULL;
    for (size_t i = 0; i < n; i++) {
        ld_err err;
        CU_ASSERT_EQUAL_FATAL(ld_rules_eval(rules, fx->facts[i], &fx->d[i], &err), LD_OK);
        fx->t[i] = (ld_report_target){.facts = fx->facts[i],
                                      .diagnoses = &fx->d[i],
                                      .verdict = ld_verdict_of(&fx->d[i]),
                                      .duration_ms = 5};
    }
    fx->r = (ld_report){.command = "check",
                        .started_at = 1795305600.25,
                        .duration_ms = 1210.0,
                        .timeout_ms = 10000,
                        .connect_timeout_ms = 2000,
                        .hostname = "vm-1",
                        .cloud_provider = "none",
                        .cloud_source = "option",
                        .host = fx->host,
                        .targets = fx->t,
                        .ntargets = n};
    fx->r.verdict = fx->t[0].verdict;
    for (size_t i = 1; i < n; i++)
        fx->r.verdict = ld_verdict_worse(fx->r.verdict, fx->t[i].verdict);
}

static void fixture_free(fixture *fx) {
    for (size_t i = 0; i < NTARGETS; i++) {
        ld_diagnoses_clear(&fx->d[i]);
        ld_facts_free(fx->facts[i]);
    }
    ld_host_free(fx->host);
}

/* r rendered in format f, allocated. */
static char *render(const ld_report *r, ld_format f) {
    ld_buf out;
    ld_err err;
    ld_buf_init(&out, 0);
    CU_ASSERT_EQUAL(ld_report_render(r, f, &out, &err), LD_OK);
    return ld_buf_take(&out);
}

/* r written as JSON and read back; NULL (with err) when it is refused. */
static ld_saved_report *round_trip(const ld_report *r) {
    char *json = render(r, LD_FORMAT_JSON);
    ld_err err = {{0}};
    ld_saved_report *s = ld_saved_report_parse(json, strlen(json), &err);
    if (!s)
        fprintf(stderr, "\nread back: %s\n", err.msg);
    free(json);
    return s;
}

static void every_format_renders_the_same_from_the_saved_report(void) {
    for (size_t n = 1; n <= NTARGETS; n++) {
        for (int with_host = 0; with_host <= 1; with_host++) {
            fixture fx;
            fixture_make(&fx, n, with_host);
            /* Durations and a start time finer than the JSON keeps them: every
             * format (Prometheus's run duration and timestamp too) shows what
             * the JSON keeps, so the run and `show` print the same. */
            fx.r.duration_ms = 3.535492;
            fx.r.started_at = 1795305600.2516;
            for (size_t i = 0; i < n; i++)
                fx.t[i].duration_ms = 5.0004567;
            ld_saved_report *s = round_trip(&fx.r);
            CU_ASSERT_PTR_NOT_NULL_FATAL(s);
            const ld_report *back = ld_saved_report_get(s);
            CU_ASSERT_EQUAL(back->verdict, fx.r.verdict);
            CU_ASSERT_EQUAL(back->host == NULL, !with_host);
            for (int f = 0; f < LD_FORMAT__COUNT; f++) {
                char *want = render(&fx.r, (ld_format)f);
                char *got = render(back, (ld_format)f);
                if (strcmp(want, got) != 0)
                    fprintf(stderr, "\n--format %s differs:\n%s\n--- read back:\n%s\n",
                            ld_format_name((ld_format)f), want, got);
                CU_ASSERT_STRING_EQUAL(want, got);
                free(want);
                free(got);
            }
            ld_saved_report_free(s);
            fixture_free(&fx);
        }
    }
}

static void the_saved_report_keeps_what_renderers_do_not_show(void) {
    fixture fx;
    fixture_make(&fx, 1, 1);
    /* for ctest's unit.schema_reports: the host context and the routes, validated */
    char *json = render(&fx.r, LD_FORMAT_JSON);
    ld_err werr;
    CU_ASSERT_EQUAL(ld_report_write(LD_TEST_OUT "/report_host.json", json, strlen(json), &werr),
                    LD_OK);
    free(json);
    ld_saved_report *s = round_trip(&fx.r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const ld_report *back = ld_saved_report_get(s);
    const ld_diagnosis *d = &back->targets[0].diagnoses->reported[0];
    CU_ASSERT_PTR_NULL(d->rule); /* no rule behind it: its own id and docs */
    CU_ASSERT_STRING_EQUAL(d->id, fx.d[0].reported[0].id);
    CU_ASSERT_EQUAL(d->ndocs, fx.d[0].reported[0].ndocs);
    CU_ASSERT_STRING_EQUAL(back->hostname, "vm-1");
    CU_ASSERT_EQUAL(back->timeout_ms, 10000);
    CU_ASSERT_EQUAL(back->started_at, 1795305600.25);
    CU_ASSERT_STRING_EQUAL(back->host->hosts_lines[0].text, "10.77.0.11 svc.lab.test # " HOSTILE);
    /* both asks of the same resolver stay apart */
    size_t dns = 0;
    for (size_t i = 0; i < ld_facts_subject_count(back->targets[0].facts); i++)
        dns += strcmp(ld_bag_kind(ld_facts_subject_at(back->targets[0].facts, i)), "dns") == 0;
    CU_ASSERT_EQUAL(dns, 2);
    ld_saved_report_free(s);
    fixture_free(&fx);
}

/* `show --redact` of a report saved without it: the saved report holds the
 * cloud facts and the host context, so redacting what is read back gives, in
 * every format, what the run would have printed with --redact. */
static void a_saved_report_redacts_as_the_run_would(void) {
    static const char project[] = "prod-project-123";
    fixture fx;
    fixture_make(&fx, NTARGETS, 1);
    for (size_t i = 0; i < NTARGETS; i++) {
        ld_bag *t = ld_facts_target(fx.facts[i]);
        ld_bag_set_str(t, LD_F_CLOUD_PROVIDER, "gcp");
        ld_bag_set_str(t, LD_F_CLOUD_ACCOUNT, project);
        ld_bag_set_str(t, LD_F_CLOUD_INSTANCE_NAME, "milvus-client-1");
    }
    ld_host_add_search(fx.host, "c.prod-project-123.internal");
    ld_saved_report *s = round_trip(&fx.r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    ld_redacted run = {0}, shown = {0};
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(&fx.r, &run, &err), LD_OK);
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(ld_saved_report_get(s), &shown, &err), LD_OK);
    CU_ASSERT_TRUE(shown.report.redact);
    for (int f = 0; f < LD_FORMAT__COUNT; f++) {
        char *want = render(&run.report, (ld_format)f);
        char *got = render(&shown.report, (ld_format)f);
        CU_ASSERT_STRING_EQUAL(want, got);
        CU_ASSERT_PTR_NULL(strstr(got, project));
        CU_ASSERT_PTR_NULL(strstr(got, "milvus-client-1"));
        free(want);
        free(got);
    }
    /* Redacting a redacted report changes nothing: the placeholders stay. */
    ld_redacted again = {0};
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(&shown.report, &again, &err), LD_OK);
    char *once = render(&shown.report, LD_FORMAT_JSON),
         *twice = render(&again.report, LD_FORMAT_JSON);
    CU_ASSERT_STRING_EQUAL(once, twice);
    free(once);
    free(twice);
    ld_redacted_clear(&again);
    ld_redacted_clear(&shown);
    ld_redacted_clear(&run);
    ld_saved_report_free(s);
    fixture_free(&fx);
}

/* analyze: the machine that reads a capture file is not the one that
 * captured it, so its interfaces and resolver are not in the report - absent
 * from the JSON, "not recorded" in the text - and a report read back says
 * the same. */
static void an_analysis_records_no_host_context(void) {
    fixture fx;
    fixture_make(&fx, 1, 0);
    fx.r.command = "analyze";
    fx.r.capture_file = "customer.pcap";
    char *json = render(&fx.r, LD_FORMAT_JSON);
    ld_err werr;
    CU_ASSERT_EQUAL(ld_report_write(LD_TEST_OUT "/report_analyze.json", json, strlen(json), &werr),
                    LD_OK);
    cJSON *root = cJSON_Parse(json);
    const cJSON *host = cJSON_GetObjectItem(root, "host");
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(host, "hostname"));
    static const char *const absent[] = {"os",         "kernel",      "time",
                                         "interfaces", "resolv_conf", "proxy_env"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(host, absent[i]));
    cJSON_Delete(root);
    free(json);
    char *text = render(&fx.r, LD_FORMAT_TEXT);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nHost: not recorded (analysis of a capture file)\n"));
    free(text);
    char *md = render(&fx.r, LD_FORMAT_MARKDOWN);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "## Host\n\n```text\nHost: not recorded (analysis of a capture file)\n```\n"));
    free(md);
    ld_saved_report *s = round_trip(&fx.r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NULL(ld_saved_report_get(s)->host);
    for (int f = 0; f < LD_FORMAT__COUNT; f++) {
        char *want = render(&fx.r, (ld_format)f);
        char *got = render(ld_saved_report_get(s), (ld_format)f);
        CU_ASSERT_STRING_EQUAL(want, got);
        free(want);
        free(got);
    }
    ld_saved_report_free(s);
    fixture_free(&fx);
}

/* The error reading text gives, "" when it reads. */
static const char *refusal(const char *text) {
    static ld_err err;
    err.msg[0] = '\0';
    ld_saved_report *s = ld_saved_report_parse(text, strlen(text), &err);
    CU_ASSERT_TRUE(s == NULL || err.msg[0] == '\0');
    ld_saved_report_free(s);
    return err.msg;
}

static void what_is_not_a_report_is_one_clear_line(void) {
    const char *e = refusal("{\"schema\": \"linkdoctor.report/1\", \"targets\": [");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "not valid JSON (at byte"));
    e = refusal("{\"schema\": \"linkdoctor.report/2\", \"verdict\": \"ok\", \"targets\": []}");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "linkdoctor.report/2 is newer than this linkdoctor reads"));
    e = refusal("{\"schema\": \"something/1\"}");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "not a linkdoctor report"));
    e = refusal("[1, 2]");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "not a linkdoctor report"));
    e = refusal("{\"schema\": \"linkdoctor.report/1x\"}");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "not a linkdoctor report"));
    e = refusal(
        "{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"ok\", \"targets\": [{"
        "\"verdict\": \"ok\", \"facts\": {\"tcp.open_count\": \"two\"}, \"diagnoses\": []}]}");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "targets[0]: fact tcp.open_count"));
    e = refusal("{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"ok\", \"targets\": [{"
                "\"verdict\": \"ok\", \"facts\": {}, \"diagnoses\": [{\"id\": \"x\","
                " \"severity\": \"dire\"}]}]}");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "targets[0]: diagnoses[0]: \"severity\""));
    e = refusal("{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"ok\", \"targets\": []}\n"
                "{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"ok\", \"targets\": []}\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "more than one JSON value (at byte 66)"));
    CU_ASSERT_STRING_EQUAL(refusal("{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"ok\","
                                   " \"targets\": []}\n\n"),
                           "");
    e = refusal("{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"maybe\", \"targets\": []}");
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "\"verdict\""));
    for (const char *p = e; *p; p++)
        CU_ASSERT_NOT_EQUAL(*p, '\n');
}

static void fields_of_a_newer_linkdoctor_are_skipped(void) {
    const char *text =
        "{\"schema\": \"linkdoctor.report/1\", \"verdict\": \"warning\", \"future\": 1,"
        " \"targets\": [{\"verdict\": \"warning\", \"facts\": {\"target.input\": \"a:1\","
        " \"tcp.future_fact\": 3}, \"probes\": {\"tcp\": [{\"address\": \"10.0.0.1\","
        " \"future_field\": true}], \"quic\": [{\"address\": \"10.0.0.1\"}]},"
        " \"diagnoses\": [{\"id\": \"tcp.new\", \"severity\": \"warning\", \"confidence\": "
        "\"high\","
        " \"title\": \"t\", \"summary\": \"s\", \"evidence\": {\"tcp.future_fact\": 3}}]}]}";
    ld_err err;
    ld_saved_report *s = ld_saved_report_parse(text, strlen(text), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const ld_report *r = ld_saved_report_get(s);
    CU_ASSERT_EQUAL(r->verdict, LD_VERDICT_WARNING);
    CU_ASSERT_EQUAL(r->ntargets, 1);
    CU_ASSERT_PTR_NULL(r->host); /* a report without the host context shows none */
    CU_ASSERT_STRING_EQUAL(r->targets[0].diagnoses->reported[0].id, "tcp.new");
    CU_ASSERT_EQUAL(r->targets[0].diagnoses->reported[0].nevidence, 0);
    char *out = render(r, LD_FORMAT_TEXT);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "WARNING  a:1 - t (tcp.new)"));
    CU_ASSERT_PTR_NULL(strstr(out, "Host:"));
    free(out);
    ld_saved_report_free(s);
    ld_saved_report_free(NULL);
}

/* Compares out with the golden file (or rewrites it). */
static void golden(const char *name, const char *out) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/%s", LD_TEST_DATA, name);
    if (getenv("LD_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(out, f);
        fclose(f);
        return;
    }
    char rel[256];
    snprintf(rel, sizeof rel, "golden/%s", name);
    char *want = ld_unit_read_data(rel, NULL);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(want);
}

static void markdown_keeps_hostile_strings_text(void) {
    fixture fx;
    fixture_make(&fx, 1, 1);
    char *md = render(&fx.r, LD_FORMAT_MARKDOWN);
    /* in prose and tables: no tag, no link, no emphasis, no code span it opened */
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "\"&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*\\*b\\*\\* "
                                      "\\_i\\_ \\`tick\\` \\`\\`\\` \\[x\\](javascript:y) "
                                      "&amp;amp; \\#1 \\~s\\~ https&#58;//evil.example/x "
                                      "www&#46;evil.example\": that is not HTTP."));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| `http.reply` | &lt;script&gt;"));
    /* as code: a span, and fences, longer than the backtick runs inside */
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "# CRITICAL: ````http://svc.lab.test:8080/<script>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "\n````text\n  DNS  10.77.0.2:53"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "\n````text\nHost: Debian <script>"));
    golden("markdown_one.md", md);
    free(md);
    fixture_free(&fx);
    fixture_make(&fx, 2, 1);
    md = render(&fx.r, LD_FORMAT_MARKDOWN);
    static const char head[] = "# CRITICAL: 2 targets (1 critical, 0 warning, 0 unknown, 1 ok)\n";
    CU_ASSERT_TRUE(strncmp(md, head, strlen(head)) == 0);
    golden("markdown_many.md", md);
    free(md);
    fixture_free(&fx);
}

int main(void) {
    ld_err err;
    rules = ld_ruleset_create();
    if (!rules || ld_ruleset_add_builtin(rules, &err) != LD_OK)
        return 1;
    static const ld_test_case cases[] = {
        LD_TEST(every_format_renders_the_same_from_the_saved_report),
        LD_TEST(the_saved_report_keeps_what_renderers_do_not_show),
        LD_TEST(a_saved_report_redacts_as_the_run_would),
        LD_TEST(an_analysis_records_no_host_context),
        LD_TEST(what_is_not_a_report_is_one_clear_line),
        LD_TEST(fields_of_a_newer_linkdoctor_are_skipped),
        LD_TEST(markdown_keeps_hostile_strings_text),
        {0},
    };
    int rc = ld_unit_run("show", cases);
    ld_ruleset_free(rules);
    return rc;
}
