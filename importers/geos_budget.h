/* geos_budget.h: a time and memory budget for the GEOS work on one feature.
 *
 * GEOS (3.11 on Debian 12) checks for interrupts inside its long algorithms (MakeValid,
 * overlay, buffer, validity); a registered callback may ask it to stop, and the call then
 * fails with "InterruptedException". msh_geos_budget_arm() starts a budget (wall seconds,
 * bytes of resident memory above what the process holds when armed); while armed the
 * callback stops GEOS once either is spent, and msh_geos_budget_tripped() says which.
 *
 * The GEOS interrupt callback is process-wide in 3.11 (GEOSContext_setInterruptCallback_r
 * came in 3.14), so the budget is too: one importer arms it at a time, from one thread.
 * The server does not arm it, and nothing is interrupted while it is disarmed.
 */
#ifndef MSH_GEOS_BUDGET_H
#define MSH_GEOS_BUDGET_H

#include <stddef.h>

typedef enum { MSH_BUDGET_OK = 0, MSH_BUDGET_TIME = 1, MSH_BUDGET_MEMORY = 2 } msh_budget_state;

/** Register the callback (keeps the one it replaces); pair with msh_geos_budget_uninstall. */
void msh_geos_budget_install(void);
void msh_geos_budget_uninstall(void);
/** Start a budget of `seconds` (0: none) and `bytes` of resident growth (0: none). */
void msh_geos_budget_arm(double seconds, size_t bytes);
/** Stop the budget; returns what tripped it, if anything, since the arm. */
msh_budget_state msh_geos_budget_disarm(void);

#endif
