#!/usr/bin/python3
"""Generate the Mashaer demo site: synthetic operations layers for the holy sites.

Writes one GeoJSON FeatureCollection per layer (EPSG:4326 lon/lat, coordinates
rounded to 7 decimals, features in a fixed order) into the output folder:

  sites.geojson            the five sites (Haram, Jamarat, Mina, Muzdalifah, Arafat)
  service_zones.geojson    operational service zones subdividing the sites
  camps.geojson            tent camps in Mina (and a few in Arafat)
  cleaning_routes.geojson  cleaning-crew routes along the streets between camps
  assets.geojson           toilets, water points, clinics, waste bins, lighting,
                           gates and AC units
  walkways.geojson         the real walkway network (OpenStreetMap, ODbL), copied
                           byte for byte from data/source/makkah-walkways.geojson
  NOTICE.md                what is real and what is synthetic, with attribution

Everything except walkways.geojson is SYNTHETIC. Site centres, sizes and the
tent size come from the public facts in docs/HAJJ-FACTS.md; camp layout,
zones, routes and assets are invented but plausible.

The output is deterministic: fixed random seeds, no clock, no dependence on
dict or set order. Running the script twice gives byte-identical files.

Standard library only; run with Debian's /usr/bin/python3:

  python3 scripts/gen_demo.py [--out data/demo] [--check]
"""

import argparse
import filecmp
import json
import math
import os
import random
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "data", "demo")
DEFAULT_WALKWAYS = os.path.join(REPO, "data", "source", "makkah-walkways.geojson")

SEED = 1445  # fixed: the generator must be reproducible

# --------------------------------------------------------------------------
# Constants taken from docs/HAJJ-FACTS.md (and the reasoning behind them)
# --------------------------------------------------------------------------

# Mina tents are 8 m x 8 m (HAJJ-FACTS: "100,000+ air-conditioned tents of
# 8 m x 8 m"); one tent block of the camp grid is one such tent.
BLOCK_M = 8.0

# Persons per 8 m x 8 m tent block. HAJJ-FACTS gives about 3 M capacity for
# 100,000+ tents, i.e. about 30 persons per tent (64 m2 / 30 = 2.1 m2 per
# person, sleeping space only). This also makes the demo consistent: ~6.5 km2
# of camps / 64 m2 = ~100,000 tents, and our ~2 M camp places sit between the
# 1.67 M (2025) and 2.5 M (2019) pilgrim counts in HAJJ-FACTS.
PERSONS_PER_BLOCK = 30

# Street layout inside Mina / Arafat (metres).
LANE_M = 16.0        # lane between two neighbouring camps (2 blocks)
ROAD_M = 32.0        # main road between superblocks (4 blocks)
SUPERBLOCK_W = 400.0  # 50 blocks
SUPERBLOCK_H = 336.0  # 42 blocks
CAMP_MARGIN_M = 24.0  # camps keep this distance from the site boundary

# Camp size range in blocks (width x height), e.g. 6x10 to 20x25.
CAMP_W_BLOCKS = (6, 20, 6)   # (min, max, mode) of a triangular distribution
CAMP_H_BLOCKS = (10, 25, 10)

# Design densities (persons per m2) for zones without camps:
#  - Muzdalifah: open-air overnight stay, 0.3 p/m2, well inside G. Keith
#    Still's "free flow" band (0-1 p/m2); 10 km2 x 0.3 = ~3 M places.
#  - Jamarat: Fruin walkway LoS C upper bound, 0.72 p/m2.
#  - Haram courtyards: Fruin walkway LoS D upper bound, 1.08 p/m2.
#  - Arafat outside the camps: 0.2 p/m2 (pilgrims resting on the open plain).
DESIGN_DENSITY = {"haram": 1.08, "jamarat": 0.72, "muzdalifah": 0.3, "arafat": 0.2, "mina": 0.0}

# Local projection (spherical equirectangular around the sites).
R_EARTH = 6371008.8
LON0, LAT0 = 39.90, 21.39
D2R = math.pi / 180.0
KX = R_EARTH * math.cos(LAT0 * D2R) * D2R  # metres per degree of longitude
KY = R_EARTH * D2R                          # metres per degree of latitude

SITE_ORDER = ["haram", "jamarat", "mina", "muzdalifah", "arafat"]

