/* cmd_rules.c - `linkdoctor rules list|lint|facts` and `linkdoctor explain`. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "rules/rules.h"

static const char rules_usage[] =
    "usage: linkdoctor rules list [--rules FILE]...   the diagnoses linkdoctor can make\n"
    "       linkdoctor rules lint FILE...             check rule files; exit 0 when valid\n"
    "       linkdoctor rules facts                    the facts rules can read\n"
    "\n"
    "Rules are JSON: {\"linkdoctor_rules\": 1, \"rules\": [{\"id\", \"severity\", \"when\",\n"
    "\"title\", \"description\", \"summary\", \"remediation\": {\"generic\", \"aws\", \"gcp\",\n"
    "\"azure\"}, \"evidence\", \"docs\", \"suppresses\", \"suppress_when\", \"confidence\"}]}.\n"
    "\"when\" is a condition over facts, e.g. tcp.timeout_count > 0 && dns.rcode == \"NOERROR\".\n"
    "Exit status: 0 ok, 3 invalid rules or bad usage.\n";

static const char explain_usage[] =
    "usage: linkdoctor explain ID [--rules FILE]...\n"
    "\n"
    "What a diagnosis means, what it looks at, and how to fix it on each cloud.\n"
    "See `linkdoctor rules list` for the IDs.\n";

ld_ruleset *ld_cli_rules(const char *const *files, size_t nfiles, ld_err *err) {
    ld_ruleset *rs = ld_ruleset_create();
    if (!rs) {
        ld_err_set(err, LD_ENOMEM, "out of memory");
        return NULL;
    }
    if (ld_ruleset_add_builtin(rs, err) != LD_OK) {
        ld_err_prefix(err, "built-in rules: ");
        goto fail;
    }
    for (size_t i = 0; i < nfiles; i++) {
        if (ld_ruleset_add_file(rs, files[i], err) != LD_OK)
            goto fail; /* the message names the file */
    }
    return rs;
fail:
    ld_ruleset_free(rs);
    return NULL;
}

/* Parses the options of `rules ACTION` or `explain` (argv[0] is the action
 * or the command) and loads the rule set they name; NULL after printing an
 * error. At most max_args positional arguments are taken. */
static ld_ruleset *load_with_options(ld_command command, int argc, char **argv, size_t max_args,
                                     ld_opts *o) {
    ld_err err;
    if (ld_opts_parse(command, argc, argv, NULL, o, &err) != LD_OK) {
        ld_msg_error("%s", err.msg);
        return NULL;
    }
    if (o->nargs > max_args) {
        ld_msg_error("unexpected argument '%s'", o->args[max_args]);
        return NULL;
    }
    ld_ruleset *rs = ld_cli_rules(o->rules_files, o->nrules_files, &err);
    if (!rs)
        ld_msg_error("%s", err.msg);
    return rs;
}

/* "warning", or "warning/critical" for a rule that can turn critical. */
static const char *severity_text(const ld_rule *r, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", ld_severity_name(ld_rule_severity(r)),
             ld_rule_critical_when(r) ? "/critical" : "");
    return buf;
}

static int rules_list(int argc, char **argv) {
    ld_opts o;
    ld_ruleset *rs = load_with_options(LD_CMD_RULES, argc - 1, argv + 1, 0, &o);
    ld_opts_clear(&o);
    if (!rs)
        return LD_EXIT_UNKNOWN;
    size_t w = 2, sw = 8;
    for (size_t i = 0; i < ld_ruleset_count(rs); i++) {
        const ld_rule *r = ld_ruleset_at(rs, i);
        size_t n = strlen(ld_rule_id(r));
        w = n > w ? n : w;
        if (ld_rule_critical_when(r))
            sw = 16; /* "warning/critical" */
    }
    printf("%-*s  %-*s  %s\n", (int)w, "ID", (int)sw, "SEVERITY", "MEANING");
    for (size_t i = 0; i < ld_ruleset_count(rs); i++) {
        const ld_rule *r = ld_ruleset_at(rs, i);
        const char *d = ld_rule_description(r);
        int first_sentence = (int)strcspn(d, "\n");
        const char *dot = strstr(d, ". ");
        if (dot && dot - d < first_sentence)
            first_sentence = (int)(dot - d + 1);
        char sev[32];
        printf("%-*s  %-*s  %.*s\n", (int)w, ld_rule_id(r), (int)sw,
               severity_text(r, sev, sizeof sev), first_sentence, d);
    }
    ld_ruleset_free(rs);
    return 0;
}

