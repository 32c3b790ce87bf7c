/* expect.h - expected HTTP statuses: "400", "200-399", "2xx,400", "any".
 * A spec is a comma-separated list of codes (100..599), ranges (a-b) and
 * classes (1xx..5xx). */
#ifndef LD_EXPECT_H
#define LD_EXPECT_H

#include "core/err.h"

#define LD_EXPECT_MAX 16 /* most items in one spec */

/* A parsed spec; no items means any status. */
typedef struct ld_expect_status {
    struct {
        int lo; /* first status of the item */
        int hi; /* last status of the item */
    } items[LD_EXPECT_MAX];
    int n;          /* how many; 0: any */
    char text[128]; /* the spec normalized ("any" when empty) */
} ld_expect_status;

/* Parses spec (NULL or "" or "any": any status). err names the bad item. */
ld_status ld_expect_parse(const char *spec, ld_expect_status *out, ld_err *err);
/* 1 when status is expected. */
int ld_expect_match(const ld_expect_status *e, int status);

#endif
