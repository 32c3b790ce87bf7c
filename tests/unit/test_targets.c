/* test_targets.c - splitting targets files into lines and words: quotes,
 * comments, blank lines, and errors that name the line. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/targets.h"
#include "unit.h"

/* What the parse saw: every line's words joined by '|', lines by '\n'. */
typedef struct seen {
    char text[4096];
    int lines;
} seen;

static ld_status collect(void *arg, int argc, char **argv, ld_err *err) {
    seen *s = arg;
    (void)err;
    size_t len = strlen(s->text);
    for (int i = 0; i < argc; i++)
        len += (size_t)snprintf(s->text + len, sizeof s->text - len, "%s%s", i ? "|" : "", argv[i]);
    snprintf(s->text + len, sizeof s->text - len, "\n");
    s->lines++;
    return argv[argc] == NULL ? LD_OK : LD_EINVAL;
}

static const char *parse(const char *text, ld_status want) {
    static seen s;
    memset(&s, 0, sizeof s);
    ld_err err = {{0}};
    CU_ASSERT_EQUAL(ld_targets_parse(text, strlen(text), collect, &s, &err), want);
    return want == LD_OK ? s.text : strcpy(s.text, err.msg);
}

static void one_target_per_line_with_its_options(void) {
    CU_ASSERT_STRING_EQUAL(parse("a:1\nhttps://b:2 --expect-status 400\n", LD_OK),
                           "a:1\nhttps://b:2|--expect-status|400\n");
}

static void comments_and_blank_lines_are_ignored(void) {
    CU_ASSERT_STRING_EQUAL(parse("# header\n\n  \t\na:1   # why this one\n#b:2\n", LD_OK), "a:1\n");
}

static void quotes_keep_blanks_and_hashes(void) {
    CU_ASSERT_STRING_EQUAL(parse("a:1 --sni 'x y' \"#not a comment\" \"q\\\"uote\"\n", LD_OK),
                           "a:1|--sni|x y|#not a comment|q\"uote\n");
    CU_ASSERT_STRING_EQUAL(parse("a:1 --x=a'b c'd\r\n", LD_OK), "a:1|--x=ab cd\n");
}

static void errors_name_the_line(void) {
    CU_ASSERT_STRING_EQUAL(parse("a:1\n\nb:2 'open\n", LD_EINVAL), "3: unterminated single quote");
    char longline[LD_TARGETS_LINE_MAX + 10];
    memset(longline, 'a', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    CU_ASSERT_TRUE(strncmp(parse(longline, LD_EINVAL), "1: line longer than", 19) == 0);
    char many[400] = "t:1";
    for (int i = 0; i < LD_TARGETS_WORDS_MAX; i++)
        strcat(many, " w");
    CU_ASSERT_STRING_EQUAL(parse(many, LD_EINVAL), "1: more than 64 words");
}

static void a_nul_byte_is_refused(void) {
    seen s = {{0}, 0};
    ld_err err;
    CU_ASSERT_EQUAL(ld_targets_parse("a:1\nb\0:2\n", 9, collect, &s, &err), LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "2: a NUL byte (not a text file?)");
}

static void reading_stops_at_the_deadline_of_a_silent_producer(void) {
    int p[2];
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    int saved = dup(STDIN_FILENO);
    dup2(p[0], STDIN_FILENO);
    CU_ASSERT_EQUAL(write(p[1], "a:1\n", 4), 4); /* and never closes its end */
    char *text = NULL;
    size_t len;
    ld_err err;
    ld_time start = ld_time_now();
    CU_ASSERT_EQUAL(ld_targets_read("-", start + 100 * LD_MS, &text, &len, &err), LD_EINVAL);
    CU_ASSERT_TRUE(ld_time_now() - start < 2 * LD_SEC);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--timeout"));
    dup2(saved, STDIN_FILENO);
    close(saved);
    close(p[0]);
    close(p[1]);
}

static void reading_a_file_whole(void) {
    char path[] = LD_TEST_OUT "/targetsXXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "a:1\nb:2\n", 8), 8);
    close(fd);
    char *text;
    size_t len;
    ld_err err;
    CU_ASSERT_EQUAL(ld_targets_read(path, ld_time_now() + LD_SEC, &text, &len, &err), LD_OK);
    CU_ASSERT_EQUAL(len, 8);
    CU_ASSERT_STRING_EQUAL(text, "a:1\nb:2\n");
    free(text);
    unlink(path);
    CU_ASSERT_EQUAL(ld_targets_read(LD_TEST_OUT, ld_time_now() + LD_SEC, &text, &len, &err),
                    LD_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "is a directory");
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(one_target_per_line_with_its_options),
        LD_TEST(comments_and_blank_lines_are_ignored),
        LD_TEST(quotes_keep_blanks_and_hashes),
        LD_TEST(errors_name_the_line),
        LD_TEST(a_nul_byte_is_refused),
        LD_TEST(reading_stops_at_the_deadline_of_a_silent_producer),
        LD_TEST(reading_a_file_whole),
        {0},
    };
    return ld_unit_run("targets", cases);
}
