/* unit.h - a small harness over CUnit: one suite per test file.
 *
 *   static void refused_when_rst_seen(void) { CU_ASSERT_EQUAL(...); }
 *   int main(void) {
 *       static const ld_test_case cases[] = {LD_TEST(refused_when_rst_seen), {0}};
 *       return ld_unit_run("tcp", cases);
 *   }
 */
#ifndef LD_UNIT_H
#define LD_UNIT_H

#include <CUnit/CUnit.h>

#include "core/spec.h"

/* One named test. */
typedef struct ld_test_case {
    const char *name; /* shown in the output */
    CU_TestFunc fn;   /* the test */
} ld_test_case;

#define LD_TEST(fn)                                                                                \
    { #fn, fn }

/* Runs the cases (terminated by {0}) as one suite; returns the exit status:
 * 0 when every assertion passed, 1 otherwise. */
int ld_unit_run(const char *suite, const ld_test_case *cases);

/* Reads a whole file under tests/data into a malloc'd NUL-terminated string;
 * aborts the test run when it cannot (a missing fixture is a broken test). */
char *ld_unit_read_data(const char *relpath, size_t *len);

/* A target spec with nothing set (scheme tcp, any status expected): what a
 * probe's summary reads when the test does not care about the target. */
extern const ld_target_spec ld_unit_no_spec;

#endif
