#!/usr/bin/env python3
"""raster.py: PNG raster tiles, Mashaer against MapServer 8 (lighttpd + 2 FastCGI mapserv), side by side.

Both draw the same data with the same picture (bench/peers/raster_style.json for Mashaer,
bench/peers/mapserver_png.map.in for MapServer: camps filled and outlined, the walkway networks as
2 px lines, assets as discs; no labels), uncached (mashaer serve --cache-mb 0 with its default threads: 4 HTTP workers per core, one
render at a time per core through its render gate, as MapServer runs one FastCGI process per core), over every tile
meeting the Mina + Jamarat sites' bounding box at each zoom (evenly sampled down to --cap).
For each zoom and round, wrk (2 threads, 8 connections, bench/tiles.lua) cycles through the list
for --duration seconds on each peer in turn; the figure is the median of --rounds rounds.
Then every tile is fetched once more, one at a time, from Mashaer to give the single-request
latency (p50, p99) of a 256 px tile. With --soak S, Mashaer renders every zoom's tiles for S
seconds under wrk while its resident memory is sampled every 10 s.

  bench/raster.py [--mashaer build/mashaer] [--rounds 3] [--duration 5] [--zooms 14-18]
                  [--cap 600] [--soak 600] [--workdir DIR] [--no-mapserver] [--mashaer-threads N]

Needs wrk, ogr2ogr (gdal-bin) and, for the peer, mapserv (cgi-mapserver), shptree
(mapserver-bin) and lighttpd; every process it starts is stopped by pid at the end.
"""

