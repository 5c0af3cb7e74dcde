#!/usr/bin/python3
"""Edit throughput (issue 12): audited, durable PATCHes with If-Match from many clients at once,
the time from a PATCH's answer to the changed tile's new ETag and to its `change` event, the
share of cached tiles that survive 1,000 scattered edits, and a PostgreSQL + PostGIS peer doing
the same UPDATEs with an audit trigger, durable, at the same concurrency.

  python3 bench/edit_throughput.py [--clients 64] [--seconds 10] [--no-peer] [--mashaer build/mashaer]

Mashaer: the demo `assets` (5,904 points); wrk (bench/edit_patch.lua) sends PATCHes, each with the
If-Match of its item's last answer, every client on items of its own. Meanwhile a probe edits a
second copy of the layer (`probes`, so its events are not lost among the load's) one PATCH at a time
and times the answer -> `change` event on /events and answer -> new ETag of the z16 tile under the
item. Then every z16 tile of the assets is cached, 1,000 scattered edits are made, and the tiles
whose area (with the tile buffer) no edit touched are fetched again: same ETag, and cache hits by
/metrics. Peer: PostgreSQL 15 (synchronous_commit on, fsync on), the same feature set, pgbench with
the same number of clients, each updating its own items: one UPDATE of `status` per transaction
and an AFTER UPDATE trigger writing the row before and after (jsonb) to an audit table. The peer
has no HTTP, no JSON, no If-Match and no catalog publication in front of it: that favours it.
"""
import argparse, atexit, http.client, json, math, os, random, re, socket, sqlite3, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--clients", type=int, default=64)
ap.add_argument("--seconds", type=int, default=10)
ap.add_argument("--probes", type=int, default=200)
ap.add_argument("--scattered", type=int, default=1000)
ap.add_argument("--zoom", type=int, default=18, help="zoom of the cache-survival tiles")
ap.add_argument("--no-peer", action="store_true")
scratch.add_build_args(ap)
args = ap.parse_args()
HERE = os.path.dirname(os.path.abspath(__file__))

work, db = scratch.store(args, "msh-editrate-", ["assets"])
subprocess.run([args.mashaer, "import", "-q", "--db", db, "--layer", "probes",
                os.path.join(args.source_dir, "data", "demo", "assets.geojson")], check=True)
token = scratch.token(args.mashaer, db, "admin")
srv, port = scratch.serve(args, db, "--threads", str(args.clients + 16))
atexit.register(srv.kill)
AUTH = {"Authorization": "Bearer " + token}


class Conn:
    """One keep-alive connection."""

    def __init__(self):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, headers=None):
        try:
            self.c.request(method, path, body, dict(AUTH, **(headers or {})))
            r = self.c.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.c.close()  # the server closed an idle keep-alive connection: open another
            self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            self.c.request(method, path, body, dict(AUTH, **(headers or {})))
            r = self.c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()

    def patch(self, coll, fid, etag, props):
        return self.call("PATCH", "/ogc/collections/%s/items/%d" % (coll, fid), json.dumps({"properties": props}),
                         {"Content-Type": "application/merge-patch+json", "If-Match": etag})


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def metric(name):
    body = scratch.request(port, "GET", "/metrics")[2].decode()
    return float(re.search(r"^%s (\S+)" % name, body, re.M).group(1))


def tile_of(lon, lat):
    return scratch.tile(lon, lat, 16)


c = Conn()
feats = json.loads(c.call("GET", "/ogc/collections/assets/items?limit=10000")[2])["features"]
rnd = random.Random(12)
rnd.shuffle(feats)
load_items = feats[:args.clients * 8]
items_file = os.path.join(work, "items.txt")
with open(items_file, "w") as f:
    for it in load_items:
        f.write("assets %d %s\n" % (it["id"], c.call("GET", "/ogc/collections/assets/items/%d" % it["id"])[1]["etag"]))

# 1. the load (wrk) and, at the same time, the probe
probe_feats = json.loads(c.call("GET", "/ogc/collections/probes/items?limit=%d" % args.probes)[2])["features"]
ev_lat, tile_lat, probe_lat = [], [], []
sse = socket.create_connection(("127.0.0.1", port))
sse.sendall(b"GET /events?types=change&collections=probes HTTP/1.1\r\nHost: b\r\n\r\n")
seen = {}  # (id, name) -> arrival
ready = threading.Event()


def sse_reader():
    buf = b""
    while True:
        d = sse.recv(65536)
        if not d:
            return
        now = time.monotonic()
        buf += d
        if b"retry:" in buf:
            ready.set()
        while b"event: change\ndata: " in buf:
            start = buf.index(b"event: change\ndata: ") + 20
            end = buf.find(b"\n", start)
            if end < 0:
                break
            e = json.loads(buf[start:end])
            seen.setdefault(e["id"], []).append((e["version"], now))
            buf = buf[end:]


