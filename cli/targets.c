/* targets.c - reading and splitting targets files. */
#include "targets.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Splits one line (NUL-terminated, modified in place) into words. */
static ld_status split(char *line, char **words, int *n, ld_err *err) {
    char *r = line, *w = line;
    *n = 0;
    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r')
            r++;
        if (!*r || *r == '#')
            return LD_OK;
        if (*n == LD_TARGETS_WORDS_MAX)
            return ld_err_set(err, LD_EINVAL, "more than %d words", LD_TARGETS_WORDS_MAX);
        words[(*n)++] = w;
        while (*r && *r != ' ' && *r != '\t' && *r != '\r') {
            if (*r == '\'' || *r == '"') {
                char q = *r++;
                while (*r && *r != q) {
                    if (q == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
                        r++;
                    *w++ = *r++;
                }
                if (!*r)
                    return ld_err_set(err, LD_EINVAL, "unterminated %s quote",
                                      q == '"' ? "double" : "single");
                r++;
            } else {
                *w++ = *r++;
            }
        }
        int more = *r != '\0';
        if (more)
            r++;
        *w++ = '\0';
        if (!more)
            return LD_OK;
    }
}

ld_status ld_targets_parse(const char *text, size_t len, ld_targets_line_fn fn, void *arg,
                           ld_err *err) {
    char line[LD_TARGETS_LINE_MAX + 1];
    char *words[LD_TARGETS_WORDS_MAX + 1];
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        ld_err inner;
        ld_status st = LD_OK;
        if (n > LD_TARGETS_LINE_MAX)
            st = ld_err_set(&inner, LD_EINVAL, "line longer than %d characters",
                            LD_TARGETS_LINE_MAX);
        else if (memchr(text + pos, '\0', n))
            st = ld_err_set(&inner, LD_EINVAL, "a NUL byte (not a text file?)");
        int nwords = 0;
        if (st == LD_OK) {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            st = split(line, words, &nwords, &inner);
        }
        if (st == LD_OK && nwords > 0) {
            words[nwords] = NULL;
            st = fn(arg, nwords, words, &inner);
        }
        if (st != LD_OK)
            return ld_err_set(err, st, "%zu: %s", lineno, inner.msg);
        pos += n + (nl ? 1 : 0);
    }
    return LD_OK;
}

ld_status ld_targets_read(const char *path, ld_time deadline, char **text, size_t *len,
                          ld_err *err) {
    return ld_cli_read_file(path, deadline, LD_TARGETS_FILE_MAX, text, len, err);
}

ld_status ld_cli_read_file(const char *path, ld_time deadline, size_t max, char **text, size_t *len,
                           ld_err *err) {
    ld_status st = LD_OK;
    int stdin_ = strcmp(path, "-") == 0;
    int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    *text = NULL;
    *len = 0;
    if (fd < 0)
        return ld_err_set(err, LD_EINVAL, "%s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || S_ISDIR(sb.st_mode)) {
        st = ld_err_set(err, LD_EINVAL, "%s",
                        S_ISDIR(sb.st_mode) ? "is a directory" : strerror(errno));
        goto out;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                st = ld_err_set(err, LD_ELIMIT, "larger than %zu MiB", max >> 20);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 16384;
            ncap = ncap > max ? max : ncap;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = ld_err_set(err, LD_ENOMEM, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ld_time left = deadline ? deadline - ld_time_now() : 0;
        if (deadline && left <= 0) {
            st = ld_err_set(err, LD_EINVAL, "still not at its end when --timeout passed");
            goto out;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, deadline ? (int)(left / LD_MS) + 1 : -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            continue; /* the deadline check above decides */
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0) {
            st = ld_err_set(err, LD_EINVAL, "%s", strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf = buf ? buf : malloc(1);
    if (!buf) {
        st = ld_err_set(err, LD_ENOMEM, "out of memory");
        goto out;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (!stdin_)
        close(fd);
    return st;
}
