#!/usr/bin/python3
"""Durable position ingest with trails on and off: the same walking people posted to two servers,
one with --track-hours 0, one with --track-hours 6 (the default), one after the other.

  python3 bench/tracking_ingest.py [--people N] [--seconds S] [--clients C] [--batch B] [--mashaer build/mashaer]

Everyone is loaded once (not timed), then the timed run posts rounds of everyone, each round 30 s
later than the one before and every person 15 m from where the round before put them (two sets of
positions taken in turn), so each update adds a point to a trail, and once a trail holds 32 points
each one thins it (the costly path). Prints the durable updates/s, the resident memory after the
load and after the run, and the server's CPU seconds (user + system) per second of the run, for both.
"""
import argparse, http.client, json, os, random, re, shutil, signal, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=3000000)
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--batch", type=int, default=5000)
scratch.add_build_args(ap)
args = ap.parse_args()

STAMP = b"T" * 13   # a 13-digit time in milliseconds replaces it before each post


def position_sets(people, batch):
    """Two lists of NDJSON batch templates: everyone in groups of 100 over Mina, and everyone 15 m east."""
    rnd = random.Random(11)
    spots = [(39.8925 + rnd.gauss(0, 0.01), 21.4131 + rnd.gauss(0, 0.006)) for _ in range((people + 99) // 100)]
    sets = ([], [])
    for start in range(0, people, batch):
        for k, shift in enumerate((0.0, 15.0 / 103600.0)):
            lines = []
            for i in range(start, min(start + batch, people)):
                lon, lat = spots[i // 100]
                lines.append('{"id":"P-%07d","group":"G-%05d","lon":%.6f,"lat":%.6f,"time":%s}'
                             % (i, i // 100, lon + (i % 10) * 2e-5 + shift, lat + (i % 100 // 10) * 2e-5,
                                STAMP.decode()))
            sets[k].append(("\n".join(lines) + "\n").encode())
    return sets


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def post(port, token, bodies, t_ms, counter, lock, deadline=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    n = 0
    stamp = str(t_ms).encode()
    for body in bodies:
        if deadline and time.monotonic() > deadline:
            break
        c.request("POST", "/feeds/positions", body.replace(STAMP, stamp),
                  {"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"})
        res = json.loads(c.getresponse().read())
        n += res["accepted"]
    with lock:
        counter[0] += n


def run(track_hours, sets):
    work, db = scratch.store(args, "msh-trkingest-", ["sites"])
    token = scratch.feed_token(args, db)
    srv, port = scratch.serve(args, db, "--snapshot-s", "3600", "--track-hours", str(track_hours),
                              "--position-max-age", "86400")
    t0_ms = int(time.time() * 1000) - 5 * 3600 * 1000      # rounds 30 s apart from 5 hours ago
    lock = threading.Lock()
    cnt = [0]
    ths = [threading.Thread(target=post, args=(port, token, sets[0][k::args.clients], t0_ms, cnt, lock))
           for k in range(args.clients)]
    [t.start() for t in ths]
    [t.join() for t in ths]
    rss_loaded = rss_mb(srv.pid)
    cnt = [0]
    deadline = time.monotonic() + args.seconds
    cpu0, w0 = cpu_s(srv.pid), time.monotonic()
    rnd = 0
    while time.monotonic() < deadline:
        rnd += 1
        ths = [threading.Thread(target=post, args=(port, token, sets[rnd % 2][k::args.clients], t0_ms + rnd * 30000,
                                                   cnt, lock, deadline)) for k in range(args.clients)]
        [t.start() for t in ths]
        [t.join() for t in ths]
    el = time.monotonic() - w0
    cpu = cpu_s(srv.pid) - cpu0
    rss_end = rss_mb(srv.pid)
    srv.send_signal(signal.SIGKILL)
    srv.wait()
    shutil.rmtree(work, ignore_errors=True)
    print("--track-hours %d: %.0f durable updates/s over %.0f s (%d rounds); resident %.0f MB loaded, %.0f MB after; "
          "server CPU %.2f s per second" % (track_hours, cnt[0] / el, el, rnd, rss_loaded, rss_end, cpu / el))
    sys.stdout.flush()
    return cnt[0] / el


sets = position_sets(args.people, args.batch)
off = run(0, sets)
on = run(6, sets)
print("trails on / off: %.2f of the ingest rate, %d people" % (on / off, args.people))
