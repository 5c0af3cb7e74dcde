#!/usr/bin/env python3
"""admission.py: cheap requests under a flood of isochrones, and memory after many, before vs after.

    /usr/bin/python3 bench/admission.py --before OLD/mashaer --after NEW/mashaer
                     [--attackers 50] [--window 20] [--isochrones 1000] [--keep]

Each build runs on its own scratch store (data/demo walkways + site_walkways) and port, with
its default flags (threads, budgets and caches from the cores), one after the other:
  1. flood: --attackers threads on one address each send 60-minute isochrones from new origins
     (never a cache hit) back to back for --window seconds; a refused one (503) is sent again
     after 0.1 s, not after its Retry-After, as a careless client would. Meanwhile one prober
     asks /health and a cached vector tile in turn (timeout 10 s each): p50/p99/max latency,
     and how many isochrones were answered 200 and 503. VmRSS and VmHWM of the server at the end.
  2. memory: a fresh server; --isochrones isochrones from 4 client threads, minutes 1..10 in
     turn from random origins near the Grand Mosque (each one computed: no two alike), a 503
     retried after its Retry-After; VmRSS and VmHWM at the end, wall time.
Prints a Markdown table; the figures in docs/BENCHMARKS.md come from it.
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "lib"))
import scratch  # noqa: E402


def log(msg):
    print("admission.py: " + msg, file=sys.stderr, flush=True)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def rss(pid):
    """VmRSS and VmHWM in MiB."""
    return {k: v // 1024 for k, v in scratch.memory_kb(pid).items()}


def start(binary, db, work, name):
    """The build with its default flags (the per-client limits included), its log in work."""
    with open(os.path.join(work, name + ".log"), "wb") as err:
        return scratch.serve(None, db, "--no-live", mashaer=binary, stderr=err, lift_client_limits=False)


get = scratch.timed_get


def origins(seed):
    """Walkway vertices within about 2 km of the Grand Mosque, shuffled."""
    with open(os.path.join(ROOT, "data", "demo", "walkways.geojson")) as f:
        doc = json.load(f)
    pts = {(round(lon, 5), round(lat, 5)) for feat in doc["features"] for lon, lat in feat["geometry"]["coordinates"]
           if abs(lon - 39.8262) < 0.02 and abs(lat - 21.4225) < 0.02}
    pts = sorted(pts)
    random.Random(seed).shuffle(pts)
    return pts


def flood(binary, db, work, name, a, pts):
    p, port = start(binary, db, work, name + "-flood")
    tile = "/tiles/walkways/15/%d/%d.mvt" % scratch.tile(39.8262, 21.4225, 15)  # the Grand Mosque
    get(port, tile)
    stop_at = time.monotonic() + a.window
    lock = threading.Lock()
    counts = {"200": 0, "503": 0, "other": 0}
    it = iter(pts)

    def attacker():
        while time.monotonic() < stop_at:
            with lock:
                lon, lat = next(it)
            st, _, _ = get(port, "/isochrone?lon=%.5f&lat=%.5f&minutes=60" % (lon, lat), timeout=600)
            with lock:
                counts[str(st) if st in (200, 503) else "other"] += 1
            if st == 503:
                time.sleep(0.1)

    threads = [threading.Thread(target=attacker, daemon=True) for _ in range(a.attackers)]
    for t in threads:
        t.start()
    health, tiles, timeouts = [], [], 0
    while time.monotonic() < stop_at:
        for path, into in (("/health", health), (tile, tiles)):
            st, _, dt = get(port, path)
            if st != 200:
                timeouts += 1
            into.append(dt)
    mem = rss(p.pid)
    scratch.stop(p, 20)  # the attackers still waiting get a dropped connection
    log("%s flood: %r, %d probes, %d failed, %r" % (name, counts, len(health), timeouts, mem))
    return {"health": health, "tile": tiles, "failed": timeouts, "counts": dict(counts), "mem": mem}


def memory(binary, db, work, name, a, pts):
    p, port = start(binary, db, work, name + "-memory")
    jobs = [(pts[i % len(pts)], 1 + i % 10) for i in range(a.isochrones)]
    lock = threading.Lock()
    stats = {"200": 0, "retried": 0, "other": 0}
    t0 = time.monotonic()

    def client():
        while True:
            with lock:
                if not jobs:
                    return
                (lon, lat), minutes = jobs.pop()
            while True:
                st, h, _ = get(port, "/isochrone?lon=%.5f&lat=%.5f&minutes=%d" % (lon, lat, minutes), timeout=600)
                if st != 503:
                    break
                with lock:
                    stats["retried"] += 1
                time.sleep(int(h.get("retry-after", "1")))
            with lock:
                stats["200" if st == 200 else "other"] += 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    mem = rss(p.pid)
    scratch.stop(p, 20)
    log("%s memory: %r in %.0f s, %r" % (name, stats, secs, mem))
    return {"stats": stats, "secs": secs, "mem": mem}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="mashaer binary built from the base")
    ap.add_argument("--after", default=os.path.join(ROOT, "build", "mashaer"))
    ap.add_argument("--attackers", type=int, default=50)
    ap.add_argument("--window", type=int, default=20, help="seconds of flood")
    ap.add_argument("--isochrones", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mashaer-bench-admission-")
    try:
        db = os.path.join(work, "bench.sqlite")
        scratch.import_layers(a.after, db, ["walkways", "site_walkways"])
        pts = origins(a.seed)
        if len(pts) < a.isochrones:
            raise SystemExit("only %d distinct origins for %d isochrones" % (len(pts), a.isochrones))
        res = {}
        for name, binary in (("before", a.before), ("after", a.after)):
            res[name] = {"flood": flood(binary, db, work, name, a, pts), "memory": memory(binary, db, work, name, a, pts)}
        print("| | before | after |\n|---|---|---|")
        for k, label in (("health", "`/health`"), ("tile", "cached tile")):
            print("| %s p50 / p99 / max during the flood (ms) | %s | %s |" % (label, *(
                "%.1f / %.1f / %.1f" % (pct(res[n]["flood"][k], 50) * 1e3, pct(res[n]["flood"][k], 99) * 1e3,
                                        max(res[n]["flood"][k]) * 1e3) for n in ("before", "after"))))
        print("| probes (each `/health` + tile) / failed or timed out (10 s) | %s | %s |" % tuple(
            "%d / %d" % (len(res[n]["flood"]["health"]), res[n]["flood"]["failed"]) for n in ("before", "after")))
        print("| flood isochrones answered 200 / 503 / unanswered at the end | %s | %s |" % tuple(
            "%d / %d / %d" % (res[n]["flood"]["counts"]["200"], res[n]["flood"]["counts"]["503"],
                              res[n]["flood"]["counts"]["other"]) for n in ("before", "after")))
        print("| VmRSS / VmHWM at the end of the flood (MiB) | %s | %s |" % tuple(
            "%d / %d" % (res[n]["flood"]["mem"]["VmRSS"], res[n]["flood"]["mem"]["VmHWM"]) for n in ("before", "after")))
        print("| %d isochrones (1-10 min): wall s, 503s retried | %s | %s |" % (a.isochrones, *(
            "%.0f s, %d" % (res[n]["memory"]["secs"], res[n]["memory"]["stats"]["retried"]) for n in ("before", "after"))))
        print("| VmRSS / VmHWM after them (MiB) | %s | %s |" % tuple(
            "%d / %d" % (res[n]["memory"]["mem"]["VmRSS"], res[n]["memory"]["mem"]["VmHWM"]) for n in ("before", "after")))
    finally:
        if a.keep:
            log("scratch folder kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
