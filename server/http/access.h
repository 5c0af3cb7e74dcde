/* access.h: who may write what: the per-collection rules of OGC API - Features Part 4 edits.
 *
 * A rule names a role, the collections it covers ("*": every collection) and what it may do
 * there (create, replace, update, delete), and whether a write there may go without `If-Match`
 * ("if_match": "optional"; by default replace, update and delete need it, so two operators
 * never overwrite each other unawares). The rules come from `--access FILE`:
 *
 *   {"rules": [
 *     {"role": "ops", "collections": ["assets", "work_orders"], "may": ["create", "replace", "update", "delete"]},
 *     {"role": "reporter", "collections": ["reports"], "may": ["create"]}
 *   ]}
 *
 * or, without the option, from MSH_ACCESS_DEFAULTS (data/access.json holds the same). A rule for
 * role R applies to a token of role R, and to ops and admin tokens above R (admin may do what ops
 * may); a feed token gets only rules written for feed (feeds only, by default none). Unknown keys,
 * roles or operations are errors naming them: a typo never widens or narrows access silently.
 * A rule set is immutable once parsed: any number of threads may read it.
 */
#ifndef MSH_ACCESS_H
#define MSH_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msh_err.h"
#include "tokens.h"

/** What a rule may allow (bits). */
enum { MSH_ACC_CREATE = 1u, MSH_ACC_REPLACE = 2u, MSH_ACC_UPDATE = 4u, MSH_ACC_DELETE = 8u };

/** Largest access file, bytes; most rules; most collections in one rule. */
#define MSH_ACCESS_MAX_BYTES ((size_t)1 << 20)
#define MSH_ACCESS_MAX_RULES 256
#define MSH_ACCESS_MAX_COLLECTIONS 256

/** The rules in force without --access. */
extern const char MSH_ACCESS_DEFAULTS[];

typedef struct msh_access msh_access;

/** Parse rules from JSON text. Errors: MSH_EINVAL naming what is wrong, MSH_ENOMEM. */
msh_rc msh_access_parse(const char *text, size_t len, msh_access **out, msh_err *err);
/** Read and parse a rules file. */
msh_rc msh_access_load(const char *path, msh_access **out, msh_err *err);
void msh_access_free(msh_access *a);

/**
 * What a token of `role` may do on `collection` (MSH_ACC_* bits); *if_match_optional (may be
 * NULL) says whether a rule that grants it lets writes go without If-Match.
 */
unsigned msh_access_ops(const msh_access *a, const char *collection, msh_role role, bool *if_match_optional);

/**
 * Where a collection's ids come from (the file's "ids" member, absent from the defaults):
 *
 *   "ids": {"assets": {"property": "asset_id"}, "work_orders": {"member": "id"}}
 *
 * "property": a property of the layer is the feature's identity: POST must send it, and no two
 * features may share it (409 duplicate_id); the server still numbers the item. "member": the
 * Feature's own `id` (a positive integer) becomes the item's id, never one used before (409).
 * NULL: none, the server assigns ids. Otherwise the field's name ("id" with *member set).
 */
const char *msh_access_id_field(const msh_access *a, const char *collection, bool *member);

/** How many rules (for the start-up line). */
size_t msh_access_count(const msh_access *a);

#endif
