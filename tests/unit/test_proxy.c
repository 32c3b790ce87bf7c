/* test_proxy.c - the environment's proxy settings, decided by libcurl 7.88's
 * rules: which variable names the proxy for a scheme, when all_proxy steps
 * in, every no_proxy form, and credentials kept out of the facts. */
#include <stdio.h>
#include <string.h>

#include "core/proxy.h"
#include "unit.h"

/* One decision: an environment, a request, and what must come out. */
typedef struct proxy_case {
    const char *name;   /* what the row shows */
    const char *env;    /* "NAME=value" entries separated by ';' */
    const char *scheme; /* "http" or "https" */
    const char *host;   /* the request's host */
    const char *want;   /* "use VAR", "bypass VAR" (set, but no_proxy exempts the host), "direct" */
} proxy_case;

#define P      "http://proxy.corp:3128"
#define HP     "https_proxy=" P ";" /* the usual start of an environment below */
#define S      "https"
#define H      "svc.example.com"
#define USE_HP "use https_proxy"
#define BY_HP  "bypass https_proxy"

static const proxy_case cases_table[] = {
    /* which variable, per scheme */
    {"https_lower", "https_proxy=" P, S, H, USE_HP},
    {"https_upper", "HTTPS_PROXY=" P, S, H, "use HTTPS_PROXY"},
    {"https_lower_wins", "HTTPS_PROXY=http://upper:1;https_proxy=" P, S, H, USE_HP},
    {"http_lower", "http_proxy=" P, "http", H, "use http_proxy"},
    {"http_upper_is_ignored", "HTTP_PROXY=" P, "http", H, "direct"},
    {"http_upper_falls_to_all", "HTTP_PROXY=http://cgi:1;all_proxy=" P, "http", H, "use all_proxy"},
    {"https_var_not_for_http", "https_proxy=" P, "http", H, "direct"},
    {"http_var_not_for_https", "http_proxy=" P, S, H, "direct"},
    {"all_lower_fallback", "all_proxy=" P, S, H, "use all_proxy"},
    {"all_upper_fallback", "ALL_PROXY=" P, "http", H, "use ALL_PROXY"},
    {"all_lower_wins", "ALL_PROXY=http://u:1;all_proxy=" P, S, H, "use all_proxy"},
    {"scheme_var_beats_all", "all_proxy=http://all:1;HTTPS_PROXY=" P, S, H, "use HTTPS_PROXY"},
    {"nothing_set", "PATH=/usr/bin;HOME=/root", S, H, "direct"},
    {"empty_value_is_unset", "https_proxy=;HTTPS_PROXY=" P, S, H, "use HTTPS_PROXY"},
    {"all_empty_is_unset", "https_proxy=;all_proxy=", S, H, "direct"},
    {"first_duplicate_counts", "https_proxy=;https_proxy=" P, S, H, "direct"},
    {"name_prefix_is_not_the_variable", "xhttps_proxy=" P ";https_proxy_x=" P, S, H, "direct"},
    /* no_proxy: names */
    {"np_star", HP "no_proxy=*", S, H, BY_HP},
    {"np_exact", HP "no_proxy=svc.example.com", S, H, BY_HP},
    {"np_domain", HP "no_proxy=example.com", S, H, BY_HP},
    {"np_domain_itself", HP "no_proxy=example.com", S, "example.com", BY_HP},
    {"np_dot_domain", HP "no_proxy=.example.com", S, H, BY_HP},
    {"np_dot_domain_itself", HP "no_proxy=.example.com", S, "example.com", BY_HP},
    {"np_not_a_suffix_match", HP "no_proxy=example.com", S, "notexample.com", USE_HP},
    {"np_not_a_parent", HP "no_proxy=svc.example.com", S, "example.com", USE_HP},
    {"np_case_insensitive", HP "no_proxy=EXAMPLE.Com", S, "Svc.example.COM", BY_HP},
    {"np_trailing_dot_host", HP "no_proxy=example.com", S, "svc.example.com.", BY_HP},
    {"np_trailing_dot_entry", HP "no_proxy=example.com.", S, H, BY_HP},
    {"np_list_commas", HP "no_proxy=localhost,example.com,10.0.0.1", S, H, BY_HP},
    {"np_list_spaces", HP "no_proxy=localhost example.com", S, H, BY_HP},
    {"np_list_mixed", HP "no_proxy= localhost ,\t example.com ,", S, H, BY_HP},
    {"np_empty_entries", HP "no_proxy=,,, ,example.com,,", S, H, BY_HP},
    {"np_lone_dot_matches_nothing", HP "no_proxy=.,,", S, H, USE_HP},
    {"np_star_only_alone", HP "no_proxy=localhost,*", S, H, USE_HP},
    {"np_unrelated", HP "no_proxy=localhost,.internal", S, H, USE_HP},
    {"np_upper_variable", HP "NO_PROXY=example.com", S, H, BY_HP},
    {"np_lower_wins", HP "NO_PROXY=example.com;no_proxy=localhost", S, H, USE_HP},
    {"np_empty_lower_falls_to_upper", HP "no_proxy=;NO_PROXY=example.com", S, H, BY_HP},
    {"np_without_proxy_is_nothing", "no_proxy=*", S, H, "direct"},
    {"np_applies_to_all_proxy", "ALL_PROXY=" P ";no_proxy=example.com", "http", H,
     "bypass ALL_PROXY"},
    /* no_proxy: addresses */
    {"np_ipv4_exact", HP "no_proxy=10.0.1.23", S, "10.0.1.23", BY_HP},
    {"np_ipv4_other", HP "no_proxy=10.0.1.24", S, "10.0.1.23", USE_HP},
    {"np_ipv4_not_a_suffix", HP "no_proxy=0.1.23", S, "10.0.1.23", USE_HP},
    {"np_ipv4_cidr", HP "no_proxy=10.0.0.0/8", S, "10.200.1.23", BY_HP},
    {"np_ipv4_cidr_outside", HP "no_proxy=10.0.0.0/8", S, "11.0.0.1", USE_HP},
    {"np_ipv4_cidr_odd_prefix", HP "no_proxy=172.16.0.0/12", S, "172.31.255.1", BY_HP},
    {"np_ipv4_cidr_odd_outside", HP "no_proxy=172.16.0.0/12", S, "172.32.0.1", USE_HP},
    {"np_ipv4_cidr_32", HP "no_proxy=10.0.1.23/32", S, "10.0.1.23", BY_HP},
    {"np_ipv4_cidr_bad_prefix", HP "no_proxy=10.0.0.0/33", S, "10.0.0.1", USE_HP},
    {"np_ipv4_cidr_zero", HP "no_proxy=0.0.0.0/0", S, "192.0.2.1", BY_HP},
    {"np_name_entry_not_for_ip", HP "no_proxy=example.com", S, "10.0.1.23", USE_HP},
    {"np_ip_entry_not_for_name", HP "no_proxy=10.0.0.0/8", S, H, USE_HP},
    {"np_ipv6_exact", HP "no_proxy=localhost,::1", S, "::1", BY_HP},
    {"np_ipv6_other_spelling", HP "no_proxy=fd00:0:0::5", S, "fd00::5", BY_HP},
    {"np_ipv6_bracketed_host", HP "no_proxy=::1", S, "[::1]", BY_HP},
    {"np_ipv6_cidr", HP "no_proxy=fd00::/8", S, "fd12:3456::1", BY_HP},
    {"np_ipv6_cidr_outside", HP "no_proxy=fd00::/8", S, "fe80::1", USE_HP},
    {"np_ipv6_cidr_odd_prefix", HP "no_proxy=2001:db8::/33", S, "2001:db8:7fff::1", BY_HP},
    {"np_ipv6_cidr_odd_outside", HP "no_proxy=2001:db8::/33", S, "2001:db8:8000::1", USE_HP},
    {"np_v4_entry_not_for_v6", HP "no_proxy=10.0.0.0/8", S, "::ffff:10.0.0.1", USE_HP},
    {"np_ipv6_zone_not_compared", HP "no_proxy=fe80::/64", S, "fe80::1%lo", BY_HP},
    {"np_ipv6_bracketed_zone", HP "no_proxy=fe80::1", S, "[fe80::1%lo]", BY_HP},
};

