#!/usr/bin/env python3
"""Broadcast fan-out: N SSE subscribers in one zone get a broadcast; the time from the POST to each
subscriber's frame (p50, p99, max: the last one).

    bench/broadcast_fanout.py [--mashaer build/mashaer] [--subscribers 10000] [--procs 2] [--rounds 5]

A store with the demo service zones, `mashaer serve` with `--max-sse` and `--max-connections` above
N (per-client limits lifted: every subscriber is 127.0.0.1); the open-file limit is raised to the
hard limit (the server inherits it). --procs client processes, each an asyncio loop holding its
share of the streams, half asking by place (`/events?types=broadcast&lon=&lat=` inside MINA-04:
the point-in-area test per subscriber) and half by zone (`&zone=MINA-04`). Once every stream has
read its `retry:` frame (subscribed), the main process POSTs a broadcast to MINA-04 and each client
notes CLOCK_MONOTONIC (one clock for every process on Linux) when the frame's `data:` line has
arrived; a round ends when all N have it. The POST's own time (its 201 waits for the fsync of the
store) is shown apart: a frame may arrive before the 201 does (the event is published before the
answer is sent). The clients run on the same cores as the server, so the figures include their
reading of N sockets in Python.
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import scratch  # noqa: E402

PLACE = (39.8870, 21.4290)  # inside MINA-04


async def one_stream(port, query, on_subscribed, got, key):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("GET /events?%s HTTP/1.1\r\nHost: b\r\nAccept: text/event-stream\r\n\r\n" % query).encode())
    await writer.drain()
    subscribed = False
    buf = b""
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return
        buf += chunk
        if not subscribed and buf.startswith(b"HTTP/1.1 ") and not buf.startswith(b"HTTP/1.1 200"):
            raise SystemExit("stream %d: %s" % (key, buf.split(b"\r\n")[0].decode()))
        if not subscribed and b"retry:" in buf:
            subscribed = True
            on_subscribed()
        while b"data: {\"action\"" in buf:  # the broadcast's frame: note the time, keep its id
            t = time.monotonic()
            i = buf.index(b"data: {\"action\"")
            j = buf.find(b"\n", i)
            if j < 0:
                break
            doc = json.loads(buf[i + 6:j])
            got.put((doc["broadcast"]["id"], key, t))
            buf = buf[j + 1:]
        if subscribed and len(buf) > 1 << 16:
            buf = buf[-4096:]


async def client_main(port, first, count, ready_q, got_q):
    sem = asyncio.Semaphore(200)  # connections opening at once (the listen backlog is 1,024)
    ready = asyncio.Semaphore(0)

    def subscribed():
        sem.release()
        ready.release()

    async def opened(k):
        await sem.acquire()  # released once subscribed
        query = ("types=broadcast&lon=%.4f&lat=%.4f" % PLACE) if k % 2 else "types=broadcast&zone=MINA-04"
        await one_stream(port, query, subscribed, got_q, k)

    tasks = [asyncio.ensure_future(opened(k)) for k in range(first, first + count)]
    for _ in range(count):
        await ready.acquire()
    ready_q.put(count)
    for t in asyncio.as_completed(tasks):
        await t  # a stream that fails ends this client (and the run: the main process waits for it)


def client_proc(port, first, count, ready_q, got_q):
    asyncio.run(client_main(port, first, count, ready_q, got_q))


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scratch.add_build_args(ap)
    ap.add_argument("--subscribers", type=int, default=10000)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    scratch.raise_open_files(a.subscribers + 512, "%d subscribers" % a.subscribers)
    work, db = scratch.store(a, "bcast-fanout-", ["service_zones"])
    ops = scratch.token(a.mashaer, db, "ops")
    srv, port = scratch.serve(a, db, "--live-dir", os.path.join(work, "live"), "--max-sse", str(a.subscribers + 100), "--max-sse-per-client", "0",
                              "--max-connections", str(a.subscribers + 1000), "--snapshot-s", "3600")
    procs = []
    try:
        ready_q, got_q = mp.Queue(), mp.Queue()
        share = a.subscribers // a.procs
        for p in range(a.procs):
            n = share if p < a.procs - 1 else a.subscribers - share * (a.procs - 1)
            pr = mp.Process(target=client_proc, args=(port, p * share, n, ready_q, got_q), daemon=True)
            pr.start()
            procs.append(pr)
        t_sub = time.monotonic()
        subscribed = sum(ready_q.get(timeout=300) for _ in procs)
        t_sub = time.monotonic() - t_sub
        print("%d subscribers in %.1f s" % (subscribed, t_sub), file=sys.stderr)
        rows = []
        for r in range(a.rounds):
            exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
            body = json.dumps({"target": {"zone": "MINA-04"}, "message": {"ar": "تنبيه %d" % r, "en": "Alert %d" % r},
                               "severity": "warning", "expires": exp})
            t0 = time.monotonic()
            st, hdr, data = scratch.request(port, "POST", "/broadcasts", body.encode(),
                                            {"Authorization": "Bearer " + ops, "Content-Type": "application/json"})
            t_post = time.monotonic() - t0
            if st != 201:
                raise SystemExit("POST /broadcasts: %d %s" % (st, data[:200]))
            bid = json.loads(data)["id"]
            lat = []
            while len(lat) < a.subscribers:
                b, _, t = got_q.get(timeout=120)
                if b == bid:
                    lat.append((t - t0) * 1000)
            rows.append((t_post * 1000, pct(lat, 50), pct(lat, 99), max(lat)))
            print("round %d: POST %.1f ms; frames p50 %.1f p99 %.1f max %.1f ms" % ((r + 1,) + rows[-1]),
                  file=sys.stderr)
        print("| round | POST answered (ms) | frame p50 (ms) | frame p99 (ms) | last frame (ms) |")
        print("|---|---|---|---|---|")
        for r, row in enumerate(rows):
            print("| %d | %.1f | %.1f | %.1f | %.1f |" % ((r + 1,) + row))
        print("\n%d subscribers (half by place, half by zone), %d client processes, subscribed in %.1f s"
              % (a.subscribers, a.procs, t_sub))
    finally:
        for pr in procs:
            pr.terminate()
        scratch.stop(srv)


if __name__ == "__main__":
    main()
