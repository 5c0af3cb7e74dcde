#!/usr/bin/python3
"""Where a forecast's density error is: per issue time and per cell, from a bench/forecast.py --dump.

  python3 bench/fc_cells.py DUMP.SCENARIO.json [--minutes 10] [--model forecast] [--top 15] [--versus OTHER.json]
  python3 bench/fc_cells.py DUMP.SCENARIO.json --minutes 10 --kinds

--kinds: instead, the error split by what the cell does between the issue time and the target: empty
at both but forecast occupied (the forecast's misplaced people), empty then occupied (arrivals),
occupied then empty (departures), occupied at both (steady within 30 %, or changed), each with the
model's and persistence's summed error; and for the arrivals, the share of their people the forecast
put (as new people, in cells empty at the issue time) within 0, 1, 2, 4 and 8 cells of them.

Prints, for the horizon asked: per issue step, the people forecast and observed at the target time
and the summed absolute density error of the model and of persistence (the goal's comparison, step
by step); then the cells with the largest summed absolute error over every issue step, each with its
centre, the mean forecast and observed density and the signed mean error (+: the forecast put more
people there). The cells and the error are fceval's (the union of occupied cells, 8.9 m cells).
With --versus, a second dump of the same scenario (a run with a plan, another binary): the cells
whose summed error changed most from this dump's forecast to that one's, each with both mean
forecasts and the mean observed (this dump's).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fceval  # noqa: E402


def cells(rows):
    return {(r[0], r[1], r[2]): fceval.Cell(r[3], 0.0, 0.0, None, r[4]) for r in rows}


def load(path, model):
    """The observed cells per issue step and the model's forecast cells per (step, horizon) of a dump."""
    with open(path) as f:
        doc = json.load(f)
    observed = {int(k): cells(v) for k, v in doc["observed"].items()}
    fc = {tuple(int(x) for x in k.split(",")): cells(v) for k, v in doc["forecasts"][model].items()}
    return observed, fc


def cell_errors(observed, fc, minutes, shift):
    """Per cell over every issue step: [summed |error|, summed forecast, summed observed, steps]."""
    per_cell = {}
    for k in sorted(observed):
        f, o = fc.get((k, minutes)), observed.get(k + shift)
        if f is None or o is None:
            continue
        for key in fceval.occupied_union(f, o):
            df = fceval.density(key, f[key].count if key in f else 0.0)
            do = fceval.density(key, o[key].count if key in o else 0.0)
            a = per_cell.setdefault(key, [0.0, 0.0, 0.0, 0])
            a[0] += abs(df - do)
            a[1] += df
            a[2] += do
            a[3] += 1
    return per_cell


def versus(per_cell, other, top):
    """The cells whose summed error changed most between two runs' forecasts."""
    print("\ncells whose error changed most (lon, lat: summed |error| change, mean forecast here, there, mean observed)")
    keys = set(per_cell) | set(other)
    zero = [0.0, 0.0, 0.0, 1]
    change = {k: other.get(k, zero)[0] - per_cell.get(k, zero)[0] for k in keys}
    for key in sorted(keys, key=lambda k: -abs(change[k]))[:top]:
        a, b = per_cell.get(key, zero), other.get(key, zero)
        lon, lat = fceval.cell_centre(key)
        print("%.6f %.6f  %+7.2f  %5.2f  %5.2f  %5.2f" % (lon, lat, change[key], a[1] / a[3], b[1] / b[3], a[2] / a[3]))


