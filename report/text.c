/* text.c - the report for people: verdict first, then each diagnosis with
 * its evidence and fix, then a timeline line per resolver and per address. */
#include "report.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/attempt.h"
#include "core/neigh.h"

#define TEXT_WIDTH 100 /* wrap prose at this column */

/* Appends text word-wrapped at TEXT_WIDTH, each line indented by indent
 * spaces. Newlines in text start new paragraphs; a paragraph that starts
 * like a list item ("- ", "1. ") hangs its continuation lines under it. */
static void put_wrapped(ld_buf *out, int indent, const char *text) {
    const char *p = text;
    while (*p) {
        size_t plen = strcspn(p, "\n");
        int hang = 0;
        if (plen >= 2 && p[0] == '-' && p[1] == ' ')
            hang = 2;
        else if (plen >= 3 && isdigit((unsigned char)p[0]) && p[1] == '.' && p[2] == ' ')
            hang = 3;
        int col = 0;
        size_t i = 0;
        while (i < plen) {
            while (i < plen && p[i] == ' ')
                i++;
            size_t w = 0;
            while (i + w < plen && p[i + w] != ' ')
                w++;
            if (w == 0)
                break;
            if (col == 0) {
                ld_buf_printf(out, "%*s", indent, "");
                col = indent;
            } else if (col + 1 + (int)w > TEXT_WIDTH) {
                ld_buf_printf(out, "\n%*s", indent + hang, "");
                col = indent + hang;
            } else {
                ld_buf_putc(out, ' ');
                col++;
            }
            ld_buf_append(out, p + i, w);
            col += (int)w;
            i += w;
        }
        ld_buf_putc(out, '\n');
        p += plen;
        if (*p == '\n')
            p++;
    }
}

void ld_text_upper(const char *s, char *buf, size_t len) {
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        buf[i] = (char)toupper((unsigned char)s[i]);
    buf[i] = '\0';
}

static const char *str_fact(const ld_bag *b, ld_fact_id id, const char *dflt) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : dflt;
}

static double num_fact(const ld_bag *b, ld_fact_id id, double dflt) {
    const ld_value *v = ld_bag_get(b, id);
    if (!v)
        return dflt;
    return v->type == LD_T_NUM ? v->u.n : v->type == LD_T_INT ? (double)v->u.i : dflt;
}

