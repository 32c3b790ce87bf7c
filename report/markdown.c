/* markdown.c - the report for a ticket: Markdown that GitHub, GitLab, Jira
 * and Zendesk render alike, and that no string can turn into anything but
 * text.
 *
 * Only the plainest Markdown is written: ATX headings, paragraphs, bold
 * labels, pipe tables, "- " lists, inline links and fenced code blocks -
 * never raw HTML. Every string that is not ours (from the network, the
 * user, a rule file or a report read back) goes through one of three doors:
 *  - md_text(): backslash before each character Markdown gives meaning to
 *    anywhere in a line, and &lt; &gt; &amp; for the three HTML reads (a
 *    backslash does not stop every renderer from seeing a tag); line feeds
 *    become spaces, and a line never starts with a block marker. What GFM
 *    would make a link of without any markup (its autolink extension:
 *    "scheme://..." and "www.") is broken with a character reference - the
 *    ':' of "://" as &#58;, the '.' of "www." as &#46; - which renders as
 *    the character, but is no longer the text the extension matches (a
 *    backslash escape would stop it too, but python-markdown shows that
 *    backslash);
 *  - md_code(): a code span whose backtick run is longer than any inside;
 *  - md_fence(): a fenced block whose fence is longer than any backtick run
 *    inside, for the timeline and the host context, quoted from the text
 *    report (text.h) so that both read the same.
 * Links are written only for http(s) URLs, with the characters that could
 * end or break the destination percent-encoded.
 */
#include "report.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* Characters that mean something in a Markdown line, wherever they are:
 * escapes, code, emphasis, links, tables, strikethrough, headings (at a
 * line's end too: a closing sequence), attribute lists. */
#define MD_PUNCT "\\`*_[]|~#{}!"

/* 1 when p, inside s, starts "www." at the start of a word (GFM's
 * extended www autolink; any case, to be safe). */
static int www_at(const char *s, const char *p) {
    return strncasecmp(p, "www.", 4) == 0 && (p == s || !isalnum((unsigned char)p[-1]));
}

/* Appends s as inline text: nothing in it is Markdown or HTML; with
 * autolinks, nothing in it is a link either (see the top). */
static void md_escape(ld_buf *out, const char *s, int autolinks) {
    for (const char *p = s; *p; p++) {
        if (autolinks && *p == ':' && strncmp(p + 1, "//", 2) == 0) {
            ld_buf_puts(out, "&#58;");
        } else if (autolinks && www_at(s, p)) {
            ld_buf_append(out, p, 3);
            ld_buf_puts(out, "&#46;");
            p += 3;
        } else if (*p == '<')
            ld_buf_puts(out, "&lt;");
        else if (*p == '>')
            ld_buf_puts(out, "&gt;");
        else if (*p == '&')
            ld_buf_puts(out, "&amp;");
        else if (*p == '\n' || *p == '\r' || *p == '\t')
            ld_buf_putc(out, ' ');
        else {
            if (strchr(MD_PUNCT, *p))
                ld_buf_putc(out, '\\');
            ld_buf_putc(out, *p);
        }
    }
}

/* Appends s as inline text: no Markdown, no HTML, no link. */
static void md_text(ld_buf *out, const char *s) {
    md_escape(out, s, 1);
}

/* Appends s as a paragraph's first words: md_text, with a character that
 * would start a block (a heading, quote, list, rule or code block) at the
 * start of a line escaped or dropped. */
static void md_line(ld_buf *out, const char *s) {
    while (*s == ' ')
        s++; /* four spaces would make a code block */
    if (*s && strchr("-+=>", *s))
        ld_buf_putc(out, '\\');
    size_t digits = strspn(s, "0123456789");
    if (digits && (s[digits] == '.' || s[digits] == ')')) {
        ld_buf_append(out, s, digits);
        ld_buf_putc(out, '\\');
        s += digits;
    }
    md_text(out, s);
}

/* The longest run of backticks in s. */
static size_t longest_backticks(const char *s) {
    size_t best = 0, run = 0;
    for (; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        best = run > best ? run : best;
    }
    return best;
}

/* n backticks. */
static void backticks(ld_buf *out, size_t n) {
    for (size_t i = 0; i < n; i++)
        ld_buf_putc(out, '`');
}

/* Appends s as a code span (table cells take none: a pipe would split them). */
static void md_code(ld_buf *out, const char *s) {
    size_t n = longest_backticks(s) + 1;
    /* A space inside each end when s starts or ends with a backtick (or a
     * space, which the renderer would strip): CommonMark drops one of each. */
    int pad =
        *s == '`' || *s == ' ' || (*s && (s[strlen(s) - 1] == '`' || s[strlen(s) - 1] == ' '));
    backticks(out, n);
    if (pad)
        ld_buf_putc(out, ' ');
    for (const char *p = s; *p; p++)
        ld_buf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
    if (pad)
        ld_buf_putc(out, ' ');
    backticks(out, n);
}

/* Appends text as a fenced code block (text ends with a line feed). */
static void md_fence(ld_buf *out, const char *text) {
    size_t n = longest_backticks(text) + 1;
    n = n < 3 ? 3 : n;
    backticks(out, n);
    ld_buf_puts(out, "text\n");
    ld_buf_puts(out, text);
    backticks(out, n);
    ld_buf_puts(out, "\n\n");
}

/* Appends a link to url when it is an http(s) URL, else the URL as code. */
static void md_link(ld_buf *out, const char *url) {
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        md_code(out, url);
        return;
    }
    ld_buf_putc(out, '[');
    md_escape(out, url, 0); /* a link's text: GFM makes no link inside it */
    ld_buf_puts(out, "](");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || strchr("()<>\"'`\\[]|", *p))
            ld_buf_printf(out, "%%%02X", *p);
        else
            ld_buf_putc(out, (char)*p);
    }
    ld_buf_putc(out, ')');
}

