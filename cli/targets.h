/* targets.h - targets files (--targets FILE): one target per line in the
 * command line's syntax, optionally followed by that target's own options.
 *
 *   # the private links of prod
 *   in01-abc.aws-us-west-2.vectordb.zillizcloud.com:19530 --profile zilliz
 *   https://db.internal:19530 --expect-status 400   # a comment after the options
 *   redis.internal:6379 --endpoint-ip '10.0.1.23,10.0.2.7'
 *
 * Words are separated by blanks; '...' and "..." quote (inside "...", \" and
 * \\ escape); '#' at the start of a word begins a comment to the end of the
 * line; blank lines are ignored. Errors name the line ("LINE: what").
 */
#ifndef LD_CLI_TARGETS_H
#define LD_CLI_TARGETS_H

#include <stddef.h>

#include "core/err.h"
#include "core/loop.h"

#define LD_TARGETS_LINE_MAX  4096               /* longest line */
#define LD_TARGETS_WORDS_MAX 64                 /* most words on one line */
#define LD_TARGETS_FILE_MAX  ((size_t)16 << 20) /* largest file read */

/* Called for each line that has words: argv[0] is the target, the rest its
 * options; argv[argc] is NULL. A non-OK return stops the parse; its message
 * is prefixed with the line number. */
typedef ld_status (*ld_targets_line_fn)(void *arg, int argc, char **argv, ld_err *err);

/* Splits text[0..len) into lines and words and calls fn for each line that
 * has any. Pure: no I/O. Errors are "LINE: what is wrong". */
ld_status ld_targets_parse(const char *text, size_t len, ld_targets_line_fn fn, void *arg,
                           ld_err *err);

/* Reads path ("-": standard input) whole, at most LD_TARGETS_FILE_MAX bytes,
 * giving up at the absolute time deadline (a producer that never closes its
 * end cannot hold the run). *text is allocated (NUL-terminated; the caller
 * frees it). Errors do not repeat the path. */
ld_status ld_targets_read(const char *path, ld_time deadline, char **text, size_t *len,
                          ld_err *err);
/* The same for any input of at most max bytes; deadline 0: none (a pipe is
 * read to its end, however long its writer takes). */
ld_status ld_cli_read_file(const char *path, ld_time deadline, size_t max, char **text, size_t *len,
                           ld_err *err);

#endif
