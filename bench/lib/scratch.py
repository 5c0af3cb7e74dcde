"""scratch.py: a scratch Mashaer for the live benchmarks (bench/*.py), set up the same way in each.

The benchmarks that run a server of their own share these steps: the build and source flags, a
store in a temporary folder with some of the demo layers imported, a token, `mashaer serve` on a
free port (the port read from its first line), one HTTP request, POSTing position batches, the
server's memory, and stopping it. Standard library only. Usage from a script in bench/:

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
    import scratch
    ap = argparse.ArgumentParser(...); ...; scratch.add_build_args(ap); args = ap.parse_args()
    work, db = scratch.store(args, "msh-live-", ["sites"])
    token = scratch.feed_token(args, db)
    srv, port = scratch.serve(args, db, "--snapshot-s", "3600")

A benchmark that compares two builds passes `mashaer=` (the binary) to import_layers, token and
serve; one that measures the per-client limits themselves passes `lift_client_limits=False`.
"""
import http.client
import json
import os
import re
import resource
import selectors
import subprocess
import tempfile
import time

import benchlib

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def raise_open_files(need, what):
    """Raise the open-file limit to the hard limit (servers started later inherit it); exit when that
    is under `need` (`what` says what they are for)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < need:
        raise SystemExit("the open-file hard limit (%d) is too low for %s" % (hard, what))


def add_build_args(ap):
    """--mashaer (the binary, build/mashaer by default) and --source-dir (the checkout, for data/demo)."""
    ap.add_argument("--mashaer", default=os.path.join(BENCH, "..", "build", "mashaer"))
    ap.add_argument("--source-dir", default=os.path.join(BENCH, ".."))


def demo_layers(source_dir=None):
    """The names of every layer in data/demo, sorted."""
    demo = os.path.join(source_dir or os.path.join(BENCH, ".."), "data", "demo")
    return sorted(n[:-len(".geojson")] for n in os.listdir(demo) if n.endswith(".geojson"))


def import_layers(mashaer, db, layers, source_dir=None, only_existing=False):
    """`mashaer import -q` of the named demo layers into db. With only_existing, layers missing from
    data/demo are passed over."""
    for layer in layers:
        src = os.path.join(source_dir or os.path.join(BENCH, ".."), "data", "demo", layer + ".geojson")
        if only_existing and not os.path.exists(src):
            continue
        subprocess.run([mashaer, "import", "-q", "--db", db, "--layer", layer, src], check=True)


def layers_bbox(mashaer, db, layers):
    """The union of the named layers' lon/lat bounds, from `mashaer layers`: "W,S,E,N"."""
    out = subprocess.run([mashaer, "layers", "--db", db], check=True, stdout=subprocess.PIPE, text=True).stdout
    bb = [180.0, 90.0, -180.0, -90.0]
    for line in out.splitlines()[1:]:
        cols = line.split()
        if cols and cols[0] in layers:
            w, s, e, n = (float(v) for v in cols[-1].split(","))
            bb = [min(bb[0], w), min(bb[1], s), max(bb[2], e), max(bb[3], n)]
    return ",".join("%.6f" % v for v in bb)


def store(args, prefix, layers, only_existing=False):
    """A temporary folder and a store in it holding the named demo layers; (folder, store path).
    With only_existing, layers missing from data/demo are passed over."""
    work = tempfile.mkdtemp(prefix=prefix)
    db = os.path.join(work, "bench.sqlite")
    import_layers(args.mashaer, db, layers, args.source_dir, only_existing)
    return work, db


def token(mashaer, db, role, name="bench"):
    """A new token of that role (the first line `mashaer token add` prints)."""
    return subprocess.run([mashaer, "token", "add", "--db", db, "--role", role, "--name", name],
                          check=True, capture_output=True, text=True).stdout.split("\n")[0].strip()


def feed_token(args, db):
    """A new feed token."""
    return token(args.mashaer, db, "feed")


# A benchmark is one client on loopback: the per-client limits of the server (README, "serve") would
# measure themselves, not the server. Builds from before those limits do not know the flags.
NO_CLIENT_LIMITS = ["--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"]


def client_limit_flags(mashaer):
    """NO_CLIENT_LIMITS when this build has per-client limits, else nothing."""
    out = subprocess.run([mashaer, "serve", "--help"], capture_output=True, text=True).stdout
    return NO_CLIENT_LIMITS if "--rate-per-client" in out else []


def serve(args, db, *flags, mashaer=None, port=0, stderr=None if os.environ.get("MSH_EDIT_DEBUG") else subprocess.DEVNULL, lift_client_limits=True,
          start_timeout=60, die_with_parent=False):
    """`mashaer serve` (args.mashaer unless mashaer is given) on the given port (0: a free one) with the
    given flags, per-client limits lifted unless told otherwise; (process, port) once it listens.
    Exits the script when the server does not say where it listens within start_timeout seconds.
    With die_with_parent the kernel kills the server when this process dies (PR_SET_PDEATHSIG), however
    it ends."""
    binary = mashaer or args.mashaer
    srv = subprocess.Popen([binary, "serve", "--db", db, "--port", str(port)] + list(flags)
                           + (client_limit_flags(binary) if lift_client_limits else []),
                           stdout=subprocess.PIPE, stderr=stderr, text=True,
                           preexec_fn=_die_with_parent if die_with_parent else None)
    sel = selectors.DefaultSelector()
    sel.register(srv.stdout, selectors.EVENT_READ)
    line = srv.stdout.readline() if sel.select(start_timeout) else ""
    sel.close()
    m = re.search(r":(\d+)$", line.strip())
    if not m:
        srv.kill()
        srv.wait()
        raise SystemExit("%s serve did not start (first line %r)" % (binary, line))
    return srv, int(m.group(1))


