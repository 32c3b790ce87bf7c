/* err.h - the one status enum and the caller-owned error buffer.
 *
 * Every fallible function returns an ld_status and, when it fails, writes one
 * line of detail (no trailing newline) into an ld_err the caller owns. Only
 * main() turns a status into an exit code.
 */
#ifndef LD_ERR_H
#define LD_ERR_H

#include <stddef.h>

/* What went wrong, coarsely; the detail is in ld_err.msg. */
typedef enum ld_status {
    LD_OK = 0, /* success */
    LD_EINVAL, /* bad input: a target, option, file, rule or capture the user gave */
    LD_ENOMEM, /* out of memory */
    LD_EIO,    /* reading or writing a file failed */
    LD_ESYS,   /* a system call failed for a reason the user cannot fix by input */
    LD_ELIMIT, /* input exceeds a documented limit */
} ld_status;

#define LD_ERR_MAX 512

/* One line of error detail, owned by the caller. */
typedef struct ld_err {
    char msg[LD_ERR_MAX]; /* NUL-terminated message, "" when unset */
} ld_err;

/* Formats the detail into err (which may be NULL) and returns st, so that
 * callers can write `return ld_err_set(err, LD_EINVAL, "...")`. */
ld_status ld_err_set(ld_err *err, ld_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("file.json: " + msg). */
void ld_err_prefix(ld_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
