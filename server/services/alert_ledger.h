/* alert_ledger.h: alerts sent exactly once by a cluster, through a ledger in the shared store.
 *
 * Every node of a cluster applies the same feed, so every node computes the same alerts (density,
 * gates, zones, sensors, permits, forecast). The ledger makes one event of each change of an
 * alert's state, whichever node computed it first and whichever node dies:
 *
 *   - each node keeps, per alert subject (`key`: "density/21/x/y", "gate/G1"), the latest state it
 *     computed, marked "not yet written by me" (the gate: msh_events_alert, any thread);
 *   - the node holding the emitter lease (emitter_lease.h) writes each such state to the table
 *     `msh_alert_ledger` (key, state, event) when the table's state for that key differs, on the
 *     lease's own session: a write is fenced by the lease (it fails once the session, and so the
 *     lock, is gone). A row written gets the next number of a sequence;
 *   - every node reads the rows past the last number it saw, in order, and publishes each one into
 *     its own event ring: its SSE subscribers get every alert event once, wherever it came from;
 *   - a node that takes the lease writes every state it holds again (compare-and-set: only those
 *     that differ from the table become events). So an alert the dead holder had computed but not
 *     written is written by the next holder, and one it had written is not sent again.
 *
 * The guarantee, exactly: a change of state of a key is an event at most once per state the
 * table moves to (the write is a compare-and-set under the lease), and every state the cluster
 * computes while some node holds the lease reaches the table within a tick (0.1 s) of that node
 * computing it; states computed and superseded while no node holds the lease (between a holder's
 * death and the next node's check, under a second) are not events: the new holder writes the
 * latest state of each key, so a raise followed by a clear inside that window sends nothing.
 * A state going inactive for a key the table never held active is not an event.
 *
 * On a single machine (SpatiaLite) there is no ledger and events are published directly.
 * Threads: the gate runs on any thread (under the live write lock too): it only takes the
 * ledger's mutex. msh_alert_ledger_tick runs on the reload thread, which owns the session.
 */
#ifndef MSH_ALERT_LEDGER_H
#define MSH_ALERT_LEDGER_H

#include "core/msh_buf.h"
#include "core/msh_err.h"
#include "routes/events.h"
#include "services/emitter_lease.h"

typedef struct msh_alert_ledger msh_alert_ledger;

/** Alert subjects kept per node (beyond: the quiet ones are forgotten first; then new ones are dropped). */
#define MSH_LEDGER_MAX_KEYS 65536
/** How often the reload thread writes and reads the ledger, in seconds. */
#define MSH_LEDGER_TICK_S 0.1

/** A ledger over `lease`'s session; installs itself as `events`' alert gate. */
msh_rc msh_alert_ledger_open(msh_emitter *lease, msh_events *events, msh_alert_ledger **out, msh_err *err);
/** Removes the gate and frees; call after the producers and the reload thread stopped. */
void msh_alert_ledger_close(msh_alert_ledger *l);
/** Reload thread: write what this node computed (when it holds the lease), publish new rows. */
void msh_alert_ledger_tick(msh_alert_ledger *l, double now_s);
/** Counters: written, relayed, kept subjects not yet written by this node, dropped. Any thread. */
void msh_alert_ledger_metrics(msh_alert_ledger *l, msh_buf *b);

#endif
