#!/usr/bin/python3
"""Bins feed benchmark: what an NGSI body costs against NDJSON, and how long an overflow event takes
to name its crew.

  python3 bench/bins.py [--bins N] [--batch B] [--events E] [--mashaer build/mashaer]

1. N bins posted as NDJSON, then the same readings as NGSI-LD entities (normalized: every attribute
   wrapped), B a POST, one keep-alive connection: readings/s and body bytes per reading. Then both
   again without a Content-Type, the way every MQTT message comes (layers/live/feed_sniff.c tells
   the format by the body's shape: one line parsed for NDJSON, the whole document once more for NGSI).
2. 40 cleaning crews on the demo walkways, then E bins crossing --bin-overflow in one POST: the time
   from the POST until the E-th `overflow` event has arrived on an SSE stream (the ranking runs on the
   reload thread's second), and the ms per event that the ranking adds.
Store: the demo walkways and sites (data/demo); bins and crews stand at walkway vertices around the Haram.
"""
import argparse, http.client, json, os, random, socket, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--bins", type=int, default=50000)
ap.add_argument("--batch", type=int, default=5000)
ap.add_argument("--events", type=int, default=200)
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-bins-", ["walkways", "sites"])
feed = scratch.feed_token(args, db)
ops = scratch.token(args.mashaer, db, "ops")
srv, port = scratch.serve(args, db, "--snapshot-s", "3600")
rnd = random.Random(7)
now = int(time.time() * 1000) - 1000
iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000))
W, S, E, N = 39.815, 21.410, 39.840, 21.430  # around the Haram, where the demo walkways are


def walkway_vertices():
    with open(os.path.join(args.source_dir, "data", "demo", "walkways.geojson")) as f:
        fc = json.load(f)
    out = []
    for ft in fc["features"]:
        g = ft["geometry"]
        lines = [g["coordinates"]] if g["type"] == "LineString" else g["coordinates"]
        out += [c for ln in lines for c in ln if W <= c[0] <= E and S <= c[1] <= N]
    return out


VERTS = walkway_vertices()


def place():
    """A point on a demo walkway around the Haram."""
    c = rnd.choice(VERTS)
    return [round(c[0], 6), round(c[1], 6)]


def post(body, ctype):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"Authorization": "Bearer " + feed}
    if ctype:
        h["Content-Type"] = ctype
    c.request("POST", "/feeds/bins", body, h)
    r = json.loads(c.getresponse().read())
    c.close()
    return r


def rate(bodies, ctype):
    t0 = time.monotonic()
    n = sum(post(b, ctype)["accepted"] for b in bodies)
    return n, n / (time.monotonic() - t0)


pts = [place() for _ in range(args.bins)]
fills = [round(rnd.uniform(0, 0.6), 3) for _ in range(args.bins)]
nd, ld = [], []
for k in range(0, args.bins, args.batch):
    idx = range(k, min(k + args.batch, args.bins))
    nd.append("\n".join(json.dumps({"id": "B-%06d" % i, "fillingLevel": fills[i], "temperature": 40.5,
                                    "dateObserved": iso, "location": {"type": "Point", "coordinates": pts[i]}})
                        for i in idx))
    ld.append(json.dumps([{"id": "urn:ngsi-ld:WasteContainer:B-%06d" % i, "type": "WasteContainer",
                           "fillingLevel": {"type": "Property", "value": fills[i], "observedAt": iso},
                           "temperature": {"type": "Property", "value": 40.5},
                           "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": pts[i]}}}
                          for i in idx]))
n1, r1 = rate(nd, "application/x-ndjson")
n2, r2 = rate(ld, "application/ld+json")
print("ndjson: %d readings, %.0f readings/s, %.0f bytes a reading" % (n1, r1, sum(map(len, nd)) / n1))
print("ngsi-ld: %d readings, %.0f readings/s, %.0f bytes a reading" % (n2, r2, sum(map(len, ld)) / n2))
# the same bins again (they exist now, as in the runs above after their first batch), typed and
# untyped in turn, best of three each
for name, bodies, ctype in (("ndjson", nd, "application/x-ndjson"), ("ngsi-ld", ld, "application/ld+json")):
    typed = max(rate(bodies, ctype)[1] for _ in range(3))
    untyped = max(rate(bodies, None)[1] for _ in range(3))
    print("%s again: %.0f readings/s typed, %.0f untyped (as over MQTT)" % (name, typed, untyped))

# overflow: crews, a stream, E bins crossing the level in one POST
crews = "\n".join(json.dumps({"id": "CREW-%02d" % i, "kind": "cleaning", "lon": p[0], "lat": p[1], "time": now})
                  for i, p in enumerate(place() for _ in range(40)))
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
c.request("POST", "/feeds/crews", crews, {"Authorization": "Bearer " + feed, "Content-Type": "application/x-ndjson"})
c.getresponse().read()
sock = socket.create_connection(("127.0.0.1", port), timeout=120)
sock.sendall(("GET /events?types=overflow HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer %s\r\n\r\n" % ops).encode())
got, named, first, done = [0], [0], [""], threading.Event()


def read():
    buf = b""
    while not done.is_set():
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        while b"\n\n" in buf:
            frame, buf = buf.split(b"\n\n", 1)
            if b"event: overflow" in frame:
                if not got[0]:
                    first[0] = frame.decode()
                got[0] += 1
                named[0] += b'"crew":{' in frame
                if got[0] == args.events:
                    done.set()
                    return


th = threading.Thread(target=read, daemon=True)
th.start()
time.sleep(0.5)  # the subscription in place (a benchmark, not a test: no barrier needed for a figure)
over = "\n".join(json.dumps({"id": "B-%06d" % i, "fillingLevel": 0.95, "dateObserved": iso,
                             "location": {"type": "Point", "coordinates": pts[i]}}) for i in range(args.events))
t0 = time.monotonic()
post(over, "application/x-ndjson")
done.wait(120)
el = time.monotonic() - t0
print("overflow: %d events (%d with a crew) %.2f s after the POST" % (got[0], named[0], el))
print("first: " + first[0].replace("\n", " ")[:400])
scratch.stop(srv)
