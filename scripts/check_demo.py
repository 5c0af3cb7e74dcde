#!/usr/bin/python3
"""Check the demo data written by scripts/gen_demo.py (needs Debian's python3-gdal).

  python3 scripts/check_demo.py [--dir data/demo]

Checks: every file opens with OGR; polygons are valid; camps do not overlap;
sites do not overlap; zones tile their site; routes stay inside their site and
do not cross camps; assets lie in their site and zone (gates on the boundary);
property names and types; the size budget (all but walkways.geojson < 5 MB);
walkways.geojson is a byte copy of data/source/makkah-walkways.geojson.
Prints "N passed, N failed" and exits non-zero on any failure.
"""

import argparse
import filecmp
import os
import sys

from osgeo import ogr

ogr.UseExceptions()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCHEMA = {
    "sites": ("Polygon", {"site_id": str, "name": str, "name_ar": str, "area_km2": float}),
    "service_zones": ("Polygon", {"zone_id": str, "name": str, "name_ar": str, "site": str,
                                  "service": str, "population_capacity": int, "area_km2": float}),
    "camps": ("Polygon", {"camp_id": str, "name_ar": str, "company": str, "company_ar": str,
                          "capacity": int, "blocks": int, "blocks_x": int, "blocks_y": int,
                          "site": str, "zone_id": str}),
    "cleaning_routes": ("LineString", {"route_id": str, "crew": str, "shift": str, "site": str,
                                       "length_m": float}),
    "assets": ("Point", {"asset_id": str, "kind": str, "status": str, "site": str, "zone_id": str}),
    "walkways": ("LineString", {"from_node": int, "to_node": int, "length_m": float}),
}
ASSET_OPTIONAL = {"name": str, "name_ar": str, "capacity": int, "fill_level": float}
KINDS = {"toilet", "water_point", "clinic", "waste_bin", "lighting", "gate", "ac_unit"}

results = []


def check(ok, what):
    results.append(bool(ok))
    print(("ok    " if ok else "FAIL  ") + what)
    return ok


