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
  site_walkways.geojson    the walking network of the sites: streets and aisles
                           between the camps, trunk paths between the sites, and
                           connectors ending on vertices of walkways.geojson
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
            superblocks.append({"col": col, "row": row_i, "rows": rows,
                                "box": (sbx0, sby0, sbx1, sby1)})
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


# --------------------------------------------------------------------------
# Site walkways: a synthetic pedestrian network where the camps and assets are
# --------------------------------------------------------------------------
#
# Streets follow the camp grid (main roads between superblocks, lanes between
# rows of camps, aisles between the camps of a row), a ring street runs
# RING_INSET_M inside every site boundary (camps keep CAMP_MARGIN_M), every
# camp gets an entrance: a short aisle from the middle of its north edge to
# the lane. Trunk paths link Mina, Muzdalifah and Arafat; connectors end
# EXACTLY on vertices of the real (OSM) walkways so that a graph merging
# coincident vertices joins the two networks. All lines are split at every
# junction and crossing: lines meet only at shared vertices.

SW_KINDS = ["trunk", "street", "aisle", "connector"]
SW_GROUPS = SITE_ORDER + ["link"]
RING_INSET_M = 6.0    # ring street inside the site boundary
SW_EPS = 1e-6         # metres: a vertex this close to a segment lies on it
ASSET_NEAR_M = 8.0    # assets farther than this from the network get a connector
ENTRANCE_AISLE_W = 4.0

# Trunk paths between the sites, along the pilgrims' route Mina -> Muzdalifah
# -> Arafat: (name, name_ar, from (site, ring vertex), via (lon, lat)..., to).
TRUNKS = [
    ("Mina - Muzdalifah Pedestrian Path", "طريق المشاة - منى مزدلفة",
     ("mina", 4), [(39.9048, 21.4030), (39.9075, 21.3990)], ("muzdalifah", 9)),
    ("Mina - Muzdalifah Pedestrian Path", "طريق المشاة - منى مزدلفة",
     ("mina", 3), [(39.9010, 21.3990), (39.9040, 21.3925)], ("muzdalifah", 0)),
    ("Muzdalifah - Arafat Pedestrian Path", "طريق المشاة - مزدلفة عرفات",
     ("muzdalifah", 4), [(39.9570, 21.3770), (39.9660, 21.3725)], ("arafat", 8)),
]
# Mina ring-street vertices linked to the real network of Jamarat and central Makkah.
JAMARAT_LINKS = [("mina", 0), ("mina", 1)]
# Ring-street corners cut off by a chord this many metres from the corner (with a
# vertex in the chord's middle), where real walkways reach into the site:
# Mina's west corner holds a few OSM footways that our streets must not cross.
RING_CUTS = {("mina", 1): 80.0}
JAMARAT_LINK_NAME = ("Jamarat - Mina Walkway", "طريق المشاة - الجمرات منى")


def inset_ring(ring, d):
    """The convex CCW ring moved d metres inwards (edges offset, corners re-intersected)."""
    n = len(ring)
    lines = []
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        L = math.hypot(x2 - x1, y2 - y1)
        nx, ny = -(y2 - y1) / L, (x2 - x1) / L
        lines.append(((x1 + nx * d, y1 + ny * d), (x2 - x1, y2 - y1)))
    out = []
    for i in range(n):
        (p, r), (q, s) = lines[i - 1], lines[i]
        den = r[0] * s[1] - r[1] * s[0]
        t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / den
        out.append((p[0] + t * r[0], p[1] + t * r[1]))
    return out


def cut_corners(sid, ring):
    """The inset ring with the corners of RING_CUTS replaced by chords (P, mid, Q)."""
    out = []
    n = len(ring)
    for i in range(n):
        d = RING_CUTS.get((sid, i))
        if d is None:
            out.append(ring[i])
            continue
        v, a, b = ring[i], ring[i - 1], ring[(i + 1) % n]
        la = math.hypot(a[0] - v[0], a[1] - v[1])
        lb = math.hypot(b[0] - v[0], b[1] - v[1])
        p = (v[0] + (a[0] - v[0]) * d / la, v[1] + (a[1] - v[1]) * d / la)
        q = (v[0] + (b[0] - v[0]) * d / lb, v[1] + (b[1] - v[1]) * d / lb)
        out += [p, ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2), q]
    return out


