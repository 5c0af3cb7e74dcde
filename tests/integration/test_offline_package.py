"""`mashaer package` (an offline MapLibre package) and its serving and rebuilding by `serve --packages`.

* The CLI writes OUT/NAME with style.json (the stored source at pmtiles://mashaer.pmtiles, live
  and KPI sources and their style layers dropped, glyphs and sprite in the package), the archive,
  the glyph ranges the labels use and no other (every code point of the label fields of the
  features in the box is covered; no range outside the text of the whole layers, U+0000-00FF and
  the Arabic presentation forms), sprites, the RTL plugin and manifest.json, whose files list is
  exactly what is on disk with the right sizes and SHA-256. Glyphs and sprites are the server's
  bytes for the same URLs; the reference PMTiles decoder reads the archive over HTTP ranges from
  /packages/mina/mashaer.pmtiles and every tile equals the server's.
* The same data gives the same etag; a rebuild into an existing package swaps it; a failed build
  (a broken style) exits non-zero and leaves the old package and no temporary folder.
* Serving: GET /packages lists the folder (type, manifest URL, bytes, etag); each file answers
  with its Content-Type and its manifest hash as ETag (the manifest with the package's etag), 304
  on If-None-Match; a file on disk that the manifest does not list, a dot folder and paths that
  climb out are refused.
* Rebuild: re-importing a packaged layer makes the server rebuild the package in the background:
  the barrier is mashaer_package_rebuilds_total{result="ok"}; the manifest's etag and the camps
  version then differ, and the ETag served is the new manifest's.
"""

import gzip
import hashlib
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402
from test_export import box_tiles, pmtiles_read  # noqa: E402

ZOOMS = "12-16"
LABELS = {"sites": ["name_ar", "name"], "service_zones": ["name_ar", "name"], "camps": ["name_ar", "camp_id"],
          "site_walkways": ["name_ar", "name"]}
STACKS = ["Noto Sans Regular,Noto Sans Arabic Regular", "Noto Sans Bold,Noto Sans Arabic Bold"]


def package(db, out, *extra, check=0):
    return mshtest.run_mashaer("package", "--db", db, "--style", "operations", "--site", "mina", "--zoom", ZOOMS,
                               "-q", *extra, out, check=check)


