#!/usr/bin/python3
"""Feed log benchmark: acknowledged ingest through NATS JetStream R3 (three nats-server on
loopback, `serve --feed-log`) against the local write-ahead log of a single node, same client and
batches, side by side in one run; the time from an acknowledged update on node A to the positions
tile on node B (p50/p99); and the time a node takes to catch up with the stream of N people.

  python3 bench/feed_log.py [--people N] [--seconds S] [--clients C] [--batch B] [--samples K]
                            [--catchup-people M] [--ingest-only] [--mashaer build/mashaer]

Every process runs on this machine (the three NATS servers, nodes A and B, the client). Needs
nats-server (apt-get install nats-server).
"""
import argparse, json, os, shutil, socket, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--people", type=int, default=200000, help="people in the batches of the ingest runs")
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--samples", type=int, default=200, help="updates timed from A's ack to B's tile")
ap.add_argument("--catchup-people", type=int, default=1000000)
ap.add_argument("--ingest-only", action="store_true", help="the ingest rounds alone (no latency, no catch-up)")
scratch.add_build_args(ap)
args = ap.parse_args()
NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"
if not os.access(NATS, os.X_OK):
    raise SystemExit("nats-server not found: apt-get install nats-server")

work, db = scratch.store(args, "msh-feedlog-", ["sites"])
token = scratch.feed_token(args, db)
ops = scratch.token(args.mashaer, db, "ops")
db_b = os.path.join(work, "b.sqlite")
shutil.copyfile(db, db_b)
procs = []
nats_procs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nats_cluster(n=3):
    """n nats-server with JetStream in one cluster; the client URLs once the meta leader is elected."""
    ports = [(free_port(), free_port(), free_port()) for _ in range(n)]
    routes = ",".join("nats://127.0.0.1:%d" % c for _, c, _ in ports)
    for i, (p, c, m) in enumerate(ports):
        log = open(os.path.join(work, "nats-%d.log" % i), "wb")
        procs.append(subprocess.Popen([NATS, "-js", "-a", "127.0.0.1", "-p", str(p), "-m", str(m), "-n", "n%d" % i,
                                       "--cluster_name", "msh", "--cluster", "nats://127.0.0.1:%d" % c,
                                       "--routes", routes, "-sd", os.path.join(work, "js-%d" % i)],
                                      stdout=log, stderr=subprocess.STDOUT, preexec_fn=scratch._die_with_parent))
        nats_procs.append(procs[-1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            jsz = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/jsz" % ports[0][2], timeout=2).read())
            if (jsz.get("meta_cluster") or {}).get("leader"):
                return ",".join("nats://127.0.0.1:%d" % p for p, _, _ in ports)
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the NATS cluster elected no JetStream leader within 60 s")


def health(port):
    st, _, body = scratch.request(port, "GET", "/health")
    return st, json.loads(body)


def node(dbf, name, urls, *flags):
    srv, port = scratch.serve(args, dbf, "--feed-log", urls, "--live-dir", os.path.join(work, name + ".live"),
                              "--forecast-every", "0", "--snapshot-s", "3600", *flags, die_with_parent=True)
    procs.append(srv)
    return srv, port


def wait_ok(port, timeout=600):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        st, h = health(port)
        if st == 200:
            return time.monotonic() - t0, h
        time.sleep(0.05)
    raise SystemExit("node on port %d did not catch up within %d s" % (port, timeout))


def measured(port, who):
    """One ingest run on `port`: (updates/s, {name: CPU s per second of the run}) for the processes
    `who` ({name: Popen}) and this client (all its threads)."""
    c0 = {k: scratch.cpu_s(p.pid) for k, p in who.items()}
    t0, w0 = os.times(), time.monotonic()
    rate = scratch.ingest_rate(port, token, batches, args.clients, args.seconds)
    t1, wall = os.times(), time.monotonic() - w0
    cpu = {k: (scratch.cpu_s(p.pid) - c0[k]) / wall for k, p in who.items()}
    cpu["client"] = (t1.user - t0.user + t1.system - t0.system) / wall
    return rate, cpu


def cpu_line(cpu):
    return ", ".join("%s %.2f" % kv for kv in cpu.items()) + " (sum %.2f of 2 cores)" % sum(cpu.values())


def a_metric(name):
    _, _, body = scratch.request(pa, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def print_ingest():
    print("feed_log: %d people, batches of %d, %d clients, %.0f s per run (all processes on this machine)"
          % (args.people, args.batch, args.clients, args.seconds))
    print("  ingest, local WAL (one node)           rounds: %s updates/s acknowledged"
          % ", ".join("%.0f" % r for r in wal_rates))
    print("  ingest, JetStream R3 (3 NATS, 2 nodes) rounds: %s updates/s acknowledged (best %.2fx the WAL's best)"
          % (", ".join("%.0f" % r for r in js_rates), max(js_rates) / max(wal_rates)))
    for i in range(len(wal_rates)):
        print("  CPU (cores busy) round %d, WAL:       %s" % (i + 1, cpu_line(wal_cpu[i])))
        print("  CPU (cores busy) round %d, JetStream: %s" % (i + 1, cpu_line(js_cpu[i])))
    msgs = a_metric("mashaer_feed_log_messages_total")
    print("  node A: %d batches in %d stream messages (group commit), at most %d messages in flight"
          % (a_metric("mashaer_feed_log_published_total"), msgs, a_metric("mashaer_feed_log_publishes_in_flight_max")))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


try:
    batches = scratch.mina_batches(args.people, args.batch)
    # 1. and 2.: the local write-ahead log of a single node, and JetStream R3 on three servers (node A
    # taking the posts, node B applying too), the same batches; two rounds in turn (the machine is shared)
    db_w = os.path.join(work, "w.sqlite")
    shutil.copyfile(db, db_w)
    srv, port = scratch.serve(args, db_w, "--live-dir", os.path.join(work, "wal.live"), "--forecast-every", "0",
                              "--snapshot-s", "3600", die_with_parent=True)
    procs.append(srv)
    urls = start_nats_cluster(3)
    a, pa = node(db, "a", urls)
    b, pb = node(db_b, "b", urls)
    wait_ok(pa)
    wait_ok(pb)
    scratch.load_batches(port, token, batches, args.clients)
    scratch.load_batches(pa, token, batches, args.clients)
    wal_rates, js_rates, wal_cpu, js_cpu = [], [], [], []
    js_who = dict([("nats%d" % i, p) for i, p in enumerate(nats_procs)] + [("A", a), ("B", b)])
    for _ in range(2):
        r, c = measured(port, {"node": srv})
        wal_rates.append(r)
        wal_cpu.append(c)
        r, c = measured(pa, js_who)
        js_rates.append(r)
        js_cpu.append(c)
        wait_ok(pb)
    scratch.stop(srv)
    if args.ingest_only:
        print_ingest()
        raise SystemExit(0)
    # 3. from A's acknowledgement to B's positions tile: one person moved to a new place each time
    import http.client
    lon, lat, z = 39.8262, 21.4225, 16
    x, y = scratch.tile(lon, lat, z)
    path = "/tiles/positions/%d/%d/%d.mvt" % (z, x, y)
    ca, cb = http.client.HTTPConnection("127.0.0.1", pa), http.client.HTTPConnection("127.0.0.1", pb)
    lat_ms = []
    for k in range(args.samples):
        marker = ("L%07d" % k).encode()
        body = ('{"id":"L%07d","lon":%.6f,"lat":%.6f,"time":%d}\n' % (k, lon, lat, int(time.time() * 1000))).encode()
        ca.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + token,
                                                      "Content-Type": "application/x-ndjson"})
        r = ca.getresponse()
        r.read()
        t_ack = time.monotonic()
        if r.status != 200:
            raise SystemExit("post to A: HTTP %d" % r.status)
        while True:  # the tile lists ids as strings: the new one shows once B applied it
            cb.request("GET", path, headers={"Authorization": "Bearer " + ops, "Accept-Encoding": "identity"})
            tb = cb.getresponse().read()
            if marker in tb:
                break
        lat_ms.append((time.monotonic() - t_ack) * 1000)
    # 4. catching up: a stream of its own holding --catchup-people, posted to A; node C started on an
    # empty live folder replays all of it; C stopped (SIGTERM writes a snapshot), 10 % of the people
    # move meanwhile, C started again: its snapshot, then the messages after it. Times from the start
    # of the process to /health 200 at A's sequence.
    scratch.stop(b)
    scratch.stop(a)
    a, pa = node(db, "a", urls, "--feed-stream", "CATCHUP")
    wait_ok(pa)
    cu = scratch.mina_batches(args.catchup_people, args.batch, seed=11)
    scratch.load_batches(pa, token, cu, args.clients)
    seq = health(pa)[1]["feed_seq"]

    def start_c():
        t0 = time.monotonic()
        c, pc = node(db_b, "c", urls, "--feed-stream", "CATCHUP")
        _, hc = wait_ok(pc)
        return c, pc, time.monotonic() - t0, hc
    c, pc, cold_s, hc = start_c()
    assert hc["feed_seq"] == seq, (hc, seq)
    scratch.stop(c)
    scratch.load_batches(pa, token, cu[:len(cu) // 10], args.clients)
    seq2 = health(pa)[1]["feed_seq"]
    c, pc, warm_s, hc = start_c()
    assert hc["feed_seq"] == seq2, (hc, seq2)
    print_ingest()
    print("  ack on A -> positions tile on B     p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d updates)"
          % (pct(lat_ms, 50), pct(lat_ms, 99), max(lat_ms), len(lat_ms)))
    print("  catch-up, stream of %d people in %d messages: start to caught up from nothing %.1f s;"
          % (args.catchup_people, seq, cold_s))
    print("    from its snapshot plus %d messages (%d people moved) %.1f s"
          % (seq2 - seq, args.catchup_people // 10, warm_s))
finally:
    for p in reversed(procs):
        if p.poll() is None:
            scratch.stop(p)
    shutil.rmtree(work, ignore_errors=True)
