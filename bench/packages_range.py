#!/usr/bin/python3
"""Range requests on a PMTiles package: `mashaer serve --packages DIR` against nginx serving the same
file, the same client (wrk with bench/range.lua), the same ranges.

  python3 bench/packages_range.py [--zoom 12-18] [--seconds 10] [--rounds 3] [--connections 16]
                                  [--ranges 20000] [--mashaer build/mashaer]

Every demo layer is exported (`mashaer export`, PMTiles) over the union of their boxes at the
zooms; the tile entries of the archive's directories (root and leaves, read here from the
specification) give the ranges: `--ranges` of them drawn at random (seed 15), each one tile's
bytes, plus a share of directory reads (the header with the root, and the leaves) as a PMTiles
client makes them. nginx (Debian's /usr/sbin/nginx, 2 workers, sendfile, open_file_cache) and
Mashaer (its default threads) listen on loopback; each round runs wrk against one then the other.
Before measuring, one range from each is checked against the file's bytes. Printed: the median
requests/s and p99 of the rounds and the ratio Mashaer / nginx. Both servers are stopped on every
exit path.
"""
import argparse, gzip, os, random, re, shutil, signal, statistics, struct, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import scratch  # noqa: E402
from benchlib import _varint as varint  # noqa: E402

NGINX = "/usr/sbin/nginx"
WRK = "/usr/bin/wrk"
HERE = os.path.dirname(os.path.abspath(__file__))

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--zoom", default="12-18")
ap.add_argument("--seconds", type=int, default=10)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--connections", type=int, default=16)
ap.add_argument("--ranges", type=int, default=20000)
scratch.add_build_args(ap)
args = ap.parse_args()


def directory(raw):
    """[(tile_id, offset, length, run)] of one decompressed directory."""
    n, i = varint(raw, 0)
    cols = []
    for _ in range(3):
        col = []
        for _ in range(n):
            v, i = varint(raw, i)
            col.append(v)
        cols.append(col)
    ids, runs, lens = cols
    out, tid = [], 0
    for k in range(n):
        tid += ids[k]
        v, i = varint(raw, i)
        off = out[-1][1] + out[-1][2] if v == 0 and k else v - 1  # 0: right after the previous entry
        out.append((tid, off, lens[k], runs[k]))
    return out


def archive_ranges(path):
    """(tile ranges, directory ranges) as (first, last) byte pairs of the file."""
    with open(path, "rb") as f:
        data = f.read()
    h = struct.unpack("<QQQQQQQQ", data[8:72])
    root_off, root_len, _, _, leaf_off, _, data_off, _ = h
    unz = (lambda b: gzip.decompress(b)) if data[97] == 2 else (lambda b: b)
    tiles, dirs = [], [(0, root_off + root_len - 1)]
    todo = [directory(unz(data[root_off:root_off + root_len]))]
    while todo:
        for tid, off, ln, run in todo.pop():
            if run == 0:
                dirs.append((leaf_off + off, leaf_off + off + ln - 1))
                todo.append(directory(unz(data[leaf_off + off:leaf_off + off + ln])))
            else:
                tiles.append((data_off + off, data_off + off + ln - 1))
    return tiles, dirs, data


