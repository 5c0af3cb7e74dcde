"""GET /packages and /packages/{name}.pmtiles (`mashaer serve --packages DIR`): the list, and the
archive over HTTP range requests.

* The reference PMTiles decoder (the `pmtiles` npm package with its own FetchSource, which asks
  one range per read) reads an exported archive from the server, and every tile it returns is the
  server's tile for that z/x/y.
* Range answers: 206 with Content-Range and exactly those bytes, suffix and open ranges, 416 for
  a range past the end and for several ranges (said in the body), the whole file for an If-Range
  that is not the current ETag or a Range that is not bytes, 304 for the current ETag; names that
  could leave the folder are refused; a package replaced in place gets a new ETag.
"""

import hashlib
import os
import shutil
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from test_export import LAYERS, box_tiles, pmtiles_read  # noqa: E402


class Packages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = mshtest.work_path("packages.sqlite")
        mshtest.import_demo(cls.db, ["sites", "camps", "walkways", "site_walkways"])
        cls.dir = mshtest.work_path("packages")
        os.makedirs(cls.dir)
        cls.path = os.path.join(cls.dir, "mina.pmtiles")
        mshtest.run_mashaer("export", "--db", cls.db, "--layers", LAYERS, "--site", "mina", "--zoom", "12-16",
                            cls.path, check=0)
        with open(cls.path, "rb") as f:
            cls.data = f.read()
        with open(os.path.join(cls.dir, "notes.txt"), "w") as f:
            f.write("not a package")
        with open(mshtest.work_path("secret.pmtiles"), "wb") as f:
            f.write(b"outside the folder")
        cls.server = mshtest.Server(cls.db, "--threads", "2", "--packages", cls.dir).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s after SIGTERM" % rc)

    def get(self, headers=None, name="mina.pmtiles"):
        return self.server.get("/packages/" + name, headers=headers)

    def test_list(self):
        doc = self.server.json("/packages")
        self.assertEqual([p["name"] for p in doc["packages"]], ["mina"])
        p = doc["packages"][0]
        self.assertEqual(p["bytes"], len(self.data))
        self.assertTrue(p["url"].endswith("/packages/mina.pmtiles"))
        self.assertEqual(p["etag"], self.get().header("etag"))

    def test_reference_client_reads_every_tile_over_ranges(self):
        tiles = box_tiles(self.site_box(), 12, 16)
        d = pmtiles_read(self.server.url("/packages/mina.pmtiles"), tiles)
        self.assertEqual(d["metadata"]["name"], LAYERS)
        present = 0
        for (z, x, y), sha in zip(tiles, d["tiles"]):
            r = self.server.get("/tiles/%s/%d/%d/%d.mvt" % (LAYERS, z, x, y))
            if r.status == 204:
                self.assertIsNone(sha, (z, x, y))
                continue
            present += 1
            self.assertEqual(sha, hashlib.sha256(r.body).hexdigest(), (z, x, y))
        self.assertGreater(present, 50)
        m = mshtest.parse_metrics(self.server.get("/metrics").body.decode())
        ranged = mshtest.metric(m, "mashaer_http_requests_total", endpoint="packages", code="206")
        self.assertGreater(ranged, 1)  # the client read ranges, not the whole file

    def site_box(self):
        """The archive's bounds, from its header (min lon, min lat, max lon, max lat at byte 102)."""
        return tuple(v / 1e7 for v in struct.unpack("<iiii", self.data[102:118]))

    def test_ranges(self):
        size = len(self.data)
        r = self.get({"Range": "bytes=0-126"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, self.data[:127])
        self.assertEqual(r.header("content-range"), "bytes 0-126/%d" % size)
        self.assertEqual(r.header("accept-ranges"), "bytes")
        self.assertEqual(r.header("content-type"), "application/vnd.pmtiles")
        r = self.get({"Range": "bytes=-10"})
        self.assertEqual((r.status, r.body), (206, self.data[-10:]))
        r = self.get({"Range": "bytes=%d-" % (size - 5)})
        self.assertEqual((r.status, r.body), (206, self.data[-5:]))
        r = self.get({"Range": "bytes=100-99999999999"})
        self.assertEqual((r.status, r.body), (206, self.data[100:]))
        self.assertEqual(r.header("content-range"), "bytes 100-%d/%d" % (size - 1, size))
        r = self.get({"Range": "bytes=%d-" % size})
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("content-range"), "bytes */%d" % size)
        r = self.get({"Range": "bytes=0-1,5-9"})
        self.assertEqual(r.status, 416)
        self.assertIn("one range per request", r.json()["error"])
        for ignored in ("items=0-1", "bytes=9-1", "bytes=x"):
            r = self.get({"Range": ignored})
            self.assertEqual((r.status, len(r.body)), (200, size), ignored)
        r = self.get()
        self.assertEqual((r.status, r.body), (200, self.data))
        self.assertEqual(r.header("accept-ranges"), "bytes")

    def test_conditional(self):
        etag = self.get().header("etag")
        r = self.get({"Range": "bytes=0-9", "If-Range": etag})
        self.assertEqual((r.status, r.body), (206, self.data[:10]))
        r = self.get({"Range": "bytes=0-9", "If-Range": '"pkg-0000000000000000"'})
        self.assertEqual((r.status, r.body), (200, self.data))
        r = self.get({"If-None-Match": etag})
        self.assertEqual((r.status, r.body), (304, b""))

    def test_replaced_package_gets_a_new_etag(self):
        name = "copy.pmtiles"
        tmp = os.path.join(self.dir, ".copy.tmp")
        shutil.copyfile(self.path, tmp)
        os.rename(tmp, os.path.join(self.dir, name))
        before = self.get(name=name).header("etag")
        with open(tmp, "wb") as f:
            f.write(self.data[:1000])
        os.rename(tmp, os.path.join(self.dir, name))
        r = self.get({"Range": "bytes=0-9", "If-Range": before}, name=name)
        self.assertEqual((r.status, len(r.body)), (200, 1000))  # the new file whole, not a range of it
        self.assertNotEqual(r.header("etag"), before)
        os.unlink(os.path.join(self.dir, name))

    def test_names_refused(self):
        for path, code in (("/packages/notes.txt", 400), ("/packages/.hidden.pmtiles", 400),
                           ("/packages/absent.pmtiles", 404), ("/packages/..%2Fsecret.pmtiles", 400),
                           ("/packages/a/b.pmtiles", 404)):
            r = self.server.get(path)
            self.assertEqual(r.status, code, path)
            self.assertNotIn(b"outside the folder", r.body)


if __name__ == "__main__":
    mshtest.main()
