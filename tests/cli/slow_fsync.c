/* slow_fsync.c - an LD_PRELOAD shim for tests/cli/test_process.py: fsync()
 * first creates the file named by $LD_SLOW_FSYNC_MARK, then sleeps 500 ms
 * before the real fsync, so that a test can send a signal while linkdoctor
 * is in the middle of writing its report (-o). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int fsync(int fd) {
    const char *mark = getenv("LD_SLOW_FSYNC_MARK");
    if (mark) {
        int m = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (m >= 0)
            close(m);
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 500 * 1000 * 1000};
        while (nanosleep(&pause, &pause) < 0)
            ;
    }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real ? real(fd) : -1;
}
