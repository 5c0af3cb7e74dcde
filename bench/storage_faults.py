#!/usr/bin/python3
"""Storage faults benchmark: how soon ingest resumes after a full disk is freed.

  python3 bench/storage_faults.py [--rounds R] [--clients C] [--batch B] [--mashaer build/mashaer]

The live folder is on a 16 MB tmpfs in a mount namespace of the script's own (`unshare --mount`
as root, `unshare --user --map-root-user --mount` otherwise; it vanishes with the script). One
server runs throughout; C clients post batches of B new people without pause. Each round fills
the file system until the clients get 503, holds it full for a second, then frees it and
measures, from the unlink of the filler file:
  * the time to the first 200 any client gets (feed posts going on all along), and
  * the time until /health answers 200 "ok" again.
Prints every round, then the p50 and the max of both. Throughput before/after the change is
bench/ingest.py run on both builds.
"""
import argparse, http.client, os, shutil, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

NS = "MSH_BENCH_STORAGE_NS"
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
for flag, default in (("--rounds", 7), ("--clients", 2), ("--batch", 200)):
    ap.add_argument(flag, type=type(default), default=default)
scratch.add_build_args(ap)
args = ap.parse_args()
args.mashaer = os.path.abspath(args.mashaer)
args.source_dir = os.path.abspath(args.source_dir)

if not os.environ.get(NS):  # into a mount namespace of our own, then the same command again
    ns = ["unshare", "--mount", "--propagation", "private"] if os.geteuid() == 0 else \
         ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    os.environ[NS] = "1"
    os.execvp(ns[0], ns + [sys.executable, os.path.abspath(__file__)] + sys.argv[1:])

work = tempfile.mkdtemp(prefix="msh-storage-")
fs = os.path.join(work, "fs")
os.makedirs(fs)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", fs], check=True)
db = os.path.join(work, "bench.sqlite")
scratch.import_layers(args.mashaer, db, ["sites"], args.source_dir)
token = scratch.feed_token(args, db)
srv, port = scratch.serve(args, db, "--live-dir", os.path.join(fs, "live"), "--snapshot-s", "3600")

lock = threading.Lock()
state = {"k": 0, "events": []}  # events: (monotonic time, status) of every answer
stop = threading.Event()


def client():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        with lock:
            state["k"] += 1
            k = state["k"]
        t = int(time.time() * 1000)
        body = "".join('{"id":"B%07d-%03d","lon":%.6f,"lat":%.6f,"time":%d}\n'
                       % (k, i, 39.89 + (k % 100) * 1e-4, 21.41 + i * 1e-5, t) for i in range(args.batch))
        c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + token,
                                                     "Content-Type": "application/x-ndjson"})
        r = c.getresponse()
        r.read()
        with lock:
            state["events"].append((time.monotonic(), r.status))


def health():
    return scratch.request(port, "GET", "/health", timeout=10)[0]


def wait(pred, timeout):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            sys.exit("timed out")
        time.sleep(0.002)


threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
[t.start() for t in threads]
to_post, to_health = [], []
try:
    for rnd in range(args.rounds):
        filler = os.path.join(fs, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
            try:
                while True:
                    f.write(b"\0" * 512)
            except OSError:
                pass
        t_fill = time.monotonic()
        wait(lambda: any(t > t_fill and s == 503 for t, s in state["events"][-50:]), 30)
        time.sleep(1.0)  # a second on the full disk (the measured interval starts at the unlink below)
        t0 = time.monotonic()
        os.unlink(filler)
        wait(lambda: any(t > t0 and s == 200 for t, s in state["events"][-50:]), 30)
        first = min(t for t, s in state["events"] if t > t0 and s == 200) - t0
        wait(lambda: health() == 200, 30)
        healthy = time.monotonic() - t0
        to_post.append(first * 1000)
        to_health.append(healthy * 1000)
        print("round %d: first accepted post %.1f ms, /health ok %.1f ms after the space was freed"
              % (rnd + 1, first * 1000, healthy * 1000))
        # keep the answers list short (the scans above look at its tail)
        with lock:
            state["events"] = state["events"][-100:]
finally:
    stop.set()
    [t.join(30) for t in threads]
    scratch.stop(srv, 60)
    subprocess.run(["umount", fs])
    shutil.rmtree(work, ignore_errors=True)
print("%d rounds, %d clients posting %d-record batches: first accepted post after the space was freed "
      "p50 %.1f ms (max %.1f); /health ok p50 %.1f ms (max %.1f)"
      % (args.rounds, args.clients, args.batch, statistics.median(to_post), max(to_post),
         statistics.median(to_health), max(to_health)))
