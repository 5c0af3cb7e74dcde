#!/usr/bin/env python3
"""benchlib.py: the number-crunching half of bench/run.sh (standard library only).

Subcommands:
  bbox FILE...                        the lon/lat bounding box of GeoJSON files
  tiles --bbox W,S,E,N --zoom Z --cap N
                                      every tile meeting the bbox at zoom Z, one
                                      "z x y" per line in row-major order; when there
                                      are more than N, an evenly strided (so
                                      deterministic) sample of N of them
  mvtcount FILE...                    features per layer in MVT files
  features --root DIR --lists DIR --out FILE
                                      feature count of every dumped tile
  buckets --features F --timing F     time per tile versus features in it
  report --results F --meta F --md OUT [--buckets F]
                                      the results tables and goal checks
  freeport [N]                        N free TCP ports on 127.0.0.1
"""
import argparse
import json
import math
import os
import socket
import statistics
import sys


# ---------------------------------------------------------------- geometry
def _walk_coords(c, acc):
    if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
        x, y = c[0], c[1]
        if x < acc[0]: acc[0] = x
        if y < acc[1]: acc[1] = y
        if x > acc[2]: acc[2] = x
        if y > acc[3]: acc[3] = y
        return
    for e in c:
        _walk_coords(e, acc)


def geojson_bbox(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    acc = [math.inf, math.inf, -math.inf, -math.inf]
    feats = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
    for ft in feats:
        g = ft.get("geometry")
        if not g:
            continue
        if g["type"] == "GeometryCollection":
            for gg in g["geometries"]:
                _walk_coords(gg["coordinates"], acc)
        else:
            _walk_coords(g["coordinates"], acc)
    return acc


def cmd_bbox(a):
    acc = [math.inf, math.inf, -math.inf, -math.inf]
    for p in a.files:
        b = geojson_bbox(p)
        acc = [min(acc[0], b[0]), min(acc[1], b[1]), max(acc[2], b[2]), max(acc[3], b[3])]
    print("%.7f,%.7f,%.7f,%.7f" % tuple(acc))


def lon2x(lon, z):
    n = 1 << z
    x = int(math.floor((lon + 180.0) / 360.0 * n))
    return min(max(x, 0), n - 1)


def lat2y(lat, z):
    n = 1 << z
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    r = math.radians(lat)
    y = int(math.floor((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n))
    return min(max(y, 0), n - 1)


def tiles_for(bbox, z):
    w, s, e, n = bbox
    x0, x1 = lon2x(w, z), lon2x(e, z)
    y0, y1 = lat2y(n, z), lat2y(s, z)
    return [(z, x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


def cmd_tiles(a):
    bbox = [float(v) for v in a.bbox.split(",")]
    all_tiles = tiles_for(bbox, a.zoom)
    total = len(all_tiles)
    if a.cap and total > a.cap:
        # evenly strided over the row-major order: deterministic and spread over the area
        chosen = [all_tiles[(i * total) // a.cap] for i in range(a.cap)]
    else:
        chosen = all_tiles
    for z, x, y in chosen:
        print(z, x, y)
    sys.stderr.write("%d %d\n" % (total, len(chosen)))


# ---------------------------------------------------------------- MVT decoding
def _varint(b, i):
    shift = 0
    v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def _fields(b, start=0, end=None):
    """Yield (field number, wire type, value or (start, end)) over a protobuf message."""
    i = start
    end = len(b) if end is None else end
    while i < end:
        key, i = _varint(b, i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
            yield fn, wt, v
        elif wt == 2:
            ln, i = _varint(b, i)
            yield fn, wt, (i, i + ln)
            i += ln
        elif wt == 1:
            yield fn, wt, None
            i += 8
        elif wt == 5:
            yield fn, wt, None
            i += 4
        else:
            raise ValueError("bad wire type %d" % wt)


def mvt_layers(b):
    """{layer name: feature count} of one MVT tile (Tile.layers = 3, Layer.name = 1, features = 2)."""
    out = {}
    for fn, wt, v in _fields(b):
        if fn != 3 or wt != 2:
            continue
        name, n = "?", 0
        for lfn, lwt, lv in _fields(b, v[0], v[1]):
            if lfn == 1 and lwt == 2:
                name = b[lv[0]:lv[1]].decode("utf-8", "replace")
            elif lfn == 2 and lwt == 2:
                n += 1
        out[name] = out.get(name, 0) + n
    return out


def cmd_mvtcount(a):
    for p in a.files:
        with open(p, "rb") as f:
            b = f.read()
        print(p, json.dumps(mvt_layers(b), sort_keys=True))


def cmd_features(a):
    """For every list file SET_zZ.zxy in --lists, count the features of each dumped tile."""
    with open(a.out, "w") as out:
        for fn in sorted(os.listdir(a.lists)):
            if not fn.endswith(".zxy"):
                continue
            setname = fn.rsplit("_z", 1)[0]
            with open(os.path.join(a.lists, fn)) as f:
                zxys = [l.split() for l in f if l.strip()]
            prefix = open(os.path.join(a.lists, setname + ".prefix")).read().strip()
            for z, x, y in zxys:
                p = os.path.join(a.root, prefix.lstrip("/"), z, x, y + ".mvt")
                n, size = 0, 0
                if os.path.exists(p):
                    with open(p, "rb") as f:
                        b = f.read()
                    size = len(b)
                    if b:
                        n = sum(mvt_layers(b).values())
                out.write("%s\t%s\t%s\t%s\t%d\t%d\n" % (setname, z, x, y, n, size))


# ---------------------------------------------------------------- statistics
def median(v):
    return statistics.median(v) if v else float("nan")


def pct(v, p):
    if not v:
        return float("nan")
    s = sorted(v)
    k = (len(s) - 1) * p / 100.0
    f = math.floor(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


BUCKETS = [(0, 0), (1, 10), (11, 50), (51, 200), (201, 500), (501, 1000), (1001, 2000),
           (2001, 5000), (5001, 10**12)]


def bucket_rows(features_file, timing_file):
    feats = {}
    with open(features_file) as f:
        for line in f:
            s, z, x, y, n, size = line.split("\t")
            feats[(s, z, x, y)] = (int(n), int(size))
    times = {}
    with open(timing_file) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6:
                continue
            s, z, x, y, code, t = parts[:6]
            times.setdefault((s, z, x, y), []).append(float(t) * 1000.0)  # ms
    rows = []
    for lo, hi in BUCKETS:
        ts, ns, sizes, keys = [], [], [], 0
        for k, (n, size) in feats.items():
            if lo <= n <= hi and k in times:
                keys += 1
                ts.append(median(times[k]))
                ns.append(n)
                sizes.append(size)
        if not keys:
            continue
        label = "0 (empty)" if hi == 0 else ("%d+" % lo if hi >= 10**12 else "%d-%d" % (lo, hi))
        med_ms = median(ts)
        med_n = median(ns)
        rows.append({
            "bucket": label, "tiles": keys, "median_features": med_n,
            "median_kb": median(sizes) / 1024.0, "median_ms": med_ms,
            "p90_ms": pct(ts, 90), "max_ms": max(ts),
            "us_per_feature": (med_ms * 1000.0 / med_n) if med_n else float("nan"),
        })
    return rows


def buckets_md(rows):
    out = ["| features in tile | tiles | median features | median size (KiB) | median ms | p90 ms | max ms | us per feature |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        upf = "-" if math.isnan(r["us_per_feature"]) else "%.2f" % r["us_per_feature"]
        out.append("| %s | %d | %d | %.1f | %.3f | %.3f | %.3f | %s |" % (
            r["bucket"], r["tiles"], r["median_features"], r["median_kb"], r["median_ms"],
            r["p90_ms"], r["max_ms"], upf))
    return "\n".join(out)


def cmd_buckets(a):
    rows = bucket_rows(a.features, a.timing)
    md = buckets_md(rows)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md + "\n")
    print(md)


# ---------------------------------------------------------------- report
PEER_LABEL = {
    "mashaer-uncached": "Mashaer uncached",
    "mashaer-cached": "Mashaer cached",
    "baseline-uncached": "baseline uncached",
    "baseline-cached": "baseline cached",
    "nginx": "nginx static files",
    "postgis": "PostGIS ST_AsMVT (pgfront)",
    "mapserver": "MapServer 8 MVT (FastCGI x2)",
}
PEER_ORDER = ["mashaer-uncached", "mashaer-cached", "baseline-uncached", "baseline-cached", "nginx", "postgis", "mapserver"]
COMPARE_PEERS = ["nginx", "postgis", "mapserver"]
GOAL_CACHED_RPS = 30000.0


def fmt_rps(v):
    return "-" if v is None or math.isnan(v) else "{:,.0f}".format(v)


def fmt_ms(us):
    if us is None or math.isnan(us):
        return "-"
    ms = us / 1000.0
    return "%.2f" % ms if ms < 10 else "%.1f" % ms


def fmt_cpu(ms):
    if ms is None or math.isnan(ms):
        return "-"
    return "%.3f" % ms if ms < 1 else "%.2f" % ms


def fmt_ratio(v):
    return "-" if v is None or math.isnan(v) else ("%.1fx" % v if v >= 10 else "%.2fx" % v)


def load_results(path):
    """results.tsv: set zoom peer round rps p50_us p99_us requests err_status err_other"""
    agg = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            p = line.rstrip("\n").split("\t")
            key = (p[0], int(p[1]), p[2])
            d = agg.setdefault(key, {"rps": [], "p50": [], "p99": [], "mbps": [], "cpu": [], "req": 0, "err_status": 0,
                                     "err_other": 0})
            if len(p) > 10:
                d["mbps"].append(float(p[10]))
            if len(p) > 11 and float(p[11]) > 0:
                d["cpu"].append(float(p[11]))
            d["rps"].append(float(p[4]))
            d["p50"].append(float(p[5]))
            d["p99"].append(float(p[6]))
            d["req"] += int(p[7])
            d["err_status"] += int(p[8])
            d["err_other"] += int(p[9])
    out = {}
    for k, d in agg.items():
        out[k] = {"rps": median(d["rps"]), "p50": median(d["p50"]), "p99": median(d["p99"]),
                  "rounds": len(d["rps"]), "rps_all": d["rps"], "mbps": median(d["mbps"]), "req": d["req"],
                  "cpu": median(d["cpu"]) if d["cpu"] else float("nan"),
                  "err_status": d["err_status"], "err_other": d["err_other"]}
    return out


def cmd_report(a):
    meta = {}
    with open(a.meta) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    res = load_results(a.results)
    label = dict(PEER_LABEL)
    if meta.get("baseline_commit"):
        # name both builds by their commits: "Mashaer 66b6da3 uncached", "baseline 0d5358c uncached"
        c_new = meta.get("commit", "?").split(",")[0]
        c_old = meta.get("baseline_commit", "?").split(",")[0]
        for kind in ("uncached", "cached"):
            label["mashaer-" + kind] = "Mashaer %s %s" % (c_new, kind)
            label["baseline-" + kind] = "baseline %s %s" % (c_old, kind)
    sets = []
    for s, _, _ in res:
        if s not in sets:
            sets.append(s)
    set_order = {"walkways": 0, "demo": 1}
    sets.sort(key=lambda s: set_order.get(s, 9))
    peers = [p for p in PEER_ORDER if any(k[2] == p for k in res)]
    lines = []
    goals = []  # (set, zoom, goal text, value text, ok)
    for s in sets:
        zooms = sorted({k[1] for k in res if k[0] == s})
        lines.append("### %s" % meta.get("set_title_" + s, s))
        lines.append("")
        lines.append("Tiles per second (median of %s rounds), median and p99 latency in ms (medians over the rounds), "
                     "MB/s of HTTP responses (headers included), server CPU per tile (user + system time of the "
                     "peer's processes during the run over the tiles served; median over the rounds)."
                     % meta.get("rounds", "?"))
        lines.append("")
        hdr = ("| zoom | tiles in list | peer | tiles/s | median ms | p99 ms | MB/s | server CPU ms/tile "
               "| uncached Mashaer / peer | cached Mashaer / peer |")
        lines.append(hdr)
        lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for z in zooms:
            unc = res.get((s, z, "mashaer-uncached"))
            cac = res.get((s, z, "mashaer-cached"))
            ntiles = meta.get("tiles_%s_z%d" % (s, z), "?")
            for p in peers:
                r = res.get((s, z, p))
                if not r:
                    continue
                ru = (unc["rps"] / r["rps"]) if unc and r["rps"] > 0 and p != "mashaer-uncached" and p != "mashaer-cached" \
                    and p != "baseline-cached" else float("nan")
                rc = (cac["rps"] / r["rps"]) if cac and r["rps"] > 0 and p != "mashaer-uncached" and p != "mashaer-cached" \
                    and p != "baseline-uncached" else float("nan")
                flag = ""
                if r["err_status"] or r["err_other"]:
                    flag = " (errors: %d status, %d socket)" % (r["err_status"], r["err_other"])
                lines.append("| z%d | %s | %s%s | %s | %s | %s | %s | %s | %s | %s |" % (
                    z, ntiles, label.get(p, p), flag, fmt_rps(r["rps"]), fmt_ms(r["p50"]),
                    fmt_ms(r["p99"]), "-" if math.isnan(r["mbps"]) else "%.0f" % r["mbps"], fmt_cpu(r["cpu"]),
                    fmt_ratio(ru), fmt_ratio(rc)))
            # goals
            ms = res.get((s, z, "mapserver"))
            pg = res.get((s, z, "postgis"))
            ng = res.get((s, z, "nginx"))
            if unc and ms:
                v = unc["rps"] / ms["rps"]
                goals.append((s, z, "uncached >= 10x MapServer", fmt_ratio(v), v >= 10))
            if unc and pg:
                v = unc["rps"] / pg["rps"]
                goals.append((s, z, "uncached >= 3x PostGIS", fmt_ratio(v), v >= 3))
            if cac:
                goals.append((s, z, "cached >= 30,000 tiles/s", fmt_rps(cac["rps"]), cac["rps"] >= GOAL_CACHED_RPS))
            if cac and ng:
                v = cac["rps"] / ng["rps"]
                goals.append((s, z, "cached >= 0.5x nginx", fmt_ratio(v), v >= 0.5))
        lines.append("")
    tables = "\n".join(lines)
    if meta.get("baseline_commit") and getattr(a, "compare_md", None):
        with open(a.compare_md, "w") as f:
            f.write(compare_md(res, sets, meta) + "\n")

    # compact goal matrix: one row per goal and set, one column per zoom
    glines = []
    if goals:
        allz = sorted({g[1] for g in goals})
        glines.append("| goal | set | " + " | ".join("z%d" % z for z in allz) + " | met |")
        glines.append("|---|---|" + "---:|" * len(allz) + "---|")
        gnames = []
        for g in goals:
            if (g[2], g[0]) not in gnames:
                gnames.append((g[2], g[0]))
        gnames.sort(key=lambda t: (["uncached >= 10x MapServer", "uncached >= 3x PostGIS",
                                    "cached >= 30,000 tiles/s", "cached >= 0.5x nginx"].index(t[0]),
                                   set_order.get(t[1], 9)))
        for gname, s in gnames:
            cells = []
            allok = True
            for z in allz:
                m = [g for g in goals if g[0] == s and g[1] == z and g[2] == gname]
                if not m:
                    cells.append("-")
                    continue
                cells.append(("%s" if m[0][4] else "**%s** (miss)") % m[0][3])
                allok &= m[0][4]
            glines.append("| %s | %s | %s | %s |" % (gname, s, " | ".join(cells), "yes" if allok else "**no**"))
    goal_md = "\n".join(glines)

    bucket_md = ""
    if a.buckets and os.path.exists(a.buckets):
        bucket_md = open(a.buckets).read().strip()

    rounds_md = []
    rounds_md.append("| set | zoom | peer | tiles/s in each round |")
    rounds_md.append("|---|---|---|---|")
    for s in sets:
        for z in sorted({k[1] for k in res if k[0] == s}):
            for p in peers:
                r = res.get((s, z, p))
                if r:
                    rounds_md.append("| %s | z%d | %s | %s |" % (s, z, p, ", ".join(fmt_rps(v) for v in r["rps_all"])))

    head = []
    head.append("# Mashaer tile benchmark: results")
    head.append("")
    head.append("- date: %s" % meta.get("date", "?"))
    head.append("- command: `%s`" % meta.get("command", "?"))
    head.append("- machine: %s cores (nproc), %s, %s; load average %s the wrk runs (other work on the machine)"
                % (meta.get("nproc", "?"), meta.get("cpu", "?"), meta.get("mem", "?"), meta.get("load", "?")))
    head.append("- Mashaer: commit %s, %s" % (meta.get("commit", "?"), meta.get("mashaer_threads", "")))
    if meta.get("baseline_commit"):
        head.append("- baseline: commit %s, the same settings" % meta["baseline_commit"])
    head.append("- peers: %s" % meta.get("peer_versions", "?"))
    head.append("- load: wrk %s threads, %s connections, %s s per round, %s rounds, rounds interleaved over peers; "
                "tile lists cycled by bench/tiles.lua" % (meta.get("wrk_threads"), meta.get("wrk_conns"),
                                                           meta.get("duration"), meta.get("rounds")))
    head.append("- tile lists: every tile meeting the bounding box at each zoom; lists longer than %s tiles are "
                "replaced by an evenly strided (deterministic) sample of %s tiles (marked `sampled`)"
                % (meta.get("cap"), meta.get("cap")))
    head.append("")
    doc = "\n".join(head) + "\n## Goals\n\n" + goal_md + "\n\n## Throughput and latency\n\n" + tables
    if bucket_md:
        doc += "\n## Mashaer uncached: time per tile versus features in it\n\n" + meta.get("bucket_note", "") + "\n\n" + bucket_md + "\n"
    doc += "\n## Every round\n\n" + "\n".join(rounds_md) + "\n"
    notes = meta.get("notes", "")
    if notes:
        doc += "\n## Notes\n\n" + notes.replace("\\n", "\n") + "\n"
    with open(a.md, "w") as f:
        f.write(doc)
    if a.goals_md:
        with open(a.goals_md, "w") as f:
            f.write(goal_md + "\n")
    if a.tables_md:
        with open(a.tables_md, "w") as f:
            f.write(tables + "\n")
    print(tables)
    print("Goals\n" + goal_md)


def compare_md(res, sets, meta):
    """Before/after table: the baseline build and the measured build in the same rounds, with
    their rates and their ratios against each peer."""
    out = ["Before = %s, after = %s; same run, same peers, rounds interleaved. "
           "Tiles per second (median of %s rounds); \"x peer\" is the build's rate over the peer's."
           % (meta.get("baseline_commit", "?"), meta.get("commit", "?"), meta.get("rounds", "?")), ""]
    peers = [p for p in COMPARE_PEERS if any(k[2] == p for k in res)]
    for kind in ("uncached", "cached"):
        hdr = "| set | zoom | %s before | %s after | after / before |" % (kind, kind)
        sep = "|---|---|---:|---:|---:|"
        for p in peers:
            hdr += " %s | before x %s | after x %s |" % (PEER_LABEL[p], p, p)
            sep += "---:|---:|---:|"
        out += ["#### %s" % kind.capitalize(), "", hdr, sep]
        for s in sets:
            for z in sorted({k[1] for k in res if k[0] == s}):
                b = res.get((s, z, "baseline-" + kind))
                n = res.get((s, z, "mashaer-" + kind))
                if not b or not n:
                    continue
                row = "| %s | z%d | %s | %s | %s |" % (s, z, fmt_rps(b["rps"]), fmt_rps(n["rps"]),
                                                    fmt_ratio(n["rps"] / b["rps"]) if b["rps"] > 0 else "-")
                for p in peers:
                    r = res.get((s, z, p))
                    if not r or r["rps"] <= 0:
                        row += " - | - | - |"
                        continue
                    row += " %s | %s | %s |" % (fmt_rps(r["rps"]), fmt_ratio(b["rps"] / r["rps"]), fmt_ratio(n["rps"] / r["rps"]))
                out.append(row)
        out.append("")
    # the same comparison by server CPU per tile: the peer's CPU per tile over the build's
    out += ["#### Server CPU per tile (ms), uncached", "",
            "The peer's CPU time per tile over the build's (how many times more CPU the peer spends on a tile).", ""]
    hdr = "| set | zoom | before | after | before / after |"
    sep = "|---|---|---:|---:|---:|"
    for p in peers:
        hdr += " %s | %s / before | %s / after |" % (PEER_LABEL[p], p, p)
        sep += "---:|---:|---:|"
    out += [hdr, sep]
    for s in sets:
        for z in sorted({k[1] for k in res if k[0] == s}):
            b = res.get((s, z, "baseline-uncached"))
            n = res.get((s, z, "mashaer-uncached"))
            if not b or not n or math.isnan(b["cpu"]) or math.isnan(n["cpu"]):
                continue
            row = "| %s | z%d | %s | %s | %s |" % (s, z, fmt_cpu(b["cpu"]), fmt_cpu(n["cpu"]), fmt_ratio(b["cpu"] / n["cpu"]))
            for p in peers:
                r = res.get((s, z, p))
                if not r or math.isnan(r["cpu"]):
                    row += " - | - | - |"
                    continue
                row += " %s | %s | %s |" % (fmt_cpu(r["cpu"]), fmt_ratio(r["cpu"] / b["cpu"]), fmt_ratio(r["cpu"] / n["cpu"]))
            out.append(row)
    out.append("")
    return "\n".join(out)


BEGIN_MARK = "<!-- bench/run.sh: generated section begins; edit outside it -->"
END_MARK = "<!-- bench/run.sh: generated section ends -->"

DOC_SKELETON = """# Benchmarks

How fast Mashaer serves vector tiles, measured against the servers people would otherwise
use, in one run on one machine.  Run it yourself with `bench/run.sh` (`--help` for options).

""" + BEGIN_MARK + "\n" + END_MARK + "\n"


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def cmd_doc(a):
    meta = read_meta(a.meta)
    goals = open(a.goals_md).read().strip() if os.path.exists(a.goals_md) else ""
    tables = open(a.tables_md).read().strip() if os.path.exists(a.tables_md) else ""
    buckets = open(a.buckets).read().strip() if a.buckets and os.path.exists(a.buckets) else ""
    tables = tables.replace("\n### ", "\n#### ")
    if tables.startswith("### "):
        tables = "#" + tables
    g = []
    g.append(BEGIN_MARK)
    g.append("")
    g.append("## Latest run")
    g.append("")
    g.append("- date: %s" % meta.get("date", "?"))
    g.append("- command: `%s`" % meta.get("command", "?"))
    g.append("- machine: `nproc` = %s, %s, %s; load generator (wrk) on the same cores; load average %s "
             "the wrk runs (the machine is shared)"
             % (meta.get("nproc", "?"), meta.get("cpu", "?"), meta.get("mem", "?"), meta.get("load", "?")))
    g.append("- Mashaer commit %s; %s" % (meta.get("commit", "?"), meta.get("mashaer_threads", "")))
    if meta.get("baseline_commit"):
        g.append("- baseline (an earlier build, measured in the same rounds with the same settings): commit %s"
                 % meta["baseline_commit"])
    g.append("- peers: %s" % meta.get("peer_versions", "?"))
    g.append("- wrk: %s threads, %s connections, %s s per round, median of %s rounds interleaved over peers"
             % (meta.get("wrk_threads"), meta.get("wrk_conns"), meta.get("duration"), meta.get("rounds")))
    g.append("- full results, every round and the per-peer checks: `bench/results/latest.md` (not in git)")
    g.append("")
    g.append("### Goals (from the issue)")
    g.append("")
    g.append("Uncached tiles at least 10x MapServer and 3x PostGIS at every zoom; cached tiles at least "
             "30,000 per second and at least half of nginx's rate.  Bold cells miss.")
    g.append("")
    g.append(goals)
    g.append("")
    g.append("### Tiles per second and latency")
    g.append("")
    g.append(tables)
    if buckets:
        g.append("")
        g.append("### Uncached Mashaer: time per tile versus features in it")
        g.append("")
        g.append(meta.get("bucket_note", ""))
        g.append("")
        g.append(buckets)
    g.append("")
    g.append(END_MARK)
    gen = "\n".join(g)
    text = open(a.doc).read() if os.path.exists(a.doc) else DOC_SKELETON
    if BEGIN_MARK in text and END_MARK in text:
        pre = text.split(BEGIN_MARK, 1)[0]
        post = text.split(END_MARK, 1)[1]
        text = pre + gen + post
    else:
        text = text.rstrip("\n") + "\n\n" + gen + "\n"
    with open(a.doc, "w") as f:
        f.write(text)


def cmd_freeport(a):
    socks = []
    ports = []
    for _ in range(a.n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    print(" ".join(str(p) for p in ports))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("bbox"); p.add_argument("files", nargs="+"); p.set_defaults(fn=cmd_bbox)
    p = sub.add_parser("tiles"); p.add_argument("--bbox", required=True); p.add_argument("--zoom", type=int, required=True)
    p.add_argument("--cap", type=int, default=0); p.set_defaults(fn=cmd_tiles)
    p = sub.add_parser("mvtcount"); p.add_argument("files", nargs="+"); p.set_defaults(fn=cmd_mvtcount)
    p = sub.add_parser("features"); p.add_argument("--root", required=True); p.add_argument("--lists", required=True)
    p.add_argument("--out", required=True); p.set_defaults(fn=cmd_features)
    p = sub.add_parser("buckets"); p.add_argument("--features", required=True); p.add_argument("--timing", required=True)
    p.add_argument("--md"); p.set_defaults(fn=cmd_buckets)
    p = sub.add_parser("report"); p.add_argument("--results", required=True); p.add_argument("--meta", required=True)
    p.add_argument("--compare-md")
    p.add_argument("--md", required=True); p.add_argument("--buckets"); p.add_argument("--goals-md")
    p.add_argument("--tables-md"); p.set_defaults(fn=cmd_report)
    p = sub.add_parser("doc"); p.add_argument("--doc", required=True); p.add_argument("--meta", required=True)
    p.add_argument("--goals-md", required=True); p.add_argument("--tables-md", required=True); p.add_argument("--buckets")
    p.set_defaults(fn=cmd_doc)
    p = sub.add_parser("freeport"); p.add_argument("n", type=int, nargs="?", default=1); p.set_defaults(fn=cmd_freeport)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
