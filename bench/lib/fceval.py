"""fceval.py: the metrics of the forecast evaluation (bench/forecast.py), pure functions on cells.

A cell is the server's density cell: Web Mercator world coordinates cut into 2^level squares per
side (level 22: 8.9 m at Makkah), keyed (level, cx, cy). A cell map is {key: Cell(count, vx, vy)}:
people, and their mean velocity east and north in m/s.

What is compared (docs/BENCHMARKS.md, "Crowd density forecast: the evaluation"):
  - density error: the forecast issued at T for T+M against the cells observed at T+M, over the
    union of the cells occupied in either: observed with one person or more, forecast with half a
    person or more (count >= 0.5); a cell missing on one side counts 0 there. MAE and RMSE of the
    density (persons/m2 on the cell's own area).
  - levels: Fruin's walkway levels (the server's core/msh_constants.h: E from 1.08, F above 2.15
    persons/m2) of each side's density; precision and recall of the cells forecast at E or worse,
    and at F (a cell forecast at F that was not F is a false alarm, a cell F that was not
    forecast so a miss). Precision of an empty forecast set is reported as None (undefined).
  - lead time: a cell is warned of F for time t by a forecast issued at t - M when that forecast
    shows the cell at level F or with p_f >= 0.5 (either; the baselines carry no p_f). For each
    cell's first observed F (its onset), the lead is the largest M of the horizons whose forecast
    issued at onset - M warned it; 0 when none did (missed). Onsets less than 10 minutes after the
    first issue are left out (no forecast could have warned them 10 minutes ahead, the goal); the
    others' leads are bounded by the time since the first issue.
  - the same errors over the cells of every model at once (common_cells: the union of all the
    models' occupied cells with the observation's), so that the models' MAEs divide their errors
    by the same number of cells; bench/forecast.py reports both (`same_cells`).
The baselines are computed here from the observed cells at T: persistence (the future is now)
and straight-line advection (each cell's people moved by its mean velocity x M, to the cell
holding the moved centre).
"""
import collections
import math
import statistics

EARTH_CIRCUMFERENCE = 40075016.686  # metres, as the server's MSH_EARTH_CIRCUMFERENCE
FRUIN_D_MAX = 1.08                   # E starts here
FRUIN_E_MAX = 2.15                   # F is above this
OCCUPIED_FORECAST = 0.5              # a forecast cell counts from half a person

Cell = collections.namedtuple("Cell", "count vx vy p_e p_f")
Cell.__new__.__defaults__ = (0.0, 0.0, None, None)


# ---------------------------------------------------------------- cells
def lonlat_to_world(lon, lat):
    s = math.sin(math.radians(lat))
    return lon / 360.0 + 0.5, 0.5 - 0.25 * math.log((1.0 + s) / (1.0 - s)) / math.pi


def world_to_lonlat(wx, wy):
    n = math.pi - 2.0 * math.pi * wy
    return (wx - 0.5) * 360.0, math.degrees(math.atan(math.sinh(n)))


def cell_of(lon, lat, level=22):
    wx, wy = lonlat_to_world(lon, lat)
    n = 1 << level
    return level, int(wx * n), int(wy * n)


def cell_centre(key):
    level, cx, cy = key
    n = float(1 << level)
    return world_to_lonlat((cx + 0.5) / n, (cy + 0.5) / n)


def cell_side(key):
    """The side of a cell in metres at its centre's latitude (as msh_live_cell_metres)."""
    _, lat = cell_centre(key)
    return EARTH_CIRCUMFERENCE * math.cos(math.radians(lat)) / float(1 << key[0])


def density(key, count):
    return count / cell_side(key) ** 2


def los(d):
    """Fruin's walkway level of a density, as msh_fruin_los."""
    for lim, c in ((0.31, "A"), (0.43, "B"), (0.72, "C"), (FRUIN_D_MAX, "D")):
        if d < lim:
            return c
    return "E" if d <= FRUIN_E_MAX else "F"


