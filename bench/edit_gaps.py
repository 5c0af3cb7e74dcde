#!/usr/bin/python3
"""Costs of the write path's second round: the reload thread's PRAGMA data_version poll, the
external-edit triggers on a bulk UPDATE, the time an external sqlite3 UPDATE takes to be served,
and PATCH latency for a valid geometry, a small invalid one (repaired in a child process) and a
2,000-vertex star polygon (over the repair's budget: 422).

  python3 bench/edit_gaps.py [--rounds N] [--mashaer build/mashaer]

Prints the figures; the numbers go into docs/BENCHMARKS.md.
"""
import argparse, atexit, json, math, os, sqlite3, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--rounds", type=int, default=20)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-editgaps-", ["assets", "sites"])
token = scratch.token(args.mashaer, db, "admin")
srv, port = scratch.serve(args, db)
atexit.register(srv.kill)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


# 1. PRAGMA data_version: what the reload thread now reads every 50 ms (Python's overhead included)
con = sqlite3.connect(db)
n = 200000
t0 = time.perf_counter()
for _ in range(n):
    con.execute("PRAGMA data_version").fetchone()
per = (time.perf_counter() - t0) / n
print("PRAGMA data_version: %.2f us a call (sqlite3 from Python, an upper bound); 20 a second: %.4f%% of a core"
      % (per * 1e6, per * 20 * 100))

# 2. the triggers on a bulk UPDATE of every asset (one transaction), with and without them
def bulk(sql):
    t = time.perf_counter()
    with con:
        con.execute(sql)
    return time.perf_counter() - t

rows = con.execute("SELECT count(*) FROM assets").fetchone()[0]
bulk("UPDATE assets SET capacity = coalesce(capacity, 0) + 1")   # warm the cache first
with_t = min(bulk("UPDATE assets SET capacity = coalesce(capacity, 0) + 1") for _ in range(5))
trig = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'msh_watch_assets_%'").fetchall()
with con:
    for name, _ in trig:
        con.execute('DROP TRIGGER "%s"' % name)
without_t = min(bulk("UPDATE assets SET capacity = coalesce(capacity, 0) + 1") for _ in range(5))
with con:
    for _, sql in trig:
        con.execute(sql)
print("bulk UPDATE of %d assets: %.1f ms with the triggers, %.1f ms without (%.2f us a row)"
      % (rows, with_t * 1e3, without_t * 1e3, (with_t - without_t) / rows * 1e6))


def call(method, path, body=None, headers=None):
    return scratch.request(port, method, path, body, dict({"Authorization": "Bearer " + token}, **(headers or {})))


def etag_of(path):
    return call("GET", path)[1].get("etag")


# 3. an external UPDATE (the sqlite3 shell) until the item's ETag changes
lat = []
for i in range(args.rounds):
    path = "/ogc/collections/assets/items/%d" % (100 + i)
    e0 = etag_of(path)
    t0 = time.perf_counter()
    subprocess.run(["sqlite3", db, "UPDATE assets SET name = 'ext-%d' WHERE fid = %d" % (i, 100 + i)], check=True)
    while etag_of(path) == e0:
        if time.perf_counter() - t0 > 5:
            raise SystemExit("external edit not served within 5 s")
    lat.append(time.perf_counter() - t0)
print("external sqlite3 UPDATE -> item served: p50 %.0f ms, max %.0f ms (%d rounds, the shell's start included)"
      % (pct(lat, 50) * 1e3, max(lat) * 1e3, len(lat)))


# 4. PATCH latency by geometry
def patch_geom(geom):
    t = time.perf_counter()
    st, _, body = call("PATCH", "/ogc/collections/sites/items/1", json.dumps({"geometry": geom}),
                       {"Content-Type": "application/merge-patch+json"})
    return st, time.perf_counter() - t


def square(d):
    return {"type": "Polygon", "coordinates": [[[39.80, 21.40], [39.80 + d, 21.40], [39.80 + d, 21.40 + d],
                                                [39.80, 21.40 + d], [39.80, 21.40]]]}


bowtie = {"type": "Polygon", "coordinates": [[[39.80, 21.40], [39.81, 21.41], [39.81, 21.40], [39.80, 21.41],
                                              [39.80, 21.40]]]}
k, nv = 1000, 2001
ring = [[39.85 + 0.01 * math.cos(2 * math.pi * i * k / nv), 21.42 + 0.01 * math.sin(2 * math.pi * i * k / nv)]
        for i in range(nv)]
star = {"type": "Polygon", "coordinates": [ring + [ring[0]]]}
for name, geom in (("valid square", None), ("bow tie (repaired in a child)", bowtie), ("2,001-vertex star", star)):
    times, codes = [], set()
    for i in range(args.rounds if name != "2,001-vertex star" else 3):
        st, t = patch_geom(geom or square(0.01 + i * 1e-5))
        times.append(t)
        codes.add(st)
    print("PATCH %s: p50 %.1f ms, max %.1f ms, status %s" % (name, pct(times, 50) * 1e3, max(times) * 1e3,
                                                               sorted(codes)))
mem = scratch.memory_kb(srv.pid)
print("server RSS after: %d MB, peak %d MB (the repairs' memory is the children's)"
      % (mem.get("VmRSS", 0) // 1024, mem.get("VmHWM", 0) // 1024))
scratch.stop(srv)
