/* live_ops.c: operator writes on live items: the lifecycle rules, the log record, the bodies
 * (design in live_ops.h). Locks: msh_ops_apply and msh_ops_replay run under the live write lock
 * their caller holds; the rest touches no shared state. */
#include "live_ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/msh_le.h"
#include "core/msh_time.h"
#include "json_in.h"
#include "live_int.h"

static const char *STATUS[MSH_OPS_NSTATUS] = {"reported", "dispatched", "on_scene", "resolved", "cancelled"};
static const char *KINDS[] = {"medical", "lost_person", "fire", "crowding", "security", "other", NULL};
static const char *SEVERITIES[] = {"low", "medium", "high", "critical", NULL}; /* feed severities 1..4 */

int msh_ops_status(const msh_live_item *it)
{
    return (it->ops_flags & MSH_ITEM_CANCELLED) ? MSH_OPS_CANCELLED : it->rec.status;
}

const char *msh_ops_status_name(int s)
{
    return s >= 0 && s < MSH_OPS_NSTATUS ? STATUS[s] : "reported";
}

int msh_ops_status_lookup(const char *s, size_t n)
{
    for (int i = 0; i < MSH_OPS_NSTATUS; i++)
        if (strlen(STATUS[i]) == n && !memcmp(STATUS[i], s, n))
            return i;
    return -1;
}

/* The statuses reachable from `from` in one step. */
static int allowed_from(int from, int *out)
{
    int n = 0;
    if (from < MSH_INC_RESOLVED) {
        out[n++] = from + 1;
        out[n++] = MSH_OPS_CANCELLED;
    }
    return n;
}

static msh_ops_verdict invalid(msh_ops_why *why, const char *text)
{
    snprintf(why->text, sizeof why->text, "%s", text);
    return MSH_OPS_INVALID;
}

msh_ops_verdict msh_ops_check(const msh_live_item *it, const msh_ops_rec *op, msh_ops_why *why)
{
    memset(why, 0, sizeof *why);
    if (op->set & MSH_OPS_SET_CREATE) { /* a new incident: its id must be new */
        if (it)
            return invalid(why, "an item with this id exists already");
        return op->feed == MSH_FEED_INCIDENTS ? MSH_OPS_OK : invalid(why, "operators create incidents only");
    }
    if (!it)
        return MSH_OPS_NOTFOUND;
    if (it->updates != op->expect)
        return MSH_OPS_STALE;
    if (op->feed == MSH_FEED_GATES) {
        if (!(op->set & (MSH_OPS_SET_CLOSED | MSH_OPS_SET_REASON | MSH_OPS_SET_REOPENS)))
            return invalid(why, "nothing to change: send state (open or closed)");
        bool closed = (op->set & MSH_OPS_SET_CLOSED) ? op->closed : (it->ops_flags & MSH_ITEM_CLOSED) != 0;
        if ((op->set & MSH_OPS_SET_REOPENS) && op->reopens_ms && !closed)
            return invalid(why, "reopens_at: only a closed gate reopens (send state closed with it)");
        return MSH_OPS_OK;
    }
    if (op->feed != MSH_FEED_INCIDENTS)
        return invalid(why, "only incidents and gates take operator writes");
    int from = msh_ops_status(it), to = (op->set & MSH_OPS_SET_STATUS) ? op->status : from;
    why->from = from;
    why->to = to;
    why->nallowed = allowed_from(from, why->allowed);
    bool ok = from < MSH_INC_RESOLVED && (to == from || to == why->allowed[0] || to == why->allowed[1]);
    if (!ok) {
        snprintf(why->text, sizeof why->text, "an incident that is %s cannot become %s", msh_ops_status_name(from),
                 msh_ops_status_name(to));
        return MSH_OPS_TRANSITION;
    }
    const char *crew = (op->set & MSH_OPS_SET_CREW) ? op->crew : it->crew;
    const char *reason = (op->set & MSH_OPS_SET_REASON) ? op->reason : it->reason;
    if (to == MSH_INC_DISPATCHED && !crew[0])
        return invalid(why, "assigned_crew: dispatching needs the crew sent");
    if (to == MSH_OPS_CANCELLED && !reason[0])
        return invalid(why, "reason: cancelling needs a reason");
    if ((op->set & MSH_OPS_SET_CREW) && !op->crew[0] && to > MSH_INC_REPORTED && to != MSH_OPS_CANCELLED)
        return invalid(why, "assigned_crew: a dispatched incident keeps a crew (assign another instead)");
    if (!op->set)
        return invalid(why, "nothing to change: send status, assigned_crew, reason, severity or description");
    return MSH_OPS_OK;
}

