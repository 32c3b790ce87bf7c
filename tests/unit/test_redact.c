/* test_redact.c - --redact: identifiers become placeholders, the same value the same
 * one, everywhere a renderer reads; what support needs stays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "unit.h"

/* A report of two targets on a GCP instance, with a diagnosis whose texts and
 * evidence quote the identifiers. */
typedef struct fixture {
    ld_facts *facts[2];          /* per target */
    ld_diagnosis diag[1];        /* the first target's one diagnosis */
    ld_diagnoses diagnoses[2];   /* per target */
    ld_report_target targets[2]; /* the report's targets */
    ld_report report;            /* the report */
    ld_ruleset *rules;           /* owns the rule the diagnosis names */
} fixture;

static const char PROJECT[] = "prod-project-123", NUMBER[] = "412345678901",
                  INSTANCE[] = "4520117834512349876", NAME[] = "milvus-client-1",
                  SA[] = "412345678901-compute@developer.gserviceaccount.com", HOST[] = "build-7";

static void set_target(ld_facts *f, const char *input, const char *host) {
    ld_bag *t = ld_facts_target(f);
    ld_bag_set_str(t, LD_F_TARGET_INPUT, input);
    ld_bag_set_str(t, LD_F_TARGET_HOST, host);
    ld_bag_set_str(t, LD_F_CLOUD_PROVIDER, "gcp");
    ld_bag_set_str(t, LD_F_CLOUD_ACCOUNT, PROJECT);
    ld_bag_set_str(t, LD_F_CLOUD_PROJECT_NUMBER, NUMBER);
    ld_bag_set_str(t, LD_F_CLOUD_INSTANCE_ID, INSTANCE);
    ld_bag_set_str(t, LD_F_CLOUD_INSTANCE_NAME, NAME);
    ld_bag_set_str(t, LD_F_CLOUD_SERVICE_ACCOUNT, SA);
    ld_bag_set_str(t, LD_F_CLOUD_VPC, "prod-vpc");
    ld_bag_list_add(t, LD_F_CLOUD_NETWORK_TAGS, "web");
    ld_bag_list_add(t, LD_F_TCP_TIMEOUT_ADDRESSES, "10.0.2.23");
    ld_bag *a = ld_facts_subject(f, "tcp", "10.0.2.23");
    ld_bag_set_str(a, LD_F_TCP_A_ADDRESS, "10.0.2.23");
}

static void fixture_init(fixture *x) {
    memset(x, 0, sizeof *x);
    ld_err err;
    x->rules = ld_ruleset_create();
    CU_ASSERT_EQUAL_FATAL(ld_ruleset_add_builtin(x->rules, &err), LD_OK);
    for (int i = 0; i < 2; i++)
        x->facts[i] = ld_facts_create();
    set_target(x->facts[0], "svc.lab.test:19530", "svc.lab.test");
    /* A target whose host name holds the instance's name: the name stays in it. */
    set_target(x->facts[1], "milvus-client-1.internal:80", "milvus-client-1.internal");
    ld_diagnosis *d = &x->diag[0];
    d->rule = ld_ruleset_find(x->rules, "tcp.syn_dropped");
    d->id = strdup("tcp.syn_dropped");
    d->docs = calloc(1, sizeof *d->docs);
    d->docs[0] = strdup("https://docs.aws.amazon.com/vpc/latest/privatelink/");
    d->ndocs = 1;
    d->severity = LD_SEV_CRITICAL;
    d->title = strdup("SYNs from milvus-client-1 get no answer");
    d->summary = strdup("VM 4520117834512349876 (project prod-project-123, number 412345678901) "
                        "on build-7; vectordb.example:19530 unaffected");
    d->remediation = strdup("gcloud compute instances describe milvus-client-1 --project "
                            "prod-project-123; service account "
                            "412345678901-compute@developer.gserviceaccount.com; tags web");
    d->evidence = calloc(1, sizeof *d->evidence);
    d->nevidence = 1;
    d->evidence[0].id = LD_F_CLOUD_ACCOUNT;
    d->evidence[0].value.type = LD_T_STR;
    d->evidence[0].value.u.s = strdup(PROJECT);
    x->diagnoses[0].reported = x->diag;
    x->diagnoses[0].nreported = 1;
    for (int i = 0; i < 2; i++) {
        x->targets[i].facts = x->facts[i];
        x->targets[i].diagnoses = &x->diagnoses[i];
    }
    x->report = (ld_report){
        .command = "check", .hostname = HOST, .targets = x->targets, .ntargets = 2, .redact = 1};
}

static void fixture_clear(fixture *x) {
    ld_diagnosis *d = &x->diag[0];
    free(d->id);
    free(d->docs[0]);
    free(d->docs);
    free(d->title);
    free(d->summary);
    free(d->remediation);
    ld_value_clear(&d->evidence[0].value);
    free(d->evidence);
    for (int i = 0; i < 2; i++)
        ld_facts_free(x->facts[i]);
    ld_ruleset_free(x->rules);
}