/* Splits "A=1;B=2" into envp (pointers into buf). */
static void split_env(const char *env, char *buf, size_t cap, char **envp, size_t max) {
    snprintf(buf, cap, "%s", env);
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ";", &save); tok && n + 1 < max;
         tok = strtok_r(NULL, ";", &save))
        envp[n++] = tok;
    envp[n] = NULL;
}

static void each_environment_decides_like_libcurl(void) {
    for (size_t i = 0; i < sizeof cases_table / sizeof cases_table[0]; i++) {
        const proxy_case *c = &cases_table[i];
        char buf[512], *envp[9];
        split_env(c->env, buf, sizeof buf, envp, 9);
        ld_proxy_env env;
        ld_proxy_env_read(&env, envp);
        ld_proxy_decision d = ld_proxy_for(&env, c->scheme, c->host);
        char got[64];
        snprintf(got, sizeof got, "%s%s%s",
                 d.use        ? "use"
                 : d.bypassed ? "bypass"
                              : "direct",
                 d.variable ? " " : "", d.variable ? d.variable : "");
        if (strcmp(got, c->want) != 0)
            fprintf(stderr, "\n  %s: got '%s', want '%s'", c->name, got, c->want);
        CU_ASSERT_STRING_EQUAL(got, c->want);
        /* The proxy value goes with its variable. */
        CU_ASSERT_EQUAL(d.proxy != NULL, d.variable != NULL);
    }
}

