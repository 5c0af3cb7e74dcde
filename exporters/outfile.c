/* outfile.c: temporary name, fsync, rename, fsync of the folder (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

msh_rc msh_outfile_open(msh_outfile *f, const char *final, msh_err *err)
{
    f->fd = -1;
    f->tmp[0] = 0;
    if (strlen(final) >= sizeof f->final)
        return msh_err_set(err, MSH_EINVAL, "output path too long");
    snprintf(f->final, sizeof f->final, "%s", final);
    char d[4096], b[4096];
    snprintf(d, sizeof d, "%s", final);
    snprintf(b, sizeof b, "%s", final);
    snprintf(f->tmp, sizeof f->tmp, "%s/.%s.partXXXXXX", dirname(d), basename(b));
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        msh_rc rc = msh_err_set(err, MSH_EIO, "cannot create %s: %s", f->tmp, strerror(errno));
        f->tmp[0] = 0;
        return rc;
    }
    return MSH_OK;
}

void *msh_outfile_writer_new(size_t size, const char *final, msh_err *err)
{
    msh_outfile *f = calloc(1, size);
    if (!f) {
        msh_err_set(err, MSH_ENOMEM, "out of memory");
        return NULL;
    }
    if (msh_outfile_open(f, final, err)) {
        free(f);
        return NULL;
    }
    return f;
}

/* mkstemp makes the file 0600; the archive gets the mode any new file would (0666 less the umask).
 * umask can only be read by setting it: done at once, before any thread of the export starts
 * or after they ended. */
static int chmod_default(int fd)
{
    mode_t m = umask(022);
    umask(m);
    return fchmod(fd, 0666 & ~m);
}

msh_rc msh_outfile_commit(msh_outfile *f, msh_err *err)
{
    msh_rc rc = MSH_OK;
    if (chmod_default(f->fd))
        rc = msh_err_set(err, MSH_EIO, "cannot set the mode of %s: %s", f->tmp, strerror(errno));
    if (!rc && fsync(f->fd))
        rc = msh_err_set(err, MSH_EIO, "cannot write %s: %s", f->tmp, strerror(errno));
    if (close(f->fd) && !rc)
        rc = msh_err_set(err, MSH_EIO, "cannot write %s: %s", f->tmp, strerror(errno));
    f->fd = -1;
    if (!rc && rename(f->tmp, f->final))
        rc = msh_err_set(err, MSH_EIO, "cannot rename %s to %s: %s", f->tmp, f->final, strerror(errno));
    if (rc) {
        msh_outfile_discard(f);
        return rc;
    }
    f->tmp[0] = 0;
    char d[4096];
    snprintf(d, sizeof d, "%s", f->final);
    int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { /* the rename itself made durable; a folder that cannot be opened has no fsync to do */
        if (fsync(dfd) && errno != EINVAL)
            rc = msh_err_set(err, MSH_EIO, "cannot sync the folder of %s: %s", f->final, strerror(errno));
        close(dfd);
    }
    return rc;
}

void msh_outfile_discard(msh_outfile *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp[0])
        unlink(f->tmp);
    f->tmp[0] = 0;
}
