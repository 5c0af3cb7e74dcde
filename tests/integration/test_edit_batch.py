"""Part 4 writes under load: group commit (server/services/edit_batch.c) and the in-memory
overlay of edited features (layers/overlay_layer.c).

Many concurrent PATCHes are each durable, audited and visible when answered, with distinct
versions in commit order; writes that share one batch (made certain by holding the store's
write lock while they queue, then letting go) see each other: two officers on one item get one
200 and one 412, and an edit the store refuses fails alone while the others of its batch stand;
a tile no edit touched keeps its ETag and is a cache hit (/metrics); an acknowledged batch
survives kill -9. Barriers only: /metrics values (queued writes, batches), never sleeps.
"""
import json
import threading
import unittest

import mshtest

DB = None
SERVER = None
TOK = None
ITEMS = "/ogc/collections/assets/items"


def req(path, method="GET", body=None, headers=None):
    h = dict(headers or {}, Authorization="Bearer " + TOK)
    data = json.dumps(body).encode() if body is not None else None
    if body is not None:
        h["Content-Type"] = "application/merge-patch+json"
    return mshtest.fetch(SERVER.url(path), headers=h, method=method, data=data)


def etag(fid):
    return req("%s/%d" % (ITEMS, fid)).header("ETag")


def patch(fid, props, tag):
    return req("%s/%d" % (ITEMS, fid), "PATCH", {"properties": props}, {"If-Match": tag})


def metrics():
    return mshtest.parse_metrics(req("/metrics").body.decode())


def m(name):
    return mshtest.metric(metrics(), name)


def concurrently(calls):
    """Run the calls at once, one thread each; their results in order."""
    out = [None] * len(calls)

    def run(i):
        out[i] = calls[i]()
    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    [t.start() for t in ts]
    return ts, out


def audit_rows(fids):
    with mshtest.Store(DB) as s:
        return s.sql("SELECT seq, fid, version, after FROM msh_audit WHERE collection='assets' AND op='update' AND fid"
                     " IN (%s) ORDER BY seq" % ",".join(str(f) for f in fids))


class OneBatch:
    """Holds the store's write lock: the committer takes the first write and waits at BEGIN, and
    every write sent meanwhile queues; letting go commits the first alone, then the rest as one batch."""

    def __init__(self, first):
        self.lock = mshtest.WriteLock(DB)
        self.base = m("mashaer_edit_batches_total")
        self.ts, self.out = concurrently([first])
        mshtest.wait_for(lambda: m("mashaer_edits_pending") == 1, 20, "the first write at the committer")

    def queue(self, calls):
        ts, out = concurrently(calls)
        mshtest.wait_for(lambda: m("mashaer_edits_pending") == 1 + len(calls), 20, "the writes queued")
        self.lock.release()
        [t.join() for t in self.ts + ts]
        return out

    def batches(self):
        return m("mashaer_edit_batches_total") - self.base