def grid_roads(ring, dy, dx):
    """Road positions of a regular street grid (east-west every dy, north-south every dx)."""
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
    return roads


def clip_axis(ring, axis, c, lo=None, hi=None):
    """The part of the line axis=c (y=c for axis 1) inside a convex ring, within [lo, hi]."""
    iv = line_interval(ring, axis, c)
    if not iv:
        return None
    a, b = iv
    if lo is not None:
        a = max(a, lo)
    if hi is not None:
        b = min(b, hi)
    if b - a < 60.0:
        return None
    return [(a, c), (b, c)] if axis == 1 else [(c, b), (c, a)]


def seg_intersection(a, b, c, d):
    """Where segments ab and cd meet: None, or (point, t on ab, u on cd).
    Endpoints within SW_EPS of the other segment count as meeting there."""
    rx, ry = b[0] - a[0], b[1] - a[1]
    sx, sy = d[0] - c[0], d[1] - c[1]
    lr, ls = math.hypot(rx, ry), math.hypot(sx, sy)
    if min(a[0], b[0]) > max(c[0], d[0]) + SW_EPS or min(c[0], d[0]) > max(a[0], b[0]) + SW_EPS \
            or min(a[1], b[1]) > max(c[1], d[1]) + SW_EPS or min(c[1], d[1]) > max(a[1], b[1]) + SW_EPS:
        return None
    # endpoint-on-segment cases first (exact reuse of the endpoint)
    for p, t_of in ((a, 0.0), (b, 1.0)):
        if seg_dist(p, c, d) < SW_EPS:
            u = ((p[0] - c[0]) * sx + (p[1] - c[1]) * sy) / (ls * ls)
            return (p, t_of, max(0.0, min(1.0, u)))
    for p, u_of in ((c, 0.0), (d, 1.0)):
        if seg_dist(p, a, b) < SW_EPS:
            t = ((p[0] - a[0]) * rx + (p[1] - a[1]) * ry) / (lr * lr)
            return (p, max(0.0, min(1.0, t)), u_of)
    den = rx * sy - ry * sx
    if abs(den) < 1e-12 * lr * ls:
        return None  # parallel and apart (collinear touching was handled above)
    t = ((c[0] - a[0]) * sy - (c[1] - a[1]) * sx) / den
    u = ((c[0] - a[0]) * ry - (c[1] - a[1]) * rx) / den
    if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0:
        return ((a[0] + t * rx, a[1] + t * ry), t, u)
    return None


class SegIndex:
    """A grid index of segments (local metres)."""

    def __init__(self, cell=50.0):
        self.cell = cell
        self.cells = {}
        self.segs = []

    def _keys(self, a, b, pad=0.0):
        c = self.cell
        for gx in range(int(math.floor((min(a[0], b[0]) - pad) / c)), int(math.floor((max(a[0], b[0]) + pad) / c)) + 1):
            for gy in range(int(math.floor((min(a[1], b[1]) - pad) / c)), int(math.floor((max(a[1], b[1]) + pad) / c)) + 1):
                yield (gx, gy)

    def add(self, a, b, data=None):
        i = len(self.segs)
        self.segs.append((a, b, data))
        for k in self._keys(a, b):
            self.cells.setdefault(k, []).append(i)

    def near(self, a, b, pad=0.0):
        seen = set()
        for k in self._keys(a, b, pad):
            for i in self.cells.get(k, ()):
                if i not in seen:
                    seen.add(i)
                    yield i, self.segs[i]

    def dist(self, p, radius):
        best = None
        for _i, (a, b, data) in self.near(p, p, radius):
            d = seg_dist(p, a, b)
            if d <= radius and (best is None or d < best[0]):
                best = (d, a, b, data)
        return best


