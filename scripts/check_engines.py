#!/usr/bin/env python3
"""check_engines.py: does this machine's node satisfy the `engines.node` of every package in
web/package-lock.json? Prints each misfit (package, version, the range it asks, the node here)
and exits 1 when there is one. Usage: scripts/check_engines.py [LOCKFILE] [--node VERSION]

Understands the npm range syntax packages use in engines: comparators (>=, >, <=, <, =),
caret and tilde ranges, x-ranges (20, 20.x, *), hyphen ranges (a - b) and || alternatives."""
import json
import os
import re
import subprocess
import sys


def parse(v):
    """'v20.1' -> (20, 1, None); missing or x parts are None."""
    parts = re.sub(r"^[v=]", "", v.strip()).split("-")[0].split("+")[0].split(".")
    out = []
    for p in (parts + ["", "", ""])[:3]:
        out.append(None if p in ("", "x", "X", "*") else int(p))
    return tuple(out)


def floor(t):
    return tuple(0 if p is None else p for p in t)


def ceiling(t):
    """The first version past a partial one: 20 -> 21.0.0, 20.1 -> 20.2.0, 20.1.2 -> 20.1.3 (exclusive)."""
    if t[0] is None:
        return None
    if t[1] is None:
        return (t[0] + 1, 0, 0)
    if t[2] is None:
        return (t[0], t[1] + 1, 0)
    return None


def comparator_ok(node, comp):
    m = re.match(r"^(>=|<=|>|<|=|\^|~)?\s*(.*)$", comp)
    op, ver = m.group(1) or "", m.group(2)
    t = parse(ver)
    lo = floor(t)
    if op == ">=":
        return node >= lo
    if op == ">":
        up = ceiling(t)
        return node >= up if up else node > lo
    if op == "<":
        return node < lo
    if op == "<=":
        up = ceiling(t)
        return node < up if up else node <= lo
    if op == "^":
        if lo[0] > 0 or t[1] is None:
            hi = (lo[0] + 1, 0, 0)
        elif lo[1] > 0 or t[2] is None:
            hi = (0, lo[1] + 1, 0)
        else:
            hi = (0, 0, lo[2] + 1)
        return lo <= node < hi
    if op == "~":
        hi = (lo[0] + 1, 0, 0) if t[1] is None else (lo[0], lo[1] + 1, 0)
        return lo <= node < hi
    if t[0] is None:
        return True  # * or x
    up = ceiling(t)
    return lo <= node < up if up else node == lo


def satisfies(node, rng):
    for alt in rng.split("||"):
        alt = alt.strip()
        h = re.match(r"^(\S+)\s+-\s+(\S+)$", alt)
        if h:
            comps = [">=" + h.group(1), "<=" + h.group(2)]
        else:
            comps = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alt).split() or ["*"]
        if all(comparator_ok(node, c) for c in comps):
            return True
    return False


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__.strip())
        return 0
    lock = "web/package-lock.json"
    node_v = None
    args = list(argv)
    if "--node" in args:
        i = args.index("--node")
        node_v = args[i + 1]
        del args[i:i + 2]
    if args:
        lock = args[0]
    if node_v is None:
        try:
            node_v = subprocess.run(["node", "--version"], stdout=subprocess.PIPE, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            print("check_engines: no node on this machine", file=sys.stderr)
            return 1
    node = floor(parse(node_v))
    with open(lock) as f:
        packages = json.load(f).get("packages", {})
    bad = []
    for path, meta in sorted(packages.items()):
        rng = (meta.get("engines") or {}).get("node") if isinstance(meta.get("engines"), dict) else None
        if rng and not satisfies(node, rng):
            bad.append("  %s %s wants node %s" % (path.replace("node_modules/", "") or "(root)", meta.get("version", "?"), rng))
    if bad:
        print("check_engines: node %s here does not fit these packages of %s:" % (".".join(map(str, node)), lock),
              file=sys.stderr)
        print("\n".join(bad), file=sys.stderr)
        print("Pin them in web/package.json to versions whose engines accept this node (npm view PKG engines),"
              " or install a newer node.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