msh_ops_verdict msh_ops_apply(msh_live *l, const msh_ops_rec *op, int64_t t_ms, msh_ops_why *why)
{
    msh_live_item *it = msh_live_raw_item(l, (msh_feed)op->feed, op->id, op->id_len);
    msh_ops_verdict v = msh_ops_check(it, op, why);
    if (v != MSH_OPS_OK)
        return v;
    if (op->set & MSH_OPS_SET_CREATE) { /* the record as a feed's, with its author for the observer */
        msh_live_raw_set_author(l, op->by, op->by_role);
        msh_live_apply(l, MSH_FEED_INCIDENTS, &op->create, 1, t_ms);
        msh_live_raw_set_author(l, NULL, NULL);
        return msh_live_raw_item(l, MSH_FEED_INCIDENTS, op->id, op->id_len) ? MSH_OPS_OK : MSH_OPS_NOTFOUND;
    }
    msh_feed_rec prev = it->rec;
    if (op->set & MSH_OPS_SET_REASON)
        snprintf(it->reason, sizeof it->reason, "%s", op->reason);
    if (op->feed == MSH_FEED_GATES) {
        if (op->set & MSH_OPS_SET_CLOSED) {
            it->ops_flags = op->closed ? (it->ops_flags | MSH_ITEM_CLOSED) : (it->ops_flags & ~MSH_ITEM_CLOSED);
            if (!op->closed) {
                it->reason[0] = 0; /* an open gate has no closing reason */
                it->reopens_ms = 0; /* nor a reopening time */
            }
        }
        if (op->set & MSH_OPS_SET_REOPENS)
            it->reopens_ms = op->reopens_ms;
    } else {
        if (op->set & MSH_OPS_SET_CREW)
            snprintf(it->crew, sizeof it->crew, "%s", op->crew);
        if (op->set & MSH_OPS_SET_SEVERITY) { /* triage */
            it->rec.severity = op->severity;
            it->rec.has |= MSH_FR_SEVERITY;
        }
        if (op->set & MSH_OPS_SET_DESC) {
            snprintf(it->rec.text, sizeof it->rec.text, "%s", op->desc);
            it->rec.has = op->desc[0] ? (it->rec.has | MSH_FR_TEXT) : (it->rec.has & ~(uint32_t)MSH_FR_TEXT);
        }
        int from = msh_ops_status(it);
        if ((op->set & MSH_OPS_SET_STATUS) && op->status != from) {
            if (op->status == MSH_OPS_CANCELLED) {
                it->ops_flags |= MSH_ITEM_CANCELLED;
                it->cancelled_ms = t_ms;
            } else {
                it->rec.status = op->status;
                it->status_ms[op->status] = t_ms;
            }
        }
    }
    if (t_ms > it->rec.t_ms) /* updated_at; a feed record older than the write is then ignored, as any older one */
        it->rec.t_ms = t_ms;
    it->updates++;
    snprintf(it->by, sizeof it->by, "%s", op->by); /* who, for the observer (the history rows) */
    snprintf(it->by_role, sizeof it->by_role, "%s", op->by_role);
    msh_live_raw_changed(l, (msh_feed)op->feed, it, &prev);
    return MSH_OPS_OK;
}

bool msh_ops_item(msh_live *l, msh_feed feed, const char *id, size_t n, msh_live_item *out)
{
    msh_live_item *it = msh_live_raw_item(l, feed, id, n);
    if (it)
        *out = *it;
    return it != NULL;
}

uint64_t msh_ops_seq(msh_live *l)
{
    return msh_live_raw_ops_seq(l);
}

/* ---- the log record ---- */

msh_rc msh_ops_put_str(msh_buf *b, const char *s)
{
    size_t n = strlen(s);
    msh_rc rc = msh_buf_putc(b, (uint8_t)n);
    return rc ? rc : msh_buf_append(b, s, n);
}