# Site outlines (lon, lat), counter-clockwise, convex. Shaped from the centres
# and rough boxes in HAJJ-FACTS.md; Mina keeps clear of the Jamarat plaza and
# Muzdalifah is widened to contain its centre (21.3925, 39.9378) and the
# Al-Mash'ar al-Haram mosque (21.3861, 39.9122).
SITES = {
    "haram": {
        "name": "Masjid al-Haram", "name_ar": "المسجد الحرام", "zones": (1, 2),
        "ring": [(39.8208, 21.4205), (39.8235, 21.4172), (39.8285, 21.4171),
                 (39.8318, 21.4190), (39.8329, 21.4228), (39.8312, 21.4266),
                 (39.8270, 21.4280), (39.8226, 21.4273), (39.8203, 21.4245)],
    },
    "jamarat": {
        "name": "Jamarat", "name_ar": "الجمرات", "zones": (2, 1),
        "ring": [(39.8565, 21.4195), (39.8610, 21.4168), (39.8700, 21.4163),
                 (39.8752, 21.4185), (39.8757, 21.4225), (39.8720, 21.4262),
                 (39.8640, 21.4275), (39.8580, 21.4255)],
    },
    "mina": {
        "name": "Mina", "name_ar": "منى", "zones": (4, 3),
        "ring": [(39.8768, 21.4180), (39.8800, 21.4120), (39.8880, 21.4072),
                 (39.8975, 21.4060), (39.9022, 21.4098), (39.9032, 21.4175),
                 (39.8995, 21.4268), (39.8915, 21.4325), (39.8830, 21.4334),
                 (39.8782, 21.4285)],
    },
    "muzdalifah": {
        "name": "Muzdalifah", "name_ar": "مزدلفة", "zones": (3, 2),
        "ring": [(39.9060, 21.3870), (39.9110, 21.3800), (39.9220, 21.3765),
                 (39.9380, 21.3770), (39.9490, 21.3820), (39.9520, 21.3900),
                 (39.9470, 21.3975), (39.9330, 21.4010), (39.9170, 21.4015),
                 (39.9080, 21.3960)],
    },
    "arafat": {
        "name": "Arafat", "name_ar": "عرفات", "zones": (4, 2),
        "ring": [(39.9700, 21.3520), (39.9760, 21.3445), (39.9880, 21.3420),
                 (40.0010, 21.3450), (40.0070, 21.3530), (40.0060, 21.3640),
                 (39.9990, 21.3710), (39.9860, 21.3725), (39.9750, 21.3680),
                 (39.9700, 21.3600)],
    },
}

# Points that must lie inside their site (checked at generation time).
LANDMARKS = [
    ("haram", 39.8262, 21.4225), ("jamarat", 39.8728, 21.4214), ("mina", 39.8933, 21.4133),
    ("muzdalifah", 39.9378, 21.3925), ("muzdalifah", 39.9122, 21.3861),
    ("arafat", 39.9839, 21.3547),
]
JABAL_RAHMAH = (39.9839, 21.3547)  # no camps within 400 m of the hill

ZONE_SERVICES = ["mixed", "mixed", "cleaning", "health", "crowd_management", "waste"]

COMPANIES = ["Company %02d" % i for i in range(1, 15)]


def company_ar(name):
    # "Company 07" -> "شركة 07"
    return "شركة " + name.split()[-1]


ASSET_KINDS = ["toilet", "water_point", "clinic", "waste_bin", "lighting", "gate", "ac_unit"]

# --------------------------------------------------------------------------
# Geometry helpers (local metres)
# --------------------------------------------------------------------------


def to_xy(lon, lat):
    return ((lon - LON0) * KX, (lat - LAT0) * KY)


def to_ll(x, y):
    return (LON0 + x / KX, LAT0 + y / KY)


def r7(v):
    return round(v, 7)


def ll_coords(pts_xy):
    out = []
    for x, y in pts_xy:
        lon, lat = to_ll(x, y)
        out.append([r7(lon), r7(lat)])
    return out


def ring_area_signed(ring):
    a = 0.0
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        a += x1 * y2 - x2 * y1
    return a / 2.0


def ring_centroid(ring):
    a = ring_area_signed(ring)
    cx = cy = 0.0
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        f = x1 * y2 - x2 * y1
        cx += (x1 + x2) * f
        cy += (y1 + y2) * f
    return (cx / (6 * a), cy / (6 * a))


def is_convex_ccw(ring):
    n = len(ring)
    for i in range(n):
        (x1, y1), (x2, y2), (x3, y3) = ring[i], ring[(i + 1) % n], ring[(i + 2) % n]
        if (x2 - x1) * (y3 - y2) - (y2 - y1) * (x3 - x2) <= 0:
            return False
    return True


def point_in_ring(pt, ring):
    x, y = pt
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y):
            xc = xi + (y - yi) * (xj - xi) / (yj - yi)
            if x < xc:
                inside = not inside
        j = i
    return inside


def seg_dist(p, a, b):
    px, py = p
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    qx, qy = ax + t * dx, ay + t * dy
    return math.hypot(px - qx, py - qy)


def dist_to_boundary(p, ring):
    n = len(ring)
    return min(seg_dist(p, ring[i], ring[(i + 1) % n]) for i in range(n))


def inside_with_margin(p, ring, margin):
    return point_in_ring(p, ring) and dist_to_boundary(p, ring) >= margin


def clip_halfplane(ring, axis, c, keep_le):
    """Sutherland-Hodgman clip of a convex ring by x<=c / x>=c (axis 0) or y (axis 1).

    Intersections are computed from the endpoints in a canonical order, so the
    two sides of a cut produce bit-identical shared vertices.
    """
    def inside(p):
        return p[axis] <= c if keep_le else p[axis] >= c

    def cut(p, q):
        a, b = (p, q) if p <= q else (q, p)
        t = (c - a[axis]) / (b[axis] - a[axis])
        o = 1 - axis
        pt = [0.0, 0.0]
        pt[axis] = c
        pt[o] = a[o] + t * (b[o] - a[o])
        return (pt[0], pt[1])

    out = []
    n = len(ring)
    for i in range(n):
        cur, nxt = ring[i], ring[(i + 1) % n]
        ci, ni = inside(cur), inside(nxt)
        if ci:
            out.append(cur)
            if not ni:
                out.append(cut(cur, nxt))
        elif ni:
            out.append(cut(cur, nxt))
    # drop consecutive duplicates
    res = []
    for p in out:
        if not res or res[-1] != p:
            res.append(p)
    if len(res) > 1 and res[0] == res[-1]:
        res.pop()
    return res


