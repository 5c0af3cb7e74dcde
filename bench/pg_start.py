#!/usr/bin/python3
"""pg_start.py: CPU seconds an integration test spends on its private PostgreSQL server, made two ways.

  /usr/bin/python3 bench/pg_start.py [--runs 3] [--work-dir /tmp/mashaer-pg-start]

`initdb`: initdb and CREATE EXTENSION postgis in template1 in every test, the data folder under /tmp
(before session 11); `template`: the data folder copied from one made once per build dir
(pgsupport.template; made before the first timed run, so every timed run copies), still under /tmp;
`memory`: that copy on /dev/shm, a tmpfs (what the tests do now: pgsupport's in_memory). Each run starts the server, creates one database (as
mshtest.store_url does for a store) and stops it; the two ways alternate. CPU is user+sys of this
process and every child it waited for (PostgreSQL's server and its backends included).
"""
import argparse
import os
import resource
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import mshtest  # noqa: E402
import pgsupport  # noqa: E402


def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def one(template_root, in_memory):
    c0 = cpu()
    pg = pgsupport.Postgres(routing=False, in_memory=in_memory).start_child(mshtest.spawn, mshtest.wait_for,
                                                                           template_root=template_root)
    pg.psql("postgres", "CREATE DATABASE t")
    pg.stop()
    return cpu() - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work-dir", default="/tmp/mashaer-pg-start")
    args = ap.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    pgsupport.template(mshtest.spawn, mshtest.wait_for, args.work_dir)
    ways = {"initdb": (None, False), "template": (args.work_dir, False), "memory": (args.work_dir, True)}
    got = {way: [] for way in ways}
    for _ in range(args.runs):
        for way, (root, in_memory) in ways.items():
            got[way].append(one(root, in_memory))
    for way, xs in got.items():
        print("%-8s %s  mean %.2f CPU s, %.2f of initdb's" % (way, " ".join("%.2f" % x for x in xs),
                                                            sum(xs) / len(xs), sum(xs) / sum(got["initdb"])))


if __name__ == "__main__":
    main()