def manifest(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        return json.load(f)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def label_ranges(bbox=None):
    """The 256-code-point ranges of the label fields' text of the demo features (those meeting bbox)."""
    ranges = set()
    for layer, fields in LABELS.items():
        with open(mshtest.demo_path(layer + ".geojson")) as f:
            doc = json.load(f)
        for feat in doc["features"]:
            if bbox:
                pts = list(coords(feat["geometry"]["coordinates"]))
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                if min(xs) > bbox[2] or max(xs) < bbox[0] or min(ys) > bbox[3] or max(ys) < bbox[1]:
                    continue
            for k in fields:
                v = feat["properties"].get(k)
                if v is not None:
                    ranges |= {ord(c) >> 8 for c in str(v)}
    return ranges


def coords(c):
    if isinstance(c[0], (int, float)):
        yield c
    else:
        for e in c:
            yield from coords(e)


def demo_db():
    path = mshtest.work_path("package.sqlite")
    if not mshtest.store_exists(path):
        mshtest.import_demo(path)
    return path


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = demo_db()
        cls.out = mshtest.work_path("served")
        package(cls.db, cls.out)
        cls.dir = os.path.join(cls.out, "mina")
        cls.m = manifest(cls.dir)
        with open(os.path.join(cls.dir, "secret.txt"), "w") as f:
            f.write("on disk, not in the manifest")
        os.makedirs(os.path.join(cls.out, ".mina.partXYZ"))
        shutil.copy(os.path.join(cls.dir, "manifest.json"), os.path.join(cls.out, ".mina.partXYZ"))
        cls.server = mshtest.Server(cls.db, "--threads", "2", "--packages", cls.out).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s after SIGTERM" % rc)

    def test_manifest_lists_every_file(self):
        m = self.m
        self.assertEqual((m["format"], m["name"], m["style"], m["minzoom"], m["maxzoom"]), (1, "mina", "operations", 12, 16))
        self.assertEqual(sorted(m["layers"]), sorted(mshtest.DEMO_LAYERS))
        self.assertEqual(m["omitted"], ["live", "kpi"])
        self.assertRegex(m["etag"], r"^pkg-[0-9a-f]{32}$")
        on_disk = set()
        for root, _, files in os.walk(self.dir):
            for f in files:
                on_disk.add(os.path.relpath(os.path.join(root, f), self.dir))
        listed = {f["path"]: f for f in m["files"]}
        self.assertEqual(set(listed) | {"manifest.json", "secret.txt"}, on_disk)
        for path, f in listed.items():
            full = os.path.join(self.dir, path)
            self.assertEqual((os.path.getsize(full), sha(full)), (f["bytes"], f["sha256"]), path)
        self.assertEqual(m["bytes"], sum(f["bytes"] for f in m["files"]))
        self.assertEqual(m["rtl_text_plugin"], "mapbox-gl-rtl-text.js")
        self.assertIn("mapbox-gl-rtl-text.js", listed)

    def test_style_points_into_the_package(self):
        with open(os.path.join(self.dir, "style.json")) as f:
            style = json.load(f)
        self.assertEqual(list(style["sources"]), ["mashaer"])
        self.assertEqual(style["sources"]["mashaer"]["url"], "pmtiles://mashaer.pmtiles")
        self.assertEqual(style["glyphs"], "fonts/{fontstack}/{range}.pbf")
        self.assertEqual(style["sprite"], "sprites/operations")
        with open(os.path.join(mshtest.CONFIG.source_dir, "styles", "operations.json")) as f:
            live = json.load(f)
        kept = [l["id"] for l in live["layers"] if l.get("source") in (None, "mashaer")]
        self.assertEqual([l["id"] for l in style["layers"]], kept)
        for name in ("operations.json", "operations.png", "operations@2x.json", "operations@2x.png"):
            r = self.server.get("/sprites/" + name)
            self.assertEqual(sha(os.path.join(self.dir, "sprites", name)), hashlib.sha256(r.body).hexdigest(), name)

    def test_glyph_ranges_are_those_the_labels_use(self):
        needed = label_ranges(self.m["bbox"])
        self.assertIn(0x06, needed)  # Arabic names in the box
        allowed = label_ranges() | {0x00, 0xFB, 0xFE}
        for stack in STACKS:
            files = sorted(os.listdir(os.path.join(self.dir, "fonts", stack)))
            have = {int(f.split("-")[0]) >> 8 for f in files}
            self.assertLessEqual(needed, have, stack)
            self.assertLessEqual(have, allowed, stack)
            self.assertLessEqual({0x00, 0xFE}, have, stack)  # ASCII and the shaped Arabic forms
            for f in files:
                r = self.server.get("/fonts/%s/%s" % (stack.replace(" ", "%20"), f))
                body = gzip.decompress(r.body) if r.header("content-encoding") == "gzip" else r.body
                self.assertEqual(sha(os.path.join(self.dir, "fonts", stack, f)), hashlib.sha256(body).hexdigest(), f)

    def test_reference_client_reads_the_archive_over_ranges(self):
        tiles = box_tiles(self.m["bbox"], 12, 16)
        d = pmtiles_read(self.server.url("/packages/mina/mashaer.pmtiles"), tiles)
        present = 0
        layers = ",".join(self.m["sources"]["mashaer"]["layers"])
        for (z, x, y), digest in zip(tiles, d["tiles"]):
            r = self.server.get("/tiles/%s/%d/%d/%d.mvt" % (layers, z, x, y))
            if r.status == 204:
                self.assertIsNone(digest, (z, x, y))
                continue
            present += 1
            self.assertEqual(digest, hashlib.sha256(r.body).hexdigest(), (z, x, y))
        self.assertGreater(present, 50)

    def test_list_and_files(self):
        doc = self.server.json("/packages")
        self.assertEqual([p["name"] for p in doc["packages"]], ["mina"])  # not the dot folder
        p = doc["packages"][0]
        self.assertEqual((p["type"], p["bytes"], p["etag"]), ("package", self.m["bytes"], '"%s"' % self.m["etag"]))
        self.assertTrue(p["manifest"].endswith("/packages/mina/manifest.json"))
        r = self.server.get("/packages/mina/manifest.json")
        self.assertEqual((r.status, r.header("etag"), r.header("content-type")),
                         (200, '"%s"' % self.m["etag"], "application/json"))
        self.assertEqual(json.loads(r.body), self.m)
        self.assertEqual(self.server.get("/packages/mina/manifest.json",
                                         headers={"If-None-Match": r.header("etag")}).status, 304)
        types = {"style.json": "application/json", "mashaer.pmtiles": "application/vnd.pmtiles",
                 "sprites/operations.png": "image/png", "mapbox-gl-rtl-text.js": "text/javascript",
                 "fonts/%s/0-255.pbf" % STACKS[0].replace(" ", "%20"): "application/x-protobuf"}
        listed = {f["path"]: f for f in self.m["files"]}
        for path, ctype in types.items():
            r = self.server.get("/packages/mina/" + path)
            f = listed[path.replace("%20", " ")]
            self.assertEqual((r.status, r.header("content-type"), len(r.body)), (200, ctype, f["bytes"]), path)
            self.assertEqual(r.header("etag"), '"%s"' % f["sha256"][:32])
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), f["sha256"])
        r = self.server.get("/packages/mina/mashaer.pmtiles", headers={"Range": "bytes=0-126"})
        self.assertEqual((r.status, len(r.body), r.body[:7]), (206, 127, b"PMTiles"))
        for bad, code in (("mina/secret.txt", 404), ("mina/../package.sqlite", None), ("mina/%2e%2e/mina/style.json", None),
                          (".mina.partXYZ/manifest.json", 400), ("nope/style.json", 404), ("mina/", 400)):
            r = self.server.get("/packages/" + bad)
            self.assertIn(r.status, (code,) if code else (400, 404), bad)
            self.assertNotIn(b"PMTiles", r.body)

    def test_same_data_same_etag_and_failed_build_keeps_the_old(self):
        out = mshtest.work_path("cli")
        package(self.db, out)
        first = manifest(os.path.join(out, "mina"))
        package(self.db, out)  # over an existing package: swapped
        again = manifest(os.path.join(out, "mina"))
        self.assertEqual(again["etag"], first["etag"])
        self.assertEqual(again["etag"], self.m["etag"])
        styles = mshtest.work_path("broken-styles")
        os.makedirs(styles)
        with open(os.path.join(styles, "operations.json"), "w") as f:
            f.write('{"version": 8, "sources": {')
        p = package(self.db, out, "--styles", styles, check=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("operations", p.stderr)
        self.assertEqual(manifest(os.path.join(out, "mina")), again)
        self.assertEqual(sorted(os.listdir(out)), ["mina"])  # no temporary folder left

    def test_bad_usage(self):
        for args in (["--name", "../x"], ["--zoom", "16-12"], ["--style", "../etc"]):
            p = package(self.db, mshtest.work_path("bad"), *args, check=None)
            self.assertEqual(p.returncode, 2, args)
        self.assertFalse(os.path.exists(os.path.join(mshtest.work_path("bad"), "x")))


class Rebuild(unittest.TestCase):
    def test_reimport_rebuilds_the_served_package(self):
        db = mshtest.work_path("rebuild.sqlite")
        mshtest.copy_store(demo_db(), db)  # the demo store, imported once for both classes
        out = mshtest.work_path("rebuild")
        package(db, out)
        before = manifest(os.path.join(out, "mina"))
        with mshtest.Server(db, "--threads", "2", "--packages", out, name="rebuild") as server:
            self.assertEqual(server.get("/packages/mina/manifest.json").header("etag"), '"%s"' % before["etag"])
            self.assertEqual(self.versions(server, before), before["layers"])  # up to date: nothing to rebuild
            mshtest.import_layer(db, mshtest.demo_path("camps.geojson"), "camps")
            mshtest.wait_for(lambda: self.rebuilds(server) == 1, 60, "the package rebuilt after the re-import")
            after = manifest(os.path.join(out, "mina"))
            self.assertNotEqual(after["etag"], before["etag"])
            self.assertNotEqual(after["layers"]["camps"], before["layers"]["camps"])
            self.assertEqual({k: v for k, v in after["layers"].items() if k != "camps"},
                             {k: v for k, v in before["layers"].items() if k != "camps"})
            self.assertEqual(server.get("/packages/mina/manifest.json").header("etag"), '"%s"' % after["etag"])
            self.assertEqual(server.json("/packages")["packages"][0]["etag"], '"%s"' % after["etag"])
            self.assertEqual(self.versions(server, after), after["layers"])  # up to date again: no second rebuild due
            m = mshtest.parse_metrics(server.get("/metrics").body.decode())
            self.assertEqual(mshtest.metric(m, "mashaer_package_rebuilds_total", result="failed"), 0)
        self.assertEqual(sorted(os.listdir(out)), ["mina"])

    @staticmethod
    def versions(server, m):
        """The served catalog's versions of the package's layers."""
        return {l["id"]: l["version"] for l in server.json("/catalog")["layers"] if l["id"] in m["layers"]}

    @staticmethod
    def rebuilds(server):
        m = mshtest.parse_metrics(server.get("/metrics").body.decode())
        return mshtest.metric(m, "mashaer_package_rebuilds_total", result="ok")


if __name__ == "__main__":
    mshtest.main()
