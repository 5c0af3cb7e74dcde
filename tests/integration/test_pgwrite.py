"""Two servers, one PostgreSQL store: an edit made through one is served by the other within a
second (LISTEN/NOTIFY), the audit is one for both, ids are never reused across them, an If-Match
taken on one server is checked against a write just made through the other (the writers' lock on
the version row), writes racing through both are all committed, one after the other, and a
broadcast made (or withdrawn) through one is listed and announced on the other's event stream
within a second, once.

The PostgreSQL 15 + PostGIS server is this test's own (mshtest.pg_server). No sleeps: the other
server's item is polled as the barrier, and the time it took is asserted under 1 s.
"""
import json
import threading
import time
import unittest

import mshtest

PG_URL = None
A = B = None
TOK = {}
ITEMS = "/ogc/collections/assets/items"


def req(server, path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.api(server, path, method, token, body, ctype, headers)


def item(server, fid):
    r = req(server, "%s/%d" % (ITEMS, fid))
    return r, (json.loads(r.body) if r.status == 200 else None)


def patch(server, fid, props, etag="*", token=None):
    return req(server, "%s/%d" % (ITEMS, fid), "PATCH", token or TOK["ops"], {"properties": props},
               "application/merge-patch+json", {"If-Match": etag})


def served_within(pred, what, limit_s=1.0):
    """Wait for pred() (the barrier); fail when it took longer than limit_s."""
    t0 = time.monotonic()
    v = mshtest.wait_for(pred, 10, what, interval=0.005)
    took = time.monotonic() - t0
    mshtest.note("%s: %.3f s" % (what, took))
    assert took < limit_s, "%s took %.3f s, more than %g s" % (what, took, limit_s)
    return v


def ring(polygon):
    """The outer ring, rounded past the float noise of a round trip through JSON text."""
    return [[round(c, 9) for c in p] for p in polygon["coordinates"][0]]


class TwoServersOneStore(unittest.TestCase):
    def test_edit_on_a_is_served_by_b_within_a_second(self):
        fid = 3
        _, before = item(B, fid)
        self.assertEqual(before["properties"]["status"], "working")
        z = 16
        x, y = mshtest.lonlat_to_tile(*before["geometry"]["coordinates"], z)
        tile_before = mshtest.fetch_tile(B, "assets", z, x, y)[0].header("ETag")
        r = patch(A, fid, {"status": "faulty", "capacity": 77})
        self.assertEqual(r.status, 200, r.body)

        def on_b():
            _, f = item(B, fid)
            return f if f["properties"]["status"] == "faulty" else None
        got = served_within(on_b, "an edit on A served by B")
        self.assertEqual(got["properties"]["capacity"], 77)
        self.assertEqual(got["properties"]["asset_id"], "A-000003")
        self.assertEqual(got["geometry"], before["geometry"])
        # B's tile of the item took a new version, and its content has the new status
        tr, td = mshtest.fetch_tile(B, "assets", z, x, y)
        self.assertNotEqual(tr.header("ETag"), tile_before)
        self.assertEqual([f.attrs.get("status") for f in td["assets"] if f.attrs.get("asset_id") == "A-000003"],
                         ["faulty"])
        # one audit: B lists the edit made through A, by its author
        h = json.loads(req(B, "%s/%d/history" % (ITEMS, fid), token=TOK["ops"]).body)["versions"]
        self.assertEqual([v["op"] for v in h], ["import", "update"])
        self.assertEqual(h[1]["by"]["name"], "ops-alice")
        self.assertEqual(h[1]["feature"]["properties"]["status"], "faulty")

    def test_create_on_b_delete_on_a_ids_never_reused(self):
        body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.8301, 21.4201]},
                "properties": {"asset_id": "A-NEW-1", "kind": "toilet", "status": "working"}}
        r = req(B, ITEMS, "POST", TOK["ops"], body)
        self.assertEqual(r.status, 201, r.body)
        fid = int(r.header("Location").rsplit("/", 1)[1])
        got = served_within(lambda: item(A, fid)[1], "a create on B served by A")
        self.assertEqual(got["properties"]["asset_id"], "A-NEW-1")
        r = req(A, "%s/%d" % (ITEMS, fid), "DELETE", TOK["ops"], headers={"If-Match": "*"})
        self.assertEqual(r.status, 204, r.body)
        served_within(lambda: item(B, fid)[0].status == 404, "a delete on A served by B")
        # the next create, through either server, gets a new id: the deleted one is never given again
        body["properties"]["asset_id"] = "A-NEW-2"
        r = req(B, ITEMS, "POST", TOK["ops"], body)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(int(r.header("Location").rsplit("/", 1)[1]), fid + 1)

    def test_if_match_from_b_checked_against_a_write_through_a(self):
        fid = 5
        etag_a, etag_b = item(A, fid)[0].header("ETag"), item(B, fid)[0].header("ETag")
        # the same item version on both (the -h part is a hash of the Host each was asked by)
        self.assertEqual(etag_a.split("-h")[0], etag_b.split("-h")[0])
        self.assertEqual(patch(A, fid, {"status": "faulty"}, etag_a).status, 200)
        # at once, before B's reload could have run: B refuses the tag of the version A replaced
        r = patch(B, fid, {"status": "closed"}, etag_b)
        self.assertEqual(r.status, 412, r.body)
        served_within(lambda: item(B, fid)[1]["properties"]["status"] == "faulty", "B serving A's write")
        self.assertEqual(item(A, fid)[1]["properties"]["status"], "faulty")

    def test_writes_racing_through_both_servers_all_commit_in_order(self):
        fid = 7
        n = 12
        codes = []
        lock = threading.Lock()

        def write(server, k):
            r = patch(server, fid, {"capacity": 1000 + k})
            with lock:
                codes.append(r.status)
        threads = [threading.Thread(target=write, args=(A if k % 2 else B, k)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(codes, [200] * n)
        with mshtest.PgStore(PG_URL) as st:
            rows = st.sql("SELECT seq, version, after FROM msh_audit WHERE collection = 'assets' AND fid = %d"
                          " ORDER BY seq" % fid)
            self.assertEqual(len(rows), n)
            versions = [r[1] for r in rows]
            self.assertEqual(versions, sorted(versions))  # audit order is commit order
            self.assertEqual(len(set(versions)), n)
            last = json.loads(rows[-1][2])["properties"]["capacity"]
            layer_version = st.registry()["assets"]["version"]
        self.assertGreaterEqual(layer_version, versions[-1])
        for s, name in ((A, "A"), (B, "B")):
            served_within(lambda s=s: item(s, fid)[1]["properties"]["capacity"] == last,
                          "the last racing write on %s" % name)

    def test_broadcast_on_a_is_served_by_b_within_a_second_and_announced_once(self):
        lon, lat = 39.8301, 21.4201
        d = 0.001
        area = {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                    [lon - d, lat + d], [lon - d, lat - d]]]}
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        where = "lon=%f&lat=%f" % (lon, lat)
        streams = {s: mshtest.EventStream(s.port, "types=broadcast&" + where, "broadcast") for s in (A, B)}

        def post(server, en):
            r = req(server, "/broadcasts", "POST", TOK["ops"], {
                "target": {"geometry": area}, "message": {"ar": "تنبيه", "en": en},
                "severity": "danger", "expires": expires}, "application/json")
            self.assertEqual(r.status, 201, r.body)
            return r.json()["id"]

        def withdraw(server, bid):
            self.assertEqual(req(server, "/broadcasts/" + bid, "DELETE", TOK["ops"]).status, 200)

        def actions(server, bid):
            with streams[server].lock:
                return [e["action"] for e in streams[server].events if e["broadcast"]["id"] == bid]

        def listed_on_b():
            r = req(B, "/broadcasts?" + where)
            self.assertEqual(r.status, 200, r.body)
            return [f for f in r.json()["features"]]

        def barrier(*ids_actions):
            """Each node's stream has each (id, action): a write of the other node after the one counted
            means that node's reload has passed the counted one (events reach a stream in order)."""
            for s in (A, B):
                for bid, action in ids_actions:
                    streams[s].wait(lambda e: e["broadcast"]["id"] == bid and e["action"] == action,
                                    "%s %s on %s" % (bid, action, "A" if s is A else "B"))
        try:
            bid = post(A, "Gate 7 closed")
            served_within(lambda: actions(B, bid) == ["created"], "a broadcast on A announced on B's stream")
            got = served_within(lambda: [f for f in listed_on_b() if f["id"] == bid], "a broadcast on A listed by B")
            self.assertEqual(got[0]["properties"]["message"]["en"], "Gate 7 closed")
            self.assertEqual(got[0]["properties"]["severity"], "danger")
            self.assertEqual(got[0]["geometry"]["type"], "Polygon")
            self.assertEqual(ring(got[0]["geometry"]), ring(area))
            self.assertNotIn("author", got[0]["properties"])
            ev = streams[B].wait(lambda e: e["broadcast"]["id"] == bid, "B's event")
            self.assertEqual(ev["broadcast"]["properties"]["message"]["ar"], "تنبيه")
            # once per node, counted after a marker from each node has reached both
            marks = (post(A, "marker A"), post(B, "marker B"))
            barrier(*((m, "created") for m in marks))
            self.assertEqual((actions(A, bid), actions(B, bid)), (["created"], ["created"]))
            # a withdrawal on A is served by B within a second, and announced once there too
            withdraw(A, bid)
            served_within(lambda: not any(f["id"] == bid for f in listed_on_b()), "a withdrawal on A served by B")
            served_within(lambda: actions(B, bid) == ["created", "withdrawn"], "a withdrawal on A announced on B")
            self.assertEqual(req(B, "/broadcasts/" + bid).status, 404)
            withdraw(A, marks[0])
            withdraw(B, marks[1])
            barrier(*((m, "withdrawn") for m in marks))
            self.assertEqual((actions(A, bid), actions(B, bid)), (["created", "withdrawn"],) * 2)
        finally:
            for st in streams.values():
                st.close()

def setUpModule():
    global PG_URL, A, B
    try:
        pg = mshtest.pg_server()
    except AssertionError as e:
        if "not installed" in str(e):
            raise unittest.SkipTest("PostgreSQL is missing: %s" % e)
        raise
    pg.psql("postgres", "CREATE DATABASE pgwrite")
    PG_URL = pg.url("pgwrite")
    # the first 60 demo assets: what is timed is the way from A to B, not B's load of a large layer
    with open(mshtest.demo_path("assets.geojson")) as f:
        fc = json.load(f)
    fc["features"] = fc["features"][:60]
    small = mshtest.work_path("assets.geojson")
    with open(small, "w") as f:
        json.dump(fc, f)
    mshtest.import_layer(PG_URL, small, "assets")
    TOK["ops"] = mshtest.add_token(PG_URL, "ops", "ops-alice")
    A = mshtest.Server(PG_URL, name="a").start()
    B = mshtest.Server(PG_URL, name="b").start()


def tearDownModule():
    mshtest.stop_servers(A, B)


if __name__ == "__main__":
    mshtest.main()