static const char *str_of(const ld_facts *f, ld_fact_id id) {
    const ld_value *v = ld_facts_get(f, id);
    return v && v->type == LD_T_STR ? v->u.s : "";
}

static void identifiers_become_stable_placeholders_everywhere(void) {
    fixture x;
    fixture_init(&x);
    ld_redacted r;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(&x.report, &r, &err), LD_OK);
    const ld_facts *f = r.report.targets[0].facts;
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_CLOUD_ACCOUNT), "<account-1>");
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_CLOUD_PROJECT_NUMBER), "<project-number-1>");
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_CLOUD_INSTANCE_ID), "<instance-1>");
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_CLOUD_INSTANCE_NAME), "<instance-name-1>");
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_CLOUD_SERVICE_ACCOUNT), "<service-account-1>");
    CU_ASSERT_STRING_EQUAL(r.report.hostname, "<hostname-1>");
    /* The second target has the same values: the same placeholders. */
    const ld_facts *g = r.report.targets[1].facts;
    CU_ASSERT_STRING_EQUAL(str_of(g, LD_F_CLOUD_ACCOUNT), "<account-1>");
    CU_ASSERT_STRING_EQUAL(str_of(g, LD_F_CLOUD_INSTANCE_NAME), "<instance-name-1>");
    /* Texts and evidence: the values go wherever they stand as whole words. */
    const ld_diagnosis *d = &r.report.targets[0].diagnoses->reported[0];
    CU_ASSERT_PTR_NOT_NULL(strstr(d->summary, "VM <instance-1> (project <account-1>, number "
                                              "<project-number-1>) on <hostname-1>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d->remediation, "service account <service-account-1>;"));
    CU_ASSERT_STRING_EQUAL(d->evidence[0].value.u.s, "<account-1>");
    CU_ASSERT_PTR_EQUAL(d->rule, x.diag[0].rule);
    /* What names it travels too: a renderer prints the id and the docs. */
    CU_ASSERT_STRING_EQUAL(d->id, "tcp.syn_dropped");
    CU_ASSERT_EQUAL_FATAL(d->ndocs, 1);
    CU_ASSERT_STRING_EQUAL(d->docs[0], "https://docs.aws.amazon.com/vpc/latest/privatelink/");
    /* What support needs stays: targets, addresses, the network and its tags; a value
     * inside another word ("vectordb" holds no host name) is not cut out. */
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_TARGET_INPUT), "svc.lab.test:19530");
    CU_ASSERT_STRING_EQUAL(str_of(f, LD_F_CLOUD_VPC), "prod-vpc");
    CU_ASSERT_PTR_NOT_NULL(strstr(d->summary, "vectordb.example:19530 unaffected"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d->remediation, "tags web"));
    CU_ASSERT_PTR_NOT_NULL(ld_facts_get(f, LD_F_TCP_TIMEOUT_ADDRESSES));
    CU_ASSERT_EQUAL(ld_facts_subject_count(f), 1);
    CU_ASSERT_STRING_EQUAL(ld_bag_key(ld_facts_subject_at(f, 0)), "10.0.2.23");
    ld_redacted_clear(&r);
    fixture_clear(&x);
}

static void a_value_in_a_target_name_is_hidden_only_as_a_whole_fact(void) {
    fixture x;
    fixture_init(&x);
    ld_redacted r;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(&x.report, &r, &err), LD_OK);
    const ld_facts *g = r.report.targets[1].facts;
    CU_ASSERT_STRING_EQUAL(str_of(g, LD_F_TARGET_HOST), "milvus-client-1.internal");
    CU_ASSERT_STRING_EQUAL(str_of(g, LD_F_TARGET_INPUT), "milvus-client-1.internal:80");
    CU_ASSERT_STRING_EQUAL(str_of(g, LD_F_CLOUD_INSTANCE_NAME), "<instance-name-1>");
    /* ... and so it stays in the texts too (a target's name cannot be told from it). */
    const ld_diagnosis *d = &r.report.targets[0].diagnoses->reported[0];
    CU_ASSERT_PTR_NOT_NULL(strstr(d->title, "milvus-client-1"));
    ld_redacted_clear(&r);
    fixture_clear(&x);
}

/* A GCE instance's host context: its resolv.conf searches the project's
 * internal domains; a hosts line and a proxy variable name the host and the project. */
