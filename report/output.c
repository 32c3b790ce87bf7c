/* output.c - writing a report: stdout, or a file replaced atomically.
 *
 * -o names a regular file, or a name to create one under. Anything else
 * that already exists there is refused, not written:
 *  - a device or a FIFO cannot be replaced (the rename would turn /dev/null
 *    into a report, as root), and writing into it instead is no better:
 *    opened by linkdoctor it is opened with the rights linkdoctor started
 *    with - root's, for /dev/sda as much as for /dev/null - and a FIFO
 *    without a reader blocks its opener past any --timeout. A shell
 *    redirection of standard output does the same job with the invoking
 *    user's rights, and --timeout still holds for the run;
 *  - a symbolic link would be replaced by the report rather than written
 *    through, and following it is not safe either (in a shared directory it
 *    may be someone else's link to a file of root's): the user names the
 *    file itself;
 *  - a directory or a socket is no report.
 * The check runs when the options are read and again just before the
 * rename, in the helper process (see report.h).
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/caps.h"
#include "core/path.h"

#define HELPER_COMMIT       'c'  /* the one request: rename the file into place */
#define HELPER_NOT_A_FILE   (-1) /* its answer when path is no longer absent or a file */
#define HELPER_FALLBACK_FDS 1024 /* descriptors it closes without close_range() */

/* Why path cannot be a report, or NULL when it can (absent or a regular file). */
static const char *unfit(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) < 0 || S_ISREG(sb.st_mode))
        return NULL;
    if (S_ISDIR(sb.st_mode))
        return "is a directory";
    if (S_ISLNK(sb.st_mode))
        return "is a symbolic link, which -o would replace, not write through (name the file "
               "it points to)";
    if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode))
        return "is a device, not a file: -o replaces a file (to write into a device, redirect "
               "standard output)";
    if (S_ISFIFO(sb.st_mode))
        return "is a FIFO, not a file: -o replaces a file (to write into a pipe, redirect "
               "standard output)";
    return "is not a regular file";
}

