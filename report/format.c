/* format.c - the report formats: one table for --format's names and the
 * renderers behind them. */
#include "report.h"

#include <string.h>

typedef ld_status (*renderer)(const ld_report *r, ld_buf *out, ld_err *err);

static const struct {
    const char *name; /* --format value */
    renderer render;  /* what writes it */
} formats[LD_FORMAT__COUNT] = {
    [LD_FORMAT_TEXT] = {"text", ld_report_text},
    [LD_FORMAT_JSON] = {"json", ld_report_json},
    [LD_FORMAT_NAGIOS] = {"nagios", ld_report_nagios},
    [LD_FORMAT_PROMETHEUS] = {"prometheus", ld_report_prometheus},
    [LD_FORMAT_MARKDOWN] = {"markdown", ld_report_markdown},
};

const char *ld_format_name(ld_format f) {
    return (unsigned)f < LD_FORMAT__COUNT ? formats[f].name : "text";
}

int ld_format_parse(const char *s) {
    for (int i = 0; s && i < LD_FORMAT__COUNT; i++)
        if (strcmp(formats[i].name, s) == 0)
            return i;
    return -1;
}

const char *ld_format_list(void) {
    return "text, json, markdown, nagios or prometheus";
}

ld_status ld_report_render(const ld_report *r, ld_format f, ld_buf *out, ld_err *err) {
    if ((unsigned)f >= LD_FORMAT__COUNT)
        return ld_err_set(err, LD_EINVAL, "no such report format");
    return formats[f].render(r, out, err);
}
