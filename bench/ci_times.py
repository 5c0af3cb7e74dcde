#!/usr/bin/python3
"""Where a ctest -j2 run's time goes, and what its order costs: the per-test seconds of a ctest log,
the longest first, their sum, the run's own total, and the wall time a two-slot ctest would take
with the same seconds in two orders: as the tests are declared (a fresh CI machine, no timings and
no COST) and by COST (the properties the build dir's CTestTestfile files carry), with the
RESOURCE_LOCKs respected (the Chromium tests run one at a time).

  python3 bench/ci_times.py BUILD_DIR CTEST_LOG [--top N] [--slots 2]
  python3 bench/ci_times.py BUILD_DIR TIMES.jsonl --cpu [--top N] [--slots 2]

CTEST_LOG is the output of `ctest -j2` in BUILD_DIR (the "Test #k: name ... Passed  12.34 sec" lines).
TIMES.jsonl is what bench/ci_cpu.py's launcher wrote for a run in BUILD_DIR; with --cpu each test takes
its CPU seconds (user+sys of its process tree) in the model: on a machine shared with other work the
wall seconds of a log say more about the neighbours than about the tests, the CPU seconds do not.
The schedule is a model (a test takes what it took in the log, whatever runs beside it): it shows
how much of a run is the tail of one long test while the other slot idles, not a measurement.
"""
import argparse
import json
import re
import subprocess
import sys


def log_seconds(path):
    """{test name: seconds} and the run's 'Total Test time (real)' (None when absent)."""
    secs, total = {}, None
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"Test +#\d+: (\S+) \.+.*?(Passed|Failed|\*\*\*\w+)?\s+([0-9.]+) sec", line)
            if m:
                secs[m.group(1)] = float(m.group(3))
            m = re.search(r"Total Test time \(real\) = +([0-9.]+) sec", line)
            if m:
                total = float(m.group(1))
    return secs, total


def cpu_seconds(path):
    """{test name: CPU seconds} of a bench/ci_cpu.py times file; no run total (None)."""
    secs = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            secs[r["name"]] = r["user"] + r["sys"]
    return secs, None


def declared(build_dir):
    """[(name, cost, locks)] in declaration order, from ctest --show-only=json-v1."""
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build_dir, capture_output=True, text=True,
                         check=True).stdout
    tests = []
    for t in json.loads(out)["tests"]:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        tests.append((t["name"], float(props.get("COST", 0)), tuple(props.get("RESOURCE_LOCK", []))))
    return tests


def schedule(order, secs, slots):
    """Wall time of a list schedule: each free slot takes the first test in `order` whose locks are free."""
    pending = [t for t in order if t[0] in secs]
    running = []          # (end time, name, locks)
    now = 0.0
    while pending or running:
        held = {lk for _, _, locks in running for lk in locks}
        pick = next((t for t in pending if not set(t[2]) & held), None) if len(running) < slots else None
        if pick:
            pending.remove(pick)
            running.append((now + secs[pick[0]], pick[0], pick[2]))
            continue
        running.sort()
        now, _, _ = running.pop(0)
    return now


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("ctest_log")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--cpu", action="store_true", help="CTEST_LOG is a bench/ci_cpu.py times file: model CPU seconds")
    a = ap.parse_args()
    secs, total = cpu_seconds(a.ctest_log) if a.cpu else log_seconds(a.ctest_log)
    if not secs:
        sys.exit("no test times in %s" % a.ctest_log)
    tests = declared(a.build_dir)
    for name, s in sorted(secs.items(), key=lambda kv: -kv[1])[:a.top]:
        print("%8.1f s  %s" % (s, name))
    print("%d tests, %.0f s of test time in all; the run's own total: %s" %
          (len(secs), sum(secs.values()), "%.0f s" % total if total is not None else "not in the log"))
    by_cost = sorted(tests, key=lambda t: -t[1])          # sorted() is stable: ties keep declaration order
    print("model, %d slots: declaration order %.0f s, COST order %.0f s, a perfect split %.0f s" %
          (a.slots, schedule(tests, secs, a.slots), schedule(by_cost, secs, a.slots), sum(secs.values()) / a.slots))


if __name__ == "__main__":
    main()
