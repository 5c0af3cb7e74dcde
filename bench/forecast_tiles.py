#!/usr/bin/python3
"""What the forecast costs on the map: forecast vector tiles and forecast heatmap tiles against the
live movement tiles and density heatmaps, in the same run, on the same store and the same people.

  python3 bench/forecast_tiles.py [--people N] [--rounds R] [--mashaer build/mashaer]

The store holds the demo site's walkways and service zones; N people are spread over Mina and the
Jamarat (bench/lib/scratch.py mina_batches), then one forecast is made (POST /forecast/refresh,
--test-clock). Every tile at zooms 15, 16 and 17 over Mina is asked for, one request at a time on
a kept-alive connection (gzip accepted, as browsers ask):
  cold     the first request of each tile (the tile is made: a cache miss);
  cached   the same tiles asked again R times (the tile cache answers);
  304      the same tiles with If-None-Match (what a revalidating map sends).
Kinds: /tiles/movement (live), /tiles/forecast?minutes=10, /heatmaps/density (live) and
/heatmaps/forecast?minutes=10. Nothing is posted while tiles are measured, so the live tiles are
as cacheable as the forecast's: the comparison is of the work of a tile, not of its freshness.
"""
import argparse, http.client, json, os, statistics, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=1000000)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--clients", type=int, default=2)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-fct-", ["site_walkways", "service_zones"], only_existing=True)
feed = scratch.feed_token(args, db)
admin = scratch.token(args.mashaer, db, "admin", "bench-admin")
MINA = (39.870, 21.400, 39.910, 21.425)


def tiles():
    out = []
    for z in (15, 16, 17):
        x0, y0 = scratch.tile(MINA[0], MINA[3], z)
        x1, y1 = scratch.tile(MINA[2], MINA[1], z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


KINDS = [("movement tile", "/tiles/movement/%d/%d/%d.mvt"), ("forecast tile", "/tiles/forecast/%d/%d/%d.mvt?minutes=10"),
         ("density heatmap", "/heatmaps/density/%d/%d/%d.png"), ("forecast heatmap", "/heatmaps/forecast/%d/%d/%d.png?minutes=10")]


def timed(c, path, etag=None):
    h = {"Accept-Encoding": "gzip"}
    if etag:
        h["If-None-Match"] = etag
    t = time.monotonic()
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    dt = (time.monotonic() - t) * 1000
    if r.status not in (200, 204, 304):
        raise SystemExit("%s: HTTP %d %r" % (path, r.status, body[:200]))
    return dt, r.getheader("ETag"), len(body), r.status


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


srv, port = scratch.serve(args, db, "--test-clock", "--snapshot-s", "3600", "--forecast-every", "3600")
try:
    batches = scratch.mina_batches(args.people, args.batch)
    lock, cnt = threading.Lock(), [0]

    def post(part):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        n = 0
        for body in part:
            c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + feed, "Content-Type": "application/x-ndjson"})
            n += json.loads(c.getresponse().read())["accepted"]
        with lock:
            cnt[0] += n
    ts = [threading.Thread(target=post, args=(batches[k::args.clients],)) for k in range(args.clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    st, _, body = scratch.request(port, "POST", "/forecast/refresh", headers={"Authorization": "Bearer " + admin}, timeout=300)
    if st != 200:
        raise SystemExit("POST /forecast/refresh: HTTP %d %r" % (st, body[:300]))
    fc = json.loads(body)
    tl = tiles()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    res = {}
    for name, pat in KINDS:
        cold, cached, revalidated, tags, size, empty = [], [], [], {}, 0, 0
        for t in tl:
            dt, tag, n, status = timed(c, pat % t)
            cold.append(dt)
            tags[t] = tag
            size += n
            empty += status == 204
        for _ in range(args.rounds):
            for t in tl:
                cached.append(timed(c, pat % t)[0])
                revalidated.append(timed(c, pat % t, tags[t])[0])
        res[name] = {"tiles": len(tl), "empty": empty, "bytes": size, "cold": cold, "cached": cached, "304": revalidated}
finally:
    scratch.stop(srv)

print("%d people loaded; forecast of %d occupied cells, refresh %.0f ms CPU; %d tiles at z15-17 over Mina, %d rounds"
      % (cnt[0], fc["cells"], fc["cpu_ms"], len(tl), args.rounds))
print("%-18s %8s %8s %8s %8s %8s %8s %8s %10s" % ("", "cold p50", "p99", "cached", "p99", "304 p50", "p99", "empty", "kB (gz)"))
for name, _ in KINDS:
    r = res[name]
    print("%-18s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8d %10.0f" % (name, pct(r["cold"], .5), pct(r["cold"], .99),
          pct(r["cached"], .5), pct(r["cached"], .99), pct(r["304"], .5), pct(r["304"], .99), r["empty"], r["bytes"] / 1024))
print(json.dumps({k: {m: (round(pct(v[m], .5), 3), round(pct(v[m], .99), 3)) for m in ("cold", "cached", "304")}
                  for k, v in res.items()}))
import shutil  # noqa: E402
shutil.rmtree(work, ignore_errors=True)