/* The cloud a documentation URL belongs to, by its host; generic otherwise. */
static ld_cloud doc_cloud(const char *url) {
    static const struct {
        const char *host; /* URL prefix */
        ld_cloud cloud;   /* whose docs */
    } hosts[] = {
        {"https://docs.aws.amazon.com/", LD_CLOUD_AWS},
        {"https://cloud.google.com/", LD_CLOUD_GCP},
        {"https://learn.microsoft.com/", LD_CLOUD_AZURE},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        if (strncmp(url, hosts[i].host, strlen(hosts[i].host)) == 0)
            return hosts[i].cloud;
    return LD_CLOUD_GENERIC;
}

/* On a known cloud, people need that cloud's pages (and vendor-neutral
 * ones), not the other two clouds'; the JSON report keeps them all. */
int ld_text_doc_shown(const ld_diagnosis *d, const char *url) {
    ld_cloud c = doc_cloud(url);
    return d->remediation_cloud == LD_CLOUD_GENERIC || c == LD_CLOUD_GENERIC ||
           c == d->remediation_cloud;
}

static void text_diagnosis(ld_buf *out, const ld_diagnosis *d) {
    char sev[16];
    ld_text_upper(ld_severity_name(d->severity), sev, sizeof sev);
    ld_buf_printf(out, "\n[%s] %s (confidence: %s)\n", sev, d->id,
                  ld_confidence_name(d->confidence));
    put_wrapped(out, 2, d->title);
    put_wrapped(out, 2, d->summary);
    if (d->nevidence) {
        ld_buf_puts(out, "  Evidence:\n");
        size_t w = 0;
        for (size_t i = 0; i < d->nevidence; i++) {
            size_t n = strlen(ld_fact_def_get(d->evidence[i].id)->name);
            w = n > w ? n : w;
        }
        for (size_t i = 0; i < d->nevidence; i++) {
            ld_buf_printf(out, "    %-*s  ", (int)w, ld_fact_def_get(d->evidence[i].id)->name);
            ld_value_format(&d->evidence[i].value, out);
            ld_buf_putc(out, '\n');
        }
    }
    if (d->remediation && *d->remediation) {
        if (d->severity <= LD_SEV_INFO) {
            ld_buf_puts(out, "  Note:\n"); /* nothing is broken: advice, not a fix */
        } else if (d->remediation_cloud == LD_CLOUD_GENERIC) {
            ld_buf_puts(out, "  Fix:\n");
        } else {
            char cloud[16];
            ld_text_upper(ld_cloud_name(d->remediation_cloud), cloud, sizeof cloud);
            ld_buf_printf(out, "  Fix (%s):\n", cloud);
        }
        put_wrapped(out, 4, d->remediation);
    }
    int shown = 0;
    for (size_t i = 0; i < d->ndocs; i++)
        if (ld_text_doc_shown(d, d->docs[i]))
            ld_buf_printf(out, "  %s %s\n", shown++ ? "     " : "Docs:", d->docs[i]);
}

static void text_dns_line(ld_buf *out, const ld_bag *b) {
    const char *rcode = str_fact(b, LD_F_DNS_R_RCODE, "?");
    ld_buf_printf(out, "  DNS  %-24s %-7s %s", str_fact(b, LD_F_DNS_R_SERVER, ld_bag_key(b)),
                  str_fact(b, LD_F_DNS_R_SOURCE, ""), rcode);
    const ld_value *addrs = ld_bag_get(b, LD_F_DNS_R_ADDRESSES);
    const ld_value *scopes = ld_bag_get(b, LD_F_DNS_R_SCOPES);
    for (size_t i = 0; addrs && i < addrs->u.list.len; i++) {
        const char *scope = scopes && i < scopes->u.list.len ? scopes->u.list.items[i] : "?";
        ld_buf_printf(out, "%s%s (%s)", i ? ", " : "  ", addrs->u.list.items[i], scope);
    }
    const ld_value *chain = ld_bag_get(b, LD_F_DNS_R_CNAME_CHAIN);
    if (chain && chain->u.list.len) {
        ld_buf_puts(out, "  via CNAME ");
        ld_value_format(chain, out);
    }
    const ld_value *ttl = ld_bag_get(b, LD_F_DNS_R_TTL_MIN);
    if (ttl)
        ld_buf_printf(out, "  ttl %llds", (long long)ttl->u.i);
    double lat = num_fact(b, LD_F_DNS_R_LATENCY_MS, -1);
    const char *ended = str_fact(b, LD_F_DNS_R_ENDED_BY, "");
    if (lat >= 0)
        ld_buf_printf(out, "  %.1f ms", lat);
    /* Why it ended: a server that answered with something unusable did
     * answer, so say what came back. */
    if (strcmp(rcode, "MALFORMED") == 0)
        ld_buf_puts(out, "  (the reply is not a valid DNS message)");
    else if (strcmp(rcode, "TCP_FAILED") == 0)
        ld_buf_printf(out, "  (truncated reply over UDP; the retry over TCP: %s)",
                      str_fact(b, LD_F_DNS_R_TCP_FAILURE, "failed"));
    else if (lat < 0 && strcmp(ended, "run_deadline") == 0)
        ld_buf_puts(out, "  (cut short by --timeout)");
    else if (lat < 0 && strcmp(rcode, "TIMEOUT") == 0)
        ld_buf_puts(out, "  (no answer within --connect-timeout)");
    else if (lat < 0 && strcmp(rcode, "UNREACHABLE") == 0)
        ld_buf_puts(out, "  (ICMP port unreachable: nothing serves DNS there)");
    ld_buf_putc(out, '\n');
}

/* Milliseconds with the precision that says something: 0.041, 12.3, 2002. */
static void put_ms(ld_buf *out, double ms) {
    ld_buf_printf(out, ms < 1 ? "%.3f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
}

/* The capture's view of an attempt, one line under it: SYN times in seconds
 * from the first, then the answer, then Zeek's conn_state:
 * "0.000 SYN -> . 1.004 SYN -> (retransmit) . no answer  [S0]". */
static void text_capture_line(ld_buf *out, const ld_bag *b) {
    const ld_value *cs = ld_bag_get(b, LD_F_TCP_A_CONN_STATE);
    if (!cs)
        return;
    const ld_value *seen = ld_bag_get(b, LD_F_TCP_A_SYN_SEEN);
    const ld_value *times = ld_bag_get(b, LD_F_TCP_A_SYN_TIMES_MS);
    ld_buf_puts(out, "       ");
    if (!seen || !seen->u.b) {
        ld_buf_puts(out, "capture: the SYN never appeared on the wire");
    } else {
        for (size_t i = 0; times && i < times->u.list.len; i++)
            ld_buf_printf(out, "%s%.3f SYN \u2192%s", i ? " \u00b7 " : "",
                          strtod(times->u.list.items[i], NULL) / 1000.0, i ? " (retransmit)" : "");
    }
    const ld_value *synack = ld_bag_get(b, LD_F_TCP_A_SYNACK_RTT_MS);
    const ld_value *rst = ld_bag_get(b, LD_F_TCP_A_RST_MS);
    const ld_value *icmp = ld_bag_get(b, LD_F_TCP_A_ICMP_MS);
    /* Answers come within a round trip: milliseconds say more than seconds. */
    if (synack) {
        ld_buf_puts(out, " \u00b7 \u2190 SYN-ACK in ");
        put_ms(out, synack->u.n);
    }
    if (rst) {
        ld_buf_puts(out, " \u00b7 \u2190 RST in ");
        put_ms(out, rst->u.n);
    }
    if (icmp) {
        ld_buf_printf(out, " \u00b7 \u2190 ICMP %s from %s in ",
                      str_fact(b, LD_F_TCP_A_ICMP_REASON, "?"),
                      str_fact(b, LD_F_TCP_A_ICMP_FROM, "?"));
        put_ms(out, icmp->u.n);
    }
    if (!synack && !rst && !icmp && seen && seen->u.b)
        ld_buf_puts(out, " \u00b7 no answer");
    ld_buf_printf(out, "  [%s]\n", cs->u.s);
}

static void text_tcp_line(ld_buf *out, const ld_bag *b, const ld_facts *facts) {
    const char *state = str_fact(b, LD_F_TCP_A_STATE, "?");
    const char *err = str_fact(b, LD_F_TCP_A_ERRNO, "");
    double ms = num_fact(b, LD_F_TCP_A_ELAPSED_MS, 0);
    char where[LD_ADDR_STRLEN + 16];
    const char *addr = str_fact(b, LD_F_TCP_A_ADDRESS, ld_bag_key(b));
    int port = (int)num_fact(b, LD_F_TCP_A_PORT, 0);
    if (strchr(addr, ':'))
        snprintf(where, sizeof where, "[%s]:%d", addr, port);
    else
        snprintf(where, sizeof where, "%s:%d", addr, port);
    ld_buf_printf(out, "  TCP  %-24s ", where);
    const ld_value *origin = ld_bag_get(b, LD_F_TCP_A_ORIGIN);
    ld_buf put;
    ld_buf_init(&put, 256);
    if (origin)
        ld_value_format(origin, &put);
    ld_buf_printf(out, "%-7s ", ld_buf_str(&put));
    ld_buf_clear(&put);
    switch (ld_tcp_state_parse(state)) {
    case LD_TCP_OPEN:
        ld_buf_puts(out, "open in ");
        put_ms(out, ms);
        break;
    case LD_TCP_REFUSED:
        ld_buf_puts(out, "refused: RST in ");
        put_ms(out, ms);
        break;
    case LD_TCP_TIMEOUT: {
        double syns = num_fact(b, LD_F_TCP_A_SYNS_SENT, 0);
        if (syns > 0)
            ld_buf_printf(out, "no answer: %.0f SYN%s in %.0f ms", syns, syns > 1 ? "s" : "", ms);
        else
            ld_buf_printf(out, "no answer in %.0f ms", ms);
        const char *ended = str_fact(b, LD_F_TCP_A_ENDED_BY, "");
        if (strcmp(ended, "run_deadline") == 0)
            ld_buf_puts(out, " (cut short by --timeout)");
        else if (strcmp(ended, "capture") == 0)
            ld_buf_puts(out, syns > 1 ? " (capture: retransmitted, unanswered)"
                                      : " (capture: unanswered)");
        break;
    }
    case LD_TCP_REPLY_DROPPED: {
        double syns = num_fact(b, LD_F_TCP_A_SYNS_SENT, 0);
        const char *rif = str_fact(b, LD_F_TCP_A_REPLY_INTERFACE, NULL);
        ld_buf_printf(out,
                      "answer dropped inside this host: it arrived%s%s, yet the SYN went out "
                      "again (%.0f SYNs in %.0f ms)",
                      rif ? " on " : "", rif ? rif : "", syns, ms);
        break;
    }
    case LD_TCP_UNDECIDED:
        ld_buf_printf(out,
                      "undecided: no answer, no retransmission, and the capture ends %.0f ms "
                      "after the SYN",
                      ms);
        break;
    case LD_TCP_ICMP:
        ld_buf_printf(out, "rejected: ICMP %s from %s in ",
                      str_fact(b, LD_F_TCP_A_ICMP_REASON, "?"),
                      str_fact(b, LD_F_TCP_A_ICMP_FROM, "?"));
        put_ms(out, ms);
        break;
    case LD_TCP_NO_ROUTE: {
        const char *nstate = str_fact(b, LD_F_TCP_A_NEIGHBOUR_STATE, "");
        if (ld_neigh_unresolved((ld_neigh_state)ld_neigh_state_parse(nstate))) {
            ld_buf_printf(out, "no neighbour: nothing answered ARP/ND for %s (%s",
                          str_fact(b, LD_F_TCP_A_NEXT_HOP, "?"), nstate);
            const ld_value *req = ld_bag_get(b, LD_F_TCP_A_NEIGHBOUR_REQUESTS);
            if (req)
                ld_buf_printf(out, ", %lld request%s", (long long)req->u.i,
                              req->u.i == 1 ? "" : "s");
            ld_buf_printf(out, ") in %.0f ms", ms);
        } else if (ld_bag_get(b, LD_F_TCP_A_ICMP_REASON))
            ld_buf_printf(out, "unreachable: no neighbour answered on the local link (%.0f ms)",
                          ms);
        else
            ld_buf_printf(out, "no route (%s)", err);
        break;
    }
    case LD_TCP_LOCAL_BLOCK: {
        const ld_value *seen = ld_bag_get(b, LD_F_TCP_A_SYN_SEEN);
        if (seen && !seen->u.b && !ld_bag_get(b, LD_F_TCP_A_ICMP_REASON) &&
            !ld_bag_get(b, LD_F_TCP_A_ERRNO))
            ld_buf_printf(
                out, "blocked inside this host: no answer in %.0f ms, SYN never on the wire", ms);
        else if (ld_bag_get(b, LD_F_TCP_A_ICMP_REASON))
            ld_buf_printf(out, "blocked by this host's firewall (ICMP %s from %s)",
                          str_fact(b, LD_F_TCP_A_ICMP_REASON, "?"),
                          str_fact(b, LD_F_TCP_A_ICMP_FROM, "?"));
        else
            ld_buf_printf(out, "blocked by this host (%s)", err);
        break;
    }
    default:
        ld_buf_printf(out, "%s (%s)", state, err);
        break;
    }
    const char *src = str_fact(b, LD_F_TCP_A_SOURCE_IP, NULL);
    if (src) {
        const char *ifname = str_fact(b, LD_F_TCP_A_INTERFACE, NULL);
        ld_buf_printf(out, "  from %s%s%s%s", src, ifname ? " (" : "", ifname ? ifname : "",
                      ifname ? ")" : "");
    }
    /* Not expected: an answer beside the --endpoint-ip addresses, or, without
     * them, DNS's address tried beside the /etc/hosts one applications use. */
    const ld_value *expected = ld_bag_get(b, LD_F_TCP_A_EXPECTED);
    const ld_value *endpoints = ld_facts_get(facts, LD_F_TARGET_ENDPOINT_IP_COUNT);
    if (expected && !expected->u.b)
        ld_buf_puts(out, endpoints && endpoints->u.i > 0
                             ? "  [not an --endpoint-ip]"
                             : "  [for comparison: applications use /etc/hosts]");
    ld_buf_putc(out, '\n');
    text_capture_line(out, b);
}

/* The subject of kind for an address, or NULL. */
static const ld_bag *subject_of(const ld_facts *f, const char *kind, const char *key) {
    for (size_t i = 0; i < ld_facts_subject_count(f); i++) {
        const ld_bag *b = ld_facts_subject_at(f, i);
        if (strcmp(ld_bag_kind(b), kind) == 0 && strcmp(ld_bag_key(b), key) == 0)
            return b;
    }
    return NULL;
}

static void text_tls_line(ld_buf *out, const ld_bag *b) {
    const char *result = str_fact(b, LD_F_TLS_A_RESULT, "?");
    ld_buf_puts(out, "       TLS   ");
    if (strcmp(result, "ok") == 0) {
        const ld_value *alpn = ld_bag_get(b, LD_F_TLS_A_ALPN);
        ld_buf_printf(out, "%s %s%s%s in ", str_fact(b, LD_F_TLS_A_VERSION, "?"),
                      str_fact(b, LD_F_TLS_A_CIPHER, "?"), alpn ? ", ALPN " : "",
                      alpn ? alpn->u.s : "");
        put_ms(out, num_fact(b, LD_F_TLS_A_HANDSHAKE_MS, 0));
        const ld_value *names = ld_bag_get(b, LD_F_TLS_A_CERT_NAMES);
        const ld_value *match = ld_bag_get(b, LD_F_TLS_A_NAME_MATCHES);
        ld_buf_puts(out, " \u00b7 certificate for ");
        if (names)
            ld_value_format(names, out);
        ld_buf_printf(out, "%s \u00b7 %s \u00b7 %.0f days left",
                      match && !match->u.b ? " (not the name used)" : "",
                      str_fact(b, LD_F_TLS_A_VERIFY, "?"), num_fact(b, LD_F_TLS_A_DAYS_LEFT, 0));
    } else if (strcmp(result, "stalled") == 0) {
        ld_buf_puts(out, "no reply to the ClientHello");
    } else if (strcmp(result, "incomplete") == 0) {
        ld_buf_printf(out, "only %.0f bytes of a reply to the ClientHello before the deadline",
                      num_fact(b, LD_F_TLS_A_REPLY_BYTES, 0));
    } else if (strcmp(result, "not_tls") == 0) {
        ld_buf_printf(out, "not TLS: \"%s\"", str_fact(b, LD_F_TLS_A_PEER_BYTES, ""));
    } else if (strcmp(result, "closed") == 0) {
        ld_buf_puts(out, "closed without a reply");
    } else {
        ld_buf_printf(out, "failed: %s", str_fact(b, LD_F_TLS_A_ERROR, "?"));
    }
    ld_buf_putc(out, '\n');
}

/* How an incomplete HTTP response broke off (http.attempt.incomplete), in
 * the words of the http.incomplete_response rule. */
static const char *incomplete_words(const char *how) {
    static const struct {
        const char *how;   /* the fact's value */
        const char *words; /* what happened */
    } words[] = {
        {"interim_only", "only interim 1xx statuses, never a final one"},
        {"cut", "closed inside the status line or headers"},
        {"stalled", "status line and headers unfinished at the deadline"},
        {"too_large", "headers larger than clients accept"},
        {"invalid", "a header line that is not HTTP"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(how, words[i].how) == 0)
            return words[i].words;
    return how;
}

static void text_http_line(ld_buf *out, const ld_bag *b) {
    const char *result = str_fact(b, LD_F_HTTP_A_RESULT, "?");
    const ld_value *status = ld_bag_get(b, LD_F_HTTP_A_STATUS);
    int incomplete = strcmp(result, "incomplete") == 0;
    ld_buf_puts(out, "       HTTP  ");
    /* The status line of an incomplete response came too: say so first. */
    if (status && (incomplete || strcmp(result, "response") == 0))
        ld_buf_printf(out, "%lld (HTTP/%s)%s", (long long)status->u.i,
                      str_fact(b, LD_F_HTTP_A_VERSION, "?"), incomplete ? " \u00b7 " : "");
    if (strcmp(result, "response") == 0) {
        static const struct {
            const char *name; /* phase */
            ld_fact_id id;    /* its time */
        } phases[] = {{"connect", LD_F_HTTP_A_CONNECT_MS},
                      {"TLS", LD_F_HTTP_A_TLS_MS},
                      {"first byte", LD_F_HTTP_A_TTFB_MS},
                      {"total", LD_F_HTTP_A_TOTAL_MS}};
        for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
            const ld_value *v = ld_bag_get(b, phases[i].id);
            if (!v || (phases[i].id == LD_F_HTTP_A_TLS_MS && v->u.n <= 0))
                continue;
            ld_buf_printf(out, " \u00b7 %s ", phases[i].name);
            put_ms(out, v->u.n);
        }
        const ld_value *loc = ld_bag_get(b, LD_F_HTTP_A_REDIRECT);
        if (loc)
            ld_buf_printf(out, " \u00b7 \u2192 %s", loc->u.s);
        const ld_value *body = ld_bag_get(b, LD_F_HTTP_A_BODY_ERROR);
        if (body)
            ld_buf_printf(out, " \u00b7 body broke off: %s", body->u.s);
    } else if (incomplete) {
        ld_buf_printf(out, "incomplete: %s",
                      incomplete_words(str_fact(b, LD_F_HTTP_A_INCOMPLETE, "?")));
    } else if (strcmp(result, "not_http") == 0) {
        const ld_value *reply = ld_bag_get(b, LD_F_HTTP_A_REPLY);
        const ld_value *tls = ld_bag_get(b, LD_F_HTTP_A_TLS_REPLY);
        if (reply)
            ld_buf_printf(out, "not HTTP: \"%s\"%s", reply->u.s,
                          tls && tls->u.b ? " (a TLS record: the port speaks TLS)" : "");
        else
            ld_buf_printf(out, "not HTTP: %s", str_fact(b, LD_F_HTTP_A_ERROR, "?"));
    } else if (strcmp(result, "closed") == 0) {
        ld_buf_printf(out, "closed without a byte of reply (%s)",
                      str_fact(b, LD_F_HTTP_A_ERROR, "?"));
    } else if (strcmp(result, "no_response") == 0) {
        ld_buf_puts(out, "no response before the deadline");
    } else {
        ld_buf_printf(out, "error: %s", str_fact(b, LD_F_HTTP_A_ERROR, "?"));
    }
    ld_buf_putc(out, '\n');
}

static void text_app_line(ld_buf *out, const ld_bag *b, int redis) {
    if (redis) {
        const char *kind = str_fact(b, LD_F_REDIS_A_REPLY_KIND, "none");
        ld_buf_puts(out, "       Redis ");
        if (strcmp(kind, "none") == 0)
            ld_buf_puts(out, "no reply to PING");
        else
            ld_buf_printf(out, "PING \u2192 %s", str_fact(b, LD_F_REDIS_A_REPLY, ""));
        const ld_value *ms = ld_bag_get(b, LD_F_REDIS_A_MS);
        if (ms && strcmp(kind, "none") != 0) {
            ld_buf_puts(out, " in ");
            put_ms(out, ms->u.n);
        }
    } else {
        const char *result = str_fact(b, LD_F_MQTT_A_RESULT, "?");
        ld_buf_puts(out, "       MQTT  ");
        if (strcmp(result, "accepted") == 0 || strcmp(result, "refused") == 0) {
            ld_buf_printf(out, "CONNECT \u2192 CONNACK %.0f (%s) in ",
                          num_fact(b, LD_F_MQTT_A_CONNACK_CODE, 0),
                          str_fact(b, LD_F_MQTT_A_CONNACK_REASON, "?"));
            put_ms(out, num_fact(b, LD_F_MQTT_A_MS, 0));
        } else if (strcmp(result, "invalid") == 0) {
            ld_buf_printf(out, "CONNECT \u2192 not a CONNACK: %s",
                          str_fact(b, LD_F_MQTT_A_REPLY, ""));
        } else {
            ld_buf_puts(out, "no CONNACK to CONNECT");
        }
    }
    ld_buf_putc(out, '\n');
}

/* The TLS, HTTP and application lines of one address, under its TCP line. */
static void text_layers(ld_buf *out, const ld_facts *f, const char *key) {
    const ld_bag *b;
    if ((b = subject_of(f, "tls", key)))
        text_tls_line(out, b);
    if ((b = subject_of(f, "http", key)))
        text_http_line(out, b);
    if ((b = subject_of(f, "redis", key)))
        text_app_line(out, b, 1);
    if ((b = subject_of(f, "mqtt", key)))
        text_app_line(out, b, 0);
}

void ld_text_timeline(ld_buf *out, const ld_report_target *t) {
    size_t nsub = ld_facts_subject_count(t->facts);
    static const char *const kinds[] = {"dns", "tcp"};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < nsub; i++) {
            const ld_bag *b = ld_facts_subject_at(t->facts, i);
            if (strcmp(ld_bag_kind(b), kinds[k]) != 0)
                continue;
            if (k == 0) {
                text_dns_line(out, b);
            } else {
                text_tcp_line(out, b, t->facts);
                text_layers(out, t->facts, ld_bag_key(b));
            }
        }
    }
    const ld_value *skipped = ld_facts_get(t->facts, LD_F_TCP_SKIPPED_ADDRESSES);
    if (skipped && skipped->u.list.len) {
        ld_buf_puts(out, "  (not tried, no local address of their family: ");
        ld_value_format(skipped, out);
        ld_buf_puts(out, ")\n");
    }
}

