/* ops_ids.h: the numbers of incidents operators create (INC-OPS-<n>), unique across the nodes of a cluster.
 *
 * On one machine the next number is one past the highest the live state has applied (live_ops.h:
 * msh_ops_seq), as it always was: the operators' lock orders creations. Nodes of a cluster apply
 * the same feed log but take requests independently, so two of them creating an incident at the same
 * moment would both pick the same n. On a PostgreSQL store the number comes from a sequence in the
 * database instead (`msh_incident_ops_ids`), which never gives a value twice, whichever node asks; a
 * sequence behind the applied numbers (a live state older than the sequence, the first start of a
 * cluster on incidents created before) is moved past them once, then asked again.
 *
 * Threads: any, one at a time (the handle's mutex).
 */
#ifndef MSH_OPS_IDS_H
#define MSH_OPS_IDS_H

#include <stdint.h>

#include "core/msh_err.h"

typedef struct msh_ops_ids msh_ops_ids;

/** The id source for the store `db_path`: on PostgreSQL a connection and the sequence (made when
 * missing); on SpatiaLite *out is NULL, which msh_ops_ids_next accepts. */
msh_rc msh_ops_ids_open(const char *db_path, msh_ops_ids **out, msh_err *err);
void msh_ops_ids_close(msh_ops_ids *ids);

/** A number past `applied` (the highest the live state holds) that no other node gets; 0 when the
 * database cannot be asked (the caller answers 503). */
uint64_t msh_ops_ids_next(msh_ops_ids *ids, uint64_t applied);

#endif
