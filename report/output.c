/* output.c - writing a report: stdout, or a file replaced atomically. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"

ld_status ld_report_check_path(const char *path, ld_err *err) {
    if (!*path)
        return ld_err_set(err, LD_EINVAL, "empty output path");
    if (strlen(path) >= 4000)
        return ld_err_set(err, LD_EINVAL, "output path is too long");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return ld_err_set(err, LD_EINVAL, "is a directory");
    char dir[4096];
    ld_path_dir(path, dir, sizeof dir);
    if (stat(dir, &sb) < 0)
        return ld_err_set(err, LD_EINVAL, "directory %s does not exist", dir);
    if (!S_ISDIR(sb.st_mode))
        return ld_err_set(err, LD_EINVAL, "%s is not a directory", dir);
    if (access(dir, W_OK) < 0)
        return ld_err_set(err, LD_EINVAL, "directory %s is not writable: %s", dir, strerror(errno));
    return LD_OK;
}

static ld_status write_all(int fd, const char *data, size_t len, ld_err *err) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ld_err_set(err, LD_EIO, "write: %s", strerror(errno));
        }
        data += n;
        len -= (size_t)n;
    }
    return LD_OK;
}

ld_status ld_report_write(const char *path, const char *data, size_t len, ld_err *err) {
    if (!path) {
        ld_status st = write_all(STDOUT_FILENO, data, len, err);
        if (st != LD_OK)
            ld_err_prefix(err, "standard output: ");
        return st;
    }
    char dir[4096], tmp[4200];
    ld_path_dir(path, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return ld_err_set(err, LD_EIO, "%s: cannot create a temporary file in %s: %s", path, dir,
                          strerror(errno));
    ld_status st = write_all(fd, data, len, err);
    if (st == LD_OK) {
        /* mkstemp makes 0600; a report is as readable as any file we create. */
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
        if (fsync(fd) < 0)
            st = ld_err_set(err, LD_EIO, "fsync: %s", strerror(errno));
    }
    if (close(fd) < 0 && st == LD_OK)
        st = ld_err_set(err, LD_EIO, "close: %s", strerror(errno));
    if (st == LD_OK && rename(tmp, path) < 0)
        st = ld_err_set(err, LD_EIO, "rename: %s", strerror(errno));
    if (st != LD_OK) {
        unlink(tmp);
        ld_err_prefix(err, "%s: ", path);
    }
    return st;
}
