#!/usr/bin/python3
"""Offline packages: `mashaer package` of the operations style over Mina, z12-z18: the size of the
package (total and per part), the time to build it, and the time MapLibre GL JS takes to show it
offline beside the live style.

  python3 bench/package.py [--zoom 12-18] [--rounds 3] [--mashaer build/mashaer] [--no-browser]

Every demo layer is imported into a scratch store. The package is built `--rounds` times into the
same folder (each build after the first swaps the folder in); the median wall time and CPU time
(user + system of every thread) are printed. The parts are read from the last build's manifest.
Then tests/browser/test_package_offline.mjs runs once with --package-zoom (the same package): it
prints, per view, the milliseconds from creating the map to its idle event, offline (every file from
the package through Playwright's request interception) and live (a `mashaer serve` on loopback).
"""
import argparse, json, os, re, resource, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import scratch  # noqa: E402

STYLE, SITE = "operations", "mina"  # what issue 15 asks to measure
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--zoom", default="12-18")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--no-browser", action="store_true")
scratch.add_build_args(ap)
args = ap.parse_args()

work, db = scratch.store(args, "msh-package-", scratch.demo_layers(args.source_dir))
out = os.path.join(work, "packages")
try:
    walls, cpus = [], []
    for _ in range(args.rounds):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run([args.mashaer, "package", "-q", "--db", db, "--style", STYLE, "--site", SITE,
                        "--zoom", args.zoom, out], check=True)
        walls.append(time.monotonic() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    with open(os.path.join(out, SITE, "manifest.json")) as f:
        m = json.load(f)
    parts = {}
    for f in m["files"]:
        p = f["path"]
        part = ("PMTiles archive (%s)" % p if p.endswith(".pmtiles") else "glyph ranges" if p.startswith("fonts/")
                else "sprites (1x, 2x)" if p.startswith("sprites/") else "RTL text plugin" if p.endswith(".js")
                else p)
        n, b = parts.get(part, (0, 0))
        parts[part] = (n + 1, b + f["bytes"])
    parts["manifest.json"] = (1, os.path.getsize(os.path.join(out, SITE, "manifest.json")))
    total = sum(b for _, b in parts.values())
    print("package of the %s style over %s, zooms %s, box %s" % (STYLE, SITE, args.zoom, ",".join("%.4f" % v for v in m["bbox"])))
    print("build: median %.2f s wall, %.2f s CPU over %d rounds (%s)" % (
        statistics.median(walls), statistics.median(cpus), args.rounds, ", ".join("%.2f" % w for w in walls)))
    print("| part | files | bytes | share |\n|---|---|---|---|")
    for part, (n, b) in sorted(parts.items(), key=lambda kv: -kv[1][1]):
        print("| %s | %d | %s | %.1f%% |" % (part, n, format(b, ","), 100.0 * b / total))
    print("| total | %d | %s | 100%% |" % (sum(n for n, _ in parts.values()), format(total, ",")))
    if not args.no_browser:
        p = subprocess.run(["node", os.path.join(args.source_dir, "tests", "browser", "test_package_offline.mjs"),
                            "--mashaer", os.path.abspath(args.mashaer), "--source-dir", os.path.abspath(args.source_dir),
                            "--work-dir", os.path.join(work, "browser"), "--package-zoom", args.zoom],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=900)
        print("MapLibre GL JS, map created to idle (512 x 512 px, Chromium, software GL):")
        for line in p.stdout.splitlines():
            mm = re.search(r"(z[0-9.]+) at Mina: .* load to idle: offline (\d+) ms, live (\d+) ms", line)
            if mm:
                print("  %s: offline %s ms, live %s ms" % mm.groups())
        print("  browser check: %s" % (p.stdout.strip().splitlines() or ["no output"])[-1])
finally:
    shutil.rmtree(work, ignore_errors=True)
