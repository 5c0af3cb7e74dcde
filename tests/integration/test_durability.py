"""Durability of the live feeds under kill -9.

The requirement: every accepted batch is appended to the write-ahead log and made durable (group
commit) before it is acknowledged; after kill -9 at any moment and a restart, every acknowledged
update is there and the server serves again within seconds.

The test runs kill/restart cycles on one store and one log, accumulating state: in each cycle
four client threads post batches of positions as fast as the server takes them and remember which
batches were acknowledged (HTTP 200 with every record accepted); a random 0.2-1.5 s after the
first acknowledgement the server gets SIGKILL. On the restart it must be listening within 5 s, and
every person of every acknowledged batch must be there with that batch's position, time and group
(checked through GET /entities with an ops token: a sample of each batch, the last batch of each
thread in full, and a sample of the batches of all earlier cycles); /health must count at least
every person acknowledged and no more than were sent.

The first cycles let the log grow (no snapshot); later ones run with --snapshot-s 1, so that
kills land before, during and after snapshots, and two of them kill the server the moment a
snapshot file is being written. In every third cycle the clients stop first and the kill finds the
server idle, every batch answered (an acknowledgement that ran ahead of the disk loses the last
batches there for sure). Some restarts are themselves killed while the state is loaded.
"""

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

THREADS = 4
BATCH = 200
CYCLES = 12
MAX_START_S = 5.0
MAX_BATCHES = 150       # per thread and cycle, so that fast disks do not pile up millions of people
TIME_BUDGET_S = 100.0   # stop adding cycles (after the 10th) when the test has run this long

TOKENS = {}


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def position(thread, seq, i):
    """Where person i of batch `seq` of thread `thread` is (a few km around Mina)."""
    lon = 39.86 + thread * 0.012 + (i % 20) * 0.00011 + (seq % 7) * 0.0023
    lat = 21.39 + (i // 20) * 0.00009 + (seq % 11) * 0.0017
    return round(lon, 7), round(lat, 7)


class Batch:
    __slots__ = ("thread", "seq", "t_ms", "cycle", "acked", "answer")

    def __init__(self, thread, seq, t_ms, cycle):
        self.thread, self.seq, self.t_ms, self.cycle = thread, seq, t_ms, cycle
        self.acked = False
        self.answer = None

    def pid(self, i):
        return "D%d-%06d-%03d" % (self.thread, self.seq, i)

    def group(self):
        return "T%dS%d" % (self.thread, self.seq)

    def body(self):
        out = []
        for i in range(BATCH):
            lon, lat = position(self.thread, self.seq, i)
            out.append(json.dumps({"id": self.pid(i), "lon": lon, "lat": lat, "time": self.t_ms,
                                   "group": self.group()}, separators=(",", ":")))
        return ("\n".join(out) + "\n").encode()


class KillableServer(mshtest.Server):
    """mshtest.Server plus SIGKILL, a per-start log file and the start-up time."""

    def __init__(self, db, *extra):
        super().__init__(db, *extra)
        self.starts = 0
        self.start_seconds = None

    def start(self, timeout=20):
        self.starts += 1
        self.log_path = mshtest.work_path("serve-%02d.stderr.log" % self.starts)
        t0 = time.monotonic()
        super().start(timeout)
        self.start_seconds = time.monotonic() - t0
        # the CPU the restart cost until it listened (replay included): the machine's load does not
        # stretch it the way it stretches the wall-clock time
        with open("/proc/%d/stat" % self.proc.pid) as f:
            ticks = f.read().rsplit(")", 1)[1].split()
        self.start_cpu_seconds = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
        return self

    def set_snapshots(self, on):
        self.extra = [a for a in self.extra if a not in ("--snapshot-s", "1")]
        if on:
            self.extra += ["--snapshot-s", "1"]

    def launch_and_kill(self, after_s):
        """Start and SIGKILL after `after_s` (while it opens and replays the log)."""
        self.starts += 1
        self.log_path = mshtest.work_path("serve-%02d-killed-early.stderr.log" % self.starts)
        self._log = open(self.log_path, "wb")
        cmd = mshtest.serve_command(self.db, "--port", "0", *mshtest.Server.NO_CLIENT_LIMITS, *self.extra)
        self.proc = mshtest.spawn(cmd,
                                  stdout=subprocess.PIPE, stderr=self._log)
        time.sleep(after_s)
        self.kill9()

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        rc = self.proc.wait(10)
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        return rc


def poster(srv_port, thread, seqs, cycle, stop, out, token):
    """Post batches until told to stop or the server goes away."""
    conn = None
    while not stop.is_set():
        if len(out) >= MAX_BATCHES:
            stop.wait()
            break
        seq = next(seqs)
        b = Batch(thread, seq, int(time.time() * 1000) - 1000, cycle)
        body = b.body()
        out.append(b)  # sent (or about to be): known, acknowledged or not
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", srv_port, timeout=15)
            conn.request("POST", "/feeds/positions", body=body,
                         headers={"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"})
            r = conn.getresponse()
            data = r.read()
            b.answer = (r.status, data[:200])
            if r.status == 200:
                doc = json.loads(data)
                b.acked = doc.get("accepted") == BATCH and doc.get("rejected") == []
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException, ValueError) as e:
            b.answer = ("error", repr(e))
            break  # the server is gone
    if conn is not None:
        conn.close()


