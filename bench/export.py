#!/usr/bin/python3
"""Tile archives of the demo site: `mashaer export` (PMTiles, MBTiles) against GDAL's ogr2ogr
(-f MBTILES, -f MVT) on the same layers, box and zooms; wall time and size, side by side.

  python3 bench/export.py [--zoom 12-18] [--rounds 3] [--layers a,b,...] [--mashaer build/mashaer]

Every demo layer is imported into a scratch store; the box is the union of their bounds. ogr2ogr
reads the same store (SpatiaLite: the same features, already repaired) and writes its own pyramid
(its default simplification and 4096 extent; our tiles are the server's). Each tool runs `--rounds`
times; the median wall time and CPU time (user + system, all threads) are printed, and the ratio is theirs over ours (above 1: we are faster or smaller).
GDAL_NUM_THREADS is left at its default; mashaer uses every core (--threads not given).
"""
import argparse, os, resource, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--zoom", default="12-18")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--layers", default="")
scratch.add_build_args(ap)
args = ap.parse_args()

layers = args.layers.split(",") if args.layers else scratch.demo_layers(args.source_dir)
work, db = scratch.store(args, "msh-export-", layers)
z0, z1 = (int(v) for v in args.zoom.split("-"))
try:
    bbox = scratch.layers_bbox(args.mashaer, db, layers)

    def size(path):
        if os.path.isdir(path):
            return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
        return os.path.getsize(path)

    def clean(path):
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.unlink(path)

    runs = {
        "mashaer export PMTiles": (os.path.join(work, "out.pmtiles"),
                                   lambda o: [args.mashaer, "export", "-q", "--db", db, "--layers", ",".join(layers),
                                              "--bbox", bbox, "--zoom", args.zoom, o]),
        "mashaer export MBTiles": (os.path.join(work, "out.mbtiles"),
                                   lambda o: [args.mashaer, "export", "-q", "--db", db, "--layers", ",".join(layers),
                                              "--bbox", bbox, "--zoom", args.zoom, o]),
        "ogr2ogr -f MBTILES": (os.path.join(work, "ogr.mbtiles"),
                               lambda o: ["ogr2ogr", "-f", "MBTILES", o, db] + layers +
                                         ["-dsco", "MINZOOM=%d" % z0, "-dsco", "MAXZOOM=%d" % z1]),
        "ogr2ogr -f MVT": (os.path.join(work, "ogr_mvt"),
                           lambda o: ["ogr2ogr", "-f", "MVT", o, db] + layers +
                                     ["-dsco", "MINZOOM=%d" % z0, "-dsco", "MAXZOOM=%d" % z1]),
    }
    res = {}
    for name, (path, cmd) in runs.items():
        times, cpus = [], []
        for _ in range(args.rounds):
            clean(path)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd(path), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        res[name] = (statistics.median(times), statistics.median(cpus), size(path))
    ours_t, ours_c, ours_s = res["mashaer export PMTiles"]
    print("layers %s, box %s, zooms %s, %d rounds (median); ratio = theirs / mashaer PMTiles"
          % (",".join(layers), bbox, args.zoom, args.rounds))
    print("| tool | wall s | CPU s | bytes | wall ratio | CPU ratio | size ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, (t, c, s) in res.items():
        print("| %s | %.2f | %.2f | %d | %.1f | %.1f | %.2f |" % (name, t, c, s, t / ours_t, c / ours_c, s / ours_s))
finally:
    shutil.rmtree(work, ignore_errors=True)