import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEMO = os.path.join(REPO, "data", "demo")
LAYERS = ["camps", "walkways", "site_walkways", "assets"]
MAPSERV = "/usr/lib/cgi-bin/mapserv"


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(port, path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            c.getresponse().read()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def sites_bbox():
    with open(os.path.join(DEMO, "sites.geojson")) as f:
        fc = json.load(f)
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for k in c:
                walk(k)
    for feat in fc["features"]:
        if feat["properties"].get("site_id") in ("mina", "jamarat"):
            walk(feat["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def tile_xy(lon, lat, z):
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def tiles(bbox, z, cap):
    x0, y1 = tile_xy(bbox[0], bbox[1], z)
    x1, y0 = tile_xy(bbox[2], bbox[3], z)
    out = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if cap and len(out) > cap:
        step = len(out) / cap
        out = [out[int(i * step)] for i in range(cap)]
    return out


def zoom_list(s):
    out = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def wrk(port, paths_file, duration):
    p = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % duration, "-s", os.path.join(HERE, "tiles.lua"),
                        "http://127.0.0.1:%d" % port, "--", paths_file, "2"],
                       capture_output=True, text=True, timeout=duration + 60)
    m = re.search(r"^BENCH (.*)$", p.stdout, re.M)
    if not m:
        raise RuntimeError("wrk gave no BENCH line:\n" + p.stdout + p.stderr)
    d = dict(kv.split("=") for kv in m.group(1).split())
    return {k: float(v) for k, v in d.items()}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mashaer", default=os.path.join(REPO, "build", "mashaer"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--zooms", default="14-18")
    ap.add_argument("--cap", type=int, default=600)
    ap.add_argument("--soak", type=int, default=0, help="seconds of render soak with memory samples")
    ap.add_argument("--workdir", default="")
    ap.add_argument("--no-mapserver", action="store_true")
    ap.add_argument("--mashaer-threads", type=int, default=0,
                    help="mashaer serve --threads (default: the server's own default, 4 per CPU)")
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix="mashaer-raster-bench-")
    os.makedirs(work, exist_ok=True)
    procs = []
    extra_pids = []
    try:
        # ---- Mashaer
        db = os.path.join(work, "bench.sqlite")
        if os.path.exists(db):
            os.unlink(db)
        for l in LAYERS:
            src = os.path.join(DEMO, l + ".geojson")
            subprocess.run([a.mashaer, "import", "--db", db, "--layer", l, src], check=True, capture_output=True)
        styles = os.path.join(work, "styles")
        os.makedirs(styles, exist_ok=True)
        shutil.copy(os.path.join(HERE, "peers", "raster_style.json"), os.path.join(styles, "bench.json"))
        mport = free_port()
        merr = open(os.path.join(work, "mashaer.log"), "w")
        mp = subprocess.Popen([a.mashaer, "serve", "--db", db, "--port", str(mport), "--no-live", "--cache-mb", "0",
                               "--styles", styles, "--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"] + (["--threads", str(a.mashaer_threads)] if a.mashaer_threads else []),
                              stdout=subprocess.DEVNULL, stderr=merr)
        procs.append(mp)
        if not wait_http(mport, "/health"):
            raise RuntimeError("mashaer did not start")
        version = subprocess.run([a.mashaer, "version"], capture_output=True, text=True).stdout.strip()
        peers = {"mashaer": (mport, "/styles/bench/{z}/{x}/{y}.png")}
        # ---- MapServer
        if not a.no_mapserver:
            for tool in (MAPSERV, shutil.which("shptree") or "", shutil.which("lighttpd") or "",
                         shutil.which("ogr2ogr") or ""):
                if not tool or not os.path.exists(tool):
                    raise RuntimeError("missing %s (apt-get install cgi-mapserver mapserver-bin lighttpd gdal-bin, "
                                       "or --no-mapserver)" % (tool or "a tool"))
            ms = os.path.join(work, "ms")
            os.makedirs(os.path.join(ms, "data"), exist_ok=True)
            os.makedirs(os.path.join(ms, "www"), exist_ok=True)
            for l in LAYERS:
                shp = os.path.join(ms, "data", l + ".shp")
                if not os.path.exists(shp):
                    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", "EPSG:3857", "-lco", "ENCODING=UTF-8",
                                    shp, os.path.join(DEMO, l + ".geojson")], check=True, capture_output=True)
                    subprocess.run(["shptree", shp], check=True, capture_output=True)
            with open(os.path.join(HERE, "peers", "mapserver_png.map.in")) as f:
                mapf = f.read().replace("@DATA@", os.path.join(ms, "data"))
            with open(os.path.join(ms, "bench.map"), "w") as f:
                f.write(mapf)
            with open(os.path.join(HERE, "peers", "mapserver.conf.in")) as f:
                conf = f.read().replace("@MAP@", os.path.join(ms, "bench.map")).replace("@DIR@", ms)
            with open(os.path.join(ms, "mapserver.conf"), "w") as f:
                f.write(conf)
            lport = free_port()
            with open(os.path.join(HERE, "peers", "lighttpd.conf.in")) as f:
                lconf = (f.read().replace("@DIR@", ms).replace("@PORT@", str(lport))
                         .replace("@MSCONF@", os.path.join(ms, "mapserver.conf")))
            with open(os.path.join(ms, "lighttpd.conf"), "w") as f:
                f.write(lconf)
            subprocess.run(["lighttpd", "-f", os.path.join(ms, "lighttpd.conf")], check=True)
            if not wait_http(lport, "/"):
                raise RuntimeError("lighttpd did not start")
            with open(os.path.join(ms, "lighttpd.pid")) as f:
                lpid = int(f.read())
            extra_pids.append(lpid)
            peers["mapserver"] = (lport, "/mapserv?map=BENCH&mode=tile&tilemode=gmap&tile={x}+{y}+{z}"
                                         "&layers=camps+walkways+site_walkways+assets")
            mv = subprocess.run([MAPSERV, "-v"], capture_output=True, text=True).stdout.split("\n")[0]
            version += "; " + mv.split(" OUTPUT")[0]
        bbox = sites_bbox()
        zooms = zoom_list(a.zooms)
        lists = {}
        for z in zooms:
            t = tiles(bbox, z, a.cap)
            lists[z] = t
            for name, (port, pat) in peers.items():
                with open(os.path.join(work, "paths_%s_z%d.txt" % (name, z)), "w") as f:
                    for (zz, x, y) in t:
                        f.write(pat.format(z=zz, x=x, y=y) + "\n")
        # check every peer answers PNGs, and keep a sample of each to look at
        for name, (port, pat) in peers.items():
            z, x, y = lists[zooms[len(zooms) // 2]][len(lists[zooms[len(zooms) // 2]]) // 2]
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", pat.format(z=z, x=x, y=y))
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or body[:8] != b"\x89PNG\r\n\x1a\n":
                raise RuntimeError("%s answers %d %r for %d/%d/%d" % (name, r.status, body[:100], z, x, y))
            with open(os.path.join(work, "sample_%s_%d_%d_%d.png" % (name, z, x, y)), "wb") as f:
                f.write(body)
            if name == "mapserver":
                mspids = subprocess.run(["pgrep", "-P", str(extra_pids[0]), "-x", "mapserv"],
                                        capture_output=True, text=True).stdout.split()
                extra_pids += [int(p) for p in mspids]
        # ---- throughput
        results = {}
        for rnd in range(a.rounds):
            for z in zooms:
                for name, (port, _) in peers.items():
                    r = wrk(port, os.path.join(work, "paths_%s_z%d.txt" % (name, z)), a.duration)
                    if r["err_status"] or r["err_other"]:
                        log("%s z%d: %d errors" % (name, z, r["err_status"] + r["err_other"]))
                    results.setdefault((name, z), []).append(r)
                    log("round %d z%d %s: %.0f tiles/s, p99 %.1f ms" % (rnd + 1, z, name, r["rps"], r["p99_us"] / 1000))
        # ---- single-request latency on Mashaer
        lat = {}
        c = http.client.HTTPConnection("127.0.0.1", mport, timeout=30)
        for z in zooms:
            ts = []
            for (zz, x, y) in lists[z]:
                t0 = time.perf_counter()
                c.request("GET", "/styles/bench/%d/%d/%d.png" % (zz, x, y))
                c.getresponse().read()
                ts.append((time.perf_counter() - t0) * 1000)
            ts.sort()
            lat[z] = (ts[len(ts) // 2], ts[min(len(ts) - 1, int(len(ts) * 0.99))], ts[-1])
        # ---- soak
        soak = []
        if a.soak:
            allp = os.path.join(work, "paths_mashaer_all.txt")
            with open(allp, "w") as f:
                for z in zooms:
                    for (zz, x, y) in lists[z]:
                        f.write("/styles/bench/%d/%d/%d.png\n" % (zz, x, y))
            t_end = time.time() + a.soak
            soak.append((0, rss_kb(mp.pid)))
            t0 = time.time()
            done = 0
            while time.time() < t_end:
                r = wrk(mport, allp, 10)
                done += r["requests"]
                soak.append((time.time() - t0, rss_kb(mp.pid)))
            log("soak: %d tiles in %.0f s" % (done, time.time() - t0))
        # ---- report
        print("\n## PNG tiles, Mina + Jamarat, uncached (%s)\n" % version)
        print("Command: `bench/raster.py %s`\n" % " ".join(sys.argv[1:]))
        print("| zoom | tiles | Mashaer tiles/s | MapServer tiles/s | ratio | Mashaer p99 under load | "
              "Mashaer one at a time p50 / p99 / max |")
        print("|---|---|---|---|---|---|---|")
        for z in zooms:
            m = statistics.median(r["rps"] for r in results[("mashaer", z)])
            mp99 = statistics.median(r["p99_us"] for r in results[("mashaer", z)]) / 1000
            ms = statistics.median(r["rps"] for r in results[("mapserver", z)]) if ("mapserver", z) in results else None
            print("| z%d | %d | %.0f | %s | %s | %.1f ms | %.1f / %.1f / %.1f ms |" % (
                z, len(lists[z]), m, "%.0f" % ms if ms else "-", "%.1fx" % (m / ms) if ms else "-", mp99,
                lat[z][0], lat[z][1], lat[z][2]))
        if soak:
            print("\nMemory over the soak (%d s): resident set %s MB" % (
                a.soak, " -> ".join("%.0f" % (kb / 1024) for _, kb in soak[::max(1, len(soak) // 12)] + [soak[-1]])))
        sys.stdout.flush()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
        for pid in extra_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