class Checker:
    """GET /entities/{id} over keep-alive connections, from a few threads."""

    def __init__(self, port, token, nthreads=4):
        self.port, self.token, self.nthreads = port, token, nthreads

    def check(self, work):
        """work: [(Batch, i)]; returns a list of problems (strings)."""
        problems = []
        lock = threading.Lock()
        chunks = [work[k::self.nthreads] for k in range(self.nthreads)]

        def run(items):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            mine = []
            try:
                for b, i in items:
                    pid = b.pid(i)
                    for attempt in range(2):
                        try:
                            conn.request("GET", "/entities/" + pid, headers={"Authorization": "Bearer " + self.token})
                            r = conn.getresponse()
                            body = r.read()
                            break
                        except (OSError, http.client.HTTPException):
                            conn.close()
                            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                            if attempt:
                                raise
                    if r.status != 200:
                        mine.append("%s (batch %d/%d of cycle %d, acknowledged %r): HTTP %d %r"
                                    % (pid, b.thread, b.seq, b.cycle, b.answer, r.status, body[:120]))
                        continue
                    e = json.loads(body)
                    lon, lat = position(b.thread, b.seq, i)
                    glon, glat = e["geometry"]["coordinates"]
                    p = e["properties"]
                    if (abs(glon - lon) > 2e-7 or abs(glat - lat) > 2e-7 or p["time"] != iso(b.t_ms)
                            or p["group"] != b.group() or p["active"] is not True):
                        mine.append("%s: got %r at %r, expected %s at (%.7f, %.7f) group %s active"
                                    % (pid, p, (glon, glat), iso(b.t_ms), lon, lat, b.group()))
            finally:
                conn.close()
                with lock:
                    problems.extend(mine)

        ts = [threading.Thread(target=run, args=(c,)) for c in chunks]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return problems


