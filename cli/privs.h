/* privs.h - giving up privilege once the capture handle is open.
 *
 * Packet capture is the only thing linkdoctor needs privilege for, and only
 * to open its handle. After that the process narrows what it may do (in the
 * spirit of OpenBSD's pledge): started through sudo, it becomes the invoking
 * user when that user can write the report; otherwise it keeps its uid but
 * drops every capability (keeping only CAP_DAC_OVERRIDE when the report
 * must go into a directory that neither root owns nor the user can write).
 * PR_SET_NO_NEW_PRIVS makes the drop final.
 */
#ifndef LD_PRIVS_H
#define LD_PRIVS_H

#include <stddef.h>

#include "core/err.h"

/* Drops privilege as described above; output is the -o path or NULL.
 * Writes what was done ("now uid 1000 (sudo user)", "capabilities dropped",
 * "nothing to drop") into done. */
ld_status ld_privs_drop(const char *output, char *done, size_t donelen, ld_err *err);

#endif
