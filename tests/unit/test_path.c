/* test_path.c - the directory a report or capture file is written into. */
#include <string.h>

#include "core/path.h"
#include "unit.h"

/* 1 when the directory of path, through a buffer of len bytes, is want. */
static int dir_is(const char *path, size_t len, const char *want) {
    char buf[64];
    memset(buf, 'x', sizeof buf);
    ld_path_dir(path, buf, len);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "\n  dir(%s) = '%s', want '%s'", path, buf, want);
    return strcmp(buf, want) == 0;
}

static void directory_part_as_dirname_reads_it(void) {
    CU_ASSERT_TRUE(dir_is("out/report.json", 64, "out"));
    CU_ASSERT_TRUE(dir_is("/var/lib/ld/report.json", 64, "/var/lib/ld"));
    CU_ASSERT_TRUE(dir_is("/report.json", 64, "/"));
    CU_ASSERT_TRUE(dir_is("a/b/", 64, "a"));
}

static void bare_file_name_is_in_the_current_directory(void) {
    CU_ASSERT_TRUE(dir_is("report.json", 64, "."));
}

static void path_is_left_unchanged_and_buffer_bounded(void) {
    const char path[] = "some/where/report.json";
    CU_ASSERT_TRUE(dir_is(path, 5, "some"));
    CU_ASSERT_STRING_EQUAL(path, "some/where/report.json");
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(directory_part_as_dirname_reads_it),
        LD_TEST(bare_file_name_is_in_the_current_directory),
        LD_TEST(path_is_left_unchanged_and_buffer_bounded),
        {0},
    };
    return ld_unit_run("path", cases);
}