threading.Thread(target=sse_reader, daemon=True).start()
assert ready.wait(20), "no retry: frame from /events"
stop_probe = threading.Event()


def probe():
    pc = Conn()
    i = 0
    while not stop_probe.is_set():
        f = probe_feats[i % len(probe_feats)]
        i += 1
        etag = pc.call("GET", "/ogc/collections/probes/items/%d" % f["id"])[1]["etag"]
        x, y = tile_of(*f["geometry"]["coordinates"])
        tpath = "/tiles/probes/16/%d/%d.mvt" % (x, y)
        old = pc.call("GET", tpath)[1].get("etag")
        n_before = len(seen.get(f["id"], []))
        s = time.monotonic()
        st, _, _ = pc.patch("probes", f["id"], etag, {"name": "probe-%d" % i})
        ans = time.monotonic()
        assert st == 200, st
        probe_lat.append(ans - s)
        while pc.call("GET", tpath)[1].get("etag") == old:
            pass
        tile_lat.append(time.monotonic() - ans)
        t0 = time.monotonic()
        while len(seen.get(f["id"], [])) <= n_before and time.monotonic() - t0 < 5:
            time.sleep(0.0005)
        got = seen.get(f["id"], [])
        if len(got) > n_before:
            ev_lat.append(max(0.0, got[n_before][1] - ans))


pt = threading.Thread(target=probe)
pt.start()
out = subprocess.run(["wrk", "-t2", "-c%d" % args.clients, "-d%ds" % args.seconds, "--timeout", "10s",
                      "-s", os.path.join(HERE, "edit_patch.lua"), "http://127.0.0.1:%d" % port, "--",
                      items_file, token, "2"], capture_output=True, text=True)
stop_probe.set()
pt.join()
m = re.search(r"BENCH (.*)", out.stdout)
if not m:
    sys.exit("wrk failed:\n" + out.stdout + out.stderr)
w = dict(kv.split("=") for kv in m.group(1).split())
print("mashaer: %d clients, %d s: %s PATCH/s (If-Match, audited, fsync'd), latency p50 %.1f ms, p99 %.1f ms, "
      "errors %s/%s" % (args.clients, args.seconds, w["rps"], int(w["p50_us"]) / 1e3, int(w["p99_us"]) / 1e3,
                        w["err_status"], w["err_other"]))
sq = sqlite3.connect(db)
audited = sq.execute("SELECT count(*) FROM msh_audit WHERE collection='assets' AND op='update'").fetchone()[0]
sq.close()
print("  audit rows for the load: %d (wrk counted %s answers)" % (audited, w["requests"]))
print("  probe under that load (%d edits): answer -> change event p50 %.1f ms p99 %.1f ms; answer -> new tile ETag "
      "p50 %.1f ms p99 %.1f ms; its PATCH latency p50 %.1f ms p99 %.1f ms"
      % (len(tile_lat), pct(ev_lat, 50) * 1e3, pct(ev_lat, 99) * 1e3, pct(tile_lat, 50) * 1e3,
         pct(tile_lat, 99) * 1e3, pct(probe_lat, 50) * 1e3, pct(probe_lat, 99) * 1e3))

# 2. cache survival: every tile of the assets at --zoom cached, scattered edits, the untouched tiles again
Z = args.zoom
tiles = sorted({scratch.tile(*f["geometry"]["coordinates"], Z) for f in feats})
for t in tiles:
    c.call("GET", "/tiles/assets/%d/%d/%d.mvt" % ((Z,) + t))
etags = {t: c.call("GET", "/tiles/assets/%d/%d/%d.mvt" % ((Z,) + t))[1].get("etag") for t in tiles}
edited = rnd.sample(feats, args.scattered)
BUF = 64 / 4096  # the tile buffer, in tiles: an edit within it touches the neighbour too
touched = set()
for f in edited:
    lon, lat = f["geometry"]["coordinates"]
    fx = (lon + 180) / 360 * 2 ** Z
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2 ** Z
    for dx in (-BUF, 0, BUF):
        for dy in (-BUF, 0, BUF):
            touched.add((int(fx + dx), int(fy + dy)))
for f in edited:
    etag = c.call("GET", "/ogc/collections/assets/items/%d" % f["id"])[1]["etag"]
    assert c.patch("assets", f["id"], etag, {"status": "maintenance"})[0] == 200
untouched = [t for t in tiles if t not in touched]
hits0 = metric("mashaer_tile_cache_hits_total")
same = sum(1 for t in untouched if c.call("GET", "/tiles/assets/%d/%d/%d.mvt" % ((Z,) + t))[1].get("etag") == etags[t])
hits = metric("mashaer_tile_cache_hits_total") - hits0
changed = sum(1 for t in tiles if t in touched and c.call("GET", "/tiles/assets/%d/%d/%d.mvt" % ((Z,) + t))[1].get(
    "etag") != etags[t])
