#!/usr/bin/python3
"""Import: the cost of the per-feature checks, and how fast hostile files are dealt with.

  python3 bench/import_hostile.py [--rounds N] [--mashaer build/mashaer] [--baseline OTHER/mashaer]

Times `mashaer import` (wall seconds and the child's peak resident memory, from wait4) of
  * every demo layer (data/demo/*.geojson, one command per layer, as scripts/demo.sh does),
    best of N rounds: the price of the budget, the family split and the antimeridian check;
  * a GeoPackage with a 2,000-vertex polygon crossing itself about a million times among two
    good features (rejected by the per-feature budget);
  * a GeoPackage with a recursive SQL view after two good layers (refused).
With --baseline the same for another build (the hostile files with a 60 s cap: a build
without the budget does not finish them). The figures go into docs/BENCHMARKS.md.
"""
import argparse, math, os, sqlite3, subprocess, sys, tempfile, time

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import scratch  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--rounds", type=int, default=3)
scratch.add_build_args(ap)
ap.add_argument("--baseline", default=None)
args = ap.parse_args()
work = tempfile.mkdtemp(prefix="msh-import-")


def gpkg(path, layers):
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    sr = osr.SpatialReference()
    sr.ImportFromEPSG(4326)
    for name, wkts in layers:
        lyr = ds.CreateLayer(name, sr, ogr.wkbUnknown)
        for wkt in wkts:
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            lyr.CreateFeature(f)
    ds = None
    return path


n = 2000
ring = [(39.9 + 0.01 * math.cos(2 * math.pi * i * 997 / n), 21.4 + 0.01 * math.sin(2 * math.pi * i * 997 / n))
        for i in range(n)]
star = "POLYGON((%s))" % ",".join("%.7f %.7f" % p for p in ring + ring[:1])
square = "POLYGON((39.80 21.30,39.81 21.30,39.81 21.31,39.80 21.31,39.80 21.30))"
bowtie = gpkg(os.path.join(work, "bowtie.gpkg"), [("zones", [square, star, "POINT(39.9 21.4)"])])
view = gpkg(os.path.join(work, "view.gpkg"), [("first", ["POINT(39.9 21.4)"]), ("second", ["POINT(39.9 21.4)"])])
c = sqlite3.connect(view)
c.execute("CREATE VIEW endless AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)"
          " SELECT n AS fid, (SELECT geom FROM first) AS geom FROM r")
c.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('endless','features','endless',4326)")
c.execute("INSERT INTO gpkg_geometry_columns VALUES ('endless','geom','POINT',4326,0,0)")
c.commit()
c.close()


def run(binary, db, *srcs_and_flags, cap=600):
    """(wall seconds, peak MB, exit status or 'killed at cap', CPU seconds user+system)"""
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "import", "-q", "--db", db] + list(srcs_and_flags),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + cap
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            return (time.monotonic() - t0, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
                    ru.ru_utime + ru.ru_stime)
        if time.monotonic() > deadline:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            return time.monotonic() - t0, ru.ru_maxrss / 1024, "killed at %d s" % cap, ru.ru_utime + ru.ru_stime
        time.sleep(0.01)


demo = scratch.demo_layers(args.source_dir)
builds = [("this build", args.mashaer)] + ([("baseline", args.baseline)] if args.baseline else [])
best = {}
for r in range(args.rounds):  # the builds take turns in every round: the machine's load hits both alike
    for label, binary in builds:
        db = os.path.join(work, "demo-%s-%d.sqlite" % (label.replace(" ", "_"), r))
        wall = cpu = peak = 0.0
        for layer in demo:
            src = os.path.join(args.source_dir, "data", "demo", layer + ".geojson")
            s, m, rc, c = run(binary, db, "--layer", layer, src)
            assert rc == 0, (src, rc)
            wall, cpu, peak = wall + s, cpu + c, max(peak, m)
        if label not in best or cpu < best[label][1]:
            best[label] = (wall, cpu, peak)
for label, binary in builds:
    print("%-10s demo layers (%d files), best of %d by CPU: %.2f s CPU, %.2f s wall, peak %.0f MB"
          % (label, len(demo), args.rounds, best[label][1], best[label][0], best[label][2]))
for label, binary in builds:
    for name, src in (("2,000-vertex self-crossing polygon", bowtie), ("recursive view", view)):
        s, m, rc, c = run(binary, os.path.join(work, "h-%s.sqlite" % label.replace(" ", "_")), src,
                          cap=60 if label == "baseline" else 600)
        print("%-10s %-36s %.2f s wall, %.2f s CPU, peak %.0f MB, exit %s" % (label, name, s, c, m, rc))