class EditBatch(unittest.TestCase):
    def test_fifty_concurrent_patches_durable_audited_ordered(self):
        fids = list(range(100, 150))
        tags = {f: etag(f) for f in fids}
        ts, out = concurrently([lambda f=f: patch(f, {"name": "c%d" % f}, tags[f]) for f in fids])
        [t.join() for t in ts]
        for f, r in zip(fids, out):
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["properties"]["name"], "c%d" % f)
            g = req("%s/%d" % (ITEMS, f))            # visible when answered, with the answer's ETag
            self.assertEqual(g.json()["properties"]["name"], "c%d" % f)
            self.assertEqual(g.header("ETag"), r.header("ETag"))
        rows = audit_rows(fids)
        self.assertEqual(sorted(r[1] for r in rows), fids)               # one audit row each
        versions = [r[2] for r in rows]
        self.assertEqual(len(set(versions)), 50)                         # distinct versions...
        self.assertEqual(versions, sorted(versions))                     # ...in commit order
        for _, f, _, after in rows:
            self.assertEqual(json.loads(after)["properties"]["name"], "c%d" % f)

    def test_two_officers_in_one_batch_one_gets_412(self):
        tag = etag(200)
        b = OneBatch(lambda: patch(201, {"name": "first"}, etag(201)))
        out = b.queue([lambda: patch(200, {"status": "faulty", "name": "alice"}, tag),
                       lambda: patch(200, {"status": "working", "name": "bob"}, tag)])
        self.assertEqual(b.batches(), 2)                                 # the first alone, then both together
        self.assertEqual(sorted(r.status for r in out), [200, 412], [r.body for r in out])
        won = next(r for r in out if r.status == 200).json()["properties"]["name"]
        lost = next(r for r in out if r.status == 412).json()
        self.assertEqual(lost["current"]["properties"]["name"], won)     # the 412 shows the winner's version
        self.assertEqual(req("%s/%d" % (ITEMS, 200)).json()["properties"]["name"], won)
        self.assertEqual([json.loads(r[3])["properties"]["name"] for r in audit_rows([200])], [won])

    def test_refused_edit_fails_alone_in_its_batch(self):
        fids = list(range(300, 312))
        tags = {f: etag(f) for f in fids}
        before = req("%s/%d" % (ITEMS, 305)).json()
        b = OneBatch(lambda: patch(299, {"name": "first"}, etag(299)))
        out = b.queue([lambda f=f: patch(f, {"name": "poison" if f == 305 else "ok%d" % f}, tags[f]) for f in fids])
        self.assertEqual(b.batches(), 2)
        for f, r in zip(fids, out):
            self.assertEqual(r.status, 500 if f == 305 else 200, (f, r.body))
        self.assertIn(b"poisoned", out[fids.index(305)].body)
        self.assertEqual(req("%s/%d" % (ITEMS, 305)).json(), before)    # unchanged, served and stored
        rows = audit_rows(fids)
        self.assertEqual(sorted(r[1] for r in rows), [f for f in fids if f != 305])
        for f in fids:
            if f != 305:
                self.assertEqual(req("%s/%d" % (ITEMS, f)).json()["properties"]["name"], "ok%d" % f)
        with mshtest.Store(DB) as s:
            self.assertEqual(s.sql("SELECT name FROM assets WHERE fid = 305")[0][0], before["properties"]["name"])

    def test_untouched_tile_stays_cached_through_edits(self):
        z = 17
        feats = json.loads(req(ITEMS + "?limit=10000").body)["features"]
        pos = {f["id"]: f["geometry"]["coordinates"] for f in feats}
        far = mshtest.lonlat_to_tile(*pos[400], z)
        near = [f for f in sorted(pos) if f > 400                          # edits elsewhere (a z17 tile: ~0.003 deg)
                and abs(pos[f][0] - pos[400][0]) + abs(pos[f][1] - pos[400][1]) > 0.02][:20]
        self.assertEqual(len(near), 20)
        mshtest.fetch_tile(SERVER, "assets", z, *far)                     # cached now
        first = mshtest.fetch_tile(SERVER, "assets", z, *far)[0].header("ETag")
        tags = {f: etag(f) for f in near}
        ts, out = concurrently([lambda f=f: patch(f, {"status": "maintenance"}, tags[f]) for f in near])
        [t.join() for t in ts]
        self.assertEqual([r.status for r in out], [200] * len(near))
        hits = m("mashaer_tile_cache_hits_total")
        r, _ = mshtest.fetch_tile(SERVER, "assets", z, *far)
        self.assertEqual(r.header("ETag"), first)
        self.assertEqual(m("mashaer_tile_cache_hits_total") - hits, 1)   # served from the cache
        x, y = mshtest.lonlat_to_tile(*pos[near[0]], z)                  # a touched one shows the edit
        _, tile = mshtest.fetch_tile(SERVER, "assets", z, x, y)
        self.assertIn("maintenance", [f.attrs.get("status") for f in tile["assets"] if f.id == near[0]])

    def test_kill9_after_acknowledged_batch_loses_nothing(self):
        global SERVER
        fids = list(range(500, 530))
        tags = {f: etag(f) for f in fids}
        ts, out = concurrently([lambda f=f: patch(f, {"name": "kept%d" % f}, tags[f]) for f in fids])
        [t.join() for t in ts]
        self.assertEqual([r.status for r in out], [200] * len(fids))
        SERVER.proc.kill()                                              # SIGKILL right after the answers
        SERVER.proc.wait()
        SERVER.stop()
        SERVER = mshtest.Server(DB, "--edit-overlay-max", "8", name="serve2").start()
        for f, r in zip(fids, out):
            g = req("%s/%d" % (ITEMS, f))
            self.assertEqual(g.json()["properties"]["name"], "kept%d" % f)
            # the same bytes, loaded from the store (the -h part names the Host, whose port changed)
            self.assertEqual(g.header("ETag").split("-h")[0], r.header("ETag").split("-h")[0])
        self.assertEqual(sorted(r[1] for r in audit_rows(fids)), fids)


# an audit row of a feature named "poison" is refused by the store, as each engine says it
POISON = {
    "spatialite": "CREATE TRIGGER poison BEFORE INSERT ON msh_audit WHEN NEW.after LIKE '%\"name\":\"poison\"%'"
                  " BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
    "postgresql": "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                  " IF NEW.after LIKE '%\"name\":\"poison\"%' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW;"
                  " END $$; CREATE TRIGGER poison BEFORE INSERT ON msh_audit FOR EACH ROW EXECUTE FUNCTION poison()",
}


def setUpModule():
    global DB, SERVER, TOK
    DB = mshtest.work_path("edit_batch.sqlite")
    mshtest.import_demo(DB, ["assets"])
    TOK = mshtest.add_token(DB, "admin", "root")
    # a tiny overlay: the layer is reloaded from the store after nearly every batch, so the tests'
    # ETag comparisons also hold the overlay to the layer loaded afresh
    SERVER = mshtest.Server(DB, "--threads", "8", "--edit-overlay-max", "8").start()
    # an edit the store refuses at its audit row (the server made the table), after its feature row
    # and versions were written: only the edit's savepoint undoes those (the test's poison)
    mshtest.store_exec(DB, POISON[mshtest.STORE_BACKEND])


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