def load_osm(path):
    """The real walkways: segments (local metres) of the largest connected component,
    all segments (for crossing tests) and the vertices of the largest component."""
    with open(path, encoding="utf-8") as f:
        feats = json.load(f)["features"]
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    lines = []
    for ft in feats:
        c = [tuple(p) for p in ft["geometry"]["coordinates"]]
        lines.append(c)
        for i in range(len(c) - 1):
            ra, rb = find(c[i]), find(c[i + 1])
            if ra != rb:
                parent[ra] = rb
    sizes = {}
    for v in sorted(parent):
        r = find(v)
        sizes[r] = sizes.get(r, 0) + 1
    main = max(sorted(sizes), key=lambda r: sizes[r])
    all_idx = SegIndex()
    main_idx = SegIndex()
    verts = {}
    for c in lines:
        xy = [to_xy(*p) for p in c]
        is_main = find(c[0]) == main
        for i in range(len(c) - 1):
            all_idx.add(xy[i], xy[i + 1])
            if is_main:
                main_idx.add(xy[i], xy[i + 1])
        if is_main:
            for p, q in zip(c, xy):
                verts[q] = p
    vidx = {}
    for q in sorted(verts):
        vidx.setdefault((int(math.floor(q[0] / 50.0)), int(math.floor(q[1] / 50.0))), []).append(q)
    return {"all": all_idx, "main": main_idx, "verts": verts, "vidx": vidx}


def osm_crossed(osm, p, q):
    """True if segment pq meets a real walkway anywhere but at its end q."""
    for _i, (a, b, _d) in osm["all"].near(p, q, 1.0):
        hit = seg_intersection(p, q, a, b)
        if hit and hit[0] != q and math.hypot(hit[0][0] - q[0], hit[0][1] - q[1]) > SW_EPS:
            return True
    return False


def visible_target(osm, p, radius, extra=None, mine=None):
    """The nearest vertex of the main real network, or point of `extra` (a 50 m grid
    of points already joined to it), that a straight path from p reaches without
    crossing a real walkway (nor, given `mine`, one of our own segments)."""
    c = 50.0
    gx, gy = int(math.floor(p[0] / c)), int(math.floor(p[1] / c))
    r = int(math.ceil(radius / c))
    cands = []
    for grid in (osm["vidx"], extra or {}):
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                for q in grid.get((gx + dx, gy + dy), ()):
                    d = math.hypot(q[0] - p[0], q[1] - p[1])
                    if 0 < d <= radius:
                        cands.append((d, q))
    cands.sort()
    for _d, q in cands[:400]:
        if osm_crossed(osm, p, q):
            continue
        if mine is not None:
            hits = (seg_intersection(p, q, a, b) for _i, (a, b, _x) in mine.near(p, q, 1.0))
            if any(h and math.hypot(h[0][0] - q[0], h[0][1] - q[1]) > SW_EPS for h in hits):
                continue
        return q
    return None