def key_of_polygon(ring):
    """The cell key of a cell polygon (lon/lat ring): its level from its width, its index from its centre."""
    xs, ys = zip(*[lonlat_to_world(p[0], p[1]) for p in ring])
    w = max(xs) - min(xs)
    level = int(round(-math.log2(w)))
    n = 1 << level
    return level, int((min(xs) + max(xs)) / 2 * n), int((min(ys) + max(ys)) / 2 * n)


def cells_from_features(features):
    """A cell map from GeoJSON cell features (the forecast's, or the movement layer's items):
    count, velocity from speed and heading when present, p_e and p_f when present."""
    out = {}
    for f in features:
        p = f.get("properties") or {}
        key = key_of_polygon(f["geometry"]["coordinates"][0])
        count = p.get("count")
        if count is None:
            count = p.get("density", 0.0) * cell_side(key) ** 2
        sp, hd = p.get("speed") or 0.0, p.get("heading") or 0.0
        vx, vy = sp * math.sin(math.radians(hd)), sp * math.cos(math.radians(hd))
        out[key] = Cell(float(count), vx, vy, p.get("p_e"), p.get("p_f"))
    return out


def cells_from_points(points, level=22):
    """A cell map from (lon, lat, speed, heading) of people (the simulator's truth, the tests)."""
    acc = {}
    for lon, lat, sp, hd in points:
        k = cell_of(lon, lat, level)
        n, sx, sy = acc.get(k, (0, 0.0, 0.0))
        acc[k] = (n + 1, sx + sp * math.sin(math.radians(hd)), sy + sp * math.cos(math.radians(hd)))
    return {k: Cell(float(n), sx / n, sy / n) for k, (n, sx, sy) in acc.items()}


def to_level(cells, level):
    """Cells summed up to a coarser level (velocities weighted by count)."""
    acc = {}
    for (lv, cx, cy), c in cells.items():
        sh = lv - level
        k = (level, cx >> sh, cy >> sh) if sh >= 0 else (lv, cx, cy)
        n, sx, sy = acc.get(k, (0.0, 0.0, 0.0))
        acc[k] = (n + c.count, sx + c.vx * c.count, sy + c.vy * c.count)
    return {k: Cell(n, sx / n if n else 0.0, sy / n if n else 0.0) for k, (n, sx, sy) in acc.items()}


# ---------------------------------------------------------------- baselines
def persistence(observed, minutes):
    return dict(observed)


def advection(observed, minutes):
    """Each cell's people moved in a straight line by its mean velocity for `minutes`, to the cell
    holding the moved centre (Web Mercator is conformal: one scale, the cell's, in both directions)."""
    out = {}
    for key, c in observed.items():
        level, cx, cy = key
        n = float(1 << level)
        _, lat = cell_centre(key)
        per_world = EARTH_CIRCUMFERENCE * math.cos(math.radians(lat))  # metres per world unit here
        dt = minutes * 60.0
        wx = (cx + 0.5) / n + c.vx * dt / per_world
        wy = (cy + 0.5) / n - c.vy * dt / per_world
        k2 = (level, int(math.floor(wx * n)), int(math.floor(wy * n)))
        prev = out.get(k2, Cell(0.0))
        out[k2] = Cell(prev.count + c.count, c.vx, c.vy)
    return out


BASELINES = {"persistence": persistence, "advection": advection}


# ---------------------------------------------------------------- metrics
def occupied_union(forecast, observed):
    """The cells a comparison counts: observed with a person or more, forecast with half or more."""
    return sorted({k for k, c in observed.items() if c.count >= 1.0}
                  | {k for k, c in forecast.items() if c.count >= OCCUPIED_FORECAST})


def _level_of(cells, key):
    c = cells.get(key)
    return los(density(key, c.count)) if c else "A"


def _warned_f(cells, key):
    c = cells.get(key)
    if not c:
        return False
    return los(density(key, c.count)) == "F" or (c.p_f is not None and c.p_f >= 0.5)


