/* privs.h - giving up privilege once the privileged steps are done.
 *
 * Opening the packet capture is the only thing linkdoctor needs privilege
 * for. Everything that needs privilege or names a file of the invoker's is
 * opened first - the capture, the report's temporary file (whose rename is
 * left to a helper, see report.h), the --rules and --cacert files - and then,
 * before any packet is sent or any byte from the network is read, the
 * process narrows what it may do (in the spirit of OpenBSD's pledge):
 *  - started as root (uid 0), it becomes an unprivileged user: --user NAME
 *    (as tcpdump's -Z), else the user who ran sudo (SUDO_UID/SUDO_GID, when
 *    the real uid is root), else the real user of a setuid-root binary, else
 *    nobody; all its uids and gids, and only that user's groups;
 *  - otherwise it keeps its ids and drops every capability (a binary given
 *    cap_net_raw by setcap);
 *  - in both cases no capability is left in any set, and PR_SET_NO_NEW_PRIVS
 *    makes the drop final (no setuid or file-capability exec can undo it).
 */
#ifndef LD_PRIVS_H
#define LD_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

#define LD_PRIVS_GROUPS_MAX 256 /* supplementary groups kept for the new user */

/* Who linkdoctor becomes, decided before the privileged steps so that a bad
 * --user stops the run before it starts. */
typedef struct ld_privs {
    int switch_user;                   /* 1: started as root, becomes uid/gid */
    uid_t uid;                         /* the user it becomes */
    gid_t gid;                         /* ... their primary group */
    gid_t groups[LD_PRIVS_GROUPS_MAX]; /* ... and their supplementary groups */
    int ngroups;                       /* how many */
    int sudo;                          /* 1: that user ran sudo (a report may be theirs) */
    char who[96];                      /* "nobody", "user 1000 (who ran sudo)", for -v */
} ld_privs;

/* Decides whom to become; user is --user NAME (a name or a number), NULL
 * for the default. Refuses --user unless started as root, and a user that
 * is root. */
ld_status ld_privs_plan(ld_privs *p, const char *user, ld_err *err);
/* Under sudo, hands the report's temporary file (fd, to be renamed in dir)
 * to the user who ran sudo when that user could have created it there
 * themselves; otherwise it stays root's. Nothing when not under sudo. */
void ld_privs_give_report(const ld_privs *p, int fd, const char *dir);
/* Drops privilege as described above. Writes what was done ("now nobody
 * (uid 65534), no capabilities") into done. */
ld_status ld_privs_drop(const ld_privs *p, char *done, size_t donelen, ld_err *err);

#endif