def _die_with_parent():
    """In the child between fork and exec: SIGKILL when the parent dies (PR_SET_PDEATHSIG)."""
    import ctypes
    import signal
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def stop(srv, timeout=30):
    """SIGTERM, then SIGKILL when it has not exited within timeout seconds."""
    srv.terminate()
    try:
        srv.wait(timeout)
    except subprocess.TimeoutExpired:
        srv.kill()
        srv.wait()


def request(port, method, path, body=None, headers=None, timeout=60, src=None):
    """One request on a fresh connection; (status, headers with lower-case names, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(src, 0) if src else None)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
    finally:
        c.close()


def timed_get(port, path, timeout=10):
    """A GET on a fresh connection: (status, headers, seconds); status 0 on a timeout or a dropped
    connection."""
    t = time.monotonic()
    try:
        st, h, _ = request(port, "GET", path, timeout=timeout)
        return st, h, time.monotonic() - t
    except (OSError, http.client.HTTPException):
        return 0, {}, time.monotonic() - t


def memory_kb(pid):
    """VmRSS and VmHWM of a process in KiB ({} when it is gone)."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def cpu_s(pid):
    """CPU time (user + system, s) process `pid` has used so far, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tile(lon, lat, z):
    """(x, y) of the web-mercator tile holding lon, lat at zoom z."""
    return benchlib.lon2x(lon, z), benchlib.lat2y(lat, z)


def post_positions(port, token, body, timeout=60):
    """POST one NDJSON batch to /feeds/positions on a fresh connection; the count accepted."""
    st, _, data = request(port, "POST", "/feeds/positions", body, {"Authorization": "Bearer " + token},
                          timeout=timeout)
    return json.loads(data)["accepted"]


def mina_batches(people, batch, seed=7):
    """NDJSON position batches of `people` pilgrims spread over Mina and the Jamarat (a Gaussian
    around the Jamarat), each with a speed of 0-1.4 m/s and a heading, one time stamp."""
    import random
    rnd = random.Random(seed)
    now = int(time.time() * 1000) - 1000
    batches = []
    for start in range(0, people, batch):
        lines = []
        for i in range(start, min(start + batch, people)):
            lon = 39.8925 + rnd.gauss(0, 0.01)
            lat = 21.4131 + rnd.gauss(0, 0.006)
            lines.append('{"id":"P-%07d","lon":%.6f,"lat":%.6f,"time":%d,"speed":%.2f,"heading":%d}'
                         % (i, lon, lat, now, rnd.uniform(0, 1.4), rnd.randrange(360)))
        batches.append(("\n".join(lines) + "\n").encode())
    return batches


def post_batches(port, token, items, counter, lock, deadline=None):
    """POST the NDJSON batches `items` to /feeds/positions on one keep-alive connection, until
    `deadline` (time.monotonic()) if given; adds the count accepted to counter[0] under lock."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    n = 0
    for body in items:
        if deadline and time.monotonic() > deadline:
            break
        c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + token,
                                                     "Content-Type": "application/x-ndjson"})
        n += json.loads(c.getresponse().read())["accepted"]
    with lock:
        counter[0] += n


def load_batches(port, token, batches, clients):
    """Every batch posted once, over `clients` connections at once; the count accepted."""
    import threading
    lock, cnt = threading.Lock(), [0]
    ts = [threading.Thread(target=post_batches, args=(port, token, batches[k::clients], cnt, lock))
          for k in range(clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return cnt[0]


def ingest_rate(port, token, batches, clients, seconds):
    """Position updates per second over `seconds`, `clients` connections posting the batches in turn."""
    import threading
    lock, cnt = threading.Lock(), [0]
    deadline = time.monotonic() + seconds

    def loop(k):
        while time.monotonic() < deadline:
            post_batches(port, token, batches[k::clients], cnt, lock, deadline)
    t0 = time.monotonic()
    ts = [threading.Thread(target=loop, args=(k,)) for k in range(clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return cnt[0] / (time.monotonic() - t0)


def movement_tiles(suffix=""):
    """20 movement tiles at z16 over Mina (the same list in every live benchmark), each path + suffix."""
    return ["/tiles/movement/16/%d/%d.mvt%s" % (tile(lon, lat, 16) + (suffix,))
            for lat in (21.405, 21.410, 21.415, 21.420) for lon in (39.880, 39.886, 39.892, 39.898, 39.904)]


def tile_latencies(port, paths, n, ok=(200, 204)):
    """`n` GETs of `paths` in turn on one kept-alive connection: (p99, p50) in ms. Exits the script on
    a status not in `ok`."""
    import statistics
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for i in range(n):
        t = time.monotonic()
        c.request("GET", paths[i % len(paths)])
        r = c.getresponse()
        r.read()
        times.append(time.monotonic() - t)
        if r.status not in ok:
            raise SystemExit("%s: HTTP %d" % (paths[i % len(paths)], r.status))
    times.sort()
    return times[int(0.99 * (len(times) - 1))] * 1000, statistics.median(times) * 1000
