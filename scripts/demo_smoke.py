#!/usr/bin/python3
"""demo_smoke.py: run the README's demo command and check that it serves a live map.

    scripts/demo_smoke.py [--port N] [--start-timeout S] [--people-timeout S] [--attach PGID]

Starts `scripts/demo.sh --port N` (set-up, build, import, serve, simulate), waits for /health while
it builds, then checks what a user sees: the viewer page, MapLibre GL JS from /vendor/, a movement
tile with people in it (decoded with GDAL's MVT driver), a density heatmap with coloured pixels and
/kpi with its zones. Stops the demo (its whole process group) on every way out. Exit 0 when all hold.
scripts/fresh-check.sh runs this on a bare Debian 12."""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# The Grand Mosque and Mina in one z12 tile: the simulator starts its pilgrims in Makkah, then walks them to Mina.
MOVEMENT_TILE = (12, 2501, 1798)
HEAT_TILES = [(12, 2501, 1798), (13, 5002, 3596), (13, 5003, 3596)]


def get(base, path, timeout=30):
    with urllib.request.urlopen(base + path, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


class Attached:
    """A demo.sh started by someone else, as its own process group (the Popen calls main() uses)."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        try:
            os.kill(self.pid, 0)
            return None
        except ProcessLookupError:
            self.returncode = -1
            return self.returncode

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("demo.sh", timeout)
            time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--start-timeout", type=float, default=3600, help="seconds for set-up and build (default 3600)")
    ap.add_argument("--people-timeout", type=float, default=300, help="seconds for the crowd to show (default 300)")
    ap.add_argument("--attach", type=int, default=0, metavar="PGID",
                    help="check a demo.sh already started as process group PGID (scripts/demo_smoke.sh) instead of starting one")
    a = ap.parse_args()
    base = "http://127.0.0.1:%d" % a.port
    if a.attach:
        demo = Attached(a.attach)
    else:
        demo = subprocess.Popen([os.path.join(SRC, "scripts", "demo.sh"), "--port", str(a.port)], start_new_session=True)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    def stop(*_):
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit("demo_smoke: stopped by SIGTERM"))
    try:
        deadline = time.monotonic() + a.start_timeout
        while True:
            if demo.poll() is not None:
                print("FAIL scripts/demo.sh exited (%d) before serving" % demo.returncode)
                return 1
            try:
                if get(base, "/health", 2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                print("FAIL no /health within %d s" % a.start_timeout)
                return 1
            time.sleep(1)  # polling a build that takes minutes; the barrier is /health answering
        check(True, "the demo answers /health")

        st, ct, body = get(base, "/")
        check(st == 200 and b"maplibre-gl.js" in body and b'dir="rtl"' in body,
              "/ is the viewer (%d, %s, %d bytes, right-to-left)" % (st, ct, len(body)))
        st, ct, body = get(base, "/vendor/maplibre-gl/maplibre-gl.js")
        check(st == 200 and len(body) > 100000 and b"maplibre" in body.lower(),
              "MapLibre GL JS from /vendor/ (%d bytes)" % len(body))

        sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
        import mshtest  # GDAL's MVT driver and the PNG reader the tests use

        z, x, y = MOVEMENT_TILE
        people, until = 0, time.monotonic() + a.people_timeout
        while time.monotonic() < until:
            st, _, body = get(base, "/tiles/movement/%d/%d/%d.mvt" % (z, x, y))
            if st == 200:
                cells = mshtest.decode_mvt(body, z, x, y).get("movement", [])
                people = sum(int(f.attrs.get("count", 0)) for f in cells)
                if people > 0:
                    break
            time.sleep(1)  # the simulator posts a batch a second
        check(people > 0, "movement tile %d/%d/%d has people in it: %d" % (z, x, y, people))

        coloured = 0
        for z, x, y in HEAT_TILES:
            st, ct, body = get(base, "/heatmaps/density/%d/%d/%d.png" % (z, x, y))
            if st == 200 and ct.startswith("image/png"):
                w, h, rows = mshtest.decode_png(body)
                coloured += sum(1 for row in rows for px in row if px[3] > 0)
        check(coloured > 0, "density heatmap tiles have %d coloured pixels" % coloured)

        st, ct, body = get(base, "/kpi")
        doc = json.loads(body) if st == 200 else {}
        check(st == 200 and len(doc.get("zones", [])) > 0, "/kpi answers with %d zones" % len(doc.get("zones", [])))
    finally:
        stop()
    print("demo_smoke: %s" % ("all checks passed" if not failures else "%d failed" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