def load(d, name):
    ds = ogr.Open(os.path.join(d, name + ".geojson"))
    lyr = ds.GetLayer(0)
    feats = []
    for f in lyr:
        feats.append((f.GetGeometryRef().Clone(), f.items()))
    return ds, feats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(REPO, "data", "demo"))
    args = ap.parse_args()
    d = args.dir
    import json
    data = {}
    raw = {}
    for name, (gtype, props) in SCHEMA.items():
        path = os.path.join(d, name + ".geojson")
        try:
            _ds, feats = load(d, name)
        except Exception as e:  # noqa: BLE001
            check(False, "%s opens with OGR (%s)" % (name, e))
            continue
        check(len(feats) > 0, "%s opens with OGR, %d features" % (name, len(feats)))
        data[name] = feats
        with open(path, encoding="utf-8") as f:
            raw[name] = json.load(f)["features"]
        bad_geom = [i for i, ft in enumerate(raw[name]) if ft["geometry"]["type"] != gtype]
        check(not bad_geom, "%s: all geometries are %s" % (name, gtype))
        bad = []
        for ft in raw[name]:
            p = ft["properties"]
            for k, t in props.items():
                v = p.get(k)
                if t is float:
                    good = isinstance(v, float)
                else:
                    good = isinstance(v, t) and not isinstance(v, bool)
                if not good:
                    bad.append((k, v))
            if name == "assets":
                for k, v in p.items():
                    if k in props:
                        continue
                    t = ASSET_OPTIONAL.get(k)
                    if t is None or not isinstance(v, t):
                        bad.append((k, v))
        check(not bad, "%s: property names and types%s" % (name, (" " + str(bad[:3])) if bad else ""))
        if gtype == "Polygon":
            invalid = [i for i, (g, _p) in enumerate(feats) if not g.IsValid()]
            check(not invalid, "%s: all polygons valid" % name)
    if "camps" not in data or "sites" not in data or "service_zones" not in data:
        return finish()

    sites = {p["site_id"]: g for g, p in data["sites"]}
    zones = {p["zone_id"]: (g, p) for g, p in data["service_zones"]}

    # sites pairwise disjoint
    ids = sorted(sites)
    over = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if sites[a].Intersects(sites[b])]
    check(not over, "sites do not overlap %s" % (over or ""))

    # zones tile sites
    for sid, sg in sorted(sites.items()):
        zs = [g for g, p in zones.values() if p["site"] == sid]
        total = sum(g.GetArea() for g in zs)
        union = zs[0]
        for g in zs[1:]:
            union = union.Union(g)
        ok = abs(total - sg.GetArea()) < 1e-9 and abs(union.GetArea() - sg.GetArea()) < 1e-9
        check(ok, "zones of %s tile the site (%d zones)" % (sid, len(zs)))

    # camps: inside their site and zone site, no overlaps
    camps = data["camps"]
    outside = [p["camp_id"] for g, p in camps if not sites[p["site"]].Contains(g)]
    check(not outside, "camps lie inside their site %s" % (outside[:5] or ""))
    overlaps = []
    env = [g.GetEnvelope() for g, _p in camps]
    for i in range(len(camps)):
        for j in range(i + 1, len(camps)):
            a, b = env[i], env[j]
            if a[0] > b[1] or b[0] > a[1] or a[2] > b[3] or b[2] > a[3]:
                continue
            if camps[i][0].Intersects(camps[j][0]):
                overlaps.append((camps[i][1]["camp_id"], camps[j][1]["camp_id"]))
    check(not overlaps, "camps do not overlap or touch %s" % (overlaps[:5] or ""))
    check(300 <= len(camps) <= 800, "camp count %d in 300..800" % len(camps))
    ids_unique = len({p["camp_id"] for _g, p in camps}) == len(camps)
    check(ids_unique, "camp ids unique")
    badcap = [p["camp_id"] for _g, p in camps if p["blocks"] != p["blocks_x"] * p["blocks_y"]]
    check(not badcap, "camp blocks = blocks_x * blocks_y")

    # routes: inside site, not through camps
    routes = data["cleaning_routes"]
    out_r = [p["route_id"] for g, p in routes if not sites[p["site"]].Contains(g)]
    check(not out_r, "routes lie inside their site %s" % (out_r[:5] or ""))
    crossing = []
    for g, p in routes:
        for cg, cp in camps:
            if cp["site"] == p["site"] and g.Intersects(cg):
                crossing.append((p["route_id"], cp["camp_id"]))
    check(not crossing, "routes do not cross camps %s" % (crossing[:5] or ""))

    # assets: kind, status, site/zone
    assets = data["assets"]
    kinds = {p["kind"] for _g, p in assets}
    check(kinds == KINDS, "asset kinds are exactly %s" % sorted(KINDS))
    working = sum(1 for _g, p in assets if p["status"] == "working") / float(len(assets))
    check(0.85 <= working <= 0.95, "about 90%% of assets working (%.1f%%)" % (100 * working))
    check({p["status"] for _g, p in assets} <= {"working", "faulty", "maintenance"}, "asset status values")
    wrong = []
    for g, p in assets:
        zg, zp = zones[p["zone_id"]]
        tol = 1e-6 if p["kind"] == "gate" else 0.0  # ~0.1 m: gates sit on the boundary
        if zp["site"] != p["site"] or g.Distance(zg) > tol or g.Distance(sites[p["site"]]) > tol:
            wrong.append(p["asset_id"])
    check(not wrong, "assets lie in their site and zone %s" % (wrong[:5] or ""))
    in_camp = []
    for g, p in assets:
        if p["kind"] == "ac_unit":
            continue
        for cg, cp in camps:
            if cp["site"] == p["site"] and cg.Contains(g):
                in_camp.append(p["asset_id"])
                break
    check(not in_camp, "street assets are not inside camps %s" % (in_camp[:5] or ""))
    fl = [p["asset_id"] for _g, p in assets
          if ("fill_level" in p and p["fill_level"] is not None) != (p["kind"] == "waste_bin")]
    check(not fl, "fill_level only (and always) on waste bins")
    named = [p["asset_id"] for _g, p in assets if p["kind"] in ("clinic", "gate") and not p.get("name_ar")]
    check(not named, "clinics and gates have name_ar")

    # size budget and walkways copy
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if f != "walkways.geojson" and os.path.isfile(os.path.join(d, f)))
    check(size < 5 * 1024 * 1024, "data/demo without walkways is %.2f MB (< 5 MB)" % (size / 1048576.0))
    src = os.path.join(REPO, "data", "source", "makkah-walkways.geojson")
    check(filecmp.cmp(src, os.path.join(d, "walkways.geojson"), shallow=False),
          "walkways.geojson is a byte copy of data/source/makkah-walkways.geojson")
    return finish()


def finish():
    passed = sum(results)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
