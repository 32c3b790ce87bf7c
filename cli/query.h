/* query.h - a /probe request's query (serve), turned into a target spec by
 * the same option parser a targets-file line goes through: the long option
 * names with '_' for '-', only options that may differ per target and name
 * no local file. Pure: no I/O; fuzzed (tests/fuzz/fuzz_query.c). */
#ifndef LD_CLI_QUERY_H
#define LD_CLI_QUERY_H

#include "cli/options.h"
#include "core/spec.h"

#define LD_QUERY_WORDS_MAX 64 /* option words one query may carry */

/* A query being read. */
typedef struct ld_query {
    const char *target;                  /* target= (borrowed) */
    int targets;                         /* how many target= there were */
    int json;                            /* format=json */
    char *words[LD_QUERY_WORDS_MAX + 1]; /* "--endpoint-ip", "10.0.1.23", ... (owned) */
    int nwords;                          /* how many */
    char bad[300];                       /* why the query is refused, "" while it is not */
} ld_query;

/* Takes one parameter (value NULL for "?flag"); returns 1 once the query is
 * refused (q->bad says why), 0 to go on. name and value are borrowed until
 * ld_query_spec(). */
int ld_query_add(ld_query *q, const char *name, const char *value);
/* The target spec the query asks for, on top of the defaults t (the server's
 * options). err says what is wrong, in one line. */
ld_status ld_query_spec(ld_query *q, const ld_profiles *profiles, const ld_target_opts *t,
                        ld_target_spec *spec, ld_err *err);
/* Frees what the query holds. */
void ld_query_clear(ld_query *q);

#endif