ld_status ld_report_check_path(const char *path, ld_err *err) {
    if (!*path)
        return ld_err_set(err, LD_EINVAL, "empty output path");
    if (strlen(path) >= LD_REPORT_PATH_MAX)
        return ld_err_set(err, LD_EINVAL, "output path is too long");
    const char *why = unfit(path);
    if (why)
        return ld_err_set(err, LD_EINVAL, "%s", why);
    char dir[LD_REPORT_PATH_MAX];
    struct stat sb;
    ld_path_dir(path, dir, sizeof dir);
    if (stat(dir, &sb) < 0)
        return ld_err_set(err, LD_EINVAL, "directory %s %s", dir,
                          errno == ENOENT ? "does not exist" : strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return ld_err_set(err, LD_EINVAL, "%s is not a directory", dir);
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

/* In the forked helper: closes every descriptor but keep. */
static void close_all_but(int keep) {
    int failed = (keep > 0 && close_range(0, (unsigned)keep - 1, 0) < 0) ||
                 close_range((unsigned)keep + 1, ~0U, 0) < 0;
    for (int fd = 0; failed && fd < HELPER_FALLBACK_FDS; fd++) /* Linux < 5.9 */
        if (fd != keep)
            close(fd);
}

/* The helper process: waits for HELPER_COMMIT or end of file on sock, then
 * renames or removes the temporary file. Between fork and _exit it calls
 * only async-signal-safe functions (our parent may have threads). Every
 * signal but SIGKILL waits: a Ctrl-C reaches the whole process group, and
 * the helper must outlive us to clean up. */
__attribute__((noreturn)) static void helper_main(int sock, const char *tmp, const char *path) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    close_all_but(sock);
    ld_caps_limit(LD_CAP_BIT(CAP_DAC_OVERRIDE) | LD_CAP_BIT(CAP_FOWNER));
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    char c = 0;
    ssize_t n;
    while ((n = read(sock, &c, 1)) < 0 && errno == EINTR)
        ;
    int result = ENOENT;
    if (n == 1 && c == HELPER_COMMIT) {
        struct stat sb;
        if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
            result = HELPER_NOT_A_FILE;
        else
            result = rename(tmp, path) == 0 ? 0 : errno;
    }
    if (result != 0)
        unlink(tmp);
    if (n == 1)
        while (write(sock, &result, sizeof result) < 0 && errno == EINTR)
            ;
    _exit(0);
}

ld_status ld_report_out_open(ld_report_out *out, const char *path, ld_err *err) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    out->helper = -1;
    out->path = path;
    if (!path)
        return LD_OK;
    ld_status st = ld_report_check_path(path, err);
    if (st != LD_OK)
        return st;
    char dir[LD_REPORT_PATH_MAX];
    ld_path_dir(path, dir, sizeof dir);
    snprintf(out->tmp, sizeof out->tmp, "%s.tmp.XXXXXX", path);
    out->fd = mkostemp(out->tmp, O_CLOEXEC);
    if (out->fd < 0)
        return ld_err_set(err, LD_EINVAL, "cannot create a file in %s: %s", dir, strerror(errno));
    /* mkstemp makes 0600; a report is as readable as any file we create. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(out->fd, 0666 & ~mask);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        st = ld_err_set(err, LD_ESYS, "socketpair: %s", strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid == 0)
        helper_main(sv[1], out->tmp, path);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        st = ld_err_set(err, LD_ESYS, "fork: %s", strerror(errno));
        goto fail;
    }
    out->helper = sv[0];
    out->helper_pid = (int)pid;
    out->active = 1;
    return LD_OK;
fail:
    close(out->fd);
    out->fd = -1;
    unlink(out->tmp);
    return st;
}

int ld_report_out_fd(const ld_report_out *out) {
    return out->active ? out->fd : -1;
}

/* Asks the helper to rename the (complete, synced) temporary file. */
static ld_status commit(ld_report_out *out, ld_err *err) {
    char c = HELPER_COMMIT;
    int result = 0;
    ssize_t n;
    while ((n = send(out->helper, &c, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n == 1)
        while ((n = recv(out->helper, &result, sizeof result, 0)) < 0 && errno == EINTR)
            ;
    if (n != (ssize_t)sizeof result)
        return ld_err_set(err, LD_ESYS, "the process that renames the report ended early");
    if (result == HELPER_NOT_A_FILE)
        return ld_err_set(err, LD_EIO, "%s",
                          unfit(out->path) ? unfit(out->path) : "is no longer a regular file");
    if (result != 0)
        return ld_err_set(err, LD_EIO, "rename: %s", strerror(result));
    return LD_OK;
}

ld_status ld_report_out_write(ld_report_out *out, const char *data, size_t len, ld_err *err) {
    ld_status st;
    if (!out->path) {
        st = write_all(STDOUT_FILENO, data, len, err);
        if (st != LD_OK)
            ld_err_prefix(err, "standard output: ");
        return st;
    }
    if (!out->active)
        return ld_err_set(err, LD_EIO, "%s: not open, or written already", out->path);
    st = write_all(out->fd, data, len, err);
    if (st == LD_OK && fsync(out->fd) < 0)
        st = ld_err_set(err, LD_EIO, "fsync: %s", strerror(errno));
    if (close(out->fd) < 0 && st == LD_OK)
        st = ld_err_set(err, LD_EIO, "close: %s", strerror(errno));
    out->fd = -1;
    if (st == LD_OK)
        st = commit(out, err);
    ld_report_out_clear(out);
    if (st != LD_OK)
        ld_err_prefix(err, "%s: ", out->path);
    return st;
}

void ld_report_out_abandon(const ld_report_out *out) {
    if (!out->active)
        return;
    if (out->helper >= 0)
        close(out->helper); /* the helper reads end of file and removes the file */
    while (out->helper_pid > 0 && waitpid(out->helper_pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void ld_report_out_clear(ld_report_out *out) {
    if (!out->active)
        return;
    if (out->fd >= 0)
        close(out->fd);
    out->fd = -1;
    ld_report_out_abandon(out);
    out->helper = -1;
    out->helper_pid = 0;
    out->active = 0;
}

ld_status ld_report_write(const char *path, const char *data, size_t len, ld_err *err) {
    ld_report_out out;
    ld_status st = ld_report_out_open(&out, path, err);
    if (st == LD_OK)
        st = ld_report_out_write(&out, data, len, err);
    else if (path)
        ld_err_prefix(err, "%s: ", path);
    ld_report_out_clear(&out);
    return st;
}
