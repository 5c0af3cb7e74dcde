#!/usr/bin/python3
"""SpatiaLite against PostgreSQL + PostGIS as the store, on the demo data, in one run.

For each backend: the time of `mashaer import` of the seven demo layers (31,755 features; the
median of --repeat runs into a fresh store), the server's load of those layers at start (its own
`loaded ... in S s` line), the latency of tiles and OGC items pages (sequential keep-alive
requests from one client, --cache-mb 0 so every tile is built; p50 and p99 over --requests), and
for PostgreSQL the time from the end of an import by another process to the new layer being served.

    /usr/bin/python3 bench/store_backends.py --mashaer build/mashaer [--repeat 3] [--requests 2000]

The PostgreSQL server is a private one (tests/integration/pgsupport.py, fsync on, a child of this
script that dies with it); everything runs on this machine."""

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import mshtest  # noqa: E402

import pgsupport  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--requests", type=int, default=2000)
args, PG = pgsupport.bench_postgres(ap, "/tmp/mashaer-bench-stores")
SOURCES = [mshtest.demo_path(n + ".geojson") for n in mshtest.DEMO_LAYERS]


def fresh_store(backend, i):
    if backend == "spatialite":
        path = mshtest.work_path("bench%d.sqlite" % i)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return path
    PG.psql("postgres", "DROP DATABASE IF EXISTS bench%d; CREATE DATABASE bench%d" % (i, i))
    return PG.url("bench%d" % i)


def import_demo(db):
    t0 = time.monotonic()
    for name, src in zip(mshtest.DEMO_LAYERS, SOURCES):
        mshtest.run_mashaer("import", "--db", db, "--layer", name, src, check=0)
    return time.monotonic() - t0


def latencies(port, paths):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    out = []
    for i in range(args.requests):
        p = paths[i % len(paths)]
        t0 = time.perf_counter()
        conn.request("GET", p)
        r = conn.getresponse()
        r.read()
        out.append(time.perf_counter() - t0)
        assert r.status in (200, 204), (p, r.status)
    conn.close()
    out.sort()
    return out[len(out) // 2] * 1000, out[int(len(out) * 0.99)] * 1000


def tile_paths():
    paths = []
    for z in (13, 14, 15, 16):
        x0, y0 = mshtest.lonlat_to_tile(39.8895, 21.4150, z)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                paths.append("/tiles/camps,walkways,assets,service_zones/%d/%d/%d.mvt" % (z, x0 + dx, y0 + dy))
    return paths


ITEMS = ["/ogc/collections/%s/items?limit=100&bbox=39.88,21.40,39.90,21.42" % n for n in ("camps", "assets", "walkways")]
results = {}
for backend in ("spatialite", "postgresql"):
    times = [import_demo(fresh_store(backend, i)) for i in range(args.repeat)]
    db = fresh_store(backend, 99)
    import_demo(db)
    srv = mshtest.Server(db, "--no-live", "--cache-mb", "0", name="bench-" + backend).start()
    try:
        m = None
        for line in open(srv.log_path):
            m = m or re.search(r"loaded \d+ layers, (\d+) features from .* in ([0-9.]+) s", line)
        tiles = latencies(srv.port, tile_paths())
        items = latencies(srv.port, ITEMS)
        prop = None
        if backend == "postgresql":
            t0 = time.monotonic()
            mshtest.run_mashaer("import", "--db", db, "--layer", "fresh", SOURCES[4], check=0)
            t1 = time.monotonic()
            mshtest.wait_for(lambda: srv.get("/ogc/collections/fresh/items?limit=1").status == 200, 10,
                             "the new layer", interval=0.005)
            prop = (time.monotonic() - t1) * 1000
    finally:
        srv.stop()
    results[backend] = dict(import_s=statistics.median(times), import_runs=[round(t, 2) for t in times],
                            load_s=float(m.group(2)) if m else None, features=int(m.group(1)) if m else None,
                            tile_p50_ms=round(tiles[0], 2), tile_p99_ms=round(tiles[1], 2),
                            items_p50_ms=round(items[0], 2), items_p99_ms=round(items[1], 2),
                            change_served_ms=round(prop, 1) if prop is not None else None)
    print(backend, json.dumps(results[backend]), flush=True)
PG.stop()
