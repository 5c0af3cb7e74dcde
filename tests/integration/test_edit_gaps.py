"""The write path's second round (issue 12): what the first left out.

- External edits: an UPDATE of a layer's table by another program (the sqlite3 CLI here, as QGIS
  would) is served within a second: the item, its ETag and its tile change.

The server is real (a real port, a real SpatiaLite store: the demo assets). No fixed sleeps:
changes are waited on with a deadline (mshtest.wait_for), and the deadline is the requirement.
"""
import json
import subprocess
import time
import unittest

import mshtest

DB = None
SERVER = None
TOK = {}
ITEMS = "/ogc/collections/assets/items"


def req(path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = ctype
    return mshtest.fetch(SERVER.url(path), headers=h, method=method, data=data)


def get_item(fid, path=ITEMS, query=""):
    r = req("%s/%d%s" % (path, fid, query))
    return r, (json.loads(r.body) if r.status == 200 else None)


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


def sqlite3_cli(sql):
    """Another program writing the store: the sqlite3 shell, no SpatiaLite loaded."""
    p = subprocess.run(["sqlite3", "-bail", DB, sql], capture_output=True, timeout=30)
    if p.returncode:
        raise AssertionError("sqlite3 failed: %s" % p.stderr.decode())


class ExternalEdits(unittest.TestCase):
    def test_sqlite3_update_is_served_within_a_second(self):
        fid = 31
        r, item = get_item(fid)
        lon, lat = item["geometry"]["coordinates"]
        z = 16
        x, y = mshtest.lonlat_to_tile(lon, lat, z)
        t_resp, _ = mshtest.fetch_tile(SERVER, "assets", z, x, y)
        etag, tile_etag = r.header("ETag"), t_resp.header("ETag")
        t0 = time.monotonic()
        sqlite3_cli("UPDATE assets SET name = 'edited-by-sqlite3', status = 'faulty' WHERE fid = %d" % fid)
        changed = mshtest.wait_for(lambda: get_item(fid)[0].header("ETag") != etag and get_item(fid)[1], 1.0,
                                   "the item to change after an external UPDATE")
        self.assertEqual(changed["properties"]["name"], "edited-by-sqlite3")
        self.assertEqual(changed["properties"]["status"], "faulty")
        t_resp, tile = mshtest.fetch_tile(SERVER, "assets", z, x, y)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertNotEqual(t_resp.header("ETag"), tile_etag)
        self.assertIn("edited-by-sqlite3", [f.attrs.get("name") for f in tile.get("assets", [])])
        with mshtest.Store(DB) as s:
            ext = s.sql("SELECT version FROM msh_external WHERE layer = 'assets'")[0][0]
            self.assertEqual(ext, s.registry()["assets"]["version"])

    def test_own_edits_do_not_look_external(self):
        with mshtest.Store(DB) as s:
            before = s.sql("SELECT coalesce((SELECT version FROM msh_external WHERE layer = 'assets'), 0)")[0][0]
        r = req("%s/%d" % (ITEMS, 32), "PATCH", TOK["ops"], {"properties": {"status": "maintenance"}},
                "application/merge-patch+json", {"If-Match": get_item(32)[0].header("ETag")})
        self.assertEqual(r.status, 200, r.body)
        with mshtest.Store(DB) as s:
            after = s.sql("SELECT coalesce((SELECT version FROM msh_external WHERE layer = 'assets'), 0)")[0][0]
            self.assertEqual(after, before)
            self.assertEqual(s.sql("SELECT count(*) FROM msh_meta WHERE key = 'msh_quiet'")[0][0], 0)


def setUpModule():
    global DB, SERVER
    DB = mshtest.work_path("edit_gaps.sqlite")
    mshtest.import_demo(DB, ["assets"])
    for role, name in (("ops", "ops-alice"), ("admin", "root"), ("reporter", "phone")):
        TOK[role] = mshtest.add_token(DB, role, name)
    SERVER = mshtest.Server(DB).start()


def tearDownModule():
    mshtest.stop_servers(SERVER)


if __name__ == "__main__":
    mshtest.main()
