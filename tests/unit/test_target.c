/* test_target.c - what targets linkdoctor accepts, and how it says no. */
#include <string.h>

#include "core/target.h"
#include "unit.h"

/* Parses s and expects success. */
static ld_target ok(const char *s) {
    ld_target t;
    ld_err err = {{0}};
    ld_status st = ld_target_parse(s, &t, &err);
    if (st != LD_OK)
        fprintf(stderr, "unexpected failure for '%s': %s\n", s, err.msg);
    CU_ASSERT_EQUAL_FATAL(st, LD_OK);
    return t;
}

/* Parses s, expects LD_EINVAL and a message containing phrase. */
static void bad(const char *s, const char *phrase) {
    ld_target t;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_target_parse(s, &t, &err), LD_EINVAL);
    if (!strstr(err.msg, phrase))
        fprintf(stderr, "'%s': message '%s' lacks '%s'\n", s, err.msg, phrase);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, phrase));
}

static void host_port_is_a_tcp_target(void) {
    ld_target t = ok("in01-abc.aws-us-west-2.vectordb.zillizcloud.com:19530");
    CU_ASSERT_STRING_EQUAL(t.host, "in01-abc.aws-us-west-2.vectordb.zillizcloud.com");
    CU_ASSERT_EQUAL(t.port, 19530);
    CU_ASSERT_EQUAL(t.scheme, LD_SCHEME_TCP);
    CU_ASSERT_FALSE(t.host_is_ip);
    CU_ASSERT_FALSE(t.is_url);
}

static void ipv4_literal_needs_no_dns(void) {
    ld_target t = ok("10.0.1.23:6379");
    CU_ASSERT_TRUE(t.host_is_ip);
    CU_ASSERT_EQUAL(t.ip.family, AF_INET);
    CU_ASSERT_EQUAL(t.port, 6379);
}

static void ipv6_literal_goes_in_brackets(void) {
    ld_target t = ok("[2001:db8::1]:443");
    CU_ASSERT_TRUE(t.host_is_ip);
    CU_ASSERT_EQUAL(t.ip.family, AF_INET6);
    CU_ASSERT_STRING_EQUAL(t.host, "2001:db8::1");
    bad("2001:db8::1:443", "brackets");
    bad("[2001:db8::1", "missing ']'");
    bad("[example.com]:80", "not an IPv6 address");
    bad("[::1]x:80", "unexpected 'x'");
}

static void url_scheme_picks_check_and_default_port(void) {
    struct {
        const char *in;
        ld_scheme scheme;
        unsigned port;
    } cases[] = {
        {"https://svc.example.com", LD_SCHEME_HTTPS, 443},
        {"http://svc.example.com", LD_SCHEME_HTTP, 80},
        {"redis://cache.internal", LD_SCHEME_REDIS, 6379},
        {"rediss://cache.internal", LD_SCHEME_REDISS, 6379},
        {"mqtt://broker.internal", LD_SCHEME_MQTT, 1883},
        {"mqtts://broker.internal", LD_SCHEME_MQTTS, 8883},
        {"tcp://10.0.0.1:22", LD_SCHEME_TCP, 22},
        {"HTTPS://svc.example.com:8443", LD_SCHEME_HTTPS, 8443},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ld_target t = ok(cases[i].in);
        CU_ASSERT_EQUAL(t.scheme, cases[i].scheme);
        CU_ASSERT_EQUAL(t.port, cases[i].port);
        CU_ASSERT_TRUE(t.is_url);
    }
}

static void url_keeps_path_and_masks_credentials(void) {
    ld_target t = ok("https://in01.example.com:19530/v2/vectordb?x=1#frag");
    CU_ASSERT_STRING_EQUAL(t.path, "/v2/vectordb?x=1");
    t = ok("https://svc.example.com");
    CU_ASSERT_STRING_EQUAL(t.path, "/");
    t = ok("redis://user:s3cret@cache.internal:6380");
    CU_ASSERT_TRUE(t.has_userinfo);
    CU_ASSERT_STRING_EQUAL(t.host, "cache.internal");
    CU_ASSERT_EQUAL(t.port, 6380);
    CU_ASSERT_PTR_NULL(strstr(t.input, "s3cret"));
    CU_ASSERT_STRING_EQUAL(t.input, "redis://***@cache.internal:6380");
}

