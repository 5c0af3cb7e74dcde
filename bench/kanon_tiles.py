#!/usr/bin/python3
"""k-anonymity cost: movement tile and density heatmap latency per zoom over a crowd, for one build.

  python3 bench/kanon_tiles.py [--people N] [--rounds R] [--mashaer build/mashaer]

The first request of a tile builds its k-anonymous cells (the ETag is a hash of what is shown) and
draws it; a repeated one, with the crowd unchanged, finds the ETag and the tile in the caches. Run it
with two builds (before and after) on the same machine; prints one line per zoom and output.
"""
import argparse, http.client, os, random, shutil, statistics, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=300000)
ap.add_argument("--rounds", type=int, default=5)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-kanon-", ["sites"])
token = scratch.feed_token(args, db)
srv, port = scratch.serve(args, db, "--snapshot-s", "3600", "--threads", "2")
try:
    rnd = random.Random(3)
    now = int(time.time() * 1000) - 1000
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for start in range(0, args.people, 5000):
        # groups of 1-30 around Mina (a mix of cells over and under k)
        lines = []
        i = start
        while i < min(start + 5000, args.people):
            lon, lat = 39.8925 + rnd.gauss(0, 0.006), 21.4131 + rnd.gauss(0, 0.004)
            for _ in range(min(rnd.randrange(1, 31), start + 5000 - i, args.people - i)):
                lines.append('{"id":"P-%07d","lon":%.6f,"lat":%.6f,"time":%d,"speed":1.0,"heading":%d}'
                             % (i, lon + rnd.gauss(0, 0.00002), lat + rnd.gauss(0, 0.00002), now, rnd.randrange(360)))
                i += 1
        scratch.post_positions(port, token, ("\n".join(lines) + "\n").encode(), timeout=120)

    for z in (10, 12, 14, 16):
        x0, y0 = scratch.tile(39.8925 - 0.012, 21.4131 + 0.008, z)
        x1, y1 = scratch.tile(39.8925 + 0.012, 21.4131 - 0.008, z)
        tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)][:16]
        for kind, fmt in (("movement", "/tiles/movement/%d/%d/%d.mvt"), ("heatmap", "/heatmaps/density/%d/%d/%d.png")):
            ms, first = [], []
            for r in range(args.rounds + 1):
                for x, y in tiles:
                    t0 = time.perf_counter()
                    c.request("GET", fmt % (z, x, y))
                    c.getresponse().read()
                    # the first round builds and fills the cache (what a changed crowd costs), the
                    # others find the same state (what an unchanged one costs)
                    (ms if r else first).append((time.perf_counter() - t0) * 1000)
            ms.sort()
            print("z%-2d %-8s %2d tiles: first request p50 %.2f ms max %.2f ms; repeated (x%d) p50 %.2f ms, "
                  "p90 %.2f ms, max %.2f ms" % (z, kind, len(tiles), statistics.median(first), max(first), args.rounds,
                                                statistics.median(ms), ms[int(0.9 * len(ms))], ms[-1]))
finally:
    scratch.stop(srv)
    shutil.rmtree(work, ignore_errors=True)
