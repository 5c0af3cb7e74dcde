/* makevalid_child.h: GEOS MakeValid with a budget, in a child process (the edit path's repair).
 *
 * MakeValid of a few thousand vertices crossing each other runs for minutes and takes
 * gigabytes. The importer stops it with geos_budget.h, but GEOS 3.11's interrupt is
 * process-wide, so a server (many requests at once) cannot use it: one edit's budget would
 * interrupt every other GEOS call of the process. Here the repair runs in a forked child with
 * its own limits instead: RLIMIT_AS (its address space at the fork plus MSH_MAKEVALID_MEM_BYTES),
 * RLIMIT_CPU, and a wall deadline (MSH_MAKEVALID_WALL_MS) after which the parent kills it. The
 * geometry goes to the child in the fork's copy of memory and comes back as WKB through a pipe
 * (capped). Only invalid geometries get here: a valid one (the common case) never forks.
 *
 * After fork the child of a threaded process uses only what is safe there in practice: glibc's
 * malloc (reset by its own fork handlers), a fresh GEOS context, write(2) and _exit(2). It
 * never returns into the server.
 */
#ifndef MSH_MAKEVALID_CHILD_H
#define MSH_MAKEVALID_CHILD_H

#include "geom_clean.h"

#define MSH_MAKEVALID_WALL_MS 1000
#define MSH_MAKEVALID_MEM_BYTES ((size_t)512 << 20)
#define MSH_MAKEVALID_OUT_MAX ((size_t)64 << 20)

/**
 * The geom_clean.h hook (msh_geom_cleaner.make_valid): GEOSMakeValid of `g` in a child, the
 * result in c's context; NULL when it failed, or when the budget ran out (then c->too_complex).
 */
GEOSGeometry *msh_makevalid_child(msh_geom_cleaner *c, const GEOSGeometry *g);

#endif