static void text_target(ld_buf *out, const ld_report_target *t) {
    const ld_value *input = ld_facts_get(t->facts, LD_F_TARGET_INPUT);
    char verdict[16];
    ld_text_upper(ld_verdict_name(t->verdict), verdict, sizeof verdict);
    const ld_diagnoses *d = t->diagnoses;
    ld_buf_printf(out, "%s  %s", verdict, input ? input->u.s : "?");
    if (d && d->nreported) {
        ld_buf_printf(out, " - %s (%s", d->reported[0].title, d->reported[0].id);
        if (d->nreported > 1)
            ld_buf_printf(out, ", +%zu more", d->nreported - 1);
        ld_buf_puts(out, ")\n");
    } else {
        const ld_value *checked = ld_facts_get(t->facts, LD_F_TARGET_CHECKED);
        const ld_value *undecided = ld_facts_get(t->facts, LD_F_TCP_UNDECIDED_COUNT);
        if (checked && !checked->u.b)
            ld_buf_puts(out, " - not checked: --timeout ended the run first\n");
        else if (undecided && undecided->u.i > 0)
            ld_buf_puts(out, " - undecided: the capture ends before the attempt got an answer or "
                             "a retransmission (record for longer)\n");
        else
            ld_buf_puts(out,
                        " - no rule matched what was observed; the JSON report (--format json) "
                        "has every fact\n");
    }
    for (size_t i = 0; d && i < d->nreported; i++)
        text_diagnosis(out, &d->reported[i]);

    if (ld_facts_subject_count(t->facts))
        ld_buf_puts(out, "\nTimeline:\n");
    ld_text_timeline(out, t);
}

