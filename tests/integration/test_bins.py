"""The bins feed (issue 13, section 1): live fill levels, the `overflow` event with the nearest
available cleaning crew, the bins in the cleaning KPI, on a real server over a real store.

The site: one walkway along lat 21.41 from lon 39.880 to 39.890 (0.001 deg of longitude is 103.5 m
there) and a service zone Z1 around its east half. Bin B-1 stands at lon 39.885 on the walkway.
Crews, all heard from now: CL-A (cleaning, 52 m away, but the crew of a cleaning task in progress:
not available), EM-1 (emergency, 10 m: not a cleaning crew), CL-B (cleaning, 207 m) and CL-C
(cleaning, 414 m). So the crew the event names is CL-B, at 207 m.

- Records: FIWARE names (`fillingLevel`, `temperature`, a GeoJSON `location`) as NDJSON, an NGSI-LD
  batch (`application/ld+json`) and an NGSI v2 entity; a reading without a fill level, or outside
  0..1, is rejected naming the field and changes nothing.
- Overflow at `--bin-overflow 0.7` (the flag's value, not the default): 0.5 nothing, 0.75 raised
  (with CL-B), 0.6 and 0.72 nothing (hysteresis: it clears below 0.56), 0.4 cleared. The stream is
  the barrier: the event after `raised` is `cleared`, so nothing was sent between.
- The `bins` collection: fill level, temperature, overflowing and updated_at per bin (OGC items
  and a vector tile).
- /kpi: the zone's `cleaning.bins` and `cleaning.bins_overflowing`.
- Stale bins at `--bin-stale-min 10` (not the default 30), with the injected clock: ten minutes of
  silence mark a bin `stale` (items and tiles), the KPI counts it in `bins_stale` and no longer as
  overflowing, its overflow state is neither raised nor cleared meanwhile; a reading ends it.
"""
import json
import unittest

import mshtest
import test_events

DB = None
SERVER = None
TOK = {}
Y = 21.41