static void env_read_keeps_only_proxy_variables_pointing_into_envp(void) {
    char a[] = "PATH=/usr/bin", b[] = "HTTPS_PROXY=http://p:1", c[] = "no_proxy=.corp",
         d[] = "HTTP_PROXY=http://cgi:1", e[] = "NOEQUALS";
    char *envp[] = {a, b, c, d, e, NULL};
    ld_proxy_env env;
    ld_proxy_env_read(&env, envp);
    CU_ASSERT_EQUAL(env.n, 2);
    CU_ASSERT_STRING_EQUAL(env.vars[0], "HTTPS_PROXY");
    CU_ASSERT_PTR_EQUAL(env.values[0], b + strlen("HTTPS_PROXY="));
    CU_ASSERT_STRING_EQUAL(env.vars[1], "no_proxy");
    CU_ASSERT_STRING_EQUAL(env.values[1], ".corp");
}

static void env_read_of_nothing_is_empty(void) {
    ld_proxy_env env;
    memset(&env, 0xff, sizeof env);
    ld_proxy_env_read(&env, NULL);
    CU_ASSERT_EQUAL(env.n, 0);
    ld_proxy_decision d = ld_proxy_for(&env, "https", "svc.example.com");
    CU_ASSERT_FALSE(d.use);
    d = ld_proxy_for(NULL, "https", "svc.example.com");
    CU_ASSERT_FALSE(d.use);
    CU_ASSERT_PTR_NULL(d.variable);
}