/* --- the host ------------------------------------------------------------------- */

#define HOST_LABEL      13 /* width of the Host block's labels */
#define HOST_ROUTES_MAX 8  /* routes shown; the JSON report has every one */

/* One labelled line of the Host block; label "" continues the one above. */
static void host_label(ld_buf *out, const char *label) {
    ld_buf_printf(out, "  %-*s", HOST_LABEL, label);
}

/* The n strings of a fixed-size table (stride bytes each), joined by sep. */
static void put_joined(ld_buf *out, const char *first, size_t stride, size_t n, const char *sep) {
    for (size_t i = 0; i < n; i++)
        ld_buf_printf(out, "%s%s", i ? sep : "", first + i * stride);
}

/* The route of one attempt, as ip route get says it (tcp.attempt.route_*). */
static void host_route(ld_buf *out, const ld_bag *b) {
    const char *how = str_fact(b, LD_F_TCP_A_ROUTE, "?");
    const char *dev = str_fact(b, LD_F_TCP_A_ROUTE_INTERFACE, NULL);
    ld_buf_printf(out, "%s: ", str_fact(b, LD_F_TCP_A_ADDRESS, ld_bag_key(b)));
    if (strcmp(how, "gateway") == 0)
        ld_buf_printf(out, "via %s", str_fact(b, LD_F_TCP_A_ROUTE_GATEWAY, "?"));
    else if (strcmp(how, "none") == 0)
        ld_buf_puts(out, "no route");
    else
        ld_buf_puts(out, how); /* direct, local */
    if (dev)
        ld_buf_printf(out, " dev %s", dev);
    const char *src = str_fact(b, LD_F_TCP_A_ROUTE_SOURCE, NULL);
    if (src)
        ld_buf_printf(out, " src %s", src);
    const ld_value *mtu = ld_bag_get(b, LD_F_TCP_A_ROUTE_MTU);
    if (mtu)
        ld_buf_printf(out, " mtu %lld", (long long)mtu->u.i);
    ld_buf_putc(out, '\n');
}