print("cache survival: %d scattered edits over %d cached z%d tiles: %d tiles touched (%d changed ETag); of the %d "
      "untouched, %d kept their ETag and %d were cache hits (%.1f%%)"
      % (len(edited), len(tiles), Z, len([t for t in tiles if t in touched]), changed, len(untouched), same, hits,
         100.0 * hits / max(1, len(untouched))))
srv.kill()

# 3. the peer
if args.no_peer:
    sys.exit(0)
import pgsupport  # noqa: E402

pg = pgsupport.Postgres().start("-c fsync=on -c synchronous_commit=on -c max_connections=%d" % (args.clients + 10))
pg.psql("postgres", "CREATE DATABASE bench")
pg.psql("bench", "CREATE EXTENSION postgis")
keys = []
for f in feats:
    for k, v in f["properties"].items():
        if k not in [x[0] for x in keys]:
            keys.append((k, "bigint" if isinstance(v, int) and not isinstance(v, bool) else "double precision"
                         if isinstance(v, float) else "boolean" if isinstance(v, bool) else "text"))
cols = ", ".join('"%s" %s' % kv for kv in keys)
rows = []
for f in sorted(feats, key=lambda f: f["id"]):
    vals = []
    for k, t in keys:
        v = f["properties"].get(k)
        vals.append("NULL" if v is None else str(v) if t in ("bigint", "double precision", "boolean")
                    else "'" + str(v).replace("'", "''") + "'")
    rows.append("(%d, ST_SetSRID(ST_GeomFromGeoJSON('%s'), 4326), %s)" % (f["id"], json.dumps(f["geometry"]),
                                                                          ", ".join(vals)))
pg.psql("bench", """
CREATE TABLE assets (fid bigint PRIMARY KEY, geom geometry(Point, 4326), %s);
INSERT INTO assets VALUES %s;
CREATE INDEX ON assets USING gist (geom);
CREATE TABLE audit (seq bigserial PRIMARY KEY, collection text, fid bigint, op text, at timestamptz, who text,
                    before jsonb, after jsonb);
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (collection, fid, op, at, who, before, after)
  VALUES ('assets', NEW.fid, 'update', now(), current_user, to_jsonb(OLD), to_jsonb(NEW));
  RETURN NEW;
END $$;
CREATE TRIGGER assets_audit AFTER UPDATE ON assets FOR EACH ROW EXECUTE FUNCTION audit_row();
""" % (cols, ",\n".join(rows)))
ids = sorted(f["id"] for f in load_items)
script = os.path.join(work, "update.sql")
with open(script, "w") as f:
    # client k updates items k, k + C, k + 2C ... of the same set wrk used: its own, like each wrk client
    f.write("\\set k random(0, 7)\n\\set i :client_id + :k * %d\n" % args.clients)
    f.write("UPDATE assets SET status = CASE WHEN status = 'faulty' THEN 'working' ELSE 'faulty' END "
            "WHERE fid = (SELECT fid FROM ids WHERE n = :i);\n")
pg.psql("bench", "CREATE TABLE ids (n int PRIMARY KEY, fid bigint); INSERT INTO ids VALUES %s;"
        % ", ".join("(%d, %d)" % (n, fid) for n, fid in enumerate(ids)))
logdir = tempfile.mkdtemp(prefix="pgbench-", dir=work)
env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(pg.port), PGUSER="postgres")
p = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(args.clients), "-j", "2", "-T", str(args.seconds),
                    "-f", script, "-l", "--log-prefix", os.path.join(logdir, "lat"), "bench"],
                   capture_output=True, text=True, env=env, cwd=logdir)
tps = float(re.search(r"tps = ([0-9.]+)", p.stdout).group(1))  # pgbench's: connection set-up time left out
done_tx = int(re.search(r"number of transactions actually processed: (\d+)", p.stdout).group(1))
lat = []
for name in os.listdir(logdir):
    with open(os.path.join(logdir, name)) as f:
        lat += [int(line.split()[2]) for line in f]
n_audit = int(pg.psql("bench", "SELECT count(*) FROM audit")[0][0])
print("peer: PostgreSQL 15 + PostGIS, pgbench %d clients, %d s: %.0f UPDATE/s (audit trigger, synchronous_commit on; "
      "pgbench's tps, without connection set-up), %d transactions, latency p50 %.1f ms, p99 %.1f ms; %d audit rows"
      % (args.clients, args.seconds, tps, done_tx, pct(lat, 50) / 1e3, pct(lat, 99) / 1e3, n_audit))
print("ratio: mashaer / peer = %.2f" % (float(w["rps"]) / tps))
pg.stop()
