#!/usr/bin/python3
"""The cluster on this machine: tile rate of one node against two behind HAProxy, CPU per tile,
the failover figures, and the PostgreSQL edit rate the capacity model needs.

    /usr/bin/python3 bench/cluster.py --mashaer build/mashaer [--seconds 10] [--connections 16]

Set-up: a private PostgreSQL 15 + PostGIS (tests/integration/pgsupport.py, fsync on, a child of this
script), the demo data imported into it, two `mashaer serve` nodes on that database (`--cache-mb 0`
so that every tile is built: the CPU a tile costs, not a cache hit) and HAProxy in front.
Load: wrk (bench/tiles.lua) over the 36 tiles of bench/store_backends.py (z13-16 around Mina,
four layers), --connections keep-alive connections on 2 threads, for --seconds:
  1. one node directly; 2. two nodes through HAProxy.
CPU per tile = the nodes' user + system CPU (from /proc/PID/stat) over the tiles they answered.
Failover: wrk through HAProxy while one node is killed with SIGKILL after a third of the run:
failed requests (wrk's non-2xx and socket errors), and the time for the other node to take the
emitter lease. Edit rate: single-row INSERTs committed one by one by one psql client (fsync on),
the kind of write an edit's audit makes.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import mshtest  # noqa: E402

import clustersupport  # noqa: E402
import pgsupport  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "lib"))
import pgbench  # noqa: E402
import scratch  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=int, default=10)
ap.add_argument("--connections", type=int, default=16)
args, _, PG = pgbench.setup(ap, "/tmp/mashaer-bench-cluster")
PG.psql("postgres", "CREATE DATABASE bench")
URL = PG.url("bench")
for name in mshtest.DEMO_LAYERS:
    mshtest.run_mashaer("import", "--db", URL, "--layer", name, mshtest.demo_path(name + ".geojson"), check=0)

PATHS = mshtest.work_path("paths.txt")
with open(PATHS, "w") as f:
    for z in (13, 14, 15, 16):
        x0, y0 = mshtest.lonlat_to_tile(39.8895, 21.4150, z)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                f.write("/tiles/camps,walkways,assets,service_zones/%d/%d/%d.mvt\n" % (z, x0 + dx, y0 + dy))

PORTS = [pgsupport._free_port(), pgsupport._free_port()]


def node(i):
    return mshtest.Server(URL, "--cache-mb", "0", "--port", PORTS[i], name="node%d" % i).start()


NODES = [node(0), node(1)]
HA = clustersupport.Haproxy(PORTS, inter_ms=200).start()


def wrk(port, seconds):
    p = subprocess.run(["wrk", "-t2", "-c%d" % args.connections, "-d%ds" % seconds, "-s",
                        os.path.join(HERE, "tiles.lua"), "http://127.0.0.1:%d" % port, "--", PATHS, "2"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds + 60)
    m = re.search(r"^BENCH (.*)$", p.stdout, re.M)
    if not m:
        raise AssertionError("wrk said:\n" + p.stdout[-2000:])
    out = dict(kv.split("=", 1) for kv in m.group(1).split())
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", p.stdout)
    out["socket_errors"] = sum(map(int, errs.groups())) if errs else 0
    return out


def run(label, port, nodes):
    c0 = sum(scratch.cpu_s(n.proc.pid) for n in nodes)
    r = wrk(port, args.seconds)
    c1 = sum(scratch.cpu_s(n.proc.pid) for n in nodes)
    reqs = int(r["requests"])
    res = dict(label=label, rps=round(float(r["rps"])), p50_ms=round(int(r["p50_us"]) / 1000, 2),
               p99_ms=round(int(r["p99_us"]) / 1000, 2), node_cpu_s=round(c1 - c0, 2),
               cpu_ms_per_tile=round((c1 - c0) * 1000 / max(reqs, 1), 3),
               errors=int(r.get("err_status", 0)) + int(r.get("err_other", 0)) + r["socket_errors"])
    print(json.dumps(res), flush=True)
    return res


mshtest.wait_for(HA.all_up, 30, "both nodes UP")
results = {"machine": os.cpu_count()}
results["one_node_direct"] = run("one node, direct", PORTS[0], NODES[:1])
results["two_nodes_haproxy"] = run("two nodes behind HAProxy", HA.port, NODES)

# failover: kill -9 one node a third of the way into a run through HAProxy
holder = next(i for i, n in enumerate(NODES)
              if mshtest.metric(mshtest.parse_metrics(n.get("/metrics").body.decode()), "mashaer_emitter_lease") == 1)
other = 1 - holder
kill_at = {}


def killer():
    time.sleep(args.seconds / 3)  # a benchmark's schedule, not a synchronisation
    NODES[holder].proc.kill()
    kill_at["t"] = time.monotonic()
    mshtest.wait_for(lambda: mshtest.metric(mshtest.parse_metrics(NODES[other].get("/metrics").body.decode()),
                                            "mashaer_emitter_lease") == 1, 30, "the lease to move", interval=0.005)
    kill_at["lease_s"] = time.monotonic() - kill_at["t"]


t = threading.Thread(target=killer)
t.start()
fo = wrk(HA.port, args.seconds)
t.join()
results["failover"] = dict(requests=int(fo["requests"]),
                           failed=int(fo.get("err_status", 0)) + int(fo.get("err_other", 0)) + fo["socket_errors"],
                           lease_takeover_s=round(kill_at["lease_s"], 3))
print(json.dumps(results["failover"]), flush=True)
NODES[holder].stop()

# edits: single-row commits on PostgreSQL, one client
PG.psql("bench", "CREATE TABLE edit_bench (id serial primary key, body text)")
n = 2000
sql = "".join("INSERT INTO edit_bench (body) VALUES ('%d');\n" % i for i in range(n))
t0 = time.monotonic()
PG.psql("bench", sql)
results["pg_single_row_commits_per_s"] = round(n / (time.monotonic() - t0))
print(json.dumps({"pg_single_row_commits_per_s": results["pg_single_row_commits_per_s"]}), flush=True)

HA.stop()
NODES[other].stop()
PG.stop()
print("RESULT " + json.dumps(results))
