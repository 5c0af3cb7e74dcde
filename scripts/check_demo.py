#!/usr/bin/python3
"""Check the demo data written by scripts/gen_demo.py (needs Debian's python3-gdal).

  python3 scripts/check_demo.py [--dir data/demo]

Checks: every file opens with OGR; polygons are valid; camps do not overlap;
sites do not overlap; zones tile their site; routes stay inside their site and
do not cross camps; assets lie in their site and zone (gates on the boundary);
property names and types; the size budget (all but walkways.geojson < 5 MB);
walkways.geojson is a byte copy of data/source/makkah-walkways.geojson;
site_walkways.geojson (the synthetic network of the sites): kinds, names and
lengths, no line through a camp's interior, lines meet only at shared vertices
(also with the real walkways), and walkways + site_walkways add no component
to the real network: its largest component holds every site walkway, every
camp entrance (a vertex on the camp's edge) and every asset within 15 m.
Prints "N passed, N failed" and exits non-zero on any failure.
"""

import argparse
import filecmp
import math
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
                          "site": str, "zone_id": str, "entrance_lon": float, "entrance_lat": float}),
    "cleaning_routes": ("LineString", {"route_id": str, "crew": str, "shift": str, "site": str,
                                       "length_m": float}),
    "assets": ("Point", {"asset_id": str, "kind": str, "status": str, "site": str, "zone_id": str}),
    "walkways": ("LineString", {"from_node": int, "to_node": int, "length_m": float}),
    "site_walkways": ("LineString", {"path_id": str, "kind": str, "width_m": float, "length_m": float}),
}
SW_KINDS = {"street", "aisle", "trunk", "connector"}
ASSET_REACH_M = 15.0  # every asset lies within this distance of the connected network
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
    if "site_walkways" in data and "walkways" in data:
        check_site_walkways(data, raw)
    return finish()


# --------------------------------------------------------------------------
# site_walkways: the synthetic walking network of the sites
# --------------------------------------------------------------------------

R_EARTH = 6371008.8