/* The routes of the report's attempts, each address once, at most HOST_ROUTES_MAX. */
static void host_routes(ld_buf *out, const ld_report *r) {
    size_t shown = 0, more = 0;
    const char *seen[HOST_ROUTES_MAX];
    for (size_t t = 0; t < r->ntargets; t++) {
        const ld_facts *f = r->targets[t].facts;
        for (size_t i = 0; i < ld_facts_subject_count(f); i++) {
            const ld_bag *b = ld_facts_subject_at(f, i);
            if (strcmp(ld_bag_kind(b), "tcp") != 0 || !ld_bag_get(b, LD_F_TCP_A_ROUTE))
                continue;
            const char *addr = str_fact(b, LD_F_TCP_A_ADDRESS, ld_bag_key(b));
            size_t k = 0;
            while (k < shown && strcmp(seen[k], addr) != 0)
                k++;
            if (k < shown)
                continue;
            if (shown == HOST_ROUTES_MAX) {
                more++; /* an address may count twice here: "more" is an estimate's floor */
                continue;
            }
            seen[shown] = addr;
            host_label(out, shown++ ? "" : "Routes");
            host_route(out, b);
        }
    }
    if (more) {
        host_label(out, "");
        ld_buf_printf(out, "(and more: the JSON report has each attempt's route)\n");
    }
}

