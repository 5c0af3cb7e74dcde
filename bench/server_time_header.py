#!/usr/bin/env python3
"""What Mashaer-Time on every answer costs the server: CPU per answer, beside a build without it.

    bench/server_time_header.py --mashaer build/mashaer --baseline OTHER/mashaer [--requests 20000] [--rounds 3]

One store with the demo camps; for each build in turn, `mashaer serve --port 0` on it and one
keep-alive connection that asks, --requests times each, /health and a camps tile with the tile's own
ETag in If-None-Match (a bodiless 304: about the cheapest answer there is, so the header's share of it
is the largest), after a tenth as many unmeasured ones (the server's own work as it starts). The
server's CPU time (user + system, /proc/PID/stat) over each series is divided by its answers. The
builds take turns, --rounds times, each first every other round, so the machine's noise falls on
both; the median of the rounds is printed as a Markdown table with the ratio.
"""
import argparse
import http.client
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import scratch  # noqa: E402

TILE = "/tiles/camps/15/20012/14387.mvt"


def series(port, path, n, headers):
    """n GETs of path on one connection; the statuses seen."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    seen = set()
    try:
        for _ in range(n):
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            r.read()
            seen.add(r.status)
    finally:
        c.close()
    return seen


def one_round(binary, db, n):
    """{what: µs of server CPU per answer} for one build."""
    srv, port = scratch.serve(None, db, "--snapshot-s", "3600", mashaer=binary, die_with_parent=True)
    try:
        _, h, _ = scratch.request(port, "GET", TILE)
        series(port, "/health", n // 10, {})  # the start's own work (first KPI pass, snapshot) done first
        out = {}
        for what, path, headers, want in (("/health", "/health", {}, {200}),
                                          ("tile 304", TILE, {"If-None-Match": h.get("etag", "")}, {304})):
            c0 = scratch.cpu_s(srv.pid)
            seen = series(port, path, n, headers)
            if seen != want:
                raise SystemExit("%s answered %s to %s" % (binary, sorted(seen), what))
            out[what] = (scratch.cpu_s(srv.pid) - c0) / n * 1e6
        return out
    finally:
        scratch.stop(srv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scratch.add_build_args(ap)
    ap.add_argument("--baseline", required=True, help="the build without the header")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work, db = scratch.store(args, "msh-timehdr-", ["camps"])
    try:
        runs = {"baseline": [], "this build": []}
        for i in range(args.rounds):  # in turns, each first every other round
            for name in (("baseline", "this build") if i % 2 == 0 else ("this build", "baseline")):
                runs[name].append(one_round(args.baseline if name == "baseline" else args.mashaer, db, args.requests))
        print("| answer | baseline µs CPU | this build µs CPU | ratio |")
        print("|---|---|---|---|")
        for what in runs["baseline"][0]:
            b = statistics.median(r[what] for r in runs["baseline"])
            t = statistics.median(r[what] for r in runs["this build"])
            print("| %s | %.1f | %.1f | %.3f |" % (what, b, t, t / b))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
