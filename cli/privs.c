/* privs.c - becoming an unprivileged user after the capture is open. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/caps.h"

#define NOBODY_ID 65534 /* nobody and nogroup, when the user database has no nobody */

/* Reads a positive id from an environment variable; 0 when absent or bad. */
static unsigned env_id(const char *name) {
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    return *end || v == 0 || v > 0x7fffffff ? 0 : (unsigned)v;
}

/* Fills p's ids and groups from the user database entry pw, or from uid and
 * gid alone when there is none. */
static void set_user(ld_privs *p, const struct passwd *pw, uid_t uid, gid_t gid) {
    p->uid = uid;
    p->gid = gid;
    p->ngroups = LD_PRIVS_GROUPS_MAX;
    if (!pw || getgrouplist(pw->pw_name, gid, p->groups, &p->ngroups) < 0) {
        p->groups[0] = gid;
        p->ngroups = 1;
    }
}

ld_status ld_privs_plan(ld_privs *p, const char *user, ld_err *err) {
    memset(p, 0, sizeof *p);
    if (geteuid() != 0) {
        if (user)
            return ld_err_set(err, LD_EINVAL,
                              "--user %s: only a linkdoctor started as root changes user", user);
        snprintf(p->who, sizeof p->who, "uid %u", (unsigned)getuid());
        return LD_OK;
    }
    p->switch_user = 1;
    struct passwd *pw;
    unsigned sudo_uid = env_id("SUDO_UID"), sudo_gid = env_id("SUDO_GID");
    if (user) {
        char *end;
        unsigned long id = strtoul(user, &end, 10);
        pw = getpwnam(user);
        if (!pw && *user && !*end && id <= 0x7fffffff)
            pw = getpwuid((uid_t)id);
        if (!pw)
            return ld_err_set(err, LD_EINVAL, "--user %s: no such user", user);
        if (pw->pw_uid == 0)
            return ld_err_set(err, LD_EINVAL,
                              "--user %s: is root; name an unprivileged user to run as", user);
        set_user(p, pw, pw->pw_uid, pw->pw_gid);
        snprintf(p->who, sizeof p->who, "%.64s (uid %u, --user)", pw->pw_name, (unsigned)p->uid);
    } else if (getuid() == 0 && sudo_uid && sudo_gid) {
        /* SUDO_UID is trusted only from a real root: a setuid binary's caller sets it. */
        set_user(p, getpwuid(sudo_uid), sudo_uid, sudo_gid);
        p->sudo = 1;
        snprintf(p->who, sizeof p->who, "uid %u, the user who ran sudo", sudo_uid);
    } else if (getuid() != 0) {
        set_user(p, getpwuid(getuid()), getuid(), getgid());
        snprintf(p->who, sizeof p->who, "uid %u, the user who ran linkdoctor", (unsigned)getuid());
    } else {
        pw = getpwnam("nobody");
        set_user(p, pw, pw ? pw->pw_uid : NOBODY_ID, pw ? pw->pw_gid : NOBODY_ID);
        snprintf(p->who, sizeof p->who, "nobody (uid %u)", (unsigned)p->uid);
    }
    return LD_OK;
}

/* 1 when uid (with gid and groups) may create files in dir, 0 when not, -1
 * when our own ids could not be restored. The kernel decides, path and ACLs
 * included: we take the user's effective ids for one euidaccess() and come
 * back (as root, both changes are allowed). */
static int dir_writable_by(const char *dir, uid_t uid, gid_t gid, const gid_t *groups,
                           int ngroups) {
    gid_t saved[LD_PRIVS_GROUPS_MAX];
    int nsaved = getgroups(LD_PRIVS_GROUPS_MAX, saved);
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

void ld_privs_give_report(const ld_privs *p, int fd, const char *dir) {
    if (!p->sudo || fd < 0)
        return;
    if (dir_writable_by(dir, p->uid, p->gid, p->groups, p->ngroups) != 1)
        return;
    /* Failing, it stays root's: still the report the user asked for. */
    if (fchown(fd, p->uid, p->gid) < 0)
        return;
}

ld_status ld_privs_drop(const ld_privs *p, char *done, size_t donelen, ld_err *err) {
    if (p->switch_user) {
        /* setuid() from root sets all three uids and clears every capability
         * set; the groups and gids must go first, while we may still change them. */
        if (setgroups((size_t)p->ngroups, p->groups) < 0 || setgid(p->gid) < 0 ||
            setuid(p->uid) < 0)
            return ld_err_set(err, LD_ESYS, "becoming %s: %s", p->who, strerror(errno));
        uid_t r, e, s;
        if (getresuid(&r, &e, &s) < 0 || r != p->uid || e != p->uid || s != p->uid)
            return ld_err_set(err, LD_ESYS, "becoming %s: a uid stayed behind", p->who);
    }
    if (ld_caps_limit(0) < 0)
        return ld_err_set(err, LD_ESYS, "dropping capabilities: %s", strerror(errno));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return ld_err_set(err, LD_ESYS, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    snprintf(done, donelen, "%s %s, no capabilities", p->switch_user ? "now" : "still", p->who);
    return LD_OK;
}