static void fill_gce_host(ld_host *h) {
    snprintf(h->os_pretty_name, sizeof h->os_pretty_name, "Debian GNU/Linux 12 (bookworm)");
    snprintf(h->resolv_path, sizeof h->resolv_path, "/etc/resolv.conf");
    h->resolv_read = 1;
    ld_host_add_nameserver(h, "169.254.169.254:53");
    ld_host_add_search(h, "us-central1-a.c.prod-project-123.internal");
    ld_host_add_search(h, "c.prod-project-123.internal");
    ld_host_add_search(h, "google.internal");
    ld_host_add_option(h, "ndots:1");
    ld_host_add_hosts_line(h, 3,
                           "10.128.0.7 build-7.us-central1-a.c.prod-project-123.internal "
                           "build-7 # Added by Google");
    h->nproxy = 1;
    snprintf(h->proxy[0].name, sizeof h->proxy[0].name, "HTTPS_PROXY");
    snprintf(h->proxy[0].value, sizeof h->proxy[0].value,
             "http://prod-project-123-proxy.corp.example:3128");
    h->nifaces = 1;
    snprintf(h->ifaces[0].name, sizeof h->ifaces[0].name, "ens4");
    snprintf(h->ifaces[0].addrs[0], sizeof h->ifaces[0].addrs[0], "10.128.0.7/32");
    snprintf(h->ifaces[0].addrs[1], sizeof h->ifaces[0].addrs[1], "34.67.1.2/32");
    h->ifaces[0].naddrs = 2;
}

static void the_host_context_is_redacted_too(void) {
    fixture x;
    fixture_init(&x);
    ld_host *host = ld_host_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(host);
    fill_gce_host(host);
    x.report.host = host;
    ld_redacted r;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(&x.report, &r, &err), LD_OK);
    const ld_host *h = r.report.host;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_EQUAL(h, host);
    /* The project in the search list, hosts line and proxy: the placeholder the facts
     * give it; the host's name too. */
    CU_ASSERT_EQUAL_FATAL(h->nsearch, 3);
    CU_ASSERT_STRING_EQUAL(h->search[0], "us-central1-a.c.<account-1>.internal");
    CU_ASSERT_STRING_EQUAL(h->search[1], "c.<account-1>.internal");
    CU_ASSERT_STRING_EQUAL(h->search[2], "google.internal");
    CU_ASSERT_EQUAL_FATAL(h->nhosts_lines, 1);
    CU_ASSERT_STRING_EQUAL(h->hosts_lines[0].text,
                           "10.128.0.7 <hostname-1>.us-central1-a.c.<account-1>.internal "
                           "<hostname-1> # Added by Google");
    CU_ASSERT_STRING_EQUAL(h->proxy[0].value, "http://<account-1>-proxy.corp.example:3128");
    /* What support needs stays; the public address is masked. */
    CU_ASSERT_STRING_EQUAL(h->nameservers[0], "169.254.169.254:53");
    CU_ASSERT_STRING_EQUAL(h->options[0], "ndots:1");
    CU_ASSERT_STRING_EQUAL(h->os_pretty_name, "Debian GNU/Linux 12 (bookworm)");
    CU_ASSERT_STRING_EQUAL(h->ifaces[0].addrs[0], "10.128.0.7/32");
    CU_ASSERT_STRING_EQUAL(h->ifaces[0].addrs[1], "redacted-ipv4/32");
    /* Every renderer reads the redacted context: no format shows the project. */
    for (int f = 0; f < LD_FORMAT__COUNT; f++) {
        ld_buf out;
        ld_buf_init(&out, 0);
        CU_ASSERT_EQUAL(ld_report_render(&r.report, (ld_format)f, &out, &err), LD_OK);
        CU_ASSERT_PTR_NOT_NULL(out.data);
        if (out.data) {
            CU_ASSERT_PTR_NULL(strstr(out.data, PROJECT));
            CU_ASSERT_PTR_NULL(strstr(out.data, "34.67.1.2"));
        }
        ld_buf_clear(&out);
    }
    /* The report's own host context is untouched. */
    CU_ASSERT_STRING_EQUAL(host->search[1], "c.prod-project-123.internal");
    CU_ASSERT_STRING_EQUAL(host->ifaces[0].addrs[1], "34.67.1.2/32");
    ld_redacted_clear(&r);
    ld_host_free(host);
    fixture_clear(&x);
}

static void the_original_report_is_untouched(void) {
    fixture x;
    fixture_init(&x);
    ld_redacted r;
    ld_err err;
    CU_ASSERT_EQUAL_FATAL(ld_report_redact(&x.report, &r, &err), LD_OK);
    ld_redacted_clear(&r);
    CU_ASSERT_STRING_EQUAL(str_of(x.facts[0], LD_F_CLOUD_ACCOUNT), PROJECT);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.diag[0].summary, INSTANCE));
    /* Clearing twice, or a zeroed one, is harmless. */
    ld_redacted_clear(&r);
    fixture_clear(&x);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(identifiers_become_stable_placeholders_everywhere),
        LD_TEST(a_value_in_a_target_name_is_hidden_only_as_a_whole_fact),
        LD_TEST(the_host_context_is_redacted_too),
        LD_TEST(the_original_report_is_untouched),
        {0},
    };
    return ld_unit_run("redact", cases);
}
