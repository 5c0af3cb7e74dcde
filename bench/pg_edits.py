#!/usr/bin/python3
"""Edits on PostgreSQL + PostGIS beside SpatiaLite, and an edit's way from one server to another.

1. Edit latency: sequential audited PATCHes (merge patch, If-Match *) of the demo assets from one
   keep-alive client to one server, on a SpatiaLite store and on a PostgreSQL store (p50, p99 and
   the rate over --edits).
2. Propagation: two servers on one PostgreSQL database; a PATCH through A, then B's item is polled
   (keep-alive, back to back) until it shows the new value: the time from A's acknowledgement to
   B serving the edit (p50, p99 over --edits).

    /usr/bin/python3 bench/pg_edits.py --mashaer build/mashaer [--edits 300]

The PostgreSQL server is a private one (tests/integration/pgsupport.py, fsync on, synchronous
commit on: an acknowledged edit is on disk on both backends), a child of this script."""

import argparse
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import pgbench  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--edits", type=int, default=300)
args, mshtest, PG = pgbench.setup(ap, "/tmp/mashaer-bench-pgedits")
ITEMS = "/ogc/collections/assets/items"


def conn(server):
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)


def patch(c, token, fid, cap):
    body = json.dumps({"properties": {"capacity": cap}})
    c.request("PATCH", "%s/%d" % (ITEMS, fid), body, {"Authorization": "Bearer " + token, "If-Match": "*",
                                                       "Content-Type": "application/merge-patch+json"})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status


def capacity(c, fid):
    c.request("GET", "%s/%d" % (ITEMS, fid))
    r = c.getresponse()
    body = r.read()
    return json.loads(body)["properties"]["capacity"] if r.status == 200 else None


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def store(backend):
    if backend == "spatialite":
        path = mshtest.work_path("edits.sqlite")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        db = path
    else:
        PG.psql("postgres", "DROP DATABASE IF EXISTS edits; CREATE DATABASE edits")
        db = PG.url("edits")
    mshtest.import_demo(db, ["assets"])
    return db, mshtest.add_token(db, "ops", "bench")


def latency(backend):
    db, token = store(backend)
    with mshtest.Server(db, "--no-live", name=backend) as s:
        c = conn(s)
        times = []
        t_all = time.monotonic()
        for i in range(args.edits):
            t0 = time.monotonic()
            patch(c, token, 1 + i % 200, 1000 + i)
            times.append((time.monotonic() - t0) * 1000)
        rate = args.edits / (time.monotonic() - t_all)
    print("edit latency %-10s p50 %.2f ms  p99 %.2f ms  %.0f PATCH/s (sequential, one client)"
          % (backend, pct(times, 50), pct(times, 99), rate))


def propagation():
    db, token = store("postgresql")
    with mshtest.Server(db, name="a") as a, mshtest.Server(db, name="b") as b:
        ca, cb = conn(a), conn(b)
        times = []
        for i in range(args.edits):
            fid = 1 + i % 200
            want = 5000 + i
            patch(ca, token, fid, want)
            t0 = time.monotonic()
            while capacity(cb, fid) != want:
                if time.monotonic() - t0 > 5:
                    raise AssertionError("edit %d not served by B within 5 s" % i)
            times.append((time.monotonic() - t0) * 1000)
    print("A->B propagation      p50 %.1f ms  p99 %.1f ms  max %.1f ms  mean %.1f ms (%d edits)"
          % (pct(times, 50), pct(times, 99), max(times), statistics.mean(times), len(times)))


latency("spatialite")
latency("postgresql")
propagation()
