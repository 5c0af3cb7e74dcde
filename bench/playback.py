#!/usr/bin/python3
"""What playback costs: recording the density cells every minute at N tracked people (time per
minute, bytes per minute, hour and 48 hours, memory), and the ingest rate and movement-tile p99
with playback off (--playback-hours 0) and on (48), side by side on the same store and people;
with it on, also the p99 of past tiles (`?time=`).

  python3 bench/playback.py [--people N] [--seconds S] [--clients C] [--tiles T] [--mashaer build/mashaer]

People are spread over Mina and the Jamarat as bench/ingest.py spreads them. Ingest and tiles are
measured three ways: playback off; on at the real rate (over --real-seconds, so one minute is
recorded, by the server's own timer, while positions stream in; tiles asked while ingest runs);
and on under stress: a thread moves the server's clock (--test-clock) a minute forward every
second, so a minute is recorded every second, 60 times the real rate. The recording's own time is what GET /playback
reports (wall time on the timer thread: copy under the read lock, sort, encode, write, fdatasync).
"""
import argparse, json, os, statistics, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=3000000)
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--clients", type=int, default=2)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--tiles", type=int, default=1500)
ap.add_argument("--real-seconds", type=float, default=65, help="ingest measured this long at the real rate (a minute a minute)")
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-pb-", ["sites"], only_existing=True)
feed = scratch.feed_token(args, db)
admin = scratch.token(args.mashaer, db, "admin", "bench-admin")
batches = scratch.mina_batches(args.people, args.batch)


def tile_list(suffix=""):
    return scratch.movement_tiles(suffix)


def tile_times(port, tiles, n):
    return scratch.tile_latencies(port, tiles, n)


def ingest_and_tiles(port, seconds):
    """Position updates/s over `seconds` and, asked meanwhile, the movement tiles' (p99, p50) in ms."""
    tiles = []
    tt = threading.Thread(target=lambda: tiles.append(tile_times(port, tile_list(), args.tiles)))
    tt.start()
    rate = scratch.ingest_rate(port, feed, batches, args.clients, seconds)
    tt.join()
    return rate, tiles[0]


def clock(port, seconds):
    st, _, body = scratch.request(port, "POST", "/test/clock?advance_s=%d" % seconds,
                                  headers={"Authorization": "Bearer " + admin}, timeout=120)
    if st != 200:
        raise SystemExit("POST /test/clock: HTTP %d" % st)
    return json.loads(body)["now_ms"]


def playback(port):
    return json.loads(scratch.request(port, "GET", "/playback", headers={"Authorization": "Bearer " + admin})[2])


results = {}
for mode in ("off", "on"):
    srv, port = scratch.serve(args, db, "--test-clock", "--snapshot-s", "3600", "--position-max-age", "604800",
                              "--forecast-every", "0", "--playback-hours", "0" if mode == "off" else "48")
    try:
        r = {"loaded": scratch.load_batches(port, feed, batches, args.clients),
             "rss_loaded_kb": scratch.memory_kb(srv.pid)["VmRSS"]}
        stop = threading.Event()
        rec_ms, parts = [], []

        def recorder():
            while not stop.is_set():
                clock(port, 60)
                lm = playback(port)["last_minute"]
                rec_ms.append(lm["record_ms"])
                parts.append(lm)
                stop.wait(1.0)
        # the real rate: positions streaming in for a minute and more, tiles asked meanwhile
        r["ingest_per_s"], (r["tile_p99_ms"], r["tile_p50_ms"]) = ingest_and_tiles(port, args.real_seconds)
        if mode == "on":
            r["recorded_real"] = playback(port)["recorded"]
            rt = threading.Thread(target=recorder)
            clock(port, 60)
            rt.start()
            r["stress_ingest_per_s"], (r["stress_tile_p99_ms"], r["stress_tile_p50_ms"]) = \
                ingest_and_tiles(port, args.seconds)
            stop.set()
            rt.join()
            doc = playback(port)
            r["playback"] = doc
            r["record_ms_median"] = statistics.median(rec_ms)
            r["record_ms_max"] = max(rec_ms)
            r["recordings"] = len(rec_ms)
            for k in ("cpu_ms", "lock_ms", "write_ms"):
                r[k + "_median"] = statistics.median(x[k] for x in parts)
            last = doc["last"]
            r["past_tile_p99_ms"], r["past_tile_p50_ms"] = tile_times(port, tile_list("?time=" + last), args.tiles)
            # a new minute for every request: the minute is read from disk and decoded (cache misses)
            r["past_cold"] = []
            for _ in range(5):
                t = clock(port, 60)
                iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t // 1000))
                t0 = time.monotonic()
                st, _, _ = scratch.request(port, "GET", tile_list("?time=" + iso)[7])
                r["past_cold"].append((time.monotonic() - t0) * 1000)
        r["rss_end_kb"] = scratch.memory_kb(srv.pid)["VmRSS"]
        results[mode] = r
    finally:
        scratch.stop(srv)

on, off = results["on"], results["off"]
pb = on["playback"]
per_min = pb["last_minute"]["bytes"]
print("playback at %d people: %d occupied base cells a minute, %d bytes a minute on disk (%.1f bytes a cell), "
      "%.1f MB an hour, %.2f GB for 48 hours; recording a minute: median %.0f ms, max %.0f ms over %d "
      "(%.1f ms a second at one a minute)"
      % (on["loaded"], pb["last_minute"]["cells"], per_min, per_min / max(1, pb["last_minute"]["cells"]),
         per_min * 60 / 1e6, per_min * 60 * 48 / 1e9, on["record_ms_median"], on["record_ms_max"], on["recordings"],
         on["record_ms_median"] / 60))
print("recording a minute, medians: %.0f ms CPU of the recording thread, %.0f ms under the live read lock (the copy), "
      "%.0f ms writing and fdatasync" % (on["cpu_ms_median"], on["lock_ms_median"], on["write_ms_median"]))
print("%-34s %14s %14s %14s" % ("", "playback off", "on (1/min)", "on (1/s)"))
print("%-34s %14.0f %14.0f %14.0f" % ("position updates/s", off["ingest_per_s"], on["ingest_per_s"], on["stress_ingest_per_s"]))
print("%-34s %14.1f %14.1f %14.1f" % ("movement tile p99 (ms)", off["tile_p99_ms"], on["tile_p99_ms"], on["stress_tile_p99_ms"]))
print("%-34s %14.1f %14.1f %14.1f" % ("movement tile p50 (ms)", off["tile_p50_ms"], on["tile_p50_ms"], on["stress_tile_p50_ms"]))
print("%-34s %14.0f %14.0f" % ("RSS loaded (MB)", off["rss_loaded_kb"] / 1024, on["rss_loaded_kb"] / 1024))
print("%-34s %14.0f %14.0f" % ("RSS at the end (MB)", off["rss_end_kb"] / 1024, on["rss_end_kb"] / 1024))
print("minutes recorded before the stress run (loading, then the real-rate run; the server's own timer, one a minute): %d" % on["recorded_real"])
print("past tiles (?time=, cached minute): p99 %.1f ms, p50 %.1f ms; first tile of a new minute: %s ms"
      % (on["past_tile_p99_ms"], on["past_tile_p50_ms"], ", ".join("%.0f" % x for x in on["past_cold"])))
print(json.dumps(results))
import shutil  # noqa: E402
shutil.rmtree(work, ignore_errors=True)