def common_cells(forecasts, observed):
    """The cells every model is compared on at one issue time and horizon (same_cells): the union of
    each forecast's occupied_union with the observation. Compared over its own cells only, a model
    that leaves a cell empty where the truth is empty too has fewer cells to divide its error by,
    and one that spreads people thinly over many has more: the same error reads as a different
    MAE. Over one set of cells, the MAEs of two models stand as their summed errors do."""
    keys = set()
    for f in forecasts:
        if f is not None:
            keys.update(occupied_union(f, observed))
    return sorted(keys)


def compare(forecast, observed, keys=None):
    """Errors and level hits of one forecast against one observation (one issue time, one horizon),
    over `keys` (default: occupied_union). Returns a dict of sums, so that many comparisons add up
    (summarise)."""
    if keys is None:
        keys = occupied_union(forecast, observed)
    ae = se = 0.0
    for k in keys:
        f = forecast.get(k)
        o = observed.get(k)
        e = density(k, f.count if f else 0.0) - density(k, o.count if o else 0.0)
        ae += abs(e)
        se += e * e
    out = {"n": len(keys), "ae": ae, "se": se, "k": 1,
           "people_f": sum(c.count for c in forecast.values()),
           "people_o": sum(c.count for c in observed.values()),
           "over": sum(max(0.0, (forecast[k].count if k in forecast else 0.0) -
                           (observed[k].count if k in observed else 0.0)) for k in keys),
           "under": sum(max(0.0, (observed[k].count if k in observed else 0.0) -
                            (forecast[k].count if k in forecast else 0.0)) for k in keys)}
    for name, test in (("E", lambda cells, k: _level_of(cells, k) in ("E", "F")),
                       ("F", lambda cells, k: _level_of(cells, k) == "F")):
        fs = {k for k in keys if test(forecast, k)}
        os_ = {k for k in keys if test(observed, k)}
        out["tp_" + name] = len(fs & os_)
        out["fp_" + name] = len(fs - os_)
        out["fn_" + name] = len(os_ - fs)
    return out


def summarise(parts):
    """MAE, RMSE, precision and recall from compare() results added up over issue times."""
    tot = collections.Counter()
    for p in parts:
        tot.update(p)
    n = tot["n"]
    res = {"cells": n, "mae": tot["ae"] / n if n else None,
           "rmse": math.sqrt(tot["se"] / n) if n else None}
    k = tot["k"]
    # where the mass goes (diagnosis): people in the forecast and in the observation at T+M, and
    # the people forecast where there were fewer (over) or missing where there were more (under),
    # each the mean over the comparisons
    for name in ("people_f", "people_o", "over", "under"):
        res[name] = tot[name] / k if k else None
    for name in ("E", "F"):
        tp, fp, fn = tot["tp_" + name], tot["fp_" + name], tot["fn_" + name]
        res["precision_" + name] = tp / (tp + fp) if tp + fp else None
        res["recall_" + name] = tp / (tp + fn) if tp + fn else None
        res["observed_" + name] = tp + fn
    return res


def f_onsets(observed_by_step):
    """{cell: first step it was observed at F} from {step: cell map}."""
    first = {}
    for step in sorted(observed_by_step):
        cells = observed_by_step[step]
        for k, c in cells.items():
            if k not in first and los(density(k, c.count)) == "F":
                first[k] = step
    return first


def lead_times(onsets, forecasts, horizons, first_issue, step_s=60, need_min=10):
    """{cell: lead in minutes} (0: missed) for each F onset at least need_min minutes after the first
    issue. forecasts: {(issue step, horizon minutes): cell map}; steps are step_s seconds apart."""
    out = {}
    for k, t in onsets.items():
        if (t - first_issue) * step_s < need_min * 60:
            continue
        lead = 0
        for m in sorted(horizons):
            issue = t - (m * 60) // step_s
            f = forecasts.get((issue, m))
            if f is not None and _warned_f(f, k):
                lead = m
        out[k] = lead
    return out


def lead_summary(leads, need_min=10):
    vals = sorted(leads.values())
    if not vals:
        return {"f_onsets": 0, "median_lead_min": None, "warned_10min": None}
    return {"f_onsets": len(vals), "median_lead_min": statistics.median(vals),
            "warned_10min": sum(v >= need_min for v in vals) / len(vals)}