def clip_band(ring, axis, lo, hi):
    r = ring
    if lo is not None:
        r = clip_halfplane(r, axis, lo, keep_le=False)
    if hi is not None and r:
        r = clip_halfplane(r, axis, hi, keep_le=True)
    return r


def equal_area_cuts(ring, axis, parts):
    """Cut positions along axis splitting a convex ring into `parts` equal areas."""
    lo = min(p[axis] for p in ring)
    hi = max(p[axis] for p in ring)
    total = ring_area_signed(ring)
    cuts = []
    for k in range(1, parts):
        target = total * k / parts
        a, b = lo, hi
        for _ in range(60):
            m = (a + b) / 2
            part = clip_halfplane(ring, axis, m, keep_le=True)
            area = ring_area_signed(part) if len(part) >= 3 else 0.0
            if area < target:
                a = m
            else:
                b = m
        cuts.append(round((a + b) / 2, 3))
    return cuts


def line_interval(ring, axis, c):
    """Interval of the other coordinate where the line axis=c crosses a convex ring."""
    o = 1 - axis
    vals = []
    n = len(ring)
    for i in range(n):
        p, q = ring[i], ring[(i + 1) % n]
        if (p[axis] - c) * (q[axis] - c) <= 0 and p[axis] != q[axis]:
            t = (c - p[axis]) / (q[axis] - p[axis])
            vals.append(p[o] + t * (q[o] - p[o]))
    if len(vals) < 2:
        return None
    return (min(vals), max(vals))


def polyline_length(pts):
    return sum(math.hypot(pts[i + 1][0] - pts[i][0], pts[i + 1][1] - pts[i][1])
               for i in range(len(pts) - 1))


def points_along(pts, spacing, start):
    """Points every `spacing` metres along a polyline, with the local direction."""
    out = []
    seg_start = 0.0
    d = start
    for i in range(len(pts) - 1):
        (x1, y1), (x2, y2) = pts[i], pts[i + 1]
        L = math.hypot(x2 - x1, y2 - y1)
        if L == 0:
            continue
        while d <= seg_start + L:
            t = (d - seg_start) / L
            out.append((x1 + t * (x2 - x1), y1 + t * (y2 - y1), (x2 - x1) / L, (y2 - y1) / L))
            d += spacing
        seg_start += L
    return out


# Geodesic measures on the rounded lon/lat coordinates (what the file holds).

def haversine_m(a, b):
    lon1, lat1 = a[0] * D2R, a[1] * D2R
    lon2, lat2 = b[0] * D2R, b[1] * D2R
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * R_EARTH * math.asin(math.sqrt(h))


def line_length_m(coords):
    return sum(haversine_m(coords[i], coords[i + 1]) for i in range(len(coords) - 1))


def ring_area_m2(coords):
    """Area of a closed lon/lat ring, equirectangular at the ring's mean latitude."""
    latm = sum(c[1] for c in coords[:-1]) / (len(coords) - 1)
    kx = R_EARTH * math.cos(latm * D2R) * D2R
    pts = [(c[0] * kx, c[1] * KY) for c in coords[:-1]]
    return abs(ring_area_signed(pts))


def polygon_geom(ring_xy):
    """GeoJSON Polygon (CCW exterior, closed) from a local-metre ring."""
    if ring_area_signed(ring_xy) < 0:
        ring_xy = list(reversed(ring_xy))
    coords = ll_coords(ring_xy)
    coords.append(list(coords[0]))
    return {"type": "Polygon", "coordinates": [coords]}


def point_geom(x, y):
    lon, lat = to_ll(x, y)
    return {"type": "Point", "coordinates": [r7(lon), r7(lat)]}


def feature(props, geom):
    return {"type": "Feature", "properties": props, "geometry": geom}


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


def site_rings():
    rings = {}
    for sid in SITE_ORDER:
        ring = [to_xy(lon, lat) for lon, lat in SITES[sid]["ring"]]
        if not is_convex_ccw(ring):
            raise SystemExit("site %s outline must be convex and counter-clockwise" % sid)
        rings[sid] = ring
    for sid, lon, lat in LANDMARKS:
        if not point_in_ring(to_xy(lon, lat), rings[sid]):
            raise SystemExit("landmark %.4f,%.4f is outside %s" % (lat, lon, sid))
    return rings


def build_sites(rings):
    feats = []
    for sid in SITE_ORDER:
        g = polygon_geom(rings[sid])
        area = ring_area_m2(g["coordinates"][0]) / 1e6
        feats.append(feature({
            "site_id": sid,
            "name": SITES[sid]["name"],
            "name_ar": SITES[sid]["name_ar"],
            "area_km2": round(area, 4),
        }, g))
    return feats