class KillNine(unittest.TestCase):
    def test_nothing_acknowledged_is_lost(self):
        t_begin = time.monotonic()
        db = mshtest.work_path("durability.sqlite")
        mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
        for role in ("feed", "ops"):
            p = mshtest.run_mashaer("token", "add", "--db", db, "--role", role, "--name", "kill9-" + role, check=0)
            TOKENS[role] = p.stdout.splitlines()[0].strip()
        live_dir = mshtest.work_path("durability.live")
        srv = KillableServer(db, "--live-dir", live_dir, "--threads", "8")
        rng = random.Random(int(os.environ.get("MSH_KILL9_SEED", "20260526")))
        seqs = [iter(range(k * 10 ** 6, (k + 1) * 10 ** 6)) for k in range(THREADS)]
        all_batches = []       # every batch sent, over all cycles
        start_times = []
        replay_lines = []
        early_kills = 0
        cycle = 0
        try:
            srv.start()
            start_times.append(srv.start_seconds)
            snapshot_kills = 0
            while cycle < CYCLES:
                cycle += 1
                snapshots = cycle >= 6 and cycle != 9
                kill_in_snapshot = cycle in (7, 11)
                quiet = cycle % 3 == 0  # the clients stop first: the kill finds every batch answered
                # -- ingest, then kill -9 at a random moment
                stop = threading.Event()
                sent = [[] for _ in range(THREADS)]
                ts = [threading.Thread(target=poster, args=(srv.port, k, seqs[k], cycle, stop, sent[k], TOKENS["feed"]))
                      for k in range(THREADS)]
                for t in ts:
                    t.start()
                if kill_in_snapshot:
                    # once some batches are in, kill as soon as a snapshot is being written (its
                    # temporary file exists)
                    deadline = time.monotonic() + 5.0
                    while time.monotonic() < deadline and sum(b.acked for s_ in sent for b in s_[:-1]) < 8:
                        time.sleep(0.005)
                    tmp = os.path.join(live_dir, "snapshot.tmp")
                    deadline = time.monotonic() + 4.0
                    while time.monotonic() < deadline and not os.path.exists(tmp):
                        time.sleep(0.0005)
                    snapshot_kills += os.path.exists(tmp)
                else:
                    # the kill lands at a random moment once the ingest is under way: a barrier on the
                    # first acknowledged batch (asserted below), then the random delay
                    mshtest.wait_for(lambda: any(b.acked for s_ in sent for b in s_), 30,
                                     "cycle %d: a first acknowledged batch" % cycle)
                    time.sleep(rng.uniform(0.2, 1.5))
                if quiet:
                    stop.set()
                    for t in ts:
                        t.join(30)
                srv.kill9()
                stop.set()
                for t in ts:
                    t.join(30)
                    self.assertFalse(t.is_alive(), "a client thread hangs after the kill")
                batches = [b for s in sent for b in s]
                all_batches += batches
                acked = [b for b in batches if b.acked]
                unacked = [b for b in batches if not b.acked]
                # every answer but the ones cut by the kill was a full acceptance
                for b in unacked:
                    self.assertTrue(b.answer is None or b.answer[0] == "error",
                                    "batch %d/%d was answered %r, not cut by the kill" % (b.thread, b.seq, b.answer))
                self.assertGreater(len(acked), 0, "cycle %d: no batch acknowledged before the kill" % cycle)
                if quiet:
                    self.assertEqual(unacked, [], "cycle %d: the clients had stopped" % cycle)

                # -- sometimes kill the restart too, while it replays the log
                if cycle % 4 == 2:
                    srv.launch_and_kill(rng.uniform(0.0, 0.05))
                    early_kills += 1

                # -- restart: listening within MAX_START_S, replay line present
                srv.set_snapshots(snapshots)
                srv.start()
                start_times.append(srv.start_seconds)
                m = re.search(r"mashaer: live feeds: replayed (\d+) updates .* in ([0-9.]+) s", srv.stderr())
                self.assertIsNotNone(m, srv.stderr())
                replay_lines.append((int(m.group(1)), float(m.group(2))))
                self.assertLess(srv.start_cpu_seconds, MAX_START_S,
                                "restart %d took %.2f s of CPU to listen" % (cycle, srv.start_cpu_seconds))
                self.assertLess(srv.start_seconds, 4 * MAX_START_S,  # wall clock: only a bound against hangs
                                "restart %d took %.2f s to listen" % (cycle, srv.start_seconds))
                # exact head counts are for ops tokens only (anonymous /health leaves them out)
                health = srv.get("/health", headers={"Authorization": "Bearer " + TOKENS["ops"]})
                self.assertEqual(health.status, 200)
                live = health.json()["live"]
                acked_people = sum(BATCH for b in all_batches if b.acked)
                self.assertGreaterEqual(live["people"], acked_people, "fewer people than acknowledged: %r" % live)
                self.assertLessEqual(live["people"], len(all_batches) * BATCH, "more people than were sent: %r" % live)
                self.assertEqual(live["active"], live["people"], live)

                # -- every acknowledged batch of this cycle: 20 people each, the last batch of each
                #    thread in full; plus a sample of earlier cycles' acknowledged batches
                work = []
                for b in acked:
                    for i in rng.sample(range(BATCH), 20):
                        work.append((b, i))
                for k in range(THREADS):
                    mine = [b for b in acked if b.thread == k]
                    if mine:
                        last = max(mine, key=lambda b: b.seq)
                        work += [(last, i) for i in range(BATCH)]
                older = [b for b in all_batches if b.acked and b.cycle < cycle]
                for b in rng.sample(older, min(40, len(older))):
                    work += [(b, i) for i in rng.sample(range(BATCH), 5)]
                problems = Checker(srv.port, TOKENS["ops"]).check(work)
                self.assertEqual(problems[:10], [], "cycle %d: %d of %d checks failed; %d batches acknowledged, "
                                 "%d cut by the kill" % (cycle, len(problems), len(work), len(acked), len(unacked)))
                mshtest.note("cycle %2d%s%s: %3d batches acknowledged, %d cut by the kill; restart listening in "
                             "%.2f s (replayed %d updates in %.2f s, %d people); %d checks" % (
                                 cycle, " (quiet kill)" if quiet else "",
                                 ", restart with snapshots" if snapshots else "",
                                 len(acked), len(unacked),
                                 srv.start_seconds, replay_lines[-1][0], replay_lines[-1][1], live["people"],
                                 len(work)))
                if cycle >= 10 and time.monotonic() - t_begin > TIME_BUDGET_S:
                    break

            # -- at the end: a few people of every acknowledged batch of every cycle
            acked_all = [b for b in all_batches if b.acked]
            work = [(b, i) for b in acked_all for i in rng.sample(range(BATCH), 3)]
            problems = Checker(srv.port, TOKENS["ops"]).check(work)
            self.assertEqual(problems[:10], [], "final check: %d of %d failed" % (len(problems), len(work)))
            mshtest.note("%d cycles (%d restarts killed while loading, %d kills during a snapshot write): "
                         "%d batches acknowledged, %d sent; slowest restart %.2f s; %.1f s in all" % (
                             cycle, early_kills, snapshot_kills, len(acked_all), len(all_batches),
                             max(start_times), time.monotonic() - t_begin))
            self.assertGreaterEqual(snapshot_kills, 1, "no kill landed during a snapshot write")
            self.assertGreaterEqual(cycle, 10)
            # a clean stop still works on the accumulated log
            self.assertEqual(srv.stop(), 0, srv.stderr())
        finally:
            if srv.alive():
                srv.kill9()


if __name__ == "__main__":
    mshtest.main()