void ld_text_host(ld_buf *out, const ld_report *r) {
    const ld_host *h = r->host;
    if (!h) {
        if (r->capture_file)
            ld_buf_puts(out, "Host: not recorded (analysis of a capture file)\n");
        return;
    }
    ld_buf_puts(out, "Host: ");
    if (h->os_pretty_name[0])
        ld_buf_puts(out, h->os_pretty_name);
    else if (h->os_id[0])
        ld_buf_printf(out, "%s %s", h->os_id, h->os_version_id);
    else
        ld_buf_puts(out, "unknown OS");
    ld_buf_printf(out, ", kernel %s, clock %s\n", h->kernel[0] ? h->kernel : "unknown",
                  h->time[0] ? h->time : "unknown");
    for (size_t i = 0; i < h->nifaces; i++) {
        const ld_host_iface *f = &h->ifaces[i];
        host_label(out, i ? "" : "Interfaces");
        ld_buf_printf(out, "%s %s mtu %u", f->name, f->state, f->mtu);
        if (f->naddrs)
            ld_buf_puts(out, "  ");
        put_joined(out, f->addrs[0], sizeof f->addrs[0], f->naddrs, " ");
        ld_buf_putc(out, '\n');
    }
    if (h->ifaces_omitted) {
        host_label(out, "");
        ld_buf_printf(out, "(%zu more)\n", h->ifaces_omitted);
    }
    host_routes(out, r);
    if (h->resolv_path[0]) {
        host_label(out, "resolv.conf");
        if (!h->resolv_read) {
            ld_buf_printf(out, "%s: %s\n", h->resolv_path, h->resolv_error);
        } else {
            ld_buf_puts(out, "nameserver ");
            if (!h->nnameservers)
                ld_buf_puts(out, "(none)");
            put_joined(out, h->nameservers[0], sizeof h->nameservers[0], h->nnameservers, ", ");
            if (h->nsearch) {
                ld_buf_puts(out, "; search ");
                put_joined(out, h->search[0], sizeof h->search[0], h->nsearch, " ");
            }
            if (h->noptions) {
                ld_buf_puts(out, "; options ");
                put_joined(out, h->options[0], sizeof h->options[0], h->noptions, " ");
            }
            ld_buf_putc(out, '\n');
        }
    }
    for (size_t i = 0; i < h->nhosts_lines; i++) {
        host_label(out, i ? "" : h->hosts_path[0] ? h->hosts_path : "hosts");
        ld_buf_printf(out, "line %d: %s\n", h->hosts_lines[i].number, h->hosts_lines[i].text);
    }
    for (size_t i = 0; i < h->nproxy; i++) {
        host_label(out, i ? "" : "Proxy");
        ld_buf_printf(out, "%s=%s\n", h->proxy[i].name, h->proxy[i].value);
    }
}

ld_status ld_report_text(const ld_report *r, ld_buf *out, ld_err *err) {
    size_t counts[4] = {0};
    for (size_t i = 0; i < r->ntargets; i++) {
        if (i)
            ld_buf_puts(out, "\n");
        text_target(out, &r->targets[i]);
        counts[r->targets[i].verdict]++;
    }
    if (r->ntargets > 1) {
        char verdict[16];
        ld_text_upper(ld_verdict_name(r->verdict), verdict, sizeof verdict);
        ld_buf_printf(out, "\n%s  %zu targets: %zu critical, %zu warning, %zu unknown, %zu ok\n",
                      verdict, r->ntargets, counts[LD_VERDICT_CRITICAL], counts[LD_VERDICT_WARNING],
                      counts[LD_VERDICT_UNKNOWN], counts[LD_VERDICT_OK]);
    }
    /* Last, so that the first screen stays about the diagnosis. */
    if (r->host || r->capture_file) {
        ld_buf_putc(out, '\n');
        ld_text_host(out, r);
    }
    if (out->len >= out->limit)
        return ld_err_set(err, LD_ELIMIT, "the text report exceeds %zu bytes", out->limit);
    return LD_OK;
}
