/* privs.c - capability and uid drop after the capture handle is open. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/path.h"

#define MAX_GROUPS 256 /* supplementary groups kept for the sudo user */

/* Reads a positive id from an environment variable; 0 when absent or bad. */
static unsigned env_id(const char *name) {
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    return *end || v == 0 || v > 0x7fffffff ? 0 : (unsigned)v;
}

/* 1 when uid (with gid and groups) may create files in dir, 0 when not, -1
 * when our own ids could not be restored. The kernel decides, path and ACLs
 * included: we take the user's effective ids for one euidaccess() and come
 * back (as root, both changes are allowed). */
static int dir_writable_by(const char *dir, uid_t uid, gid_t gid, const gid_t *groups,
                           int ngroups) {
    gid_t saved[MAX_GROUPS];
    int nsaved = getgroups(MAX_GROUPS, saved);
    if (nsaved < 0 || setgroups((size_t)ngroups, groups) < 0)
        return 0;
    int ok = 0, restored = 1;
    if (setegid(gid) == 0) {
        if (seteuid(uid) == 0) {
            ok = euidaccess(dir, W_OK | X_OK) == 0;
            restored &= seteuid(0) == 0;
        }
        restored &= setegid(0) == 0;
    }
    restored &= setgroups((size_t)nsaved, saved) == 0;
    return restored ? ok : -1;
}

/* Sets the capability sets to nothing, or to CAP_DAC_OVERRIDE alone. */
static int set_caps(int keep_dac_override) {
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (keep_dac_override) {
        data[CAP_TO_INDEX(CAP_DAC_OVERRIDE)].effective |= CAP_TO_MASK(CAP_DAC_OVERRIDE);
        data[CAP_TO_INDEX(CAP_DAC_OVERRIDE)].permitted |= CAP_TO_MASK(CAP_DAC_OVERRIDE);
    }
    return (int)syscall(SYS_capset, &hdr, data);
}

ld_status ld_privs_drop(const char *output, char *done, size_t donelen, ld_err *err) {
    char dir[4096] = ".";
    if (output)
        ld_path_dir(output, dir, sizeof dir);
    uid_t sudo_uid = (uid_t)env_id("SUDO_UID");
    gid_t sudo_gid = (gid_t)env_id("SUDO_GID");
    if (getuid() == 0 && geteuid() == 0 && sudo_uid && sudo_gid) {
        gid_t groups[MAX_GROUPS];
        int ngroups = MAX_GROUPS;
        struct passwd *pw = getpwuid(sudo_uid);
        if (!pw || getgrouplist(pw->pw_name, sudo_gid, groups, &ngroups) < 0) {
            groups[0] = sudo_gid;
            ngroups = 1;
        }
        int writable = output ? dir_writable_by(dir, sudo_uid, sudo_gid, groups, ngroups) : 1;
        if (writable < 0)
            return ld_err_set(err, LD_ESYS, "restoring ids after checking %s: %s", dir,
                              strerror(errno));
        if (writable) {
            if (setgroups((size_t)ngroups, groups) < 0 || setgid(sudo_gid) < 0 ||
                setuid(sudo_uid) < 0)
                return ld_err_set(err, LD_ESYS, "dropping to uid %u: %s", (unsigned)sudo_uid,
                                  strerror(errno));
            /* setuid() from root to another user clears every capability. */
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            snprintf(done, donelen, "now uid %u, the user who ran sudo", (unsigned)sudo_uid);
            return LD_OK;
        }
    }
    /* Stay this user, without capabilities. Root keeps access to what root
     * owns; a report directory owned by someone else needs DAC override. */
    struct stat sb;
    int keep_dac = output && geteuid() == 0 && stat(dir, &sb) == 0 && sb.st_uid != 0;
    if (set_caps(keep_dac) < 0)
        return ld_err_set(err, LD_ESYS, "dropping capabilities: %s", strerror(errno));
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    snprintf(done, donelen, "capabilities dropped%s",
             keep_dac ? " (CAP_DAC_OVERRIDE kept to write the report)" : "");
    return LD_OK;
}