def build_zones(rings, rng):
    """Split each site into cols x rows zones of equal area (west->east strips,
    each cut north->south). Returns zone records with local rings."""
    zones = []
    for sid in SITE_ORDER:
        cols, rows = SITES[sid]["zones"]
        ring = rings[sid]
        xcuts = equal_area_cuts(ring, 0, cols)
        xb = [None] + xcuts + [None]
        n = 0
        for ci in range(cols):
            strip = clip_band(ring, 0, xb[ci], xb[ci + 1])
            ycuts = equal_area_cuts(strip, 1, rows)
            yb = [None] + ycuts + [None]
            for ri in range(rows - 1, -1, -1):  # north first
                cell = clip_band(strip, 1, yb[ri], yb[ri + 1])
                n += 1
                zones.append({
                    "zone_id": "%s-%02d" % (sid.upper(), n),
                    "site": sid,
                    "n": n,
                    "ring": cell,
                    "service": rng.choice(ZONE_SERVICES),
                })
    return zones


def zone_of(pt, zones_by_site, site):
    cands = zones_by_site[site]
    for z in cands:
        if point_in_ring(pt, z["ring"]):
            return z
    # On a shared edge or on the site boundary: the nearest zone.
    return min(cands, key=lambda z: dist_to_boundary(pt, z["ring"]))


def pack_camps(ring, rng, select_superblock=None, avoid=None):
    """Lay out camps on an 8 m block grid over a convex site.

    The site is cut into superblocks by main roads (ROAD_M); each superblock is
    filled north to south with rows of camps separated by lanes (LANE_M); each
    row holds camps of random width, also separated by lanes. A camp is kept
    only if it lies inside the site with CAMP_MARGIN_M to spare; at the edge of
    the site it is narrowed (down to the minimum width) to fit.
    Returns (superblocks, roads): superblocks are lists of rows
    (ybot, ytop, [camp rects]); roads are the main-road centre lines.
    """
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    x_min, x_max, y_min, y_max = min(xs), max(xs), min(ys), max(ys)
    wmin, wmax, wmode = CAMP_W_BLOCKS
    hmin, hmax, hmode = CAMP_H_BLOCKS

    def fits(x0, y0, x1, y1):
        for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            if not inside_with_margin(p, ring, CAMP_MARGIN_M):
                return False
        if avoid is not None:
            ax, ay, ar = avoid
            cx = min(max(ax, x0), x1)
            cy = min(max(ay, y0), y1)
            if math.hypot(ax - cx, ay - cy) < ar:
                return False
        return True

    superblocks = []
    roads = {"h": [], "v": []}
    sb_x = x_min
    col = 0
    while sb_x < x_max:
        roads["v"].append(sb_x - ROAD_M / 2)
        sb_y = y_max
        row_i = 0
        while sb_y > y_min:
            if col == 0:
                roads["h"].append(sb_y + ROAD_M / 2)
            sbx0, sbx1 = sb_x, sb_x + SUPERBLOCK_W
            sby0, sby1 = sb_y - SUPERBLOCK_H, sb_y
            rows = []
            if select_superblock is None or select_superblock(col, row_i):
                y_top = sby1
                while y_top - hmin * BLOCK_M >= sby0:
                    h = int(round(rng.triangular(hmin, hmax, hmode))) * BLOCK_M
                    if y_top - h < sby0:
                        h = math.floor((y_top - sby0) / BLOCK_M) * BLOCK_M
                    y_bot = y_top - h
                    camps = []
                    x = sbx0
                    while x + wmin * BLOCK_M <= sbx1:
                        w = int(round(rng.triangular(wmin, wmax, wmode))) * BLOCK_M
                        w = min(w, math.floor((sbx1 - x) / BLOCK_M) * BLOCK_M)
                        placed = False
                        while w >= wmin * BLOCK_M:
                            if fits(x, y_bot, x + w, y_top):
                                placed = True
                                break
                            w -= BLOCK_M
                        if placed:
                            camps.append((x, y_bot, x + w, y_top))
                            x += w + LANE_M
                        else:
                            x += 2 * BLOCK_M
                    if camps:
                        rows.append((y_bot, y_top, camps))
                    y_top = y_bot - LANE_M
            superblocks.append({"col": col, "row": row_i, "rows": rows})
            sb_y -= SUPERBLOCK_H + ROAD_M
            row_i += 1
        sb_x += SUPERBLOCK_W + ROAD_M
        col += 1
    return superblocks, roads


def serpentine(rows):
    """A route through the lanes of one superblock: along the lane above the
    first row, down past the east (then west) end of each row, and so on."""
    half = LANE_M / 2
    lanes = [rows[0][1] + half]
    for i in range(1, len(rows)):
        lanes.append((rows[i - 1][0] + rows[i][1]) / 2)
    lanes.append(rows[-1][0] - half)

    def end_x(row, east):
        camps = row[2]
        return (max(c[2] for c in camps) + half) if east else (min(c[0] for c in camps) - half)

    pts = [(end_x(rows[0], False), lanes[0])]
    for i, row in enumerate(rows):
        east = (i % 2 == 0)
        x = end_x(row, east)
        pts.append((x, lanes[i]))
        pts.append((x, lanes[i + 1]))
    pts.append((end_x(rows[-1], len(rows) % 2 == 0), lanes[-1]))
    # drop duplicates / collinear repeats
    res = []
    for p in pts:
        if not res or res[-1] != p:
            res.append(p)
    return res