def run_wrk(url, ranges_file):
    out = subprocess.run([WRK, "-t2", "-c%d" % args.connections, "-d%ds" % args.seconds, "--timeout", "10s",
                          "-s", os.path.join(HERE, "range.lua"), url, "--", ranges_file, "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=args.seconds + 60)
    m = re.search(r"^BENCH (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise SystemExit("wrk failed:\n" + out.stdout + out.stderr)
    w = dict(kv.split("=") for kv in m.group(1).split())
    if int(w["bad"]) or int(w["err_status"]) or int(w["err_other"]):
        raise SystemExit("errors under load against %s: %s" % (url, m.group(1)))
    return float(w["rps"]), int(w["p99_us"]) / 1000.0, int(w["p50_us"]) / 1000.0


def check_range(port, path, first, last, want):
    st, hd, body = scratch.request(port, "GET", path, headers={"Range": "bytes=%d-%d" % (first, last)})
    if st != 206 or body != want:
        raise SystemExit("range %d-%d of %s on port %d: status %d, %d bytes (wanted 206, %d bytes)"
                         % (first, last, path, port, st, len(body), len(want)))


layers = scratch.demo_layers(args.source_dir)
work, db = scratch.store(args, "msh-range-", layers)
os.chmod(work, 0o755)  # nginx workers run as nobody
nginx = srv = None
try:
    pkg = os.path.join(work, "www", "packages")
    os.makedirs(pkg)
    archive = os.path.join(pkg, "demo.pmtiles")
    subprocess.run([args.mashaer, "export", "-q", "--db", db, "--layers", ",".join(layers), "--bbox",
                    scratch.layers_bbox(args.mashaer, db, layers), "--zoom", args.zoom, archive], check=True)
    for d in (os.path.join(work, "www"), pkg):
        os.chmod(d, 0o755)
    os.chmod(archive, 0o644)
    tiles, dirs, data = archive_ranges(archive)
    rnd = random.Random(15)
    picked = [rnd.choice(tiles) for _ in range(args.ranges)]
    # a client reads a directory about once per 50 tiles (a leaf covers thousands of tiles)
    picked += [rnd.choice(dirs) for _ in range(max(1, args.ranges // 50))]
    rnd.shuffle(picked)
    ranges_file = os.path.join(work, "ranges.txt")
    with open(ranges_file, "w") as f:
        f.writelines("%d-%d\n" % r for r in picked)
    sizes = [b - a + 1 for a, b in picked]

    nport, = (int(p) for p in subprocess.run([sys.executable, os.path.join(HERE, "lib", "benchlib.py"), "freeport", "1"],
                                              check=True, stdout=subprocess.PIPE, text=True).stdout.split())
    ndir = os.path.join(work, "nginx")
    os.makedirs(os.path.join(ndir, "tmp"))
    with open(os.path.join(HERE, "peers", "nginx_ranges.conf.in")) as f:
        conf = f.read().replace("@DIR@", ndir).replace("@ROOT@", os.path.join(work, "www")).replace("@PORT@", str(nport))
    with open(os.path.join(ndir, "nginx.conf"), "w") as f:
        f.write(conf)
    nginx = subprocess.Popen([NGINX, "-p", ndir, "-c", os.path.join(ndir, "nginx.conf"), "-e",
                              os.path.join(ndir, "error.log")], stderr=subprocess.PIPE)
    srv, mport = scratch.serve(args, db, "--packages", pkg)
    deadline = time.monotonic() + 10
    while True:  # nginx says nothing when it listens: ask until it answers
        try:
            check_range(nport, "/packages/demo.pmtiles", *picked[0], data[picked[0][0]:picked[0][1] + 1])
            break
        except (OSError, SystemExit):
            if time.monotonic() > deadline or nginx.poll() is not None:
                raise SystemExit("nginx did not answer: %s" % (nginx.stderr.read().decode() if nginx.poll() is not None else ""))
            time.sleep(0.05)
    for a, b in picked[:200]:
        check_range(nport, "/packages/demo.pmtiles", a, b, data[a:b + 1])
        check_range(mport, "/packages/demo.pmtiles", a, b, data[a:b + 1])

    res = {"mashaer": [], "nginx": []}
    for _ in range(args.rounds):
        res["mashaer"].append(run_wrk("http://127.0.0.1:%d/packages/demo.pmtiles" % mport, ranges_file))
        res["nginx"].append(run_wrk("http://127.0.0.1:%d/packages/demo.pmtiles" % nport, ranges_file))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), statistics.median(r[2] for r in v))
           for k, v in res.items()}
    load = os.getloadavg()
    print("archive %d bytes, %d tile entries, %d directories; %d ranges (median %d bytes, largest %d); "
          "wrk -t2 -c%d -d%ds, %d rounds (median); load average %.1f %.1f %.1f"
          % (len(data), len(tiles), len(dirs), len(picked), statistics.median(sizes), max(sizes), args.connections,
             args.seconds, args.rounds, *load))
    print("| server | requests/s | p50 ms | p99 ms | rounds (requests/s) |")
    print("|---|---|---|---|---|")
    for k in ("mashaer", "nginx"):
        print("| %s | %.0f | %.2f | %.2f | %s |" % ("Mashaer /packages" if k == "mashaer" else "nginx 1.22 (static file)",
                                                   med[k][0], med[k][2], med[k][1],
                                                   ", ".join("%.0f" % r[0] for r in res[k])))
    print("Mashaer / nginx: requests/s %.2f, p99 %.2f (below 1: Mashaer's p99 is lower)"
          % (med["mashaer"][0] / med["nginx"][0], med["mashaer"][1] / med["nginx"][1]))
finally:
    if srv:
        scratch.stop(srv)
    if nginx and nginx.poll() is None:
        nginx.send_signal(signal.SIGTERM)
        try:
            nginx.wait(15)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()
    shutil.rmtree(work, ignore_errors=True)
