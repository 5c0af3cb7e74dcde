#!/usr/bin/python3
"""OGC API - Tiles against the plain tile path, and the WMTS capabilities: what the OGC path costs.

  python3 bench/ogc_tiles.py [--seconds S] [--rounds R] [--mashaer build/mashaer]

Imports the demo layers into a scratch store and starts `mashaer serve --no-live`. The same tiles
of `walkways` (every tile of z14-z16 over its extent) are asked for as
/tiles/walkways/{z}/{x}/{y}.mvt and as /ogc/collections/walkways/tiles/WebMercatorQuad/{z}/{y}/{x}:
each list is requested once first (both paths share the tile cache, so after that both answer
from it), then wrk (bench/tiles.lua, 2 threads, 16 connections) runs S seconds on each path in
turn, R rounds, and the rate and p50/p99 of each round are printed; then every tile by both paths
in turn on one connection, five times (p50/p99 per path: on a busy machine the fairer figure).
Then 200 sequential
GET /wmts/1.0.0/WMTSCapabilities.xml and GET .../tiles/WebMercatorQuad on one keep-alive
connection, timed to the last byte (p50/p99). The figures go into docs/BENCHMARKS.md.
"""
import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import benchlib  # noqa: E402
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--seconds", type=int, default=10)
ap.add_argument("--rounds", type=int, default=3)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-ogctiles-", scratch.demo_layers(args.source_dir), only_existing=True)
srv, port = scratch.serve(args, db, "--no-live", "--threads", "4")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def get(path):
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    if r.status not in (200, 204):
        raise SystemExit("GET %s: %d %r" % (path, r.status, body[:300]))
    return dt, body


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


try:
    bbox = [float(v) for v in re.search(rb'"bbox":\[\[([^\]]*)\]', get("/ogc/collections/walkways")[1])
            .group(1).split(b",")]
    tiles = [t for z in (14, 15, 16) for t in benchlib.tiles_for(bbox, z)]
    lists = {
        "/tiles": ["/tiles/walkways/%d/%d/%d.mvt" % (z, x, y) for z, x, y in tiles],
        "OGC API - Tiles": ["/ogc/collections/walkways/tiles/WebMercatorQuad/%d/%d/%d" % (z, y, x) for z, x, y in tiles],
    }
    for paths in lists.values():
        for p in paths:
            get(p)
    print("walkways z14-z16: %d tiles, both paths warm (one cache entry per tile)" % len(tiles))
    lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiles.lua")
    results = {k: [] for k in lists}
    for rnd in range(args.rounds):
        for name, paths in lists.items():
            pf = os.path.join(work, "paths.txt")
            with open(pf, "w") as f:
                f.write("\n".join(paths) + "\n")
            out = subprocess.run(["wrk", "-t2", "-c16", "-d%ds" % args.seconds, "-s", lua,
                                  "http://127.0.0.1:%d" % port, "--", pf, "2"],
                                 capture_output=True, text=True).stdout
            m = dict(kv.split("=") for kv in re.search(r"^BENCH (.*)$", out, re.M).group(1).split())
            if int(m["err_status"]) or int(m["err_other"]):
                raise SystemExit("%s: errors %s" % (name, m))
            results[name].append((float(m["rps"]), int(m["p50_us"]), int(m["p99_us"])))
            print("round %d  %-16s %9.0f tiles/s  p50 %6.2f ms  p99 %6.2f ms" %
                  (rnd + 1, name, float(m["rps"]), int(m["p50_us"]) / 1000, int(m["p99_us"]) / 1000))
    for name, rs in results.items():
        print("median   %-16s %9.0f tiles/s  p99 %6.2f ms" % (name, sorted(r[0] for r in rs)[len(rs) // 2],
                                                              sorted(r[2] for r in rs)[len(rs) // 2] / 1000))
    # interleaved on one connection: tile i by one path then the other (the order alternating), so a
    # change of load on the machine falls on both alike
    conn.close()  # idle through the wrk rounds: the server may have closed it
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    seq = {k: [] for k in lists}
    names = list(lists)
    for rep in range(5):
        for i in range(len(tiles)):
            for k in (names if (i + rep) % 2 else names[::-1]):
                seq[k].append(get(lists[k][i])[0])
    for k, v in seq.items():
        print("one connection, interleaved  %-16s %5d requests  p50 %.3f ms  p99 %.3f ms" %
              (k, len(v), pct(v, 50) * 1000, pct(v, 99) * 1000))
    for path in ("/wmts/1.0.0/WMTSCapabilities.xml", "/ogc/collections/walkways/tiles/WebMercatorQuad",
                 "/ogc/tileMatrixSets/WebMercatorQuad"):
        times, size = [], 0
        for _ in range(200):
            dt, body = get(path)
            times.append(dt)
            size = len(body)
        print("%-48s %6d bytes  p50 %.2f ms  p99 %.2f ms" % (path, size, pct(times, 50) * 1000, pct(times, 99) * 1000))
finally:
    conn.close()
    scratch.stop(srv)
    shutil.rmtree(work, ignore_errors=True)
