"""Glyphs and sprites over HTTP: `GET /fonts/{fontstack}/{range}.pbf`, `/fonts.json`, `/sprites/...`.

The glyph protobuf is decoded here by a few lines of wire-format reading (independent of the C
encoder) and the sprite PNGs by mshtest.decode_png (zlib and the PNG filters), so the checks are
on content: the fontstack as requested, Arabic letters and their presentation forms present with
SDF bitmaps of (width + 6) x (height + 6) bytes, every sprite rectangle inside its PNG (RGBA) and
drawn, @2x twice 1x; bad ranges, traversal attempts and unknown names answered 400/404 with a
message; ETag, 304, long Cache-Control and gzip.
"""

import concurrent.futures
import gzip
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

SERVER = None
STACK = "Noto Sans Regular,Noto Sans Arabic Regular"
STACK_URL = STACK.replace(" ", "%20")


def setUpModule():
    global SERVER
    db = mshtest.work_path("fonts.sqlite")
    mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
    SERVER = mshtest.Server(db, "--threads", "4", "--no-live").start()


def tearDownModule():
    rc = SERVER.stop()
    if rc != 0:
        raise AssertionError("mashaer serve exited %s after SIGTERM; stderr:\n%s" % (rc, SERVER.stderr()))


# ---- protobuf wire format: just enough for glyphs{stacks{name, range, glyphs{...}}}

def _varint(b, i):
    shift = value = 0
    while True:
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return value, i


def _fields(b):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 2:
            n, i = _varint(b, i)
            v = bytes(b[i:i + n])
            i += n
        else:
            raise AssertionError("unexpected wire type %d" % wire)
        yield field, v


def _zigzag(v):
    return (v >> 1) ^ -(v & 1)


def decode_glyphs(body):
    """[(name, range, {codepoint: glyph dict})] for each fontstack."""
    stacks = []
    for field, st in _fields(body):
        assert field == 1, field
        name = rng = None
        glyphs = {}
        for f, v in _fields(st):
            if f == 1:
                name = v.decode("utf-8")
            elif f == 2:
                rng = v.decode()
            elif f == 3:
                g = {"bitmap": b""}
                for gf, gv in _fields(v):
                    key = {1: "id", 2: "bitmap", 3: "width", 4: "height", 5: "left", 6: "top", 7: "advance"}[gf]
                    g[key] = _zigzag(gv) if gf in (5, 6) else gv
                glyphs[g["id"]] = g
        stacks.append((name, rng, glyphs))
    return stacks


def assert_error(test, r, status, *words):
    test.assertEqual(r.status, status, r.body[:300])
    test.assertTrue(r.header("content-type", "").startswith("application/json"))
    err = json.loads(r.body)
    test.assertEqual(err["status"], status)
    for w in words:
        test.assertIn(w, err["error"])
    return err


