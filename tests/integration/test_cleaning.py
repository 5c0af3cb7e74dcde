"""Cleaning operations end to end (issue 13, section 1), on a real server over a real store.

The site: two cleaning routes along parallels, R1 lat 21.408 lon 39.881-39.887 (621 m: 63 pieces of
9.86 m) and R2 lat 21.402 lon 39.891-39.899 (828 m: 83 pieces of 9.98 m); at lat 21.405 0.001 deg
of longitude is 103.5 m.

- The `cleaning_tasks` collection exists without an import; ops write it through Part 4: a route
  task gets the route's box as its area; the refusals (400 naming the field, 409 for a transition,
  progress the server's) change nothing.
- A crew sweeps (two positions a minute apart: the line between): only the crew of an active task
  covering the piece credits it (a crew on a route that is not its task's: tests/unit/test_kpi.c).
  A cleaning crew no task names walks the whole of R1 first and
  credits nothing; the assigned crew's 310 m credit 33 of 63 pieces: progress 52 %, written back
  by the server (a `change` event is the barrier), in /kpi, and the pieces in `cleaning_progress`
  (OGC items and tiles) with swept_at, crew and task.
- An area task: only the pieces whose middle is in its polygon count.
- `cleaning_overdue`: a task still open past its due time, on the test clock; a task done by then
  gets none.
- Re-importing the routes with R1 unchanged and R2 moved keeps R1's sweeps and starts R2 unswept;
  the sweeps survive a restart (saved at the KPI recording, every second here).
"""
import json
import unittest

import mshtest
import test_events

DB = None
SERVER = None
TOK = {}
TASKS = "/ogc/collections/cleaning_tasks/items"
PROGRESS = "/ogc/collections/cleaning_progress/items"
R1 = [(39.881, 21.408), (39.887, 21.408)]
R2 = [(39.891, 21.402), (39.899, 21.402)]


def write_routes(path, r2=R2):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"route_id": rid},
         "geometry": {"type": "LineString", "coordinates": [list(p) for p in line]}}
        for rid, line in (("R1", R1), ("R2", r2))]}
    with open(path, "w") as f:
        json.dump(fc, f)


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    return mshtest.api(SERVER, path, method, token, body, ctype, headers)


def get(path):
    r = req(path)
    assert r.status == 200, (path, r.status, r.body)
    return json.loads(r.body), r.header("ETag")


def now_ms():
    r = req("/test/clock?advance_s=0", "POST", TOK["admin"])
    assert r.status == 200, r.body
    return json.loads(r.body)["now_ms"]


def advance(seconds):
    r = req("/test/clock?advance_s=%d" % seconds, "POST", TOK["admin"])
    assert r.status == 200, r.body


def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def create(props, geometry=None, token="ops"):
    body = {"type": "Feature", "properties": props}
    if geometry:
        body["geometry"] = geometry
    return req(TASKS, "POST", TOK[token], body)


def task(route=1, crew="CL-1", due_s=3600, **more):
    p = {"route": route, "crew": crew, "due": iso(now_ms() + due_s * 1000)}
    p.update(more)
    r = create(p)
    assert r.status == 201, r.body
    return json.loads(r.body)["id"]


def patch(fid, props, token="ops"):
    path = "%s/%d" % (TASKS, fid)
    return req(path, "PATCH", TOK[token], {"properties": props}, "application/merge-patch+json",
               {"If-Match": get(path)[1]})


def sweep(crew, points):
    """The crew heard at each point, a minute apart, ending now (the server's clock)."""
    t = now_ms()
    recs = [{"id": crew, "kind": "cleaning", "lon": lon, "lat": lat, "time": t - (len(points) - 1 - i) * 60000}
            for i, (lon, lat) in enumerate(points)]
    for r in recs:
        mshtest.post_ok(SERVER, "crews", [r], TOK["feed"])


def pieces():
    items = get(PROGRESS + "?limit=1000")[0]["features"]
    return items


