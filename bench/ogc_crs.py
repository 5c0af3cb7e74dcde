#!/usr/bin/python3
"""OGC API - Features Part 2 and downloads: the cost of reprojection, and downloads beside ogr2ogr.

  /usr/bin/python3 bench/ogc_crs.py [--requests N] [--runs N] [--mashaer build/mashaer]

Imports walkways (the demo's largest layer, 22,001 lines), camps and assets into a scratch store and
starts `mashaer serve --no-live --threads 4`. Then, client side, on one keep-alive connection, the
time from sending a request to the body's last byte:
  1. items pages (no gzip) in CRS84 and in EPSG:4326, 3857 and 32637 (--requests each, after a
     warm-up): p50 and p99 in ms, and the cost of the reprojection per 1,000 vertices;
  2. the whole walkways layer as a GeoPackage (f=gpkg&limit=100000, in CRS84 and in 32637), and
     the other formats, median of --runs; beside them `ogr2ogr -f GPKG` of the same layer read from
     the server's OAPIF (its default page size, and -oo PAGE_SIZE=10000) and from the store itself
     (-t_srs EPSG:32637 for the UTM case). Each GeoPackage is checked to hold 22,001 features.
Prints Markdown tables; the figures in docs/BENCHMARKS.md come from it.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--requests", type=int, default=100)
ap.add_argument("--runs", type=int, default=5)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-ogc-crs-", ["walkways", "camps", "assets"])
srv, port = scratch.serve(args, db, "--no-live", "--threads", "4")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
EPSG = "http://www.opengis.net/def/crs/EPSG/0/%d"
CRSS = [("CRS84", None), ("EPSG:4326", 4326), ("EPSG:3857", 3857), ("EPSG:32637", 32637)]


def get(path):
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    if r.status != 200:
        raise SystemExit("GET %s: %d %r" % (path, r.status, body[:300]))
    return dt, body


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def vertices(doc):
    n = 0
    for f in doc["features"]:
        stack = [f["geometry"]["coordinates"]]
        while stack:
            c = stack.pop()
            if c and isinstance(c[0], (int, float)):
                n += 1
            else:
                stack.extend(c)
    return n


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def gpkg_count(path, layer):
    out = subprocess.run(["ogrinfo", "-ro", "-so", path, layer], check=True, capture_output=True, text=True).stdout
    return int([ln for ln in out.splitlines() if ln.startswith("Feature Count:")][0].split(":")[1])


try:
    print("### items pages by CRS (%d requests each, no gzip)\n" % args.requests)
    print("| query | CRS | features | vertices | p50 ms | p99 ms | extra per 1,000 vertices (p50) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, base in (("walkways, limit=10000", "/ogc/collections/walkways/items?limit=10000"),
                       ("camps, limit=1000 (all 378)", "/ogc/collections/camps/items?limit=1000"),
                       ("assets, limit=1000", "/ogc/collections/assets/items?limit=1000")):
        p50_84 = None
        for label, epsg in CRSS:
            path = base + ("" if epsg is None else "&crs=" + EPSG % epsg)
            _, body = get(path)
            doc = json.loads(body)
            nv = vertices(doc)
            for _ in range(5):
                get(path)
            ts = [get(path)[0] * 1000 for _ in range(args.requests)]
            p50 = pct(ts, 0.5)
            if epsg is None:
                p50_84 = p50
            extra = "" if epsg is None else "%+.3f ms" % ((p50 - p50_84) / nv * 1000)
            print("| %s | %s | %d | %d | %.2f | %.2f | %s |" % (name, label, doc["numberReturned"], nv, p50,
                                                                pct(ts, 0.99), extra))

    print("\n### the whole walkways layer (22,001 lines) as a file (median of %d runs)\n" % args.runs)
    print("| how | CRS | seconds | bytes |")
    print("|---|---|---:|---:|")
    rows = []
    for fmt, epsg in (("gpkg", None), ("gpkg", 32637), ("shp", None), ("csv", None), ("kml", None)):
        path = "/ogc/collections/walkways/items?limit=100000&f=" + fmt + ("" if epsg is None else
                                                                        "&crs=" + EPSG % epsg)
        ts = []
        for _ in range(args.runs):
            dt, body = get(path)
            ts.append(dt)
        if fmt == "gpkg":
            out = os.path.join(work, "server_%s.gpkg" % epsg)
            with open(out, "wb") as f:
                f.write(body)
            assert gpkg_count(out, "walkways") == 22001, out
        rows.append(("mashaer `f=%s`" % fmt, "CRS84" if epsg is None else "EPSG:%d" % epsg,
                     statistics.median(ts), len(body)))
    oapif = "OAPIF:http://127.0.0.1:%d/ogc" % port
    for how, src, extra, epsg in (
            ("`ogr2ogr -f GPKG` from the server's OAPIF (default page size)", oapif, [], None),
            ("`ogr2ogr -f GPKG` from the server's OAPIF, `-oo PAGE_SIZE=10000`", oapif,
             ["-oo", "PAGE_SIZE=10000"], None),
            ("`ogr2ogr -f GPKG` from the store (SpatiaLite)", db, [], None),
            ("`ogr2ogr -f GPKG -t_srs EPSG:32637` from the store", db, ["-t_srs", "EPSG:32637"], 32637)):
        ts = []
        out = os.path.join(work, "ogr2ogr.gpkg")
        for _ in range(args.runs):
            if os.path.exists(out):
                os.remove(out)
            ts.append(timed(["ogr2ogr", "-f", "GPKG"] + extra + [out, src, "walkways"]))
        assert gpkg_count(out, "walkways") == 22001, how
        rows.append((how, "CRS84" if epsg is None else "EPSG:%d" % epsg, statistics.median(ts), os.path.getsize(out)))
    for how, crs, secs, size in rows:
        print("| %s | %s | %.3f | %d |" % (how, crs, secs, size))
finally:
    conn.close()
    scratch.stop(srv)
    shutil.rmtree(work, ignore_errors=True)
