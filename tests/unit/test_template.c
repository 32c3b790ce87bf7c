/* test_template.c - rule text with facts filled in: rendering of each value
 * type, absent facts, brace escapes, and where bad templates are rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/template.h"
#include "unit.h"

static ld_facts *sample_facts(void) {
    ld_facts *f = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ld_bag *t = ld_facts_target(f);
    CU_ASSERT_EQUAL(ld_bag_set_str(t, LD_F_TARGET_HOST, "db.example.com"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_int(t, LD_F_TARGET_PORT, 19530), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_bool(t, LD_F_DNS_HOSTS_OVERRIDE, 1), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_num(t, LD_F_TCP_WAIT_MS, 1503.5), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_TCP_TIMEOUT_ADDRESSES, "10.0.1.23"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_list_add(t, LD_F_TCP_TIMEOUT_ADDRESSES, "10.0.2.23"), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_set_empty_list(t, LD_F_DNS_PUBLIC_ADDRESSES), LD_OK);
    return f;
}

/* 1 when tmpl passes the check and renders to want against f; else 0 with
 * what happened on stderr. */
static int renders(const char *tmpl, const ld_facts *f, const char *want) {
    ld_err err = {{0}};
    ld_buf out;
    ld_buf_init(&out, 0);
    ld_status check = ld_template_check(tmpl, &err);
    ld_status st = ld_template_render(tmpl, f, &out);
    int ok = check == LD_OK && st == LD_OK && strcmp(ld_buf_str(&out), want) == 0;
    if (!ok)
        fprintf(stderr, "\n  <%s>: check %d (%s), render %d \"%s\"; wanted \"%s\"\n", tmpl, check,
                err.msg, st, ld_buf_str(&out), want);
    ld_buf_clear(&out);
    return ok;
}

#define ASSERT_RENDERS(tmpl, f, want) CU_ASSERT_TRUE(renders(tmpl, f, want))

/* 1 when the check rejects tmpl with "position N: " + a message containing phrase. */
static int rejected(const char *tmpl, size_t pos, const char *phrase) {
    ld_err err = {{0}};
    char prefix[32];
    snprintf(prefix, sizeof prefix, "position %zu: ", pos);
    ld_status st = ld_template_check(tmpl, &err);
    int ok = st == LD_EINVAL && strncmp(err.msg, prefix, strlen(prefix)) == 0 &&
             strstr(err.msg, phrase) != NULL;
    if (!ok)
        fprintf(stderr, "\n  <%s>: status %d \"%s\"; wanted \"%s...%s\"\n", tmpl, st, err.msg,
                prefix, phrase);
    return ok;
}

#define ASSERT_REJECTED(tmpl, pos, phrase) CU_ASSERT_TRUE(rejected(tmpl, pos, phrase))

static void text_without_placeholders_renders_as_is(void) {
    ASSERT_RENDERS("Allow inbound TCP.", NULL, "Allow inbound TCP.");
    ASSERT_RENDERS("", NULL, "");
}

static void placeholders_render_each_value_type(void) {
    ld_facts *f = sample_facts();
    ASSERT_RENDERS("{target.host}:{target.port}", f, "db.example.com:19530");
    ASSERT_RENDERS("override={dns.hosts_override}", f, "override=true");
    ASSERT_RENDERS("waited {tcp.wait_ms} ms", f, "waited 1503.5 ms");
    ASSERT_RENDERS("SYNs to {tcp.timeout_addresses} get no answer", f,
                   "SYNs to 10.0.1.23, 10.0.2.23 get no answer");
    ld_facts_free(f);
}

static void empty_list_renders_as_none(void) {
    ld_facts *f = sample_facts();
    ASSERT_RENDERS("public: {dns.public_addresses}", f, "public: (none)");
    ld_facts_free(f);
}

static void absent_fact_renders_as_not_recorded(void) {
    ld_facts *f = sample_facts();
    ASSERT_RENDERS("from {tcp.source_ip}", f, "from (not recorded)");
    ASSERT_RENDERS("from {tcp.source_ip}", NULL, "from (not recorded)");
    ld_facts_free(f);
}