def progress_written(stream, fid, value):
    stream.wait_for(lambda e: e[1] == "change" and e[2].get("collection") == "cleaning_tasks" and
                    e[2].get("id") == fid and e[2].get("progress") == value,
                    "task %d's progress %d written" % (fid, value))


class Cleaning(unittest.TestCase):
    def test_a_layer_created_at_start(self):
        coll = get("/ogc/collections/cleaning_tasks?f=json")[0]
        self.assertEqual(coll["id"], "cleaning_tasks")
        q = get("/ogc/collections/cleaning_tasks/queryables?f=json")[0]["properties"]
        for f in ("route", "crew", "shift_start", "shift_end", "due", "status", "progress", "note"):
            self.assertIn(f, q)
        with mshtest.Store(DB) as s:
            self.assertEqual(s.registry()["cleaning_tasks"]["geometry_type"], "Polygon")
        self.assertEqual(get("/ogc/collections/cleaning_progress?f=json")[0]["id"], "cleaning_progress")

    def test_lifecycle_and_refusals(self):
        due = iso(now_ms() + 3600000)
        n0 = len(get(TASKS + "?limit=1000")[0]["features"])
        for props, geometry, code, field in [
                ({"route": 1, "due": due}, None, "missing_value", "crew"),
                ({"route": 1, "crew": "CL-5"}, None, "missing_value", "due"),
                ({"route": 1, "crew": "CL-5", "due": "tomorrow"}, None, "invalid_value", "due"),
                ({"route": 1, "crew": "CL-5", "due": due, "progress": 50}, None, "server_field", "progress"),
                ({"route": 99, "crew": "CL-5", "due": due}, None, "unknown_route", "route"),
                ({"crew": "CL-5", "due": due}, None, "missing_value", "route or geometry"),
                ({"route": 1, "crew": "CL-5", "due": due, "status": "done"}, None, "invalid_value", "status"),
                ({"route": 1, "crew": "CL-5", "due": due, "shift_start": "2026-05-26T10:00:00Z",
                  "shift_end": "2026-05-26T08:00:00Z"}, None, "invalid_value", "shift_end"),
                ({"route": 1, "crew": "CL-5", "due": due, "shift_start": "2026-05-26T10:00:00Z"}, None,
                 "missing_value", "shift_start, shift_end")]:
            r = create(props, geometry)
            self.assertEqual(r.status, 400, (props, r.body))
            body = json.loads(r.body)
            self.assertEqual(body["code"], code, body)
            self.assertTrue(body["description"].startswith(field), body)
        self.assertEqual(create({"route": 1, "crew": "CL-5", "due": due}, token="feed").status, 403)
        self.assertEqual(len(get(TASKS + "?limit=1000")[0]["features"]), n0)  # nothing written
        # a route task: open, progress 0, its area the route's box widened by 15 m
        r = create({"route": 1, "crew": "CL-5", "due": due, "shift_start": iso(now_ms() - 60000),
                    "shift_end": iso(now_ms() + 7200000)})
        self.assertEqual(r.status, 201, r.body)
        t = json.loads(r.body)
        fid = t["id"]
        self.assertEqual((t["properties"]["status"], t["properties"]["progress"]), ("open", 0))
        ring = t["geometry"]["coordinates"][0]
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        self.assertAlmostEqual(min(lons), 39.881 - 15 / 103500, delta=2e-6)
        self.assertAlmostEqual(max(lats), 21.408 + 15 / 111000, delta=2e-6)
        item = "%s/%d" % (TASKS, fid)
        # open -> done: not a transition
        r = patch(fid, {"status": "done"})
        self.assertEqual(r.status, 409, r.body)
        body = json.loads(r.body)
        self.assertEqual({k: body[k] for k in ("code", "from", "to", "allowed")},
                         {"code": "invalid_transition", "from": "open", "to": "done",
                          "allowed": ["in_progress", "cancelled"]})
        # progress is the server's; the route stays; nothing changes (same ETag)
        etag = get(item)[1]
        r = patch(fid, {"progress": 40})
        self.assertEqual((r.status, json.loads(r.body)["code"]), (400, "server_field"), r.body)
        r = patch(fid, {"route": 2})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(get(item)[1], etag)
        # sending progress back unchanged is fine (a PUT of the item as read)
        self.assertEqual(patch(fid, {"status": "in_progress", "progress": 0}).status, 200)
        self.assertEqual(patch(fid, {"status": "done"}).status, 200)
        r = patch(fid, {"status": "in_progress"})
        self.assertEqual((r.status, json.loads(r.body)["allowed"]), (409, []), r.body)
        # cancelling needs a note
        other = task(route=2, crew="CL-6")
        r = patch(other, {"status": "cancelled"})
        self.assertEqual((r.status, json.loads(r.body)["code"]), (400, "missing_value"), r.body)
        self.assertEqual(patch(other, {"status": "cancelled", "note": "rain"}).status, 200)
        self.assertEqual(get("%s/%d" % (TASKS, other))[0]["properties"]["status"], "cancelled")

    def test_assigned_crew_only_and_progress(self):
        s = test_events.Stream("?types=change&collections=cleaning_tasks")
        try:
            fid = task(route=1, crew="CL-1")
            # a cleaning crew no task names walks the whole of R1 first: it credits nothing
            sweep("CL-9", R1)
            # CL-1 on its route, 39.881 -> 39.884 (310.6 m): 33 of the 63 pieces
            sweep("CL-1", [(39.881, 21.408), (39.884, 21.408)])
            progress_written(s, fid, 52)
        finally:
            s.close()
        t = get("%s/%d" % (TASKS, fid))[0]["properties"]
        self.assertEqual(t["progress"], 52)
        mine = [p["properties"] for p in pieces() if p["properties"].get("task") == fid]
        self.assertEqual(len(mine), 33)
        self.assertTrue(all(p["crew"] == "CL-1" and p["swept"] and p["route"] == 1 for p in mine), mine[:3])
        self.assertFalse([p for p in pieces() if p["properties"].get("crew") == "CL-9"])
        # the KPI: the task, its crew
        k = get("/kpi")[0]["cleaning_tasks"]
        item = [i for i in k["items"] if i["id"] == fid][0]
        self.assertEqual((item["crew"], item["status"], item["progress"], item["overdue"]), ("CL-1", "open", 52, False))
        self.assertAlmostEqual(item["swept_m"] / item["length_m"], 33 / 63, places=4)  # metres to 0.1
        crew = [c for c in k["crews"] if c["crew"] == "CL-1"][0]
        self.assertEqual((crew["tasks"], crew["open"], crew["mean_progress"]), (1, 1, 52))
        # the tile over R1's west end shows the swept pieces with their crew
        z = 17
        x, y = mshtest.lonlat_to_tile(39.8825, 21.408, z)
        _, tile = mshtest.fetch_tile(SERVER, "cleaning_progress", z, x, y)
        feats = [f.attrs for f in tile.get("cleaning_progress", [])]
        self.assertTrue([a for a in feats if a.get("crew") == "CL-1" and a.get("task") == fid], feats[:3])

    def test_area_task(self):
        s = test_events.Stream("?types=change&collections=cleaning_tasks")
        try:
            area = {"type": "Polygon", "coordinates": [[[39.89495, 21.4015], [39.8995, 21.4015], [39.8995, 21.4025],
                                                        [39.89495, 21.4025], [39.89495, 21.4015]]]}
            r = create({"crew": "CL-2", "due": iso(now_ms() + 3600000)}, area)
            self.assertEqual(r.status, 201, r.body)
            fid = json.loads(r.body)["id"]
            sweep("CL-2", R2)
            progress_written(s, fid, 100)
        finally:
            s.close()
        mine = [p for p in pieces() if p["properties"].get("task") == fid]
        # the pieces of R2 whose middle is east of 39.89495: pieces 41..82 (piece 41's middle is at 39.895)
        self.assertEqual(len(mine), 42)
        self.assertTrue(all(min(c[0] for c in p["geometry"]["coordinates"]) >= 39.8949 for p in mine))

    def test_overdue(self):
        s = test_events.Stream("?types=cleaning_overdue", {"Authorization": "Bearer " + TOK["ops"]})
        try:
            done = task(route=2, crew="CL-7", due_s=60)
            self.assertEqual(patch(done, {"status": "in_progress"}).status, 200)
            self.assertEqual(patch(done, {"status": "done"}).status, 200)
            late = task(route=2, crew="CL-8", due_s=60)
            advance(120)
            evs = s.wait_for(lambda e: e[2].get("task") == late, "the overdue event")
            ev = evs[0][2]
            self.assertEqual((ev["crew"], ev["status"], ev["progress"]), ("CL-8", "open", 0))
            self.assertFalse(s.hits(lambda e: e[2].get("task") == done))  # announced in the same pass
            self.assertEqual(len(evs), 1)
        finally:
            s.close()
        k = get("/kpi")[0]["cleaning_tasks"]
        self.assertTrue([i for i in k["items"] if i["id"] == late and i["overdue"]])
        self.assertGreaterEqual(k["overdue"], 1)

    def test_z_reimport_keeps_unchanged_pieces(self):
        global SERVER
        s = test_events.Stream("?types=change&collections=cleaning_tasks")
        try:
            fid = task(route=2, crew="CL-R")
            sweep("CL-R", [(39.891, 21.402), (39.893, 21.402)])  # R2's first 207 m: 22 pieces
            progress_written(s, fid, 26)
            fid = task(route=1, crew="CL-Q")
            sweep("CL-Q", [(39.884, 21.408), (39.887, 21.408)])  # R1's last 310.6 m: 33 pieces
            progress_written(s, fid, 52)
        finally:
            s.close()

        def state(route):
            return sorted((tuple(map(tuple, p["geometry"]["coordinates"])), p["properties"].get("swept_at"),
                           p["properties"].get("crew")) for p in pieces() if p["properties"]["route"] == route)
        r1 = state(1)
        self.assertTrue([p for p in r1 if p[1]])
        self.assertTrue([p for p in state(2) if p[2] == "CL-R"])
        # R1 unchanged, R2 moved 11 m north
        src = mshtest.work_path("routes2.geojson")
        moved = [(39.891, 21.4021), (39.899, 21.4021)]
        write_routes(src, moved)
        mshtest.import_layer(DB, src, "cleaning_routes")
        mshtest.wait_for(lambda: [p for p in pieces() if p["properties"]["route"] == 2 and
                                  abs(p["geometry"]["coordinates"][0][1] - 21.4021) < 1e-7], 30,
                         "the moved route's pieces")
        self.assertEqual(state(1), r1)                        # kept, piece by piece
        self.assertFalse([p for p in state(2) if p[1]])     # moved: unswept
        # saved with the KPI recording (every second), given back after a restart
        swept = len([p for p in pieces() if p["properties"]["swept"]])
        mshtest.wait_for(lambda: self.saved() == swept, 30, "the sweeps saved (%d)" % swept)
        SERVER.stop()
        SERVER = start()
        mshtest.wait_for(lambda: state(1) == r1, 30, "R1's sweeps after the restart")

    def saved(self):
        with mshtest.Store(DB) as st:
            return st.sql("SELECT count(*) FROM msh_cleaning_swept")[0][0]


def start():
    global SERVER
    SERVER = mshtest.Server(DB, "--test-clock", "--kpi-config", mshtest.work_path("kpi.json"), name="cleaning").start()
    test_events.SERVER = SERVER
    return SERVER


def setUpModule():
    global DB
    DB = mshtest.work_path("cleaning.sqlite")
    src = mshtest.work_path("routes.geojson")
    write_routes(src)
    mshtest.import_layer(DB, src, "cleaning_routes")
    for role in ("admin", "ops", "feed"):
        TOK[role] = mshtest.add_token(DB, role, "%s-cleaning" % role)
    with open(mshtest.work_path("kpi.json"), "w") as f:
        json.dump({"interval_s": 1}, f)
    start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
