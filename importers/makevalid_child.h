/* makevalid_child.h: GEOS MakeValid with a budget, in a child process.
 *
 * MakeValid of a few thousand vertices crossing each other runs for minutes and takes
 * gigabytes, and GEOS 3.11 checks for interrupts only in some of its steps: the noding of a
 * million crossings allocates a gigabyte and runs for seconds without one check, so an
 * in-process budget (geos_budget.h) overshoots by that much. And the interrupt is
 * process-wide, so a server (many requests at once) cannot use it at all. Here the repair runs
 * in a forked child with its own limits, taken from the cleaner (geom_clean.h):
 *   - memory: the parent reads the child's resident size every 10 ms and kills it past its own
 *     resident size at the fork plus repair_bytes (RLIMIT_AS would hold too, but
 *     AddressSanitizer aborts a process whose own mmap fails);
 *   - CPU: the parent reads the child's CPU clock every 10 ms and kills it past repair_cpu_s
 *     (the importer: the same on a busy machine as on a quiet one), RLIMIT_CPU as a backstop;
 *   - wall: the parent kills it past repair_wall_ms (the edit path: an answer in bounded time).
 * The geometry goes to the child in the fork's copy of memory and comes back as WKB through a
 * pipe (capped). Only invalid geometries get here: a valid one (the common case) never forks.
 *
 * After fork the child of a threaded process uses only what is safe there in practice: glibc's
 * malloc (reset by its own fork handlers), a fresh GEOS context, write(2) and _exit(2). It
 * never returns into the caller.
 */
#ifndef MSH_MAKEVALID_CHILD_H
#define MSH_MAKEVALID_CHILD_H

#include "geom_clean.h"

#define MSH_MAKEVALID_WALL_MS 1000
#define MSH_MAKEVALID_MEM_BYTES ((size_t)512 << 20)
/* up to this many vertices the importer repairs in its own process, under its GEOS budget */
#define MSH_MAKEVALID_INPROC_VERTICES 256
#define MSH_MAKEVALID_OUT_MAX ((size_t)64 << 20)

/**
 * The geom_clean.h hook (msh_geom_cleaner.make_valid): GEOSMakeValid of `g` in a child, the
 * result in c's context; NULL when it failed, or when the budget ran out (then c->too_complex
 * says which part: MSH_BUDGET_TIME or MSH_BUDGET_MEMORY).
 */
GEOSGeometry *msh_makevalid_child(msh_geom_cleaner *c, const GEOSGeometry *g);

#endif