/* Appends a rule's prose (a title, summary or remediation): each line a
 * paragraph, except runs of "- " and "1. " lines, which stay lists. */
static void md_prose(ld_buf *out, const char *text) {
    const char *p = text;
    int in_list = 0;
    while (*p) {
        size_t n = strcspn(p, "\n");
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        size_t digits = strspn(line, "0123456789");
        size_t marker = line[0] == '-' && line[1] == ' '                           ? 2
                        : digits && line[digits] == '.' && line[digits + 1] == ' ' ? digits + 2
                                                                                   : 0;
        if (line[strspn(line, " ")] == '\0') {
            /* a blank line: nothing to say */
        } else if (marker) {
            ld_buf_append(out, line, marker);
            md_line(out, line + marker);
            ld_buf_putc(out, '\n');
            in_list = 1;
        } else {
            if (in_list)
                ld_buf_putc(out, '\n');
            md_line(out, line);
            ld_buf_puts(out, "\n\n");
            in_list = 0;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    if (in_list)
        ld_buf_putc(out, '\n');
}

/* A heading of level (1-6) with its marker. */
static void md_heading(ld_buf *out, int level) {
    for (int i = 0; i < level; i++)
        ld_buf_putc(out, '#');
    ld_buf_putc(out, ' ');
}

static void md_diagnosis(ld_buf *out, const ld_diagnosis *d, int level) {
    char sev[16];
    ld_text_upper(ld_severity_name(d->severity), sev, sizeof sev);
    md_heading(out, level);
    ld_buf_printf(out, "%s: ", sev);
    md_text(out, d->title);
    ld_buf_puts(out, "\n\n");
    ld_buf_puts(out, "**Diagnosis:** ");
    md_code(out, d->id);
    ld_buf_printf(out, " · **severity:** %s · **confidence:** %s\n\n",
                  ld_severity_name(d->severity), ld_confidence_name(d->confidence));
    md_prose(out, d->summary);
    if (d->nevidence) {
        ld_buf_puts(out, "**Evidence**\n\n| Fact | Value |\n| --- | --- |\n");
        for (size_t i = 0; i < d->nevidence; i++) {
            ld_buf value;
            ld_buf_init(&value, 0);
            ld_value_format(&d->evidence[i].value, &value);
            ld_buf_puts(out, "| ");
            md_code(out, ld_fact_def_get(d->evidence[i].id)->name);
            ld_buf_puts(out, " | ");
            md_text(out, ld_buf_str(&value));
            ld_buf_puts(out, " |\n");
            ld_buf_clear(&value);
        }
        ld_buf_putc(out, '\n');
    }
    if (d->remediation && *d->remediation) {
        if (d->severity <= LD_SEV_INFO) {
            ld_buf_puts(out, "**Note**\n\n");
        } else if (d->remediation_cloud == LD_CLOUD_GENERIC) {
            ld_buf_puts(out, "**Fix**\n\n");
        } else {
            char cloud[16];
            ld_text_upper(ld_cloud_name(d->remediation_cloud), cloud, sizeof cloud);
            ld_buf_printf(out, "**Fix (%s)**\n\n", cloud);
        }
        md_prose(out, d->remediation);
    }
    int shown = 0;
    for (size_t i = 0; i < d->ndocs; i++) {
        if (!ld_text_doc_shown(d, d->docs[i]))
            continue;
        ld_buf_puts(out, shown++ ? "\n- " : "**Docs**\n\n- ");
        md_link(out, d->docs[i]);
    }
    if (shown)
        ld_buf_puts(out, "\n\n");
}

/* The line under the first heading: which command, when. */
static void md_meta(ld_buf *out, const ld_report *r) {
    ld_buf_puts(out, "linkdoctor ");
    md_text(out, r->command ? r->command : "check");
    if (r->capture_file) {
        ld_buf_putc(out, ' ');
        md_code(out, r->capture_file);
    }
    if (r->host && r->host->time[0])
        ld_buf_printf(out, " · %s", r->host->time);
    ld_buf_puts(out, "\n\n");
}

/* One target: its heading (level; meta follows it when given), its
 * diagnoses, its timeline. */
static void md_target(ld_buf *out, const ld_report_target *t, int level, const ld_report *meta) {
    const ld_value *input = ld_facts_get(t->facts, LD_F_TARGET_INPUT);
    char verdict[16];
    ld_text_upper(ld_verdict_name(t->verdict), verdict, sizeof verdict);
    md_heading(out, level);
    ld_buf_printf(out, "%s: ", verdict);
    md_code(out, input ? input->u.s : "?");
    ld_buf_puts(out, "\n\n");
    if (meta)
        md_meta(out, meta);
    const ld_diagnoses *d = t->diagnoses;
    if (!d || !d->nreported)
        ld_buf_puts(out, "No rule matched what was observed; the JSON report has every fact.\n\n");
    for (size_t i = 0; d && i < d->nreported; i++)
        md_diagnosis(out, &d->reported[i], level + 1);
    if (ld_facts_subject_count(t->facts)) {
        ld_buf timeline;
        ld_buf_init(&timeline, 0);
        ld_text_timeline(&timeline, t);
        ld_buf_puts(out, "**Timeline**\n\n");
        md_fence(out, ld_buf_str(&timeline));
        ld_buf_clear(&timeline);
    }
}

ld_status ld_report_markdown(const ld_report *r, ld_buf *out, ld_err *err) {
    size_t counts[4] = {0};
    for (size_t i = 0; i < r->ntargets; i++)
        counts[r->targets[i].verdict]++;
    int level = 1;
    if (r->ntargets != 1) {
        char verdict[16];
        ld_text_upper(ld_verdict_name(r->verdict), verdict, sizeof verdict);
        ld_buf_printf(out, "# %s: %zu targets (%zu critical, %zu warning, %zu unknown, %zu ok)\n\n",
                      verdict, r->ntargets, counts[LD_VERDICT_CRITICAL], counts[LD_VERDICT_WARNING],
                      counts[LD_VERDICT_UNKNOWN], counts[LD_VERDICT_OK]);
        md_meta(out, r);
        level = 2;
    }
    for (size_t i = 0; i < r->ntargets; i++)
        md_target(out, &r->targets[i], level, r->ntargets == 1 ? r : NULL);
    if (r->host || r->capture_file) {
        ld_buf host;
        ld_buf_init(&host, 0);
        ld_text_host(&host, r);
        ld_buf_puts(out, "## Host\n\n");
        md_fence(out, ld_buf_str(&host));
        ld_buf_clear(&host);
    }
    if (out->len >= out->limit)
        return ld_err_set(err, LD_ELIMIT, "the Markdown report exceeds %zu bytes", out->limit);
    return LD_OK;
}