def api(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    r = mshtest.api(SERVER, path, method, TOK.get(token), body, ctype, headers)
    assert r.status in (200, 201), (path, r.status, r.body)
    return json.loads(r.body) if r.body else None


def clock_ms():
    return api("/test/clock?advance_s=0", "POST", "admin")["now_ms"]


def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_ms(text):
    import datetime
    return round(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def bin_rec(fill, t, bid="B-1", lon=39.885, **more):
    r = {"id": bid, "fillingLevel": fill, "dateObserved": iso(t),
         "location": {"type": "Point", "coordinates": [lon, Y]}}
    r.update(more)
    return r


def bins():
    return {f["properties"]["id"]: f["properties"] for f in SERVER.json("/ogc/collections/bins/items?limit=100")["features"]}


class Bins(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # CL-A works a cleaning task in progress: not available for a bin
        t = clock_ms()
        due = iso(t + 3600000)
        fid = api("/ogc/collections/cleaning_tasks/items", "POST", "ops",
                  {"type": "Feature", "properties": {"route": 1, "crew": "CL-A", "due": due}})["id"]
        path = "/ogc/collections/cleaning_tasks/items/%d" % fid
        api(path, "PATCH", "ops", {"properties": {"status": "in_progress"}}, "application/merge-patch+json",
            {"If-Match": SERVER.get(path).header("ETag")})
        mshtest.wait_for(lambda: any(f["properties"]["status"] == "in_progress" for f in
                                     SERVER.json("/ogc/collections/cleaning_tasks/items")["features"]),
                         30, "the task in progress served")
        # then the crews (before, CL-A's sweep would move the task's progress under the PATCH's If-Match)
        crews = [("CL-A", "cleaning", 39.8855), ("EM-1", "emergency", 39.8851), ("CL-B", "cleaning", 39.887),
                 ("CL-C", "cleaning", 39.881)]
        mshtest.post_ok(SERVER, "crews", [{"id": c, "kind": k, "status": "sweeping", "name": "crew " + c,
                                           "lon": lon, "lat": Y, "time": t} for c, k, lon in crews], TOK["feed"])

    def test_a_overflow_with_nearest_available_crew(self):
        s = test_events.Stream("?types=overflow", {"Authorization": "Bearer " + TOK["ops"]})
        try:
            t = clock_ms()
            for i, fill in enumerate((0.5, 0.75)):
                mshtest.post_ok(SERVER, "bins", [bin_rec(fill, t - 50000 + i * 1000, temperature=41.0)], TOK["feed"])
            evs = s.wait_for(lambda e: e[2].get("bin") == "B-1", "the raised event")
            ev = evs[0][2]
            self.assertEqual((ev["state"], ev["fill_level"], ev["level"], ev["temperature"]), ("raised", 0.75, 0.7, 41.0))
            self.assertEqual(ev["crew"]["id"], "CL-B", ev)
            self.assertEqual(ev["crew"]["name"], "crew CL-B")
            self.assertAlmostEqual(ev["crew"]["distance_m"], 207, delta=3)
            self.assertGreater(ev["crew"]["eta_s"], 100)
            self.assertAlmostEqual(ev["lon"], 39.885, places=6)
            for i, fill in enumerate((0.6, 0.72, 0.4)):
                mshtest.post_ok(SERVER, "bins", [bin_rec(fill, t - 40000 + i * 1000)], TOK["feed"])
            evs = s.wait_for(lambda e: e[2].get("bin") == "B-1" and e[2]["state"] == "cleared", "the cleared event")
            mine = [e[2] for e in s.events if e[2].get("bin") == "B-1"]
            self.assertEqual([e["state"] for e in mine], ["raised", "cleared"])
            self.assertNotIn("crew", mine[1])
            self.assertEqual(mine[1]["fill_level"], 0.4)
        finally:
            s.close()
        # ops only: the event names crews
        self.assertEqual(SERVER.get("/events?types=overflow").status, 401)

    def test_b_records_ngsi_and_refusals(self):
        t = clock_ms()
        r = mshtest.post_feed(SERVER, "bins", [{"id": "B-X", "lon": 39.886, "lat": Y, "time": t},
                                               bin_rec(1.5, t, "B-Y")], TOK["feed"])
        self.assertEqual(r.status, 200)
        a = json.loads(r.body)
        self.assertEqual(a["accepted"], 0)
        self.assertEqual([x["reason"] for x in a["rejected"]],
                         ["missing 'fillingLevel' (0..1)", "'fillingLevel' = 1.5 is outside 0..1"])
        self.assertFalse({"B-X", "B-Y"} & set(bins()))
        ld = [{"id": "urn:ngsi-ld:WasteContainer:B-2", "type": "WasteContainer",
               "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
               "fillingLevel": {"type": "Property", "value": 0.91, "observedAt": iso(t - 1000)},
               "temperature": {"type": "Property", "value": 44.5},
               "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [39.888, Y]}}},
              {"id": "urn:ngsi-ld:WasteContainer:B-3", "type": "WasteContainer",
               "fillingLevel": {"type": "Property", "value": 0.1, "observedAt": iso(t - 1000)},
               "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [39.884, Y]}}}]
        r = mshtest.post_feed(SERVER, "bins", json.dumps(ld), TOK["feed"], content_type="application/ld+json")
        self.assertEqual((r.status, json.loads(r.body)), (200, {"accepted": 2, "rejected": []}))
        v2 = {"id": "B-4", "type": "WasteContainer", "fillingLevel": {"type": "Number", "value": 0.3},
              "dateObserved": {"type": "DateTime", "value": iso(t)},
              "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [39.8835, Y]}}}
        r = mshtest.post_feed(SERVER, "bins", json.dumps(v2), TOK["feed"], content_type="application/json")
        self.assertEqual((r.status, json.loads(r.body)), (200, {"accepted": 1, "rejected": []}))
        b = bins()
        b2 = b["urn:ngsi-ld:WasteContainer:B-2"]
        self.assertEqual((b2["fill_level"], b2["temperature"], b2["overflowing"]), (0.91, 44.5, True))
        self.assertEqual(b2["updated_at"][:19], iso(t - 1000)[:19])
        self.assertEqual((b["B-4"]["fill_level"], b["B-4"]["overflowing"]), (0.3, False))
        # the same in a vector tile
        z = 16
        x, y = mshtest.lonlat_to_tile(39.888, Y, z)
        feats = mshtest.fetch_tile(SERVER, "bins", z, x, y)[1]["bins"]
        props = {f.attrs["id"]: f.attrs for f in feats}
        self.assertEqual(props["urn:ngsi-ld:WasteContainer:B-2"]["fill_level"], 0.91)
        self.assertEqual(props["urn:ngsi-ld:WasteContainer:B-2"]["overflowing"], 1)

    def test_c_kpi(self):
        def zone():
            return SERVER.json("/kpi/zones/Z1")["zone"]["kpi"]["cleaning"]
        # Z1 (east of 39.8845) holds B-1 (0.4), B-2 (0.91, overflowing), B-4 is west of it, B-3 too
        mshtest.wait_for(lambda: zone()["bins"] == 2 and zone()["bins_overflowing"] == 1, 30,
                         "Z1's two bins, one overflowing, in /kpi")

    def test_c_queryables(self):
        """Every field of the bins collection has its type (stale was listed without one)."""
        q = SERVER.json("/ogc/collections/bins/queryables?f=json")["properties"]
        self.assertEqual({k: q[k].get("type") for k in ("fill_level", "overflowing", "updated_at", "stale")},
                         {"fill_level": "number", "overflowing": "boolean", "updated_at": "string",
                          "stale": "boolean"}, q)

    def test_d_stale(self):
        """Runs last (by name): it moves the clock ten minutes on."""
        def zone():
            return SERVER.json("/kpi/zones/Z1")["zone"]["kpi"]["cleaning"]
        b = bins()
        self.assertFalse(any(p["stale"] for p in b.values()), b)
        s = test_events.Stream("?types=overflow", {"Authorization": "Bearer " + TOK["ops"]})
        try:
            # B-2 (0.91, overflowing) last read a second before test_b's clock; 9 minutes on: nothing stale
            api("/test/clock?advance_s=540", "POST", "admin")
            self.assertFalse(any(p["stale"] for p in bins().values()))
            t = clock_ms()
            mshtest.post_ok(SERVER, "bins", [bin_rec(0.3, t, "B-5", 39.889)], TOK["feed"])  # in Z1, fresh
            moved = api("/test/clock?advance_s=120", "POST", "admin")
            self.assertGreaterEqual(moved["stale"], 4)  # B-1..B-4 (and crews, silent as long)
            # a page says the server's clock when it answered (11 minutes ahead of this machine's now):
            # what the console tells a silent bin's age by
            page = SERVER.get("/ogc/collections/bins/items?limit=1")
            shown = iso_ms(page.header("Mashaer-Time"))
            self.assertTrue(moved["now_ms"] <= shown <= clock_ms(), (moved, page.header("Mashaer-Time")))
            self.assertGreater(shown - mshtest.now_ms(), 600000)
            # and so does every other answer (web/clock.js reads any): a JSON document, a file of the
            # viewer, an error, each between two reads of the test clock
            for path, status in (("/kpi", 200), ("/clock.js", 200), ("/ogc/collections/no_such/items", 404)):
                lo = clock_ms()
                r = SERVER.get(path)
                self.assertEqual(r.status, status, path)
                self.assertTrue(lo <= iso_ms(r.header("Mashaer-Time", "")) <= clock_ms(), (path, r.header("Mashaer-Time")))
            b = bins()
            self.assertEqual({k for k, p in b.items() if p["stale"]},
                             {"B-1", "urn:ngsi-ld:WasteContainer:B-2", "urn:ngsi-ld:WasteContainer:B-3", "B-4"})
            b2 = b["urn:ngsi-ld:WasteContainer:B-2"]
            self.assertEqual((b2["fill_level"], b2["overflowing"]), (0.91, True))  # the last reading, kept
            self.assertIs(b["B-5"]["stale"], False)
            z = 16
            x, y = mshtest.lonlat_to_tile(39.888, Y, z)
            props = {f.attrs["id"]: f.attrs for f in mshtest.fetch_tile(SERVER, "bins", z, x, y)[1]["bins"]}
            self.assertEqual(props["urn:ngsi-ld:WasteContainer:B-2"]["stale"], 1)
            self.assertEqual(props["B-5"]["stale"], 0)
            # Z1 holds B-1, B-2 (stale) and B-5: three bins, none believed overflowing, two stale
            mshtest.wait_for(lambda: (zone()["bins"], zone()["bins_overflowing"], zone()["bins_stale"]) == (3, 0, 2),
                             30, "Z1's stale bins in /kpi")
            # B-2 reads again, still full: no longer stale, overflowing as it was (no second `raised`);
            # then emptied: cleared, the first overflow event of this test
            t = clock_ms()
            mshtest.post_ok(SERVER, "bins", [bin_rec(0.95, t, "urn:ngsi-ld:WasteContainer:B-2", 39.888)], TOK["feed"])
            mshtest.post_ok(SERVER, "bins", [bin_rec(0.2, t + 1000, "urn:ngsi-ld:WasteContainer:B-2", 39.888)],
                            TOK["feed"])
            # (test_b's `raised` for B-2, at 0.91, may still come in: its ranking runs a second after it)
            s.wait_for(lambda e: e[2].get("bin") == "urn:ngsi-ld:WasteContainer:B-2" and e[2]["state"] == "cleared",
                       "B-2 cleared")
            mine = [(e[2]["state"], e[2]["fill_level"]) for e in s.events
                    if e[2].get("bin") == "urn:ngsi-ld:WasteContainer:B-2" and e[2]["fill_level"] != 0.91]
            self.assertEqual(mine, [("cleared", 0.2)])  # the events come in order: no raise at 0.95 before it
            mshtest.wait_for(lambda: (zone()["bins"], zone()["bins_overflowing"], zone()["bins_stale"]) == (3, 0, 1),
                             30, "B-2 no longer stale in /kpi")
            self.assertIs(bins()["urn:ngsi-ld:WasteContainer:B-2"]["stale"], False)
        finally:
            s.close()


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("bins.sqlite")
    mshtest.import_walkways(DB, [[(39.880, Y), (39.885, Y), (39.890, Y)]])
    routes = mshtest.work_path("cleaning_routes.geojson")
    zones = mshtest.work_path("service_zones.geojson")
    with open(routes, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"route_id": "R1"},
                   "geometry": {"type": "LineString", "coordinates": [[39.881, Y], [39.889, Y]]}}]}, f)
    with open(zones, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [{"type": "Feature",
                   "properties": {"zone_id": "Z1", "name": "Zone 1", "service": "cleaning"},
                   "geometry": {"type": "Polygon", "coordinates": [[[39.8845, 21.405], [39.895, 21.405],
                                                                     [39.895, 21.415], [39.8845, 21.415],
                                                                     [39.8845, 21.405]]]}}]}, f)
    mshtest.import_layer(DB, routes, "cleaning_routes")
    mshtest.import_layer(DB, zones, "service_zones")
    for role in ("admin", "ops", "feed"):
        TOK[role] = mshtest.add_token(DB, role, "%s-bins" % role)
    kpi = mshtest.work_path("kpi.json")
    with open(kpi, "w") as f:
        json.dump({"interval_s": 1}, f)
    SERVER = mshtest.Server(DB, "--test-clock", "--bin-overflow", "0.7", "--bin-stale-min", "10", "--kpi-config", kpi, name="bins").start()
    test_events.SERVER = SERVER


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
