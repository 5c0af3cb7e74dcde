/* outfile.h: writing a file that appears whole or not at all.
 *
 * A writer makes its file under a temporary name beside the final one (same folder, hence the
 * same file system: `.NAME.partXXXXXX`), and only once everything is written and fsync'ed renames
 * it over the final name and fsyncs the folder. An interrupted or failed export removes its
 * temporary file; a killed one may leave it, never a half file under the final name.
 */
#ifndef MSH_OUTFILE_H
#define MSH_OUTFILE_H

#include <stddef.h>

#include "core/msh_err.h"

typedef struct msh_outfile {
    char final[4096];
    char tmp[4096 + 32];
    int fd; /* open on tmp, -1 once closed */
} msh_outfile;

/** A zeroed writer struct of `size` bytes whose first member is an msh_outfile, opened on `final`
 * (msh_outfile_open); NULL with err set on failure. Free it with free() after msh_outfile_discard. */
void *msh_outfile_writer_new(size_t size, const char *final, msh_err *err);

/** Create the temporary file for `final` (open read-write, empty). */
msh_rc msh_outfile_open(msh_outfile *f, const char *final, msh_err *err);
/** fsync and close the temporary file, rename it to the final name, fsync the folder. */
msh_rc msh_outfile_commit(msh_outfile *f, msh_err *err);
/** Close and remove the temporary file (after a failure; nothing after a commit). */
void msh_outfile_discard(msh_outfile *f);

#endif