msh_rc msh_ops_encode(const msh_ops_rec *op, msh_buf *b)
{
    uint8_t t[13];
    msh_le64_put(t, op->expect);
    msh_le32_put(t + 8, op->set);
    t[12] = op->status;
    msh_rc rc = msh_buf_putc(b, op->feed);
    if (!rc)
        rc = msh_ops_put_str(b, op->id);
    if (!rc)
        rc = msh_buf_append(b, t, sizeof t);
    if (!rc)
        rc = msh_ops_put_str(b, op->crew);
    if (!rc)
        rc = msh_ops_put_str(b, op->reason);
    if (!rc)
        rc = msh_buf_putc(b, op->closed);
    if (!rc && (op->set & (MSH_OPS_SET_SEVERITY | MSH_OPS_SET_DESC))) { /* the triage tail */
        rc = msh_buf_putc(b, op->severity);
        if (!rc)
            rc = msh_ops_put_str(b, op->desc);
    }
    if (!rc && (op->set & MSH_OPS_SET_REOPENS)) { /* the gate's reopening tail */
        uint8_t r[8];
        msh_le64_put(r, (uint64_t)op->reopens_ms);
        rc = msh_buf_append(b, r, sizeof r);
    }
    bool tail = op->by[0] || op->by_role[0] || (op->set & MSH_OPS_SET_CREATE); /* no author: the older form */
    if (!rc && tail)
        rc = msh_ops_put_str(b, op->by);
    if (!rc && tail)
        rc = msh_ops_put_str(b, op->by_role);
    if (!rc && (op->set & MSH_OPS_SET_CREATE))
        rc = msh_feed_encode(&op->create, 1, b);
    return rc;
}

bool msh_ops_get_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
    if (end - *p < 1 || (size_t)**p >= cap || end - *p - 1 < **p)
        return false;
    size_t n = **p;
    memcpy(out, *p + 1, n);
    out[n] = 0;
    *p += 1 + n;
    return memchr(out, 0, n) == NULL;
}

bool msh_ops_decode(const uint8_t *data, size_t len, msh_ops_rec *op)
{
    const uint8_t *p = data, *end = data + len;
    memset(op, 0, sizeof *op);
    if (end - p < 1)
        return false;
    op->feed = *p++;
    if (!msh_ops_get_str(&p, end, op->id, sizeof op->id) || !op->id[0] || end - p < 13)
        return false;
    op->id_len = (uint8_t)strlen(op->id);
    op->expect = msh_le64_get(p);
    op->set = msh_le32_get(p + 8);
    op->status = p[12];
    p += 13;
    if (!msh_ops_get_str(&p, end, op->crew, sizeof op->crew) || !msh_ops_get_str(&p, end, op->reason, sizeof op->reason) ||
        end - p < 1)
        return false;
    op->closed = *p++;
    bool triage = op->set & (MSH_OPS_SET_SEVERITY | MSH_OPS_SET_DESC);
    if (triage && (end - p < 1 || (op->severity = *p++, !msh_ops_get_str(&p, end, op->desc, sizeof op->desc))))
        return false;
    if (op->set & MSH_OPS_SET_REOPENS) {
        if (end - p < 8 || op->feed != MSH_FEED_GATES)
            return false;
        op->reopens_ms = (int64_t)msh_le64_get(p);
        p += 8;
        if (op->reopens_ms < 0)
            return false;
    }
    if (p < end) { /* a record that names its author (an older one ends here) */
        if (!msh_ops_get_str(&p, end, op->by, sizeof op->by) || !msh_ops_get_str(&p, end, op->by_role, sizeof op->by_role))
            return false;
        if ((op->set & MSH_OPS_SET_CREATE) &&
            (!msh_feed_decode(&p, end, &op->create) || op->create.id_len != op->id_len ||
             memcmp(op->create.id, op->id, op->id_len)))
            return false;
    } else if (op->set & MSH_OPS_SET_CREATE) {
        return false;
    }
    if (p != end || ((op->set & MSH_OPS_SET_SEVERITY) && (op->severity < 1 || op->severity > 4)) ||
        (triage && op->feed != MSH_FEED_INCIDENTS))
        return false;
    return (op->feed == MSH_FEED_INCIDENTS || op->feed == MSH_FEED_GATES) && op->status < MSH_OPS_NSTATUS &&
           op->closed <= 1 && op->set < 256;
}

void msh_ops_replay(msh_live *l, int64_t t_ms, const uint8_t *data, size_t len)
{
    msh_ops_rec op;
    msh_ops_why why;
    if (msh_ops_decode(data, len, &op))
        msh_ops_apply(l, &op, t_ms, &why); /* refused again exactly when it was refused live */
}

/* ---- bodies ---- */

