#!/usr/bin/env python3
"""/health and cached-tile latency while 10,000 slow connections arrive from one address.

    bench/slowclients.py --mashaer build/mashaer [--baseline OTHER/mashaer] [--connections 10000]

For each build: a store with the demo camps, `mashaer serve --port 0` (default flags), one tile
fetched to warm the cache; then N fresh-connection GETs of /health and of that tile from
127.0.0.1, idle; then the same while an attacker on 127.0.0.2 keeps --connections sockets open,
each sending a partial header and a byte every 2 s, reopening any the server closes
(slowloris). A request that does not complete within --timeout s counts as failed; after 5
failures in a row a series stops (the baseline would otherwise wait for each). Prints a
Markdown table: p50 and p99 (ms) of the requests that completed, and the failures.
The open-file limit is raised to the hard limit (the server inherits it).
"""
import argparse
import errno
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import scratch  # noqa: E402

TILE = "/tiles/camps/15/20012/14387.mvt"


def start(binary, db):
    """The build with its default flags: the per-client limits are what is measured."""
    return scratch.serve(None, db, "--snapshot-s", "3600", mashaer=binary, lift_client_limits=False,
                         start_timeout=30)


def timed_get(port, path, timeout):
    st, _, s = scratch.timed_get(port, path, timeout)
    return s * 1000 if st in (200, 204) else None


def series(port, path, n, timeout):
    ms, failed, run = [], 0, 0
    for _ in range(n):
        v = timed_get(port, path, timeout)
        if v is None:
            failed += 1
            run += 1
            if run == 5:
                break
        else:
            ms.append(v)
            run = 0
    return ms, failed


def pct(ms, q):
    if not ms:
        return "-"
    s = sorted(ms)
    return "%.1f ms" % s[min(len(s) - 1, int(q * len(s)))]


class Attacker:
    """--connections slow sockets from 127.0.0.2, reopened when the server closes them."""

    def __init__(self, port, n):
        self.port, self.n = port, n
        self.socks = []
        self.stop = threading.Event()
        self.opened = 0
        self.arrived = threading.Event()  # all --connections opened once
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open_one(self):
        s = socket.socket()
        s.setblocking(False)
        s.bind(("127.0.0.2", 0))
        s.connect_ex(("127.0.0.1", self.port))
        self.opened += 1
        return [s, False]  # socket, header start sent

    def run(self):
        for _ in range(self.n):  # arrive over about 2 s
            self.socks.append(self.open_one())
            if len(self.socks) % 500 == 0:
                time.sleep(0.1)
        self.arrived.set()
        while not self.stop.is_set():
            for i, (s, started) in enumerate(self.socks):
                try:
                    s.send(b"X" if started else b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                    self.socks[i][1] = True
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno == errno.ENOTCONN:
                        continue  # still connecting
                    s.close()
                    self.socks[i] = self.open_one()
            self.stop.wait(2.0)
        for s, _ in self.socks:
            s.close()


def measure(binary, db, args):
    proc, port = start(binary, db)
    rows = []
    try:
        assert timed_get(port, TILE, 10) is not None, "the warm-up tile failed"
        for phase in ("idle", "attack"):
            att = None
            if phase == "attack":
                att = Attacker(port, args.connections)
                att.thread.start()
                att.arrived.wait()
                time.sleep(2)  # and their first bytes go out
            h, hf = series(port, "/health", args.requests, args.timeout)
            t, tf = series(port, TILE, args.requests, args.timeout)
            rows.append((phase, h, hf, t, tf, att.opened if att else 0))
            if att:
                att.stop.set()
                att.thread.join()
    finally:
        scratch.stop(proc, 30)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mashaer", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()
    scratch.raise_open_files(args.connections + 1000, "%d connections" % args.connections)
    work = tempfile.mkdtemp(prefix="mashaer-slowclients-")
    try:
        out = ["| build | phase | /health p50 | /health p99 | /health failed | tile p50 | tile p99 | tile failed | attacker sockets opened |",
               "|---|---|---|---|---|---|---|---|---|"]
        for name, binary in (("before", args.baseline), ("after", args.mashaer)):
            if not binary:
                continue
            db = os.path.join(work, name + ".sqlite")
            scratch.import_layers(binary, db, ["camps"])
            for phase, h, hf, t, tf, opened in measure(binary, db, args):
                out.append("| %s | %s | %s | %s | %d of %d | %s | %s | %d of %d | %s |" % (
                    name, phase, pct(h, 0.5), pct(h, 0.99), hf, len(h) + hf, pct(t, 0.5), pct(t, 0.99), tf,
                    len(t) + tf, "{:,}".format(opened) if opened else "-"))
        print("\n".join(out))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
