/* path.h - file name helpers shared by the front end and the report writer. */
#ifndef LD_PATH_H
#define LD_PATH_H

#include <stddef.h>

/* The directory part of path, as dirname(3) reads it ("." when there is
 * none), into buf of len bytes (truncated to fit). path is not changed. */
void ld_path_dir(const char *path, char *buf, size_t len);

#endif