def trunk_lines(ring, roads, inset):
    """Main-road centre lines clipped to the site (inset from its boundary)."""
    out = []
    for y in roads["h"]:
        iv = line_interval(ring, 1, y)
        if iv and iv[1] - iv[0] - 2 * inset > 300:
            a, b = iv[0] + inset, iv[1] - inset
            if inside_with_margin(((a + b) / 2, y), ring, inset / 2):
                out.append([(a, y), (b, y)])
    for x in roads["v"]:
        iv = line_interval(ring, 0, x)
        if iv and iv[1] - iv[0] - 2 * inset > 300:
            a, b = iv[0] + inset, iv[1] - inset
            if inside_with_margin((x, (a + b) / 2), ring, inset / 2):
                out.append([(x, b), (x, a)])
    return out


def split_line(pts, max_len):
    """Split a 2-point line into equal pieces no longer than max_len."""
    (x1, y1), (x2, y2) = pts
    L = math.hypot(x2 - x1, y2 - y1)
    n = max(1, int(math.ceil(L / max_len)))
    return [[(x1 + (x2 - x1) * i / n, y1 + (y2 - y1) * i / n),
             (x1 + (x2 - x1) * (i + 1) / n, y1 + (y2 - y1) * (i + 1) / n)] for i in range(n)]


def street_grid(ring, dy, dx, inset):
    """Parallel east-west streets every dy metres and north-south every dx metres."""
    ys = [p[1] for p in ring]
    xs = [p[0] for p in ring]
    roads = {"h": [], "v": []}
    y = math.floor(min(ys) / dy) * dy + dy / 2
    while y < max(ys):
        roads["h"].append(y)
        y += dy
    x = math.floor(min(xs) / dx) * dx + dx / 2
    while x < max(xs):
        roads["v"].append(x)
        x += dx
    return trunk_lines(ring, roads, inset)


def scaled_ring(ring, f):
    cx, cy = ring_centroid(ring)
    return [(cx + (x - cx) * f, cy + (y - cy) * f) for x, y in ring]


def status_of(rng):
    r = rng.random()
    if r < 0.90:
        return "working"
    if r < 0.96:
        return "faulty"
    return "maintenance"


