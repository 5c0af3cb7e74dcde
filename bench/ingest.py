#!/usr/bin/python3
"""Live ingest benchmark: Mashaer POST /feeds/positions (durable: fsync before the answer)
against Redis 7 GEOADD (appendfsync always, and no persistence), side by side in one run.

  python3 bench/ingest.py [--people N] [--seconds S] [--clients C] [--batch B] [--mashaer build/mashaer]

Reports updates/s, the ratio to Redis, and resident memory per tracked person for both.
Needs redis-server and redis-benchmark (apt-get install redis-server); skips Redis without them.
"""
import argparse, os, re, shutil, signal, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=1000000)
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--batch", type=int, default=5000)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-ingest-", ["sites"])
token = scratch.feed_token(args, db)

def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

srv, port = scratch.serve(args, db, "--snapshot-s", "3600")
rss0 = rss_kb(srv.pid)

# pre-built batches: people in Mina and around the Jamarat, one time stamp
batches = scratch.mina_batches(args.people, args.batch)

def post_all(items, counter, lock, deadline=None):
    scratch.post_batches(port, token, items, counter, lock, deadline)

# load everyone once (memory figure), then the timed run re-sends batches (position updates)
lock = threading.Lock()
cnt = [0]
t0 = time.monotonic()
threads = [threading.Thread(target=post_all, args=(batches[k::args.clients], cnt, lock)) for k in range(args.clients)]
[t.start() for t in threads]
[t.join() for t in threads]
load_s = time.monotonic() - t0
rss_loaded = rss_kb(srv.pid)
cnt = [0]
deadline = time.monotonic() + args.seconds
def loop(k):
    while time.monotonic() < deadline:
        post_all(batches[k::args.clients], cnt, lock, deadline)
t0 = time.monotonic()
threads = [threading.Thread(target=loop, args=(k,)) for k in range(args.clients)]
[t.start() for t in threads]
[t.join() for t in threads]
el = time.monotonic() - t0
msh_rate = cnt[0] / el
t0 = time.monotonic()
srv.send_signal(signal.SIGTERM)
srv.wait(timeout=120)
stop_s = time.monotonic() - t0

# restart on the same store: the snapshot written at shutdown, then the log after it
t0 = time.monotonic()
srv, _ = scratch.serve(args, db)
restart_s = time.monotonic() - t0
srv.send_signal(signal.SIGKILL)
srv.wait()
print("Mashaer: shutdown with snapshot %.1f s; restart to listening %.1f s with %d people" % (stop_s, restart_s, args.people))

print("Mashaer: %d people loaded in %.1f s; %.0f durable position updates/s over %.0f s (%d clients, batches of %d)"
      % (args.people, load_s, msh_rate, el, args.clients, args.batch))
print("Mashaer: resident memory %.0f MB for %d people (%.0f bytes/person over the empty server)"
      % (rss_loaded / 1024, args.people, (rss_loaded - rss0) * 1024 / args.people))

redis = shutil.which("redis-server")
if redis and shutil.which("redis-benchmark"):
    for mode, conf in (("appendfsync always", ["--appendonly", "yes", "--appendfsync", "always"]),
                       ("no persistence", ["--appendonly", "no", "--save", ""])):
        rport = 20000 + os.getpid() % 10000 + (1 if "always" in mode else 2)
        rdir = os.path.join(work, "redis-" + mode.split()[0])
        os.makedirs(rdir, exist_ok=True)
        rs = subprocess.Popen([redis, "--port", str(rport), "--bind", "127.0.0.1", "--dir", rdir] + conf,
                              stdout=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(rport), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        out = subprocess.run(["redis-benchmark", "-p", str(rport), "-q", "-n", str(min(args.people, 2000000)),
                              "-P", "100", "-c", "8", "-r", str(args.people), "GEOADD", "pilgrims", "39.89",
                              "21.41", "member:__rand_int__"], capture_output=True, text=True).stdout
        m = re.search(r"([\d.]+) requests per second", out.replace(",", ""))
        info = subprocess.run(["redis-cli", "-p", str(rport), "info", "memory"], capture_output=True, text=True).stdout
        card = subprocess.run(["redis-cli", "-p", str(rport), "zcard", "pilgrims"], capture_output=True, text=True).stdout
        used = re.search(r"used_memory:(\d+)", info)
        rs.terminate()
        rs.wait()
        rate = float(m.group(1)) if m else 0
        print("Redis GEOADD (%s): %.0f/s; Mashaer/Redis = %.2f; %s members in %.0f MB"
              % (mode, rate, msh_rate / rate if rate else 0, card.strip(), int(used.group(1)) / 1e6 if used else 0))
else:
    print("Redis not installed: install redis-server for the side-by-side figures")
shutil.rmtree(work, ignore_errors=True)