static int fail(char *why, size_t cap, const char *fmt, const char *a)
{
    snprintf(why, cap, fmt, a);
    return -1;
}

static int word_in(const char *s, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (!strcmp(s, words[i]))
            return i;
    return -1;
}

/* A text member: a JSON string of at most cap-1 bytes (null: "" when nullable). */
static int text_member(json_t *v, const char *name, bool nullable, char *out, size_t cap, char *why, size_t wcap)
{
    if (json_is_null(v) && nullable) {
        out[0] = 0;
        return 0;
    }
    if (!json_is_string(v))
        return fail(why, wcap, nullable ? "'%s' must be a string or null" : "'%s' must be a string", name);
    if (json_string_length(v) >= cap)
        return fail(why, wcap, "'%s' is too long", name);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* The members of a patch: the top object's, or those under "properties" (a Feature's merge patch). */
static json_t *patch_members(json_t *root, char *why, size_t cap)
{
    if (!json_is_object(root)) {
        fail(why, cap, "the body must be a JSON object (%s)", "application/merge-patch+json");
        return NULL;
    }
    json_t *props = json_object_get(root, "properties");
    if (props) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v) if (strcmp(k, "properties") && strcmp(k, "type") && strcmp(k, "id"))
        {
            fail(why, cap, "'%s' cannot be changed on a live item", k);
            return NULL;
        }
        if (!json_is_object(props)) {
            fail(why, cap, "'%s' must be an object", "properties");
            return NULL;
        }
        return props;
    }
    return root;
}

int msh_ops_parse_patch(msh_feed feed, const char *body, size_t len, msh_ops_rec *op, char *why, size_t cap)
{
    json_t *root = NULL;
    msh_err err;
    memset(op, 0, sizeof *op);
    op->feed = (uint8_t)feed;
    if (msh_json_in(body, len, MSH_JSON_IN_MAX_DEPTH, &root, &err))
        return fail(why, cap, "the body is not JSON: %s", err.msg);
    int rc = 0;
    json_t *m = patch_members(root, why, cap);
    const char *k;
    json_t *v;
    if (!m)
        rc = -1;
    else
        json_object_foreach(m, k, v)
        {
            if (!strcmp(k, "id") || !strcmp(k, "type")) {
                if (m != root)
                    rc = fail(why, cap, "'%s' cannot be changed on a live item", k);
            } else if (feed == MSH_FEED_INCIDENTS && !strcmp(k, "status")) {
                int s = json_is_string(v) ? msh_ops_status_lookup(json_string_value(v), json_string_length(v)) : -1;
                if (s < 0)
                    rc = fail(why, cap, "'%s' must be reported, dispatched, on_scene, resolved or cancelled", k);
                op->status = (uint8_t)(s < 0 ? 0 : s);
                op->set |= MSH_OPS_SET_STATUS;
            } else if (feed == MSH_FEED_INCIDENTS && !strcmp(k, "assigned_crew")) {
                rc = text_member(v, k, true, op->crew, sizeof op->crew, why, cap);
                op->set |= MSH_OPS_SET_CREW;
            } else if (feed == MSH_FEED_INCIDENTS && !strcmp(k, "severity")) {
                int i = json_is_string(v) ? word_in(json_string_value(v), SEVERITIES) : -1;
                if (i < 0)
                    rc = fail(why, cap, "'%s' must be low, medium, high or critical", k);
                op->severity = (uint8_t)(i + 1);
                op->set |= MSH_OPS_SET_SEVERITY;
            } else if (feed == MSH_FEED_INCIDENTS && !strcmp(k, "description")) {
                rc = text_member(v, k, true, op->desc, sizeof op->desc, why, cap);
                op->set |= MSH_OPS_SET_DESC;
            } else if (!strcmp(k, "reason") || (feed == MSH_FEED_GATES && !strcmp(k, "closed_reason"))) {
                rc = text_member(v, k, true, op->reason, sizeof op->reason, why, cap);
                op->set |= MSH_OPS_SET_REASON;
            } else if (feed == MSH_FEED_GATES && !strcmp(k, "state")) {
                const char *s = json_string_value(v);
                if (!s || (strcmp(s, "open") && strcmp(s, "closed")))
                    rc = fail(why, cap, "'%s' must be open or closed", k);
                op->closed = s && !strcmp(s, "closed");
                op->set |= MSH_OPS_SET_CLOSED;
            } else if (feed == MSH_FEED_GATES && !strcmp(k, "reopens_at")) {
                const char *s = json_string_value(v);
                op->reopens_ms = 0;
                if (!json_is_null(v) && (!s || msh_time_parse_iso(s, strlen(s), &op->reopens_ms, NULL) ||
                                         op->reopens_ms <= 0))
                    rc = fail(why, cap, "'%s' must be an ISO 8601 time with its zone (2026-05-27T06:30:00Z) or null",
                              k);
                op->set |= MSH_OPS_SET_REOPENS;
            } else {
                rc = fail(why, cap,
                          feed == MSH_FEED_GATES ? "'%s' cannot be changed: a gate takes state, reason and reopens_at"
                                                 : "'%s' cannot be changed: an incident takes status, assigned_crew, "
                                                   "reason, severity and description",
                          k);
            }
            if (rc)
                break;
        }
    json_decref(root);
    return rc;
}