def generate(out_dir, walkways_src):
    rings = site_rings()
    zone_rng = random.Random(SEED + 1)
    camp_rng = random.Random(SEED + 2)
    asset_rng = random.Random(SEED + 3)
    route_rng = random.Random(SEED + 4)

    # ---------------- sites
    sites = build_sites(rings)

    # ---------------- zones
    zones = build_zones(rings, zone_rng)
    zones_by_site = {sid: [z for z in zones if z["site"] == sid] for sid in SITE_ORDER}

    # ---------------- camps
    mina_sb, mina_roads = pack_camps(rings["mina"], camp_rng)
    # Arafat: only some superblocks carry camps ("a few camps"), none near
    # Jabal al-Rahmah.
    # A trial layout finds the well-filled superblocks; three of them get camps.
    jr = to_xy(*JABAL_RAHMAH)
    trial, _ = pack_camps(rings["arafat"], random.Random(SEED + 5), avoid=(jr[0], jr[1], 400.0))
    full = sorted((sb["col"], sb["row"]) for sb in trial
                  if sum(len(r[2]) for r in sb["rows"]) >= 12)
    chosen = set(random.Random(SEED + 6).sample(full, min(3, len(full))))
    arafat_sb, arafat_roads = pack_camps(
        rings["arafat"], camp_rng,
        select_superblock=lambda c, r: (c, r) in chosen,
        avoid=(jr[0], jr[1], 400.0))

    camp_recs = []  # (site, superblock index, rect)
    for site, sbs in (("mina", mina_sb), ("arafat", arafat_sb)):
        for sbi, sb in enumerate(sbs):
            for (_yb, _yt, camps) in sb["rows"]:
                for rect in camps:
                    camp_recs.append({"site": site, "sb": sbi, "rect": rect})
    # Number camps north to south, west to east within each site.
    camp_recs.sort(key=lambda c: (SITE_ORDER.index(c["site"]), -round(c["rect"][3], 3),
                                  round(c["rect"][0], 3)))
    counters = {"mina": 0, "arafat": 0}
    camp_feats = []
    for c in camp_recs:
        site = c["site"]
        counters[site] += 1
        num = counters[site]
        x0, y0, x1, y1 = c["rect"]
        wb = int(round((x1 - x0) / BLOCK_M))
        hb = int(round((y1 - y0) / BLOCK_M))
        blocks = wb * hb
        # A company runs a cluster of neighbouring camps (mostly one per superblock).
        comp_rng = random.Random("%s/%d" % (site, c["sb"]))
        company = COMPANIES[comp_rng.randrange(len(COMPANIES))]
        if camp_rng.random() < 0.15:
            company = COMPANIES[camp_rng.randrange(len(COMPANIES))]
        z = zone_of(((x0 + x1) / 2, (y0 + y1) / 2), zones_by_site, site)
        c["num"] = num
        c["zone"] = z
        c["capacity"] = blocks * PERSONS_PER_BLOCK
        c["camp_id"] = ("M-%04d" if site == "mina" else "AF-%04d") % num
        camp_feats.append(feature({
            "camp_id": c["camp_id"],
            "name_ar": "مخيم %d" % num,
            "company": company,
            "company_ar": company_ar(company),
            "capacity": c["capacity"],
            "blocks": blocks,
            "blocks_x": wb,
            "blocks_y": hb,
            "site": site,
            "zone_id": z["zone_id"],
        }, polygon_geom([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])))

    # ---------------- cleaning routes (local polylines + site)
    routes = []  # (site, kind, pts)
    for site, sbs, roads in (("mina", mina_sb, mina_roads), ("arafat", arafat_sb, arafat_roads)):
        for sb in sbs:
            if sb["rows"]:
                routes.append((site, "lanes", serpentine(sb["rows"])))
        for line in trunk_lines(rings[site], roads, 30.0):
            for piece in split_line(line, 1600.0):
                routes.append((site, "trunk", piece))
    for line in street_grid(rings["muzdalifah"], 330.0, 900.0, 40.0):
        for piece in split_line(line, 1600.0):
            routes.append(("muzdalifah", "street", piece))
    for f in (0.82, 0.55):
        ring = scaled_ring(rings["haram"], f)
        routes.append(("haram", "ring", ring + [ring[0]]))
    jy = to_xy(39.8728, 21.4214)[1]
    for dy in (-30.0, 30.0):
        iv = line_interval(rings["jamarat"], 1, jy + dy)
        routes.append(("jamarat", "bridge", [(iv[0] + 40.0, jy + dy), (iv[1] - 40.0, jy + dy)]))

    for site, _k, pts in routes:
        for p in pts:
            if not point_in_ring(p, rings[site]):
                raise SystemExit("route vertex outside %s" % site)

    # Stable order: by site, then by first vertex (north to south, west to east).
    routes.sort(key=lambda r: (SITE_ORDER.index(r[0]), -round(r[2][0][1], 3), round(r[2][0][0], 3)))
    n_routes = len(routes)
    n_crews = max(1, (n_routes + 2) // 3)
    shifts = ["morning", "evening", "night"]
    route_feats = []
    for i, (site, kind, pts) in enumerate(routes):
        coords = ll_coords(pts)
        crew = route_rng.randrange(n_crews) + 1 if kind == "trunk" else (i % n_crews) + 1
        if kind == "trunk":  # mechanical sweepers on the main roads, mostly at night
            shift = route_rng.choice(["night", "night", "evening"])
        else:
            shift = shifts[(i // n_crews + route_rng.randrange(2)) % 3]
        route_feats.append(feature({
            "route_id": "CR-%03d" % (i + 1),
            "crew": "Crew %02d" % crew,
            "shift": shift,
            "site": site,
            "length_m": round(line_length_m(coords), 1),
        }, {"type": "LineString", "coordinates": coords}))

    # ---------------- assets
    assets = []  # dicts with x, y, kind, site, extra props

    def add(kind, site, x, y, **extra):
        assets.append({"kind": kind, "site": site, "x": x, "y": y, "extra": extra})

    # Camp-edge assets (Mina and Arafat camps). Streets are 3 m outside the camp.
    for c in camp_recs:
        site = c["site"]
        x0, y0, x1, y1 = c["rect"]
        blocks = int(round((x1 - x0) / BLOCK_M)) * int(round((y1 - y0) / BLOCK_M))
        w, h = x1 - x0, y1 - y0
        off = 3.0
        # edges as (start point, direction, length, outward normal)
        edges = [((x0, y0), (1, 0), w, (0, -1)), ((x1, y0), (0, 1), h, (1, 0)),
                 ((x1, y1), (-1, 0), w, (0, 1)), ((x0, y1), (0, -1), h, (-1, 0))]
        first = asset_rng.randrange(4)
        # toilets: one toilet block per 200 tent blocks (rounded up), at edge midpoints
        n_t = max(1, int(math.ceil(blocks / 200.0)))
        for k in range(n_t):
            (sx, sy), (dx, dy), L, (nx, ny) = edges[(first + k) % 4]
            t = L * (0.5 if n_t <= 4 else (0.3 + 0.4 * (k // 4)))
            add("toilet", site, sx + dx * t + nx * off, sy + dy * t + ny * off,
                capacity=asset_rng.choice([8, 12, 16, 20, 24, 30]))
        # water point at one corner
        (sx, sy), (dx, dy), L, (nx, ny) = edges[(first + 2) % 4]
        add("water_point", site, sx + nx * off - dx * off, sy + ny * off - dy * off,
            capacity=asset_rng.choice([6, 8, 12, 16]))
        # waste bins: one per 100 tent blocks, spread along the edges
        n_b = max(1, int(math.ceil(blocks / 100.0)))
        for k in range(n_b):
            (sx, sy), (dx, dy), L, (nx, ny) = edges[(first + 1 + k) % 4]
            t = L * (0.2 + 0.6 * ((k // 4) % 2))
            add("waste_bin", site, sx + dx * t + nx * 2.0, sy + dy * t + ny * 2.0,
                capacity=asset_rng.choice([660, 1100]),
                fill_level=round(asset_rng.betavariate(2.0, 3.0), 2))
        # AC (chiller) units just inside the camp, one per 200 tent blocks
        n_ac = max(1, int(math.ceil(blocks / 200.0)))
        corners = [(x0 + 4, y0 + 4), (x1 - 4, y1 - 4), (x1 - 4, y0 + 4), (x0 + 4, y1 - 4)]
        for k in range(n_ac):
            px, py = corners[k % 4]
            if k >= 4:
                px, py = (x0 + x1) / 2, (y0 + 4) if k % 2 else (y1 - 4)
            add("ac_unit", site, px, py)

    # Street assets along routes outside the camps (every site but Mina's lanes).
    street_spec = {
        "haram": {"water_point": 70.0, "waste_bin": 60.0, "toilet": 300.0},
        "jamarat": {"water_point": 120.0, "waste_bin": 80.0, "toilet": 400.0},
        "muzdalifah": {"water_point": 260.0, "waste_bin": 110.0, "toilet": 330.0},
        "arafat": {"water_point": 250.0, "waste_bin": 120.0, "toilet": 320.0},
        "mina": {"water_point": 400.0, "waste_bin": 150.0},
    }
    for site, kind, pts in routes:
        if kind == "lanes":
            continue
        spec = street_spec[site]
        for akind in ("toilet", "water_point", "waste_bin"):
            if akind not in spec:
                continue
            sp = spec[akind]
            for j, (x, y, dx, dy) in enumerate(points_along(pts, sp, asset_rng.uniform(0.2, 0.8) * sp)):
                side = 1 if j % 2 == 0 else -1
                px, py = x - dy * 6.0 * side, y + dx * 6.0 * side
                if akind == "toilet":
                    add(akind, site, px, py, capacity=asset_rng.choice([12, 16, 20, 24, 30, 40]))
                elif akind == "water_point":
                    add(akind, site, px, py, capacity=asset_rng.choice([6, 8, 12, 16, 24]))
                else:
                    add(akind, site, px, py, capacity=asset_rng.choice([660, 1100]),
                        fill_level=round(asset_rng.betavariate(2.0, 3.0), 2))

    # Lighting poles along every route, 4 m to the side.
    for site, kind, pts in routes:
        sp = {"lanes": 160.0, "trunk": 90.0, "street": 120.0, "ring": 60.0, "bridge": 60.0}[kind]
        for j, (x, y, dx, dy) in enumerate(points_along(pts, sp, sp / 2)):
            side = 1 if j % 2 == 0 else -1
            add("lighting", site, x - dy * 4.0 * side, y + dx * 4.0 * side)

    # Clinics: one for every two or three zones, on a street near the zone centre.
    # Main roads and streets first; lanes between camps only where a zone has none.
    street_pts = {sid: ([], []) for sid in SITE_ORDER}
    for site, kind, pts in routes:
        for (x, y, _dx, _dy) in points_along(pts, 25.0, 0.0):
            street_pts[site][1 if kind == "lanes" else 0].append((x, y))
    clinic_no = 0
    for sid in SITE_ORDER:
        zs = zones_by_site[sid]
        step = 1 if len(zs) <= 2 else (2 if len(zs) <= 6 else 3)
        for zi in range(0, len(zs), step):
            z = zs[zi]
            if len(zs) <= 2 and zi > 0:
                break
            cx, cy = ring_centroid(z["ring"])
            cands = [p for p in street_pts[sid][0] if point_in_ring(p, z["ring"])]
            if not cands:
                cands = [p for p in street_pts[sid][1] if point_in_ring(p, z["ring"])]
            px, py = min(cands, key=lambda p: (math.hypot(p[0] - cx, p[1] - cy), p)) if cands else (cx, cy)
            clinic_no += 1
            add("clinic", sid, px, py,
                name="Clinic %d (%s)" % (clinic_no, SITES[sid]["name"]),
                name_ar="مركز صحي %d - %s" % (clinic_no, SITES[sid]["name_ar"]),
                capacity=asset_rng.choice([10, 15, 20, 30, 40, 60]))

    # Gates on each site boundary. Jamarat: 300,000 pilgrims/h shared by its gates.
    gate_spacing = {"haram": 130.0, "jamarat": 170.0, "mina": 420.0, "muzdalifah": 520.0, "arafat": 520.0}
    for sid in SITE_ORDER:
        ring = rings[sid]
        closed = ring + [ring[0]]
        sp = gate_spacing[sid]
        pts = points_along(closed, sp, asset_rng.uniform(0.1, 0.9) * sp)
        for k, (x, y, _dx, _dy) in enumerate(pts, start=1):
            if sid == "haram":
                cap = asset_rng.choice([3000, 4500, 6000, 9000])
                name, name_ar = "Gate %d" % k, "باب %d" % k
            elif sid == "jamarat":
                cap = int(round(300000 / len(pts) / 500.0)) * 500
                name, name_ar = "Jamarat Gate %d" % k, "بوابة الجمرات %d" % k
            else:
                cap = asset_rng.choice([8000, 10000, 12000, 15000, 20000])
                name = "%s Gate %d" % (SITES[sid]["name"], k)
                name_ar = "بوابة %s %d" % (SITES[sid]["name_ar"], k)
            add("gate", sid, x, y, name=name, name_ar=name_ar, capacity=cap)

    # zone lookup, sort, ids
    for a in assets:
        pt = (a["x"], a["y"])
        # Gates sit on the site boundary; zone_of() then takes the nearest zone.
        if a["kind"] != "gate" and not point_in_ring(pt, rings[a["site"]]):
            raise SystemExit("asset %s outside %s" % (a["kind"], a["site"]))
        a["zone_id"] = zone_of(pt, zones_by_site, a["site"])["zone_id"]
        a["coords"] = point_geom(a["x"], a["y"])["coordinates"]
    assets.sort(key=lambda a: (SITE_ORDER.index(a["site"]), a["zone_id"], ASSET_KINDS.index(a["kind"]),
                               -a["coords"][1], a["coords"][0]))
    asset_feats = []
    for i, a in enumerate(assets, start=1):
        props = {"asset_id": "A-%06d" % i, "kind": a["kind"], "status": status_of(asset_rng),
                 "site": a["site"], "zone_id": a["zone_id"]}
        ex = a["extra"]
        for key in ("name", "name_ar", "capacity", "fill_level"):
            if key in ex:
                props[key] = ex[key]
        asset_feats.append(feature(props, {"type": "Point", "coordinates": a["coords"]}))

    # ---------------- zone features (population from camps / design density)
    camp_cap = {}
    camp_area = {}
    for c in camp_recs:
        zid = c["zone"]["zone_id"]
        x0, y0, x1, y1 = c["rect"]
        camp_cap[zid] = camp_cap.get(zid, 0) + c["capacity"]
        camp_area[zid] = camp_area.get(zid, 0.0) + (x1 - x0) * (y1 - y0)
    zone_feats = []
    for z in zones:
        g = polygon_geom(z["ring"])
        area_m2 = ring_area_m2(g["coordinates"][0])
        open_m2 = max(0.0, area_m2 - camp_area.get(z["zone_id"], 0.0))
        pop = camp_cap.get(z["zone_id"], 0) + int(round(open_m2 * DESIGN_DENSITY[z["site"]]))
        sname = SITES[z["site"]]["name"]
        zone_feats.append(feature({
            "zone_id": z["zone_id"],
            "name": "%s Zone %d" % (sname, z["n"]),
            "name_ar": "%s - المنطقة %d" % (SITES[z["site"]]["name_ar"], z["n"]),
            "site": z["site"],
            "service": z["service"],
            "population_capacity": pop,
            "area_km2": round(area_m2 / 1e6, 4),
        }, g))

    # ---------------- write
    os.makedirs(out_dir, exist_ok=True)
    layers = [("sites", sites), ("service_zones", zone_feats), ("camps", camp_feats),
              ("cleaning_routes", route_feats), ("assets", asset_feats)]
    for name, feats in layers:
        write_fc(os.path.join(out_dir, name + ".geojson"), name, feats)
    shutil.copyfile(walkways_src, os.path.join(out_dir, "walkways.geojson"))
    with open(os.path.join(out_dir, "NOTICE.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(NOTICE)
    return {name: len(feats) for name, feats in layers}


def write_fc(path, name, feats):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"type":"FeatureCollection","name":%s,"features":[\n' % json.dumps(name))
        f.write(",\n".join(json.dumps(ft, ensure_ascii=False, separators=(",", ":"))
                           for ft in feats))
        f.write("\n]}\n")


NOTICE = """# Demo data (data/demo)

Generated by `scripts/gen_demo.py` (run `python3 scripts/gen_demo.py`); do not
edit by hand. The generator is deterministic: the same script gives the same
bytes.

## walkways.geojson: real data, OpenStreetMap (ODbL)

The walkable street and footway network of central Makkah, copied unchanged
from `data/source/makkah-walkways.geojson` (see `data/source/NOTICE.md`).

(c) OpenStreetMap contributors, available under the Open Database License
(ODbL) 1.0: https://www.openstreetmap.org/copyright
Anything that ships this file (or a database derived from it) must keep this
attribution and the ODbL terms; a map that shows it must credit
"(c) OpenStreetMap contributors".

## All other layers: synthetic

`sites.geojson`, `service_zones.geojson`, `camps.geojson`,
`cleaning_routes.geojson` and `assets.geojson` are SYNTHETIC demo data,
generated by `scripts/gen_demo.py` from the public facts in
`docs/HAJJ-FACTS.md` (site centres and rough extents, the 8 m x 8 m tent,
about 30 persons per tent from "100,000+ tents, about 3 M capacity", the
Jamarat's 300,000 pilgrims per hour, crowd-density bands). Camp layouts,
companies, zones, routes, crews and assets are invented and do not describe
the real sites. Do not use them for real operations.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Generate the deterministic Mashaer demo site (data/demo/*.geojson).")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output folder (default: data/demo in the repository)")
    ap.add_argument("--walkways", default=DEFAULT_WALKWAYS,
                    help="real walkway network to copy (default: data/source/makkah-walkways.geojson)")
    ap.add_argument("--check", action="store_true",
                    help="generate into a temporary folder and fail if it differs from --out")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.walkways):
        ap.error("walkways source not found: %s" % args.walkways)
    if args.check:
        tmp = tempfile.mkdtemp(prefix="mashaer-demo-")
        try:
            generate(tmp, args.walkways)
            names = sorted(os.listdir(tmp))
            bad = [n for n in names
                   if not os.path.isfile(os.path.join(args.out, n))
                   or not filecmp.cmp(os.path.join(tmp, n), os.path.join(args.out, n), shallow=False)]
        finally:
            shutil.rmtree(tmp)
        if bad:
            print("out of date: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("data/demo is up to date (%d files)" % len(names))
        return 0
    counts = generate(args.out, args.walkways)
    for name in sorted(counts):
        print("%-16s %6d features" % (name, counts[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
