#!/usr/bin/python3
"""OGC API - Features: latency of items pages of 1,000 features over HTTP (goal: under 10 ms).

  python3 bench/ogc.py [--requests N] [--mashaer build/mashaer]

Imports the demo layers into a scratch store, starts `mashaer serve --no-live`, and times
GET /ogc/collections/{c}/items?limit=1000... on one keep-alive connection (the time from
sending the request to the last byte of the body, client side), for a set of queries.
Each body is parsed once to check it holds the features it claims. Prints p50/p99/max in
ms per query; the figures go into docs/BENCHMARKS.md.
"""
import argparse, gzip, http.client, json, os, re, shutil, subprocess, tempfile, time, urllib.parse

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--requests", type=int, default=300)
ap.add_argument("--mashaer", default=os.path.join(os.path.dirname(__file__), "..", "build", "mashaer"))
ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), ".."))
args = ap.parse_args()

work = tempfile.mkdtemp(prefix="msh-ogc-")
db = os.path.join(work, "bench.sqlite")
for layer in ("walkways", "assets", "camps"):
    subprocess.run([args.mashaer, "import", "-q", "--db", db, "--layer", layer,
                    os.path.join(args.source_dir, "data", "demo", layer + ".geojson")], check=True)
srv = subprocess.Popen([args.mashaer, "serve", "--db", db, "--port", "0", "--no-live", "--threads", "4",
                        "--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))

q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
CASES = [
    ("walkways, first page (22,001 lines)", "/ogc/collections/walkways/items?limit=1000", {}),
    ("walkways, page 12 (cursor)", None, {}),
    ("walkways, gzip", "/ogc/collections/walkways/items?limit=1000", {"Accept-Encoding": "gzip"}),
    ("assets, filter kind = 'waste_bin' (CQL2)",
     "/ogc/collections/assets/items?limit=1000&filter=" + q("kind = 'waste_bin' AND capacity IS NOT NULL"), {}),
    ("assets, bbox (all of them)", "/ogc/collections/assets/items?limit=1000&bbox=39.7,21.3,40.1,21.5", {}),
    ("walkways, S_INTERSECTS polygon with a hole",
     "/ogc/collections/walkways/items?limit=1000&filter=" +
     q("S_INTERSECTS(geometry, POLYGON((39.80 21.35, 39.95 21.35, 39.95 21.45, 39.80 21.45, 39.80 21.35),"
       "(39.85 21.40, 39.86 21.40, 39.86 21.41, 39.85 21.41, 39.85 21.40)))"), {}),
]

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def get(path, headers):
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    if r.status != 200:
        raise SystemExit("GET %s: %d %r" % (path, r.status, body[:300]))
    if r.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return dt, body


# the cursor of page 12 of walkways, followed from page 1
path = CASES[0][1]
for _ in range(11):
    _, body = get(path, {})
    doc = json.loads(body)
    path = [ln["href"] for ln in doc["links"] if ln["rel"] == "next"][0].split(str(port), 1)[1]
CASES[1] = (CASES[1][0], path, {})

print("%-46s %9s %8s %8s %8s %10s" % ("query (limit=1000)", "features", "p50 ms", "p99 ms", "max ms", "bytes"))
for name, path, headers in CASES:
    _, body = get(path, headers)
    doc = json.loads(body)
    n = doc["numberReturned"]
    assert n == len(doc["features"]) and n > 0, (name, n)
    for _ in range(10):  # warm-up
        get(path, headers)
    times = sorted(get(path, headers)[0] * 1000 for _ in range(args.requests))
    p = lambda f: times[min(len(times) - 1, int(f * len(times)))]  # noqa: E731
    print("%-46s %9d %8.2f %8.2f %8.2f %10d" % (name, n, p(0.5), p(0.99), times[-1], len(body)))

conn.close()
srv.terminate()
srv.wait()
shutil.rmtree(work, ignore_errors=True)
