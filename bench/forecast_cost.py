#!/usr/bin/python3
"""What the crowd density forecast costs: the CPU of one refresh at N tracked people, and the
ingest rate and the movement-tile p99 with the forecast off (--forecast-every 0) and on, side by
side on the same store and the same people.

  python3 bench/forecast_cost.py [--people N] [--seconds S] [--clients C] [--tiles T] [--mashaer build/mashaer]

The store holds the demo site's walkways (data/demo/site_walkways.geojson, with their widths) and
service zones. People are spread over Mina and the Jamarat as bench/ingest.py spreads them, each
with a speed and heading. "On" refreshes every 5 s (--forecast-every 5, six times the default) on
the server's own timer while ingest and tiles are measured. Refresh CPU is the forecast thread's
own CPU time (CLOCK_THREAD_CPUTIME_ID), as the POST /forecast/refresh answer reports it (--test-clock),
the median of --refreshes runs, with its parts: the model's set-up (network, start, sources), its
steps and drawing, and the time the live read lock was held for the copy.
"""
import argparse, json, os, statistics, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=3000000)
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--clients", type=int, default=2)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--tiles", type=int, default=1500)
ap.add_argument("--refreshes", type=int, default=5)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-fc-", ["site_walkways", "service_zones"], only_existing=True)
feed = scratch.feed_token(args, db)
admin = scratch.token(args.mashaer, db, "admin", "bench-admin")

batches = scratch.mina_batches(args.people, args.batch)


def ingest(port, seconds):
    """Position updates per second over `seconds`, args.clients connections."""
    return scratch.ingest_rate(port, feed, batches, args.clients, seconds)


def refresh(port):
    st, _, body = scratch.request(port, "POST", "/forecast/refresh", headers={"Authorization": "Bearer " + admin},
                                  timeout=300)
    if st != 200:
        raise SystemExit("POST /forecast/refresh: HTTP %d %r" % (st, body[:300]))
    return json.loads(body)


# movement tiles over Mina at z16, asked in turn (live tiles change with every batch: no cache hit)
def tile_list():
    return ["/tiles/movement/16/%d/%d.mvt" % scratch.tile(lon, lat, 16)
            for lat in (21.405, 21.410, 21.415, 21.420) for lon in (39.880, 39.886, 39.892, 39.898, 39.904)]


def tile_p99(port, n):
    return scratch.tile_latencies(port, tile_list(), n, ok=(200,))


results = {}
for mode in ("off", "on"):
    srv, port = scratch.serve(args, db, "--test-clock", "--snapshot-s", "3600",
                              "--forecast-every", "0" if mode == "off" else "5")
    try:
        t0 = time.monotonic()
        loaded = scratch.load_batches(port, feed, batches, args.clients)
        r = {"loaded": loaded, "load_s": time.monotonic() - t0}
        if mode == "on":
            runs = [refresh(port) for _ in range(args.refreshes)]
            r["refresh_cpu_ms"] = statistics.median(x["cpu_ms"] for x in runs)
            r["refresh_wall_ms"] = statistics.median(x["wall_ms"] for x in runs)
            r["cells"], r["segments"], r["mapped"] = runs[-1]["cells"], runs[-1]["segments"], runs[-1]["mapped_cells"]
            r["people"] = runs[-1]["people"]
            for part in ("model_setup_cpu_ms", "model_run_cpu_ms", "copy_ms"):
                r[part] = statistics.median(x[part] for x in runs)
        r["ingest_per_s"] = ingest(port, args.seconds)
        r["tile_p99_ms"], r["tile_p50_ms"] = tile_p99(port, args.tiles)
        results[mode] = r
    finally:
        scratch.stop(srv)

on, off = results["on"], results["off"]
print("forecast refresh at %d people (%d occupied cells, %d mapped to walkways, %d segments): "
      "median %.0f ms CPU (model set-up %.0f, steps and drawing %.0f), %.0f ms wall, read lock %.0f ms, "
      "over %d refreshes"
      % (on["people"], on["cells"], on["mapped"], on["segments"], on["refresh_cpu_ms"], on["model_setup_cpu_ms"],
         on["model_run_cpu_ms"], on["refresh_wall_ms"], on["copy_ms"], args.refreshes))
print("%-28s %14s %14s" % ("", "forecast off", "forecast on"))
print("%-28s %14.0f %14.0f" % ("position updates/s", off["ingest_per_s"], on["ingest_per_s"]))
print("%-28s %14.1f %14.1f" % ("movement tile p99 (ms)", off["tile_p99_ms"], on["tile_p99_ms"]))
print("%-28s %14.1f %14.1f" % ("movement tile p50 (ms)", off["tile_p50_ms"], on["tile_p50_ms"]))
print(json.dumps(results))
import shutil  # noqa: E402
shutil.rmtree(work, ignore_errors=True)