def camp_site_paths(site, ring, inset, sbs, roads, add, entrances):
    """Ring street, main roads, lanes, aisles and camp entrances of a camp site."""
    vsegs = [seg for seg in (clip_axis(inset, 0, x) for x in roads["v"]) if seg]
    for y in roads["h"]:
        seg = clip_axis(inset, 1, y)
        if seg:
            # a road that meets a cross road within 5 m of the ring street ends there
            # (no sliver triangles between the two roads and the ring street)
            for vs in vsegs:
                x = vs[0][0]
                if vs[1][1] <= y <= vs[0][1]:
                    if 0 < x - seg[0][0] < 5.0:
                        seg = [(x, y), seg[1]]
                    elif 0 < seg[1][0] - x < 5.0:
                        seg = [seg[0], (x, y)]
            add(site, "street", None, None, ROAD_M, seg)
    for seg in vsegs:
        add(site, "street", None, None, ROAD_M, seg)
    half = LANE_M / 2
    for sb in sbs:
        if not sb["rows"]:
            continue
        sbx0, _sby0, sbx1, _sby1 = sb["box"]
        lanes = {}
        for (yb, yt, _camps) in sb["rows"]:
            for y in (yt + half, yb - half):
                lanes[round(y, 6)] = y
        for k in sorted(lanes, reverse=True):
            seg = clip_axis(inset, 1, lanes[k], sbx0 - ROAD_M / 2, sbx1 + ROAD_M / 2)
            if seg is None:
                raise SystemExit("a lane of %s lies outside the site" % site)
            add(site, "street", None, None, LANE_M, seg)
        for (yb, yt, camps) in sb["rows"]:
            ya, yz = lanes[round(yt + half, 6)], lanes[round(yb - half, 6)]
            cs = sorted(camps)
            xs = [cs[0][0] - half]
            for c1, c2 in zip(cs, cs[1:]):
                if c2[0] - c1[2] > 3 * half:
                    xs += [c1[2] + half, c2[0] - half]
                else:
                    xs.append((c1[2] + c2[0]) / 2)
            xs.append(cs[-1][2] + half)
            for x in xs:
                add(site, "aisle", None, None, LANE_M, [(x, ya), (x, yz)])
            for c in cs:
                xm = (c[0] + c[2]) / 2
                add(site, "aisle", None, None, ENTRANCE_AISLE_W, [(xm, c[3]), (xm, ya)])
                entrances[c] = (xm, c[3])


def node_paths(paths):
    """Split every path at every point where it meets another path (or itself).
    Returns, per path, the list of its pieces [(p, q), ...] in order."""
    idx = SegIndex(cell=100.0)
    segs = []
    for pi, pa in enumerate(paths):
        pts = pa["pts"]
        for i in range(len(pts) - 1):
            idx.add(pts[i], pts[i + 1], len(segs))
            segs.append((pi, i, pts[i], pts[i + 1]))
    cuts = [[] for _ in segs]
    for si, (pi, i, a, b) in enumerate(segs):
        for _k, (c, d, sj) in idx.near(a, b, SW_EPS * 2):
            if sj <= si:
                continue
            pj, j = segs[sj][0], segs[sj][1]
            if pi == pj and abs(i - j) == 1:
                continue  # consecutive segments of one path share their vertex
            hit = seg_intersection(a, b, c, d)
            if hit is None:
                continue
            p, t, u = hit
            cuts[si].append((t, p))
            cuts[sj].append((u, p))
    pieces = [[] for _ in paths]
    for si, (pi, _i, a, b) in enumerate(segs):
        pts = [a] + [p for _t, p in sorted(cuts[si]) if p != a and p != b] + [b]
        for k in range(len(pts) - 1):
            pieces[pi].append((pts[k], pts[k + 1]))
    return pieces