static void upper_case_http_proxy_is_refused_even_when_handed_over(void) {
    /* ld_proxy_env_read never collects HTTP_PROXY; an env built by hand
     * must not sneak it in either (httpoxy). */
    ld_proxy_env env = {
        .vars = {"HTTP_PROXY", "HTTPS_PROXY"}, .values = {"http://cgi:1", "http://p:1"}, .n = 2};
    ld_proxy_decision d = ld_proxy_for(&env, "http", "svc.example.com");
    CU_ASSERT_FALSE(d.use);
    CU_ASSERT_PTR_NULL(d.variable);
    d = ld_proxy_for(&env, "https", "svc.example.com");
    CU_ASSERT_TRUE(d.use);
    CU_ASSERT_STRING_EQUAL(d.variable, "HTTPS_PROXY");
}

static void no_proxy_value_is_reported_whenever_set(void) {
    const char *envp[] = {"NO_PROXY=.corp, 10.0.0.0/8", NULL};
    ld_proxy_env env;
    ld_proxy_env_read(&env, (char *const *)envp);
    ld_proxy_decision d = ld_proxy_for(&env, "https", "svc.example.com");
    CU_ASSERT_FALSE(d.use);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.no_proxy);
    CU_ASSERT_STRING_EQUAL(d.no_proxy, ".corp, 10.0.0.0/8");
}

static void bypassed_decision_still_names_the_proxy(void) {
    const char *envp[] = {"https_proxy=http://u:pw@proxy:3128", "no_proxy=svc.example.com", NULL};
    ld_proxy_env env;
    ld_proxy_env_read(&env, (char *const *)envp);
    ld_proxy_decision d = ld_proxy_for(&env, "https", "svc.example.com");
    CU_ASSERT_FALSE(d.use);
    CU_ASSERT_TRUE(d.bypassed);
    CU_ASSERT_STRING_EQUAL(d.proxy, "http://u:pw@proxy:3128");
    CU_ASSERT_STRING_EQUAL(d.no_proxy, "svc.example.com");
}

static void mask(const char *in, const char *want) {
    char buf[128];
    ld_proxy_mask(in, buf, sizeof buf);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "\n  mask(%s) = %s, want %s", in, buf, want);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void credentials_are_masked(void) {
    mask("http://user:pw@proxy:3128", "http://***@proxy:3128");
    mask("http://user@proxy:3128/", "http://***@proxy:3128/");
    mask("socks5h://u:p@ss@proxy:1080", "socks5h://***@proxy:1080");
    mask("user:pw@proxy:3128", "***@proxy:3128");
    mask("http://proxy:3128", "http://proxy:3128");
    mask("proxy.corp", "proxy.corp");
    /* Everything before the last '@' is hidden, even when it may be a path:
     * a proxy URL has no business with one, and a password may hold '/'. */
    mask("http://proxy:3128/a@b", "http://***@b");
    mask("http://u:p/w@proxy:3128", "http://***@proxy:3128");
    /* Only a real scheme survives in front; junk before "://" is hidden. */
    mask("x y://u:p@proxy", "***@proxy");
    mask("u:p@proxy:://8", "***@proxy:://8");
    mask("", "");
    mask(NULL, "");
}

static void masking_never_overflows_the_buffer(void) {
    char buf[12];
    memset(buf, 'x', sizeof buf);
    ld_proxy_mask("http://user:pw@a-long-proxy-name.example:3128", buf, sizeof buf);
    CU_ASSERT_EQUAL(strlen(buf), sizeof buf - 1);
    CU_ASSERT_STRING_EQUAL(buf, "http://***@");
    ld_proxy_mask("http://x", buf, 0); /* nothing written, nothing read */
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(each_environment_decides_like_libcurl),
        LD_TEST(env_read_keeps_only_proxy_variables_pointing_into_envp),
        LD_TEST(env_read_of_nothing_is_empty),
        LD_TEST(upper_case_http_proxy_is_refused_even_when_handed_over),
        LD_TEST(no_proxy_value_is_reported_whenever_set),
        LD_TEST(bypassed_decision_still_names_the_proxy),
        LD_TEST(credentials_are_masked),
        LD_TEST(masking_never_overflows_the_buffer),
        {0},
    };
    return ld_unit_run("proxy", cases);
}
