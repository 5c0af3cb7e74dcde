#!/usr/bin/python3
"""Per-test CPU time (user+sys of the test's whole process tree) and wall time of a ctest run.

CPU time is the figure a shared machine's noise moves least: a test that waits on a timer costs wall
time and no CPU, a test that decodes big fixtures costs CPU whatever runs beside it. CMake 3.25 has no
TEST_LAUNCHER, so `wrap` rewrites the build dir's generated CTestTestfile.cmake files to start each test
through `launch` (running cmake again in that build dir restores them):

  python3 bench/ci_cpu.py wrap BUILD_DIR TIMES.jsonl    # then: cd BUILD_DIR && ctest -j2 ...
  python3 bench/ci_cpu.py report TIMES.jsonl [--top 20] [--json]
  python3 bench/ci_cpu.py compare BEFORE.jsonl AFTER.jsonl [--top 20]

`launch` (what the wrapped tests run) makes itself a child subreaper, so the daemons a test starts
(PostgreSQL's pg_ctl, mosquitto, nats-server) are reaped by it and counted too; it appends one JSON line
per test: name, wall s, user s, sys s, exit code (to the file given to `wrap`, or to $CI_CPU_OUT when set:
one wrapped build dir, several runs).
"""
import argparse
import ctypes
import resource
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
HERE = os.path.abspath(__file__)


def launch(out, name, cmd):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    t0 = time.monotonic()
    child = subprocess.Popen(cmd)
    # ctest kills the launcher on a timeout: pass the signal on so the test's own clean-up runs
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, f: child.send_signal(s))
    rc = child.wait()
    wall = time.monotonic() - t0
    while True:                                   # orphans the test left behind, already ended
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "a") as f:
        f.write(json.dumps({"name": name, "wall": round(wall, 2), "user": round(ru.ru_utime, 2),
                            "sys": round(ru.ru_stime, 2), "rc": rc}) + "\n")
    return rc


def wrap(build_dir, out):
    out = os.path.abspath(out)
    n = 0
    for path in glob.glob(os.path.join(build_dir, "**", "CTestTestfile.cmake"), recursive=True):
        with open(path) as f:
            text = f.read()
        pat = re.compile(r'^add_test\(\[=\[(\S+?)\]=\] (?!"%s")' % re.escape(sys.executable), re.M)

        def sub(m):
            return 'add_test([=[%s]=] "%s" "%s" "launch" "%s" "%s" "--" ' % (m.group(1), sys.executable, HERE,
                                                                          out, m.group(1))
        text, k = pat.subn(sub, text)
        n += k
        with open(path, "w") as f:
            f.write(text)
    print("ci_cpu: %d tests now run through the launcher, times to %s" % (n, out))


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            r["cpu"] = r["user"] + r["sys"]
            rows[r["name"]] = r          # a test run twice: the last run counts
    return rows


def report(path, top, as_json):
    rows = load(path)
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    print("%8s %8s %6s  %s" % ("cpu s", "wall s", "cpu%", "test (longest CPU first)"))
    for r in sorted(rows.values(), key=lambda r: -r["cpu"])[:top]:
        print("%8.1f %8.1f %5.0f%%  %s%s" % (r["cpu"], r["wall"], 100 * r["cpu"] / max(r["wall"], 0.01), r["name"],
                                          "" if r["rc"] == 0 else "  (exit %d)" % r["rc"]))
    print("%8s %8s %6s  %s" % ("cpu s", "wall s", "cpu%", "test (longest wall, least CPU busy)"))
    for r in sorted(rows.values(), key=lambda r: -(r["wall"] - r["cpu"]))[:top]:
        print("%8.1f %8.1f %5.0f%%  %s" % (r["cpu"], r["wall"], 100 * r["cpu"] / max(r["wall"], 0.01), r["name"]))
    print("%d tests: %.0f s CPU, %.0f s of test wall time in all" %
          (len(rows), sum(r["cpu"] for r in rows.values()), sum(r["wall"] for r in rows.values())))


def compare(before, after, top):
    b, a = load(before), load(after)
    names = sorted(set(b) | set(a), key=lambda n: -max(b.get(n, {}).get("cpu", 0), a.get(n, {}).get("cpu", 0)))
    print("%17s %17s" % ("before cpu/wall", "after cpu/wall"))
    for n in names[:top]:
        fb = "%7.1f/%7.1f" % (b[n]["cpu"], b[n]["wall"]) if n in b else "%15s" % "-"
        fa = "%7.1f/%7.1f" % (a[n]["cpu"], a[n]["wall"]) if n in a else "%15s" % "-"
        print("%17s %17s  %s" % (fb, fa, n))
    for label, rows in (("before", b), ("after", a)):
        print("%s: %d tests, %.0f s CPU, %.0f s test wall" % (label, len(rows), sum(r["cpu"] for r in rows.values()),
                                                             sum(r["wall"] for r in rows.values())))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "launch":
        out, name, sep = sys.argv[2:5]
        if sep != "--":
            sys.exit("ci_cpu launch OUT NAME -- CMD...")
        sys.exit(launch(os.environ.get("CI_CPU_OUT", out), name, sys.argv[5:]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wrap")
    w.add_argument("build_dir")
    w.add_argument("out")
    r = sub.add_parser("report")
    r.add_argument("times")
    r.add_argument("--top", type=int, default=20)
    r.add_argument("--json", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    if a.cmd == "wrap":
        wrap(a.build_dir, a.out)
    elif a.cmd == "report":
        report(a.times, a.top, a.json)
    else:
        compare(a.before, a.after, a.top)


if __name__ == "__main__":
    main()