def haversine_m(a, b):
    lon1, lat1, lon2, lat2 = (math.radians(v) for v in (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * R_EARTH * math.asin(math.sqrt(h))


class Grid:
    """Bounding boxes (minx, maxx, miny, maxy) in a grid of `cell` degrees."""

    def __init__(self, cell):
        self.cell = cell
        self.cells = {}

    def keys(self, env, pad=0.0):
        c = self.cell
        for gx in range(int(math.floor((env[0] - pad) / c)), int(math.floor((env[1] + pad) / c)) + 1):
            for gy in range(int(math.floor((env[2] - pad) / c)), int(math.floor((env[3] + pad) / c)) + 1):
                yield (gx, gy)

    def add(self, env, item):
        for k in self.keys(env):
            self.cells.setdefault(k, []).append(item)

    def near(self, env, pad=0.0):
        seen = set()
        for k in self.keys(env, pad):
            for item in self.cells.get(k, ()):
                if item not in seen:
                    seen.add(item)
                    yield item


def meets_only_at_vertices(g1, c1, g2, c2):
    """True if lines g1, g2 (coordinate lists c1, c2) share nothing but common vertices."""
    if not g1.Intersects(g2):
        return True
    inter = g1.Intersection(g2)
    if inter.GetDimension() > 0:
        return False
    pts = [inter.GetPoint_2D(0)] if inter.GetGeometryCount() == 0 else \
        [inter.GetGeometryRef(i).GetPoint_2D(0) for i in range(inter.GetGeometryCount())]
    v1, v2 = set(c1), set(c2)
    return all(tuple(p) in v1 and tuple(p) in v2 for p in pts)


def check_site_walkways(data, raw):
    sw_raw = raw["site_walkways"]
    sw = data["site_walkways"]
    coords = [[tuple(c) for c in ft["geometry"]["coordinates"]] for ft in sw_raw]
    props = [ft["properties"] for ft in sw_raw]
    check(set(p["kind"] for p in props) == SW_KINDS, "site_walkways kinds are exactly %s" % sorted(SW_KINDS))
    check(len({p["path_id"] for p in props}) == len(props), "site_walkways path ids unique")
    check(len(props) <= 5000, "site_walkways has %d lines (<= 5000)" % len(props))
    bad = [p["path_id"] for p in props
           if not all(p.get(k) is None or isinstance(p.get(k), str) for k in ("name", "name_ar"))
           or set(p) != {"path_id", "kind", "name", "name_ar", "width_m", "length_m"}]
    check(not bad, "site_walkways name/name_ar are text or null, no other fields %s" % (bad[:3] or ""))
    arabic = [p["path_id"] for p in props if p["kind"] == "trunk"
              and not (p["name"] and p["name_ar"] and any("\u0600" <= ch <= "\u06ff" for ch in p["name_ar"]))]
    check(not arabic, "trunk paths have an English and an Arabic name %s" % (arabic[:3] or ""))
    lens = [p["path_id"] for p, c in zip(props, coords)
            if abs(sum(haversine_m(c[i], c[i + 1]) for i in range(len(c) - 1)) - p["length_m"]) > 0.006
            or p["length_m"] <= 0 or p["width_m"] <= 0]
    check(not lens, "site_walkways length_m is the geodesic length (2 decimals), widths > 0 %s" % (lens[:3] or ""))
    total = sum(p["length_m"] for p in props) / 1000.0
    print("      site_walkways: %d lines, %.1f km (%s)" % (len(props), total, ", ".join(
        "%s %d" % (k, sum(1 for p in props if p["kind"] == k)) for k in sorted(SW_KINDS))))

    # no line through the interior of a camp (along the edge or touching it is fine)
    camps = data["camps"]
    cgrid = Grid(0.002)
    shrunk = []
    for i, (cg, _cp) in enumerate(camps):
        shrunk.append(cg.Buffer(-1e-7))  # ~1 cm inside the edge
        cgrid.add(cg.GetEnvelope(), i)
    through = []
    for (g, _p), p in zip(sw, props):
        for i in cgrid.near(g.GetEnvelope()):
            if g.Intersects(shrunk[i]):
                through.append((p["path_id"], camps[i][1]["camp_id"]))
    check(not through, "no site walkway crosses a camp's interior %s" % (through[:5] or ""))

    # lines meet only at shared vertices: among themselves and with the real walkways
    ww = data["walkways"]
    ww_coords = [[tuple(c) for c in ft["geometry"]["coordinates"]] for ft in raw["walkways"]]
    grid = Grid(0.002)
    for i, (g, _p) in enumerate(sw):
        grid.add(g.GetEnvelope(), ("s", i))
    for i, (g, _p) in enumerate(ww):
        grid.add(g.GetEnvelope(), ("w", i))
    unsplit = []
    for i, (g, _p) in enumerate(sw):
        for kind, j in grid.near(g.GetEnvelope()):
            if kind == "s" and j <= i:
                continue
            g2, c2 = (sw[j][0], coords[j]) if kind == "s" else (ww[j][0], ww_coords[j])
            if not meets_only_at_vertices(g, coords[i], g2, c2):
                unsplit.append((props[i]["path_id"], (props[j]["path_id"] if kind == "s" else "walkway %d" % j)))
    check(not unsplit, "site walkways meet each other and the real walkways only at shared vertices %s"
          % (unsplit[:5] or ""))
    osm_verts = set(c for cs in ww_coords for c in cs)
    # the named connectors join the networks; the unnamed ones lead assets to the real
    # network (split where two of them cross, so a piece may end on another connector)
    named = [(p, c) for p, c in zip(props, coords) if p["kind"] == "connector" and p["name"]]
    bad_conn = [p["path_id"] for p, c in named if not (c[0] in osm_verts or c[-1] in osm_verts)]
    on_real = sum(1 for p, c in zip(props, coords) if p["kind"] == "connector"
                  and (c[0] in osm_verts or c[-1] in osm_verts))
    check(named and not bad_conn, "the %d named connectors end exactly on a real walkway vertex "
          "(%d connectors in all do) %s" % (len(named), on_real, bad_conn[:3] or ""))

    # connectivity: merge coincident vertices of both layers
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def components():
        roots = {}
        for v in parent:
            r = find(v)
            roots[r] = roots.get(r, 0) + 1
        return roots

    def union_lines(lines):
        for c in lines:
            for a, b in zip(c, c[1:]):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
    union_lines(ww_coords)
    n_real = len(components())
    union_lines(coords)
    roots = components()
    main = max(roots, key=lambda r: roots[r])
    check(len(roots) == n_real, "walkways + site_walkways: %d components, as many as the real walkways alone "
          "(site walkways add no island)" % len(roots))
    off = [p["path_id"] for p, c in zip(props, coords) if find(c[0]) != main]
    check(not off, "every site walkway is in the largest component (%d vertices) %s" % (roots[main], off[:3] or ""))
    connected = [a for cs in coords for a in cs if find(a) == main]
    linked = any(find(v) == main for v in osm_verts) and connected
    check(linked, "the site network joins the largest real walkway component")

    # camp entrances: a vertex of the network on the camp's edge, in the main component
    sw_verts = set(c for cs in coords for c in cs)
    bad_ent = []
    for cg, cp in camps:
        e = (cp["entrance_lon"], cp["entrance_lat"])
        pt = ogr.Geometry(ogr.wkbPoint)
        pt.AddPoint_2D(*e)
        if e not in sw_verts or find(e) != main or cg.Boundary().Distance(pt) > 1e-7:
            bad_ent.append(cp["camp_id"])
    check(not bad_ent, "every camp's entrance (entrance_lon/lat) is a network vertex on its edge, "
          "connected (%d camps) %s" % (len(camps) - len(bad_ent), bad_ent[:5] or ""))

    # assets within ASSET_REACH_M of a line of the main component (local metres)
    lat0 = 21.39
    kx = R_EARTH * math.cos(math.radians(lat0)) * math.pi / 180.0
    ky = R_EARTH * math.pi / 180.0

    def xy(c):
        return (c[0] * kx, c[1] * ky)
    seg_grid = Grid(50.0)
    for cs in ww_coords + coords:
        if find(cs[0]) != main:
            continue
        for a, b in zip(cs, cs[1:]):
            pa, pb = xy(a), xy(b)
            seg_grid.add((min(pa[0], pb[0]), max(pa[0], pb[0]), min(pa[1], pb[1]), max(pa[1], pb[1])), (pa, pb))

    def seg_dist(p, a, b):
        dx, dy = b[0] - a[0], b[1] - a[1]
        L2 = dx * dx + dy * dy
        t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / L2))
        return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)
    far = []
    dists = []
    for g, p in data["assets"]:
        q = xy((g.GetX(), g.GetY()))
        best = min((seg_dist(q, a, b) for a, b in seg_grid.near((q[0], q[0], q[1], q[1]), ASSET_REACH_M)),
                   default=float("inf"))
        dists.append(best)
        if best > ASSET_REACH_M:
            far.append(p["asset_id"])
    near5 = sum(1 for v in dists if v <= 6.5)
    check(not far, "every asset within %.0f m of the connected network (%d of %d; %d within 6.5 m) %s"
          % (ASSET_REACH_M, len(dists) - len(far), len(dists), near5, far[:5] or ""))


def finish():
    passed = sum(results)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