static void url_is_split_as_libcurl_splits_it(void) {
    ld_target t = ok("http://[fe80::1%25lo]:8080/");
    CU_ASSERT_TRUE(t.host_is_ip);
    CU_ASSERT_EQUAL(t.ip.family, AF_INET6);
    CU_ASSERT_NOT_EQUAL(t.ip.scope_id, 0);
    CU_ASSERT_STRING_EQUAL(t.host, "fe80::1%lo");
    CU_ASSERT_EQUAL(t.port, 8080);
    t = ok("tcp://[2001:db8::1]:22");
    CU_ASSERT_TRUE(t.host_is_ip);
    CU_ASSERT_EQUAL(t.port, 22);
    t = ok("https://svc.example.com/a/../b?q=1#x");
    CU_ASSERT_STRING_EQUAL(t.path, "/a/../b?q=1");
    t = ok("https://svc.example.com?q");
    CU_ASSERT_STRING_EQUAL(t.path, "/?q");
    t = ok("http://svc.example.com:8080");
    CU_ASSERT_TRUE(t.port_given);
    CU_ASSERT_FALSE(ok("http://svc.example.com").port_given);
}

static void url_host_is_judged_as_written(void) {
    /* curl reads these as 127.0.0.1 and "hA.example"; a target must not. */
    bad("http://127.1/", "neither a valid IPv4 address nor a host name");
    bad("http://h%41.example/", "invalid character '%'");
    bad("http://bad!host/", "invalid character '!'");
    bad("http://-h.example/", "starts with '-'");
    bad("http:///svc.example.com", "missing host");
    bad("https://", "missing host");
    bad("https://:443", "missing host");
    bad("http://[::1", "missing ']'");
    bad("http://[example.com]/", "not an IPv6 address");
    bad("http://[fe80::1%25nosuchif0]/", "no interface named");
    bad("tcp://h.example:65536", "out of range");
    bad("tcp://h.example:0", "out of range");
    bad("tcp://h.example:8o", "not a number");
    bad("ht_tp://h.example", "invalid URL scheme");
}

static void url_errors_never_echo_a_password(void) {
    static const char *const in[] = {
        "redis://u:s3cret@bad!host:6379",
        "redis://u:s3cret@cache.internal:99999",
        "redis://u:s3cret@[::1",
        "redis://u:s3c/ret@cache.internal",
        "redis://u:s3cret@",
        "redis://u:s3cret@127.1",
        "redis://u:s3c@ret@cache.internal",
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        ld_target t;
        ld_err err = {{0}};
        CU_ASSERT_EQUAL(ld_target_parse(in[i], &t, &err), LD_EINVAL);
        CU_ASSERT_NOT_EQUAL(err.msg[0], '\0');
        if (strstr(err.msg, "s3c"))
            fprintf(stderr, "'%s': message '%s' shows the password\n", in[i], err.msg);
        CU_ASSERT_PTR_NULL(strstr(err.msg, "s3c"));
    }
    bad("redis://u:p@ss@cache.internal", "%40");
}

/* ld_target_mask of text into a static buffer. */
static const char *masked(const char *text, int parsed) {
    static char out[LD_TARGET_INPUT_MAX + 1];
    ld_target_mask(text, parsed, out, sizeof out);
    return out;
}

static void secrets_in_targets_are_masked(void) {
    CU_ASSERT_STRING_EQUAL(masked("redis://u:s3cret@cache.internal:6380", 1),
                           "redis://***@cache.internal:6380");
    CU_ASSERT_STRING_EQUAL(masked("https://h.example/a@b", 1), "https://h.example/a@b");
    /* Unparsed, a '/' in a password does not end the user information. */
    CU_ASSERT_STRING_EQUAL(masked("redis://u:s3c/ret@cache.internal", 0),
                           "redis://***@cache.internal");
    CU_ASSERT_STRING_EQUAL(
        masked("https://h.example/p?token=t1&x=1&Password=p2&api-key=k3&sig=s4&monkey=m&key=k5"
               "#access_token=t6",
               1),
        "https://h.example/p?token=***&x=1&Password=***&api-key=***&sig=***&monkey=m&key=***"
        "#access_token=***");
    CU_ASSERT_STRING_EQUAL(masked("/v1?X-Amz-Signature=abc&X-Amz-Credential=def&a=", 1),
                           "/v1?X-Amz-Signature=***&X-Amz-Credential=***&a=");
    CU_ASSERT_STRING_EQUAL(masked("/?secret&client_secret=&b=2", 1),
                           "/?secret&client_secret=***&b=2");
    CU_ASSERT_STRING_EQUAL(masked("10.0.0.1:443", 0), "10.0.0.1:443");
    char small[12];
    ld_target_mask("https://u:p@h.example/", 1, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "https://***");

    ld_target t = ok("https://svc.example.com/q?access_token=abc123&page=2");
    CU_ASSERT_STRING_EQUAL(t.input, "https://svc.example.com/q?access_token=***&page=2");
    CU_ASSERT_STRING_EQUAL(t.path, "/q?access_token=abc123&page=2"); /* what is sent */
}