def kinds(observed, fc, minutes, shift):
    """The error by what each cell does from the issue time to the target (see --kinds)."""
    dens = fceval.density
    cat = {}
    reach = (0, 1, 2, 4, 8)
    near = dict.fromkeys(reach, 0.0)
    arrived = 0.0
    for k in sorted(observed):
        f, o = fc.get((k, minutes)), observed.get(k + shift)
        if f is None or o is None:
            continue
        p = observed[k]
        cnt = lambda g, key: g[key].count if key in g else 0.0  # noqa: E731
        keys = set(fceval.occupied_union(f, o)) | {key for key in p if p[key].count >= 1}
        for key in keys:
            pc, oc, fcn = cnt(p, key), cnt(o, key), cnt(f, key)
            c = ("occupied" if pc >= 1 else "empty") + " -> " + ("occupied" if oc >= 1 else "empty")
            if pc >= 1 and oc >= 1:
                c += " (steady)" if abs(oc - pc) <= 0.3 * max(oc, pc) else " (changed)"
            a = cat.setdefault(c, [0, 0.0, 0.0])
            a[0] += 1
            a[1] += abs(dens(key, fcn) - dens(key, oc))
            a[2] += abs(dens(key, pc) - dens(key, oc))
        new = {key: c.count for key, c in f.items() if cnt(p, key) < 1}
        for (lv, cx, cy), c in o.items():
            if c.count < 1 or cnt(p, (lv, cx, cy)) >= 1:
                continue
            arrived += c.count
            for r in reach:
                got = sum(new.get((lv, cx + dx, cy + dy), 0.0) for dx in range(-r, r + 1) for dy in range(-r, r + 1))
                near[r] += min(c.count, got)
    print("cell from the issue time to the target   cells   err_model  err_persist")
    for c, (n, em, ep) in sorted(cat.items()):
        print("%-38s %7d  %10.1f  %11.1f" % (c, n, em, ep))
    print("arrivals (people in cells empty at the issue time): %.0f; forecast within r cells of them:" % arrived)
    for r in reach:
        print("  r = %d (%3.0f m): %.2f" % (r, r * 8.9, near[r] / arrived if arrived else 0.0))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump")
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--model", default="forecast")
    ap.add_argument("--issue-every", type=int, default=60)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--versus", default="", help="a second dump of the same scenario: the cells whose error changed")
    ap.add_argument("--kinds", action="store_true", help="the error by what each cell does, and where arrivals were forecast")
    args = ap.parse_args(argv)
    observed, fc = load(args.dump, args.model)
    shift = args.minutes * 60 // args.issue_every
    if args.kinds:
        kinds(observed, fc, args.minutes, shift)
        return
    per_cell = cell_errors(observed, fc, args.minutes, shift)
    print("step  people_f  people_o   err_model   err_persist")
    tot_m = tot_p = 0.0
    for k in sorted(observed):
        f = fc.get((k, args.minutes))
        o = observed.get(k + shift)
        if f is None or o is None:
            continue
        em = ep = 0.0
        for key in fceval.occupied_union(f, o):
            em += abs(fceval.density(key, f[key].count if key in f else 0.0) -
                      fceval.density(key, o[key].count if key in o else 0.0))
        p = observed[k]
        for key in fceval.occupied_union(p, o):
            ep += abs(fceval.density(key, p[key].count if key in p else 0.0) -
                      fceval.density(key, o[key].count if key in o else 0.0))
        tot_m += em
        tot_p += ep
        print("%4d  %8.1f  %8.1f  %10.1f  %12.1f" % (k, sum(c.count for c in f.values()),
                                                     sum(c.count for c in o.values()), em, ep))
    print("total %.1f vs persistence %.1f (%+.0f%%)" % (tot_m, tot_p, 100 * (tot_m / tot_p - 1) if tot_p else 0))
    print("\ncells with the largest error (lon, lat: summed |error|, mean forecast, mean observed, signed mean)")
    for key, (ae, sf, so, n) in sorted(per_cell.items(), key=lambda kv: -kv[1][0])[:args.top]:
        lon, lat = fceval.cell_centre(key)
        print("%.6f %.6f  %7.2f  %5.2f  %5.2f  %+5.2f  (%d)" % (lon, lat, ae, sf / n, so / n, (sf - so) / n, n))
    if args.versus:
        o2, f2 = load(args.versus, args.model)
        versus(per_cell, cell_errors(o2, f2, args.minutes, shift), args.top)


if __name__ == "__main__":
    main()