int msh_ops_parse_incident(const char *body, size_t len, int64_t t_ms, msh_feed_rec *r, char *why, size_t cap)
{
    json_t *root = NULL;
    msh_err err;
    memset(r, 0, sizeof *r);
    if (msh_json_in(body, len, MSH_JSON_IN_MAX_DEPTH, &root, &err))
        return fail(why, cap, "the body is not JSON: %s", err.msg);
    int rc = 0;
    json_t *geom = json_object_get(root, "geometry"), *props = json_object_get(root, "properties");
    json_t *xy = json_object_get(geom, "coordinates");
    const char *type = json_string_value(json_object_get(root, "type"));
    const char *gtype = json_string_value(json_object_get(geom, "type"));
    double lon = json_number_value(json_array_get(xy, 0)), lat = json_number_value(json_array_get(xy, 1));
    if (!json_is_object(root) || !type || strcmp(type, "Feature"))
        rc = fail(why, cap, "the body must be a GeoJSON %s", "Feature");
    else if (!gtype || strcmp(gtype, "Point") || json_array_size(xy) != 2 ||
             !json_is_number(json_array_get(xy, 0)) || !json_is_number(json_array_get(xy, 1)))
        rc = fail(why, cap, "geometry: an incident is a %s [lon, lat]", "Point");
    else if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90)
        rc = fail(why, cap, "geometry: %s out of range", "coordinates");
    else if (!json_is_object(props))
        rc = fail(why, cap, "'%s' must be an object with kind and severity", "properties");
    r->lon = lon;
    r->lat = lat;
    r->has = MSH_FR_LOC | MSH_FR_STATUS | MSH_FR_SEVERITY | MSH_FR_KIND;
    r->t_ms = t_ms;
    r->status = MSH_INC_REPORTED;
    bool kind = false, sev = false;
    const char *k;
    json_t *v;
    if (!rc)
        json_object_foreach(props, k, v)
        {
            char word[40];
            if (!strcmp(k, "kind") || !strcmp(k, "severity")) {
                if ((rc = text_member(v, k, false, word, sizeof word, why, cap)))
                    break;
                int i = word_in(word, !strcmp(k, "kind") ? KINDS : SEVERITIES);
                if (i < 0) {
                    rc = fail(why, cap,
                              !strcmp(k, "kind") ? "'%s' must be medical, lost_person, fire, crowding, security or other"
                                                 : "'%s' must be low, medium, high or critical",
                              k);
                    break;
                }
                if (!strcmp(k, "kind")) {
                    memcpy(r->kind, word, strlen(word) + 1); /* one of KINDS: fits */
                    kind = true;
                } else {
                    r->severity = (uint8_t)(i + 1);
                    sev = true;
                }
            } else if (!strcmp(k, "description")) {
                if ((rc = text_member(v, k, false, r->text, sizeof r->text, why, cap)))
                    break;
                r->has |= MSH_FR_TEXT;
            } else if (!strcmp(k, "status")) {
                if (!json_is_string(v) || strcmp(json_string_value(v), "reported")) {
                    rc = fail(why, cap, "'%s': a new incident is reported (move it on with PATCH)", k);
                    break;
                }
            } else {
                rc = fail(why, cap, "'%s' is not a property of an incident (kind, severity, description)", k);
                break;
            }
        }
    if (!rc && !kind)
        rc = fail(why, cap, "missing '%s'", "kind");
    if (!rc && !sev)
        rc = fail(why, cap, "missing '%s'", "severity");
    json_decref(root);
    return rc;
}
