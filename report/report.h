/* report.h - turning diagnoses and facts into what people and programs read.
 *
 * Layer: report/ sees core/ and rules/ (diagnoses), never the probes or the
 * plan: a report is rendered from facts and diagnoses alone.
 *
 * One renderer per format, each reading the same ld_report view. Renderers
 * write into a buffer; ld_report_write() puts it on stdout or, atomically,
 * into a file (temporary file + rename: a crash never leaves half a report).
 */
#ifndef LD_REPORT_H
#define LD_REPORT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/facts.h"
#include "core/host.h"
#include "rules/rules.h"

#define LD_REPORT_SCHEMA "linkdoctor.report/1"

/* The outcome of a target or a run; the values are the exit codes. */
typedef enum ld_verdict {
    LD_VERDICT_OK = 0,
    LD_VERDICT_WARNING = 1,
    LD_VERDICT_CRITICAL = 2,
    LD_VERDICT_UNKNOWN = 3,
} ld_verdict;

/* "ok", "warning", "critical", "unknown". */
const char *ld_verdict_name(ld_verdict v);
/* Parses a verdict's name; -1 when s names none. */
int ld_verdict_parse(const char *s);
/* The verdict of one target: its worst reported severity (info counts as
 * ok); unknown when nothing was reported. */
ld_verdict ld_verdict_of(const ld_diagnoses *d);
/* The worse of two verdicts: critical > warning > unknown > ok. */
ld_verdict ld_verdict_worse(ld_verdict a, ld_verdict b);

/* One target in a report. */
typedef struct ld_report_target {
    const ld_facts *facts;         /* what was observed (target.* names it) */
    const ld_diagnoses *diagnoses; /* what the rules concluded */
    ld_verdict verdict;            /* ld_verdict_of(diagnoses) */
    double duration_ms;            /* how long its checks took */
} ld_report_target;

/* A whole report. */
typedef struct ld_report {
    const char *command;             /* "check" or "analyze" */
    double started_at;               /* wall clock, seconds since the epoch */
    double duration_ms;              /* the run, from process start */
    double timeout_ms;               /* --timeout (0: not applicable) */
    double connect_timeout_ms;       /* --connect-timeout (0: not applicable) */
    const char *capture_file;        /* analyze: the file read, else NULL */
    const char *hostname;            /* this host */
    const char *cloud_provider;      /* cloud.provider of the run, NULL when unknown */
    const char *cloud_source;        /* how it was decided */
    const ld_host *host;             /* where it ran: OS, interfaces, resolver... (NULL:
                                        unknown) */
    ld_verdict verdict;              /* worst of the targets */
    const ld_report_target *targets; /* in the order given */
    size_t ntargets;                 /* how many */
    int redact;                      /* --redact: rendered through ld_report_redact() (which
                                        masks the host context too) */
} ld_report;

/* A report read back from its JSON (`linkdoctor show`): the same model a run
 * builds - target facts, probe evidence, diagnoses with their own id and
 * docs, the host context - so every renderer shows what the user saw. */
typedef struct ld_saved_report ld_saved_report;

/* Reads len bytes of a JSON report. NULL with one line in err when it is
 * not one this linkdoctor reads: not JSON, not a linkdoctor report, a newer
 * schema than linkdoctor.report/1, or a value of the wrong type. Fields it
 * does not know are skipped (reports only gain fields within a schema). The
 * caller frees the result. */
ld_saved_report *ld_saved_report_parse(const char *json, size_t len, ld_err *err);
/* The report to render; valid until the saved report is freed. Its verdict
 * is the one the report states (the exit code `show` returns). */
const ld_report *ld_saved_report_get(const ld_saved_report *s);
/* Frees it; NULL is harmless. */
void ld_saved_report_free(ld_saved_report *s);
/* A report whose identifiers --redact hides, and the copies it points to. */
typedef struct ld_redacted {
    ld_report report;          /* the redacted view: what the renderers read */
    ld_report_target *targets; /* its targets, owned */
    ld_facts **facts;          /* their facts, redacted copies, owned */
    ld_diagnoses *diagnoses;   /* their diagnoses, redacted copies, owned */
    size_t n;                  /* how many targets */
    char *hostname;            /* this host's name, as a placeholder, owned */
    ld_host *host;             /* the host context, redacted and masked, owned; NULL when
                                  the report has none */
} ld_redacted;

/* Fills out with a copy of in in which what should not leave the company -
 * account, subscription and project IDs (cloud.account), project numbers,
 * instance IDs and names, the service account and this host's name - is
 * replaced by placeholders ("<account-1>", "<hostname-1>") wherever it
 * appears: facts, per-probe evidence, titles, summaries, fixes, quoted
 * evidence, and every text of the host context (the resolver's search list,
 * hosts lines, proxy variables, ...), whose public and MAC-derived addresses
 * are masked too (ld_host_redact). The same value gets the same placeholder
 * throughout the report.
 * Target names, addresses, ports and security group IDs stay (support needs
 * them): a value that is part of a target's host name is replaced only
 * where it is that fact's whole value. URL credentials are masked before
 * any fact is recorded, redacted or not. out must be cleared with
 * ld_redacted_clear() whatever the result. */