def build_site_walkways(rings, mina_sb, mina_roads, arafat_sb, arafat_roads, assets, walkways_src):
    """The site_walkways layer: (features, camp entrances {rect: (lon, lat)}, report)."""
    osm = load_osm(walkways_src)
    insets = {sid: inset_ring(rings[sid], RING_INSET_M) for sid in SITE_ORDER}
    streets = {sid: cut_corners(sid, insets[sid]) for sid in SITE_ORDER}
    paths = []

    def add(group, kind, name, name_ar, width, pts):
        paths.append({"group": group, "kind": kind, "name": name, "name_ar": name_ar,
                      "width": float(width), "pts": list(pts)})

    ring_names = {"mina": "الطريق الدائري - منى", "muzdalifah": "الطريق الدائري - مزدلفة",
                  "arafat": "الطريق الدائري - عرفات"}
    for sid in ("mina", "muzdalifah", "arafat"):
        ins = streets[sid]
        add(sid, "street", "%s Ring Street" % SITES[sid]["name"], ring_names[sid], 12.0, ins + [ins[0]])
    entrances = {}
    camp_site_paths("mina", rings["mina"], streets["mina"], mina_sb, mina_roads, add, entrances)
    camp_site_paths("arafat", rings["arafat"], streets["arafat"], arafat_sb, arafat_roads, add, entrances)
    # Muzdalifah: the open-air street grid of its cleaning routes, out to the ring street.
    mz = grid_roads(rings["muzdalifah"], 330.0, 900.0)
    camp_site_paths("muzdalifah", rings["muzdalifah"], streets["muzdalifah"], [], mz, add, entrances)
    # Trunks between the sites.
    for name, name_ar, (s0, v0), via, (s1, v1) in TRUNKS:
        pts = [insets[s0][v0]] + [to_xy(lon, lat) for lon, lat in via] + [insets[s1][v1]]
        add("link", "trunk", name, name_ar, 25.0, pts)
    # Mina's west side to the real network of Jamarat / central Makkah.
    pinned = {}
    mine = SegIndex(cell=100.0)
    for pa in paths:
        for i in range(len(pa["pts"]) - 1):
            mine.add(pa["pts"][i], pa["pts"][i + 1])
    for sid, v in JAMARAT_LINKS:
        p = insets[sid][v]
        if (sid, v) in RING_CUTS:  # the middle of the chord
            p = streets[sid][v + 1 + sum(2 for (s, k) in RING_CUTS if s == sid and k < v)]
        q = visible_target(osm, p, 600.0)
        if q is None:
            raise SystemExit("no real walkway vertex in sight of %s ring vertex %d" % (sid, v))
        pinned[q] = osm["verts"][q]
        add("link", "connector", JAMARAT_LINK_NAME[0], JAMARAT_LINK_NAME[1], 10.0, [p, q])
        mine.add(p, q)
    # Our own streets must not cross the real walkways (we cannot split those).
    for pa in paths:
        for i in range(len(pa["pts"]) - 1):
            a, b = pa["pts"][i], pa["pts"][i + 1]
            for _k, (c, d, _x) in osm["all"].near(a, b, 1.0):
                hit = seg_intersection(a, b, c, d)
                if hit and hit[0] not in pinned:
                    raise SystemExit("site walkway %s/%s meets a real walkway at %s"
                                     % (pa["group"], pa["kind"], to_ll(*hit[0])))
    # Assets: near our streets by construction (camp-edge assets 2-5 m from the
    # lane or aisle, street assets 4-6 m from their street, gates ~6 m from the
    # ring street); in Haram and Jamarat, where only the real network exists,
    # an asset farther than ASSET_NEAR_M from it gets a connector to the
    # nearest real vertex in sight (or to an asset joined that way before it).
    # AC units (inside the camps, 4 m from two edges) stay ~12 m from a lane.
    street_idx = SegIndex(cell=50.0)
    for pa in paths:
        for i in range(len(pa["pts"]) - 1):
            street_idx.add(pa["pts"][i], pa["pts"][i + 1])
    report = {"asset_connectors": 0, "assets_off": []}
    todo = []
    for a in assets:
        p = (a["x"], a["y"])
        if street_idx.dist(p, ASSET_NEAR_M) or osm["main"].dist(p, ASSET_NEAR_M):
            continue
        if a["site"] not in ("haram", "jamarat"):
            report["assets_off"].append(a)  # AC units inside the camps, ~12 m from a lane
            continue
        far = osm["main"].dist(p, 400.0)
        todo.append((far[0] if far else 400.0, a["coords"][0], a["coords"][1], a["kind"], p, a["site"]))
    # Nearest first; an asset may also link to one joined before it (short links
    # along a row of assets rather than long spokes to one real vertex).
    joined = {}
    for _d, _lon, _lat, _kind, p, site in sorted(todo):
        # rather not across another connector (but if so, the two are split where they cross)
        q = visible_target(osm, p, 400.0, joined, mine) or visible_target(osm, p, 400.0, joined)
        if q is None:
            report["assets_off"].append(p)
            continue
        if q in osm["verts"]:
            pinned[q] = osm["verts"][q]
        add(site, "connector", None, None, 3.0, [p, q])
        mine.add(p, q)
        joined.setdefault((int(math.floor(p[0] / 50.0)), int(math.floor(p[1] / 50.0))), []).append(p)
        report["asset_connectors"] += 1

    # Node, then merge pieces into lines between junctions.
    pieces = node_paths(paths)

    def key(p):
        if p in pinned:
            return tuple(pinned[p])
        lon, lat = to_ll(*p)
        return (r7(lon), r7(lat))
    degree = {}
    edges = []
    seen = set()
    for pi, plist in enumerate(pieces):
        ks = []
        for p, q in plist:
            kp, kq = key(p), key(q)
            if kp == kq:
                continue
            e = (min(kp, kq), max(kp, kq))
            if e in seen:
                raise SystemExit("two site walkways overlap at %s" % (kp,))
            seen.add(e)
            ks.append((kp, kq))
            degree[kp] = degree.get(kp, 0) + 1
            degree[kq] = degree.get(kq, 0) + 1
        edges.append(ks)
    lines = []
    for pi, ks in enumerate(edges):
        cur = None
        for kp, kq in ks:
            if cur is None or cur[-1] != kp:
                cur = [kp]
                lines.append((pi, cur))
            cur.append(kq)
            if degree[kq] != 2:
                cur = None
    feats = []
    for pi, coords in lines:
        pa = paths[pi]
        feats.append((SW_GROUPS.index(pa["group"]), SW_KINDS.index(pa["kind"]),
                      -coords[0][1], coords[0][0], -coords[-1][1], coords[-1][0], pi, coords))
    feats.sort(key=lambda f: f[:7])
    out = []
    for n, f in enumerate(feats, start=1):
        pa, coords = paths[f[6]], f[7]
        out.append(feature({
            "path_id": "SW-%05d" % n,
            "kind": pa["kind"],
            "name": pa["name"],
            "name_ar": pa["name_ar"],
            "width_m": pa["width"],
            "length_m": round(line_length_m(coords), 2),
        }, {"type": "LineString", "coordinates": [list(c) for c in coords]}))
    ent = {rect: key(p) for rect, p in entrances.items()}
    return out, ent, report


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

    # ---------------- site walkways (and each camp's entrance)
    sw_feats, entrances, _sw_report = build_site_walkways(
        rings, mina_sb, mina_roads, arafat_sb, arafat_roads, assets, walkways_src)
    for c, ft in zip(camp_recs, camp_feats):
        lon, lat = entrances[c["rect"]]
        ft["properties"]["entrance_lon"] = lon
        ft["properties"]["entrance_lat"] = lat

    # ---------------- write
    os.makedirs(out_dir, exist_ok=True)
    layers = [("sites", sites), ("service_zones", zone_feats), ("camps", camp_feats),
              ("cleaning_routes", route_feats), ("assets", asset_feats),
              ("site_walkways", sw_feats)]
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
`cleaning_routes.geojson`, `assets.geojson` and `site_walkways.geojson` are
SYNTHETIC demo data,
generated by `scripts/gen_demo.py` from the public facts in
`docs/HAJJ-FACTS.md` (site centres and rough extents, the 8 m x 8 m tent,
about 30 persons per tent from "100,000+ tents, about 3 M capacity", the
Jamarat's 300,000 pilgrims per hour, crowd-density bands). Camp layouts,
companies, zones, routes, crews and assets are invented and do not describe
the real sites. Do not use them for real operations.

`site_walkways.geojson` is a synthetic walking network for the sites (the
OpenStreetMap walkways cover central Makkah and Jamarat only): streets and
aisles between the camps of Mina and Arafat, each camp's entrance (also in
`camps.geojson` as `entrance_lon`/`entrance_lat`), a street grid in
Muzdalifah, a ring street inside each site, trunk paths Mina - Muzdalifah -
Arafat, and connectors that lead Mina and the assets of the Haram and Jamarat
to the real network. Lines meet only at shared vertices. The end vertices of
the connectors are vertices of `walkways.geojson`, copied with their exact
coordinates: those points are OpenStreetMap data (ODbL, attribution as above).
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