static int rules_lint(int argc, char **argv) {
    if (argc < 3) {
        ld_msg_error("rules lint: no file given (usage: linkdoctor rules lint FILE...)");
        return LD_EXIT_UNKNOWN;
    }
    int code = 0;
    for (int i = 2; i < argc; i++) {
        ld_err err;
        const char *file = argv[i];
        ld_ruleset *rs = ld_cli_rules(&file, 1, &err);
        if (!rs) {
            ld_msg_error("%s", err.msg);
            code = LD_EXIT_UNKNOWN;
            continue;
        }
        size_t n = 0;
        for (size_t k = 0; k < ld_ruleset_count(rs); k++)
            n += strcmp(ld_rule_origin(ld_ruleset_at(rs, k)), file) == 0;
        printf("%s: %zu rule%s, valid\n", file, n, n == 1 ? "" : "s");
        ld_ruleset_free(rs);
    }
    return code;
}

static int rules_facts(void) {
    size_t w = 0;
    for (int i = 0; i < LD_F__COUNT; i++) {
        size_t n = strlen(ld_fact_def_get((ld_fact_id)i)->name);
        w = n > w ? n : w;
    }
    printf("Facts rules can read (one value per target):\n");
    for (int i = 0; i < LD_F__COUNT; i++) {
        const ld_fact_def *d = ld_fact_def_get((ld_fact_id)i);
        if (d->scope == LD_SCOPE_TARGET)
            printf("  %-*s  %-6s  %s\n", (int)w, d->name, ld_type_name(d->type), d->meaning);
    }
    printf("\nEvidence per resolver or connection attempt (report \"probes\" section):\n");
    for (int i = 0; i < LD_F__COUNT; i++) {
        const ld_fact_def *d = ld_fact_def_get((ld_fact_id)i);
        if (d->scope == LD_SCOPE_SUBJECT)
            printf("  %-*s  %-6s  %s\n", (int)w, d->name, ld_type_name(d->type), d->meaning);
    }
    return 0;
}

int ld_cmd_rules(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(rules_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? LD_EXIT_UNKNOWN : 0;
    }
    if (strcmp(argv[1], "list") == 0)
        return rules_list(argc, argv);
    if (strcmp(argv[1], "lint") == 0)
        return rules_lint(argc, argv);
    if (strcmp(argv[1], "facts") == 0 && argc == 2)
        return rules_facts();
    ld_msg_error("rules: unknown action '%s' (use list, lint or facts)", argv[1]);
    return LD_EXIT_UNKNOWN;
}

int ld_cmd_explain(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(explain_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? LD_EXIT_UNKNOWN : 0;
    }
    ld_opts o;
    ld_ruleset *rs = load_with_options(LD_CMD_EXPLAIN, argc, argv, 1, &o);
    const char *id = o.nargs ? o.args[0] : NULL;
    const ld_rule *r = rs && id ? ld_ruleset_find(rs, id) : NULL;
    if (rs && !r) {
        if (id)
            ld_msg_error("explain: no diagnosis '%s' (see linkdoctor rules list)", id);
        else
            ld_msg_error("explain: no diagnosis named (see linkdoctor rules list)");
    }
    ld_opts_clear(&o);
    if (!r) {
        ld_ruleset_free(rs);
        return LD_EXIT_UNKNOWN;
    }
    char sev[32];
    printf("%s (%s)\n%s\n\n", ld_rule_id(r), severity_text(r, sev, sizeof sev), ld_rule_title(r));
    printf("%s\n\n", ld_rule_description(r));
    printf("Fires when:\n  %s\n", ld_rule_when(r));
    if (ld_rule_critical_when(r))
        printf("\nCritical (instead of %s) when:\n  %s\n", ld_severity_name(ld_rule_severity(r)),
               ld_rule_critical_when(r));
    if (ld_rule_evidence_count(r)) {
        printf("\nEvidence quoted:\n");
        for (size_t i = 0; i < ld_rule_evidence_count(r); i++) {
            const ld_fact_def *d = ld_fact_def_get(ld_rule_evidence_at(r, i));
            printf("  %s - %s\n", d->name, d->meaning);
        }
    }
    for (int c = 0; c < LD_CLOUD__COUNT; c++) {
        const char *fix = ld_rule_remediation(r, (ld_cloud)c);
        if (fix)
            printf("\nFix (%s):\n%s\n", ld_cloud_name((ld_cloud)c), fix);
    }
    if (ld_rule_suppresses_count(r)) {
        printf("\nHides, as consequences of this cause:");
        for (size_t i = 0; i < ld_rule_suppresses_count(r); i++)
            printf(" %s", ld_rule_suppresses_at(r, i));
        printf("\n");
    }
    for (size_t i = 0; i < ld_rule_docs_count(r); i++)
        printf("%s%s\n", i ? "      " : "\nDocs: ", ld_rule_doc_at(r, i));
    printf("\n(Text in {braces} is filled in from the facts of the run.)\n");
    ld_ruleset_free(rs);
    return 0;
}