class Glyphs(unittest.TestCase):
    def test_arabic_range(self):
        r = SERVER.get("/fonts/%s/1536-1791.pbf" % STACK_URL)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.header("content-type"), "application/x-protobuf")
        stacks = decode_glyphs(r.body)
        self.assertEqual(len(stacks), 1)
        name, rng, glyphs = stacks[0]
        self.assertEqual(name, STACK)  # the URL's %20 decoded, the stack as asked
        self.assertEqual(rng, "1536-1791")
        self.assertTrue(all(1536 <= cp <= 1791 for cp in glyphs))
        for cp in (0x0627, 0x0644, 0x0645, 0x0646, 0x0649, 0x0639, 0x0627, 0x0663):  # letters and a digit
            g = glyphs.get(cp)
            self.assertIsNotNone(g, "U+%04X missing" % cp)
            self.assertGreater(g["width"], 0)
            self.assertEqual(len(g["bitmap"]), (g["width"] + 6) * (g["height"] + 6), "U+%04X" % cp)
            self.assertTrue(0 < g["advance"] < 40, g["advance"])
            self.assertGreater(max(g["bitmap"]), 192)  # inside the outline
            self.assertLess(min(g["bitmap"]), 192)  # and outside it
        mshtest.note("%d glyphs in 1536-1791, alef %dx%d advance %d" % (
            len(glyphs), glyphs[0x627]["width"], glyphs[0x627]["height"], glyphs[0x627]["advance"]))

    def test_presentation_forms(self):
        # the RTL plugin shapes Arabic to these code points: the ranges must draw them
        want = {64256: (0xFB50, 0xFBFF), 64512: (0xFC00, 0xFCFF), 64768: (0xFD00, 0xFDFF), 65024: (0xFE70, 0xFEFF)}
        total = 0
        for start, (lo, hi) in want.items():
            r = SERVER.get("/fonts/%s/%d-%d.pbf" % (STACK_URL, start, start + 255))
            self.assertEqual(r.status, 200)
            glyphs = decode_glyphs(r.body)[0][2]
            inside = [cp for cp in glyphs if lo <= cp <= hi]
            total += len(inside)
            self.assertGreater(len(inside), 60, "range %d" % start)
        glyphs = decode_glyphs(SERVER.get("/fonts/%s/65024-65279.pbf" % STACK_URL).body)[0][2]
        # lam-alef, meem in all four forms, alef isolated and final
        for cp in (0xFEFB, 0xFEE1, 0xFEE2, 0xFEE3, 0xFEE4, 0xFE8D, 0xFE8E):
            self.assertIn(cp, glyphs, "U+%04X" % cp)
            self.assertTrue(glyphs[cp]["bitmap"])
        self.assertGreater(total, 600)

    def test_latin_and_caching(self):
        path = "/fonts/%s/0-255.pbf" % STACK_URL
        r = SERVER.get(path)
        self.assertEqual(r.status, 200)
        glyphs = decode_glyphs(r.body)[0][2]
        self.assertTrue(all(chr(c) in "".join(chr(g) for g in glyphs) for c in b"AZaz09 "))
        self.assertEqual(glyphs[ord(" ")]["bitmap"], b"")
        self.assertGreater(glyphs[ord(" ")]["advance"], 2)
        etag = r.header("etag")
        self.assertTrue(etag and etag.startswith('"'))
        cc = r.header("cache-control")
        self.assertRegex(cc, r"max-age=\d+")
        self.assertGreaterEqual(int(cc.split("max-age=")[1].split(",")[0]), 86400)
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": etag}).status, 304)
        rz = SERVER.get(path, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(rz.header("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(rz.body), r.body)
        self.assertLess(len(rz.body), len(r.body))
        self.assertNotEqual(rz.header("etag"), etag)
        self.assertEqual(SERVER.get(path, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"}).status, 304)
        self.assertEqual(SERVER.get(path).body, r.body)  # the cached copy is the same bytes

    def test_same_range_from_many_threads(self):
        path = "/fonts/DejaVu%20Sans%20Bold/512-767.pbf"
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            answers = list(ex.map(lambda _: SERVER.get(path), range(8)))
        self.assertTrue(all(a.status == 200 for a in answers))
        self.assertEqual(len({a.body for a in answers}), 1)
        self.assertEqual(len({a.header("etag") for a in answers}), 1)
        self.assertGreater(len(decode_glyphs(answers[0].body)[0][2]), 50)

    def test_unknown_names(self):
        assert_error(self, SERVER.get("/fonts/No%20Such%20Font/0-255.pbf"), 404, "No Such Font", "/fonts.json")
        # an unknown name in a stack is skipped: the same glyphs (and cache entry) as the stack without it
        r = SERVER.get("/fonts/No%20Such%20Font,DejaVu%20Sans%20Book/0-255.pbf")
        self.assertEqual(r.status, 200)
        name, _, glyphs = decode_glyphs(r.body)[0]
        self.assertEqual(name, "DejaVu Sans Book")
        self.assertIn(ord("A"), glyphs)
        plain = SERVER.get("/fonts/DejaVu%20Sans%20Book,Nope,DejaVu%20Sans%20Book/0-255.pbf")
        self.assertEqual((plain.body, plain.header("etag")), (r.body, r.header("etag")))

    def test_bad_ranges(self):
        for rng in ("0-300.pbf", "1-256.pbf", "256-255.pbf", "99999999-100000254.pbf", "65536-65791.pbf", "00-255.pbf",
                    "0-255.png", "0-255", "-0-255.pbf", "abc", "0-255.pbf.gz"):
            err = assert_error(self, SERVER.get("/fonts/DejaVu%20Sans%20Book/" + rng), 400)
            self.assertTrue("multiple of 256" in err["error"] or ".pbf" in err["error"], (rng, err))

    def test_bad_fontstacks(self):
        for path in ("/fonts/../../etc/passwd/0-255.pbf", "/fonts/..%2F..%2Fetc%2Fpasswd/0-255.pbf",
                     "/fonts/DejaVu%20Sans%20Book%2F..%2F..%2F/0-255.pbf", "/fonts/%2Fetc%2Fpasswd/0-255.pbf",
                     "/fonts/A,,B/0-255.pbf", "/fonts/a,b,c,d,e,f,g,h,i/0-255.pbf", "/fonts/A%0AB/0-255.pbf"):
            r = SERVER.raw(path)
            self.assertIn(r.status, (400, 404), path)
            self.assertNotIn(b"root:", r.body)
            err = json.loads(r.body)
            self.assertTrue(err["error"], path)
        assert_error(self, SERVER.raw("/fonts/../../etc/passwd/0-255.pbf"), 400, "font names cannot hold '/'")
        assert_error(self, SERVER.get("/fonts/DejaVu%20Sans%20Book"), 400)
        assert_error(self, SERVER.get("/fonts/"), 400)

    def test_font_list(self):
        names = SERVER.json("/fonts.json")
        self.assertEqual(names, sorted(names))
        for n in ("Noto Sans Arabic Regular", "Noto Naskh Arabic Regular", "Noto Sans Regular", "DejaVu Sans Book"):
            self.assertIn(n, names)


class Sprites(unittest.TestCase):
    def sheet(self, suffix):
        rj = SERVER.get("/sprites/operations%s.json" % suffix)
        rp = SERVER.get("/sprites/operations%s.png" % suffix)
        self.assertEqual(rj.status, 200)
        self.assertEqual(rp.status, 200)
        self.assertEqual(rp.header("content-type"), "image/png")
        self.assertTrue(rj.header("etag") and rp.header("etag") and rj.header("etag") != rp.header("etag"))
        self.assertIn("max-age=", rj.header("cache-control"))
        return rj.json(), mshtest.decode_png(rp.body, colour_types=(6,)), rp  # RGBA

    def test_index_matches_png(self):
        for suffix, ratio in (("", 1), ("@2x", 2)):
            index, (w, h, rows), _ = self.sheet(suffix)
            for kind in ("toilet", "water_point", "clinic", "waste_bin", "lighting", "gate", "ac_unit",
                         "incident", "incident-medical", "crew-cleaning", "crew-emergency"):
                self.assertIn(kind, index)
            for name, e in index.items():
                self.assertEqual(e["pixelRatio"], ratio, name)
                self.assertEqual((e["width"], e["height"]), (24 * ratio, 24 * ratio), name)
                self.assertTrue(0 <= e["x"] and e["x"] + e["width"] <= w and 0 <= e["y"] and e["y"] + e["height"] <= h, name)
                alpha = [rows[y][x][3] for y in range(e["y"], e["y"] + e["height"])
                         for x in range(e["x"], e["x"] + e["width"])]
                opaque = sum(1 for a in alpha if a == 255)
                # badges fill most of their square; the flow arrows (rotated by the style) an eighth
                share = 8 if name.startswith("flow-arrow") else 2
                self.assertGreater(opaque, len(alpha) // share, "%s%s is not drawn" % (name, suffix))

    def test_2x_is_twice_1x(self):
        i1, (w1, h1, _), _ = self.sheet("")
        i2, (w2, h2, _), _ = self.sheet("@2x")
        self.assertEqual((w2, h2), (2 * w1, 2 * h1))
        self.assertEqual(set(i1), set(i2))
        for name, e in i1.items():
            self.assertEqual({k: v * 2 for k, v in e.items() if k != "pixelRatio"},
                             {k: v for k, v in i2[name].items() if k != "pixelRatio"}, name)

    def test_caching_and_unknown(self):
        _, _, rp = self.sheet("")
        self.assertEqual(SERVER.get("/sprites/operations.png", headers={"If-None-Match": rp.header("etag")}).status, 304)
        for path in ("/sprites/nope.json", "/sprites/nope@2x.png", "/sprites/operations.svg", "/sprites/operations@3x.png",
                     "/sprites/operations", "/sprites/"):
            assert_error(self, SERVER.get(path), 404, "/sprites/operations")


if __name__ == "__main__":
    mshtest.main()