static void port_must_be_1_to_65535(void) {
    CU_ASSERT_EQUAL(ok("h.example:1").port, 1);
    CU_ASSERT_EQUAL(ok("h.example:65535").port, 65535);
    bad("h.example:0", "out of range");
    bad("h.example:65536", "out of range");
    bad("h.example:99999999999999999999", "out of range");
    bad("h.example:-1", "not a number");
    bad("h.example:+80", "not a number");
    bad("h.example:8o", "not a number");
    bad("h.example:", "missing port");
    bad("h.example", "missing port");
    bad("tcp://h.example", "missing port");
}

static void host_names_follow_dns_limits(void) {
    char label63[64], label64[65], name[300];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';
    snprintf(name, sizeof name, "%s.example.com:80", label63);
    CU_ASSERT_EQUAL(ok(name).port, 80);
    snprintf(name, sizeof name, "%s.example.com:80", label64);
    bad(name, "63");
    /* 253 characters is the most DNS allows; a trailing dot does not count. */
    char host[260];
    memset(host, 0, sizeof host);
    for (int i = 0; i < 4; i++) {
        memcpy(host + i * 64, label63, 63);
        host[i * 64 + 63] = '.';
    }
    host[253] = '\0'; /* 4 labels of 63 + dots, cut to 253 characters */
    CU_ASSERT_EQUAL(strlen(host), 253);
    snprintf(name, sizeof name, "%s:80", host);
    ok(name);
    snprintf(name, sizeof name, "%s.:80", host);
    ok(name);
    host[253] = 'b';
    host[254] = '\0';
    snprintf(name, sizeof name, "%s:80", host);
    bad(name, "253");
}

static void malformed_host_names_are_named(void) {
    bad("a..b:80", "empty label");
    bad(".a:80", "empty label");
    bad("-bad.example:80", "starts with '-'");
    bad("sp ace:80", "white space");
    bad("bad!host:80", "invalid character '!'");
    bad("1.2.3.999:80", "neither a valid IPv4 address nor a host name");
    bad("1.2.3:80", "neither a valid IPv4 address nor a host name");
    bad(":80", "missing host");
    bad("", "empty target");
    bad("ftp://h.example:21", "unsupported scheme 'ftp'");
    bad("h.example/path:80", "needs a URL scheme");
    ok("under_score.example:80");
    ok("localhost:80");
}

static void dns_server_accepts_ip_with_optional_port(void) {
    ld_addr a;
    uint16_t port;
    ld_err err;
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("10.0.0.2", 53, &a, &port, &err), LD_OK);
    CU_ASSERT_EQUAL(port, 53);
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("10.0.0.2:5353", 53, &a, &port, &err), LD_OK);
    CU_ASSERT_EQUAL(port, 5353);
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("fd00::2", 53, &a, &port, &err), LD_OK);
    CU_ASSERT_EQUAL(a.family, AF_INET6);
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("[fd00::2]:54", 53, &a, &port, &err), LD_OK);
    CU_ASSERT_EQUAL(port, 54);
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("dns.example", 53, &a, &port, &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("10.0.0.2:0", 53, &a, &port, &err), LD_EINVAL);
    CU_ASSERT_EQUAL(ld_hostport_parse_ip("", 53, &a, &port, &err), LD_EINVAL);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(host_port_is_a_tcp_target),
        LD_TEST(ipv4_literal_needs_no_dns),
        LD_TEST(ipv6_literal_goes_in_brackets),
        LD_TEST(url_scheme_picks_check_and_default_port),
        LD_TEST(url_keeps_path_and_masks_credentials),
        LD_TEST(secrets_in_targets_are_masked),
        LD_TEST(url_is_split_as_libcurl_splits_it),
        LD_TEST(url_host_is_judged_as_written),
        LD_TEST(url_errors_never_echo_a_password),
        LD_TEST(port_must_be_1_to_65535),
        LD_TEST(host_names_follow_dns_limits),
        LD_TEST(malformed_host_names_are_named),
        LD_TEST(dns_server_accepts_ip_with_optional_port),
        {0},
    };
    return ld_unit_run("target", cases);
}