ld_status ld_report_redact(const ld_report *in, ld_redacted *out, ld_err *err);
/* Frees what ld_report_redact() made; a zeroed or cleared out is harmless. */
void ld_redacted_clear(ld_redacted *r);

/* Appends the JSON report (schema linkdoctor.report/1) to out. */
ld_status ld_report_json(const ld_report *r, ld_buf *out, ld_err *err);
/* The same on one line (JSON Lines: --watch prints one report per round). */
ld_status ld_report_json_line(const ld_report *r, ld_buf *out, ld_err *err);
/* Appends the text report: verdict first, then each diagnosis with its
 * evidence and fix, then one line per resolver and per address. */
ld_status ld_report_text(const ld_report *r, ld_buf *out, ld_err *err);

/* Appends the report as a monitoring plugin prints it: "LINKDOCTOR STATE -
 * summary | perfdata", then the long text (Monitoring Plugins guidelines). */
ld_status ld_report_nagios(const ld_report *r, ld_buf *out, ld_err *err);
/* Appends the report in the Prometheus text exposition format. */
ld_status ld_report_prometheus(const ld_report *r, ld_buf *out, ld_err *err);
/* Appends the report as Markdown for a ticket (see markdown.c): headings,
 * tables and code blocks only, every foreign string escaped, no raw HTML. */
ld_status ld_report_markdown(const ld_report *r, ld_buf *out, ld_err *err);

/* The report formats (--format), one table for parsing, listing and
 * rendering them. */
typedef enum ld_format {
    LD_FORMAT_TEXT = 0,   /* for people */
    LD_FORMAT_JSON,       /* linkdoctor.report/1 */
    LD_FORMAT_NAGIOS,     /* a monitoring plugin's output */
    LD_FORMAT_PROMETHEUS, /* the Prometheus text exposition */
    LD_FORMAT_MARKDOWN,   /* for a ticket: GitHub, GitLab, Jira, Zendesk */
    LD_FORMAT__COUNT
} ld_format;

/* "text", "json", "nagios", "prometheus", "markdown". */
const char *ld_format_name(ld_format f);
/* Parses a --format value; -1 when it names no format. */
int ld_format_parse(const char *s);
/* "text, json, markdown, nagios or prometheus": for messages and help. */
const char *ld_format_list(void);
/* Appends the report in format f. */
ld_status ld_report_render(const ld_report *r, ld_format f, ld_buf *out, ld_err *err);

#define LD_REPORT_PATH_MAX 4000 /* longest -o path */

/* Checks, before any work, that path can name a report: not empty, not too
 * long, its directory exists, and path is absent or a regular file - never a
 * directory, symbolic link, device, FIFO or socket (see output.c for why).
 * Whether the directory is writable is for ld_report_out_open() to find out,
 * by doing what the write will do. */
ld_status ld_report_check_path(const char *path, ld_err *err);

/* Where a report goes: standard output, or a file replaced atomically.
 *
 * For a file, ld_report_out_open() creates the temporary file beside it at
 * once (so a directory the report cannot go into stops the run before it
 * starts) and forks a helper process that alone will rename it into place.
 * The helper keeps the process's user and, of its capabilities, only
 * CAP_DAC_OVERRIDE and CAP_FOWNER (what a rename in another user's or a
 * sticky directory needs): the rest of linkdoctor may then give up every
 * privilege and still put the report where it was asked. It reads nothing
 * but one byte from us: "commit" renames the file; end of file - we failed,
 * gave up, or died, even by SIGKILL - removes the temporary file. */
typedef struct ld_report_out {
    const char *path;                  /* -o FILE; NULL: standard output */
    int active;                        /* 1 while the fields below are live (a zeroed out is
                                          cleared harmlessly) */
    int fd;                            /* the temporary file, -1 when none */
    char tmp[LD_REPORT_PATH_MAX + 16]; /* its name: FILE.tmp.XXXXXX */
    int helper;                        /* our end of the helper's socket, -1 when none */
    int helper_pid;                    /* the helper, 0 once reaped */
} ld_report_out;

/* Prepares out (zeroed or not) for path, or for stdout when path is NULL.
 * On failure nothing is left behind and err says why; out must be cleared
 * with ld_report_out_clear() either way. */
ld_status ld_report_out_open(ld_report_out *out, const char *path, ld_err *err);
/* The temporary file's descriptor (to hand it to the report's owner), -1
 * for stdout. */
int ld_report_out_fd(const ld_report_out *out);
/* Writes the whole report: to stdout, or into the temporary file, synced,
 * then renamed over the path (which is checked again: still absent or a
 * regular file). Done once; afterwards out only needs clearing. err names
 * the file. */
ld_status ld_report_out_write(ld_report_out *out, const char *data, size_t len, ld_err *err);
/* Removes the temporary file unless the report was written, ends and reaps
 * the helper: nothing of out is left when it returns. Harmless twice. */
void ld_report_out_clear(ld_report_out *out);
/* The same from a signal handler (async-signal-safe, out is not changed):
 * when it returns, the temporary file is gone. */
void ld_report_out_abandon(const ld_report_out *out);

/* Writes len bytes to path atomically, or to stdout when path is NULL:
 * open, write and clear in one call. */
ld_status ld_report_write(const char *path, const char *data, size_t len, ld_err *err);

#endif