static void doubled_braces_are_literal_braces(void) {
    ld_facts *f = sample_facts();
    ASSERT_RENDERS("{{literal}} and }}", f, "{literal} and }");
    ASSERT_RENDERS("{{{target.port}}}", f, "{19530}");
    ASSERT_RENDERS("{{}}", f, "{}");
    ASSERT_RENDERS("a {{target.port}} b", f, "a {target.port} b");
    ld_facts_free(f);
}

static void rendering_appends_to_the_buffer(void) {
    ld_facts *f = sample_facts();
    ld_buf out;
    ld_buf_init(&out, 0);
    CU_ASSERT_EQUAL(ld_buf_puts(&out, "port "), LD_OK);
    CU_ASSERT_EQUAL(ld_template_render("{target.port}", f, &out), LD_OK);
    CU_ASSERT_STRING_EQUAL(ld_buf_str(&out), "port 19530");
    ld_buf_clear(&out);
    ld_facts_free(f);
}

static void rendering_stops_at_the_buffer_limit(void) {
    ld_facts *f = sample_facts();
    ld_buf out;
    ld_buf_init(&out, 10);
    CU_ASSERT_EQUAL(ld_template_render("host {target.host}", f, &out), LD_ELIMIT);
    CU_ASSERT_TRUE(out.len <= 10);
    ld_buf_clear(&out);
    ld_facts_free(f);
}

static void unknown_fact_is_rejected_at_its_name(void) {
    ASSERT_REJECTED("from {tcp.sorce_ip}", 7, "unknown fact 'tcp.sorce_ip'");
    ASSERT_REJECTED("{ tcp.source_ip }", 2, "unknown fact ' tcp.source_ip '");
}

static void subject_fact_is_rejected(void) {
    ASSERT_REJECTED(
        "via {tcp.attempt.interface}", 6,
        "tcp.attempt.interface is per-attempt evidence; rules can only read target facts");
}

static void unmatched_closing_brace_is_rejected(void) {
    ASSERT_REJECTED("a } b", 3, "unmatched '}' (write '}}' for a brace)");
    ASSERT_REJECTED("{target.port}}", 14, "unmatched '}'");
}

static void unclosed_opening_brace_is_rejected(void) {
    ASSERT_REJECTED("port {target.port", 6, "unclosed '{' (write '{{' for a brace)");
    ASSERT_REJECTED("{a{target.port}", 1, "unclosed '{'");
    ASSERT_REJECTED("trailing {", 10, "unclosed '{'");
}

static void empty_placeholder_is_rejected(void) {
    ASSERT_REJECTED("x {} y", 3, "empty placeholder");
}

static void check_accepts_what_renders(void) {
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_template_check("{target.host} {{x}} {tcp.timeout_addresses}", &err), LD_OK);
    CU_ASSERT_EQUAL(ld_template_check("plain", NULL), LD_OK);
    CU_ASSERT_EQUAL(ld_template_check("{nope}", NULL), LD_EINVAL); /* err may be NULL */
}

static void unchecked_bad_template_does_not_render(void) {
    ld_buf out;
    ld_buf_init(&out, 0);
    CU_ASSERT_EQUAL(ld_template_render("a {tcp.nope} b", NULL, &out), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_template_render("a } b", NULL, &out), LD_EINVAL);
    ld_buf_clear(&out);
}

static void section_shows_only_when_its_fact_is_truthy(void) {
    ld_facts *f = sample_facts();
    ASSERT_RENDERS("a{?dns.hosts_override} hosts{/} b", f, "a hosts b");
    ASSERT_RENDERS("a{!dns.hosts_override} hosts{/} b", f, "a b");
    ASSERT_RENDERS("{?tcp.timeout_addresses}to {tcp.timeout_addresses}{/}", f,
                   "to 10.0.1.23, 10.0.2.23");
    ASSERT_RENDERS("[{?dns.public_addresses}public{/}]", f, "[]"); /* empty list */
    ASSERT_RENDERS("[{?dns.rcode}x{/}]", f, "[]");                 /* not recorded */
    ASSERT_RENDERS("[{!dns.rcode}no answer{/}]", f, "[no answer]");
    ASSERT_RENDERS("[{?target.port}{?tcp.wait_ms}both{/}{/}]", f, "[both]");
    ASSERT_RENDERS("[{?dns.rcode}{?target.port}hidden{/} still hidden{/}] shown", f, "[] shown");
    ld_bag_set_int(ld_facts_target(f), LD_F_TARGET_PORT, 0);
    ASSERT_RENDERS("[{?target.port}zero{/}]", f, "[]");
    ld_facts_free(f);
}

