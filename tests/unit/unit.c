/* unit.c - CUnit runner shared by the unit test executables. */
#include "unit.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

int ld_unit_run(const char *suite_name, const ld_test_case *cases) {
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    if (!suite)
        goto fail;
    for (const ld_test_case *c = cases; c->name; c++)
        if (!CU_add_test(suite, c->name, c->fn))
            goto fail;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS)
        goto fail;
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "%s: no tests ran\n", suite_name);
        return 1;
    }
    return failed ? 1 : 0;
fail:
    fprintf(stderr, "%s: CUnit error: %s\n", suite_name, CU_get_error_msg());
    CU_cleanup_registry();
    return 1;
}

char *ld_unit_read_data(const char *relpath, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", LD_TEST_DATA, relpath);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing test fixture %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read test fixture %s\n", path);
        abort();
    }
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

const ld_target_spec ld_unit_no_spec;
