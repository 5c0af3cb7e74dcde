#!/usr/bin/python3
"""Where a forecast's density error is: per issue time and per cell, from a bench/forecast.py --dump.

  python3 bench/fc_cells.py DUMP.SCENARIO.json [--minutes 10] [--model forecast] [--top 15]

Prints, for the horizon asked: per issue step, the people forecast and observed at the target time
and the summed absolute density error of the model and of persistence (the goal's comparison, step
by step); then the cells with the largest summed absolute error over every issue step, each with its
centre, the mean forecast and observed density and the signed mean error (+: the forecast put more
people there). The cells and the error are fceval's (the union of occupied cells, 8.9 m cells).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fceval  # noqa: E402


def cells(rows):
    return {(r[0], r[1], r[2]): fceval.Cell(r[3], 0.0, 0.0, None, r[4]) for r in rows}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump")
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--model", default="forecast")
    ap.add_argument("--issue-every", type=int, default=60)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    with open(args.dump) as f:
        doc = json.load(f)
    observed = {int(k): cells(v) for k, v in doc["observed"].items()}
    fc = {tuple(int(x) for x in k.split(",")): cells(v) for k, v in doc["forecasts"][args.model].items()}
    shift = args.minutes * 60 // args.issue_every
    per_cell = {}
    print("step  people_f  people_o   err_model   err_persist")
    tot_m = tot_p = 0.0
    for k in sorted(observed):
        f = fc.get((k, args.minutes))
        o = observed.get(k + shift)
        if f is None or o is None:
            continue
        em = ep = 0.0
        for key in fceval.occupied_union(f, o):
            df = fceval.density(key, f[key].count if key in f else 0.0)
            do = fceval.density(key, o[key].count if key in o else 0.0)
            em += abs(df - do)
            a = per_cell.setdefault(key, [0.0, 0.0, 0.0, 0])
            a[0] += abs(df - do)
            a[1] += df
            a[2] += do
            a[3] += 1
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


if __name__ == "__main__":
    main()