static void value_section_shows_only_when_its_fact_reads_as_the_value(void) {
    ld_facts *f = sample_facts();
    ld_bag_set_str(ld_facts_target(f), LD_F_HTTP_INCOMPLETE, "cut");
    const char *tmpl = "it{?http.incomplete=cut} closed{/}{?http.incomplete=stalled} stalled{/}"
                       "{!http.incomplete=cut} (not cut){/}.";
    ASSERT_RENDERS(tmpl, f, "it closed.");
    ld_bag_set_str(ld_facts_target(f), LD_F_HTTP_INCOMPLETE, "stalled");
    ASSERT_RENDERS(tmpl, f, "it stalled (not cut).");
    ld_bag_set_str(ld_facts_target(f), LD_F_HTTP_INCOMPLETE, "cu"); /* a prefix is not the value */
    ASSERT_RENDERS(tmpl, f, "it (not cut).");
    /* Other types read as they render; an absent fact has no value. */
    ASSERT_RENDERS("[{?target.port=19530}port{/}{?dns.hosts_override=true} hosts{/}]", f,
                   "[port hosts]");
    ASSERT_RENDERS("[{?target.port=1953}x{/}{?dns.rcode=NOERROR}y{/}{!dns.rcode=NOERROR}z{/}]", f,
                   "[z]");
    ld_facts_free(f);
    ASSERT_REJECTED("{?http.incomplete=}x{/}", 1, "needs a value");
    ASSERT_REJECTED("{?=cut}x{/}", 1, "needs a fact name");
    ASSERT_REJECTED("{?http.incompete=cut}x{/}", 3, "unknown fact");
}

static void malformed_sections_are_rejected(void) {
    ASSERT_REJECTED("a {?dns.rcode} b", 3, "not closed");
    ASSERT_REJECTED("a {/} b", 3, "closes no section");
    ASSERT_REJECTED("{?} b{/}", 1, "needs a fact name");
    ASSERT_REJECTED("{?dns.rcod}x{/}", 3, "unknown fact");
    ASSERT_REJECTED("{?a.b}{?a.b}{?a.b}{?a.b}{?a.b}{?a.b}{?a.b}{?a.b}{?a.b}", 3, "unknown fact");
    ASSERT_REJECTED("{?dns.rcode}{?dns.rcode}{?dns.rcode}{?dns.rcode}{?dns.rcode}{?dns.rcode}"
                    "{?dns.rcode}{?dns.rcode}{?dns.rcode}",
                    97, "nest deeper than 8");
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(text_without_placeholders_renders_as_is),
        LD_TEST(placeholders_render_each_value_type),
        LD_TEST(empty_list_renders_as_none),
        LD_TEST(absent_fact_renders_as_not_recorded),
        LD_TEST(doubled_braces_are_literal_braces),
        LD_TEST(rendering_appends_to_the_buffer),
        LD_TEST(rendering_stops_at_the_buffer_limit),
        LD_TEST(unknown_fact_is_rejected_at_its_name),
        LD_TEST(subject_fact_is_rejected),
        LD_TEST(unmatched_closing_brace_is_rejected),
        LD_TEST(unclosed_opening_brace_is_rejected),
        LD_TEST(empty_placeholder_is_rejected),
        LD_TEST(check_accepts_what_renders),
        LD_TEST(unchecked_bad_template_does_not_render),
        LD_TEST(section_shows_only_when_its_fact_is_truthy),
        LD_TEST(value_section_shows_only_when_its_fact_reads_as_the_value),
        LD_TEST(malformed_sections_are_rejected),
        {0},
    };
    return ld_unit_run("template", cases);
}
