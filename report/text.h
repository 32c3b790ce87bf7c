/* text.h - the parts of the text report other renderers quote verbatim
 * (markdown.c puts them in code blocks), so that they read alike. */
#ifndef LD_REPORT_TEXT_H
#define LD_REPORT_TEXT_H

#include "core/buf.h"
#include "report.h"

/* One line per resolver and per address of target t: what the text report
 * shows under "Timeline:". */
void ld_text_timeline(ld_buf *out, const ld_report_target *t);
/* The "Host:" block: OS, kernel, clock, interfaces, the routes of the
 * attempts, resolv.conf, the hosts-file lines of the targets and the proxy
 * variables; for an analysis of a capture file, that it was not recorded;
 * nothing when r->host is NULL otherwise. */
void ld_text_host(ld_buf *out, const ld_report *r);
/* 1 when the text report lists the documentation link url of d: on a known
 * cloud, that cloud's pages and vendor-neutral ones, not the other clouds'. */
int ld_text_doc_shown(const ld_diagnosis *d, const char *url);
/* s in capitals ("CRITICAL", "AWS") into buf. */
void ld_text_upper(const char *s, char *buf, size_t len);

#endif
