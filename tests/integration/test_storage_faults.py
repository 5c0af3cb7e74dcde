"""Storage faults are states, not dead ends: a full disk and a read-only live folder.

The live folder sits on a real small file system, a tmpfs with a size, mounted in a mount
namespace of this test's own (so it disappears with the test, whatever way it ends): as root
with `unshare --mount`, as any other user with `unshare --user --map-root-user --mount`. When
neither works the test fails and says so; it never skips.

Full disk: one client posts batches of new people while the test fills the file system. Every
batch answered 503 must be absent from the live state (GET /entities: 404), every acknowledged
one present; /health answers 503 {"status":"degraded","reason":...} and /metrics counts the
failures. Then the space is freed: /health turns "ok" by itself (a barrier with a deadline, no
restart, no post needed), posts are accepted again. After kill -9 and a restart the state is
exactly what was acknowledged.

Read-only folder at start: the server starts, serves what the folder holds, answers feed posts
503 and /health 503 with the reason; when the folder becomes writable again it resumes by itself.

File modes: the store, the live folder, its log segments and snapshots are the owner's alone.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

NS_ENV = "MSH_STORAGE_FAULTS_NS"
FS_SIZE = "8m"
BATCH = 40
TOKENS = {}
DB = None


def in_own_namespace():
    """Re-run this file inside a mount namespace of its own (and a user namespace when not root)."""
    if os.environ.get(NS_ENV):
        return
    cmd = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        cmd = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    env = dict(os.environ, **{NS_ENV: "1"})
    try:
        p = subprocess.run(cmd + ["true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.exit("FAILED: storage fault tests need a mount namespace (%s): %s" % (" ".join(cmd), e))
    if p.returncode != 0:
        sys.exit("FAILED: storage fault tests need a mount namespace, and `%s true` failed: %s"
                 % (" ".join(cmd), p.stderr.decode(errors="replace").strip()))
    os.execvpe(cmd[0], cmd + [sys.executable] + sys.argv, env)


def mount_tmpfs(path, size=FS_SIZE):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path], check=True)


def remount(path, mode):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "remount,%s" % mode, "tmpfs", path], check=True)


def fill(path):
    """Write a file until the file system is full; returns its path."""
    filler = os.path.join(path, "filler")
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        try:  # the last few bytes too
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def auth(role):
    return {"Authorization": "Bearer " + TOKENS[role]}


def batch_body(k):
    lines = []
    t = mshtest.now_ms()
    for i in range(BATCH):
        lines.append(json.dumps({"id": "SF%05d-%02d" % (k, i), "lon": 39.87 + (k % 50) * 1e-4,
                                 "lat": 21.40 + i * 1e-4, "time": t}))
    return ("\n".join(lines) + "\n").encode()


def pids(k):
    return ["SF%05d-%02d" % (k, i) for i in range(BATCH)]


class Poster(threading.Thread):
    """One client posting batch after batch of new people; records what was acknowledged."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.stop = threading.Event()
        self.acked, self.refused, self.other = [], [], []
        self.cond = threading.Condition()
        self.k = 0

    def run(self):
        while not self.stop.is_set():
            self.k += 1
            r = mshtest.post_feed(self.srv, "positions", batch_body(self.k), TOKENS["feed"])
            with self.cond:
                if r.status == 200 and r.json() == {"accepted": BATCH, "rejected": []}:
                    self.acked.append(self.k)
                elif r.status == 503:
                    self.refused.append((self.k, r.body[:300]))
                else:
                    self.other.append((self.k, r.status, r.body[:300]))
                self.cond.notify_all()

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
                self.cond.wait(left)


def health(srv):
    r = srv.get("/health")
    return r.status, json.loads(r.body)


def present(srv, pid):
    r = srv.get("/entities/" + pid, headers=auth("ops"))
    assert r.status in (200, 404), (pid, r.status, r.body[:200])
    return r.status == 200


def setUpModule():
    global DB
    DB = mshtest.work_path("faults.sqlite")
    mshtest.import_layer(DB, mshtest.demo_path("sites.geojson"), "sites")
    for role in ("feed", "ops"):
        TOKENS[role] = mshtest.add_token(DB, role, "sf-" + role)


class StorageFaults(unittest.TestCase):
    def check_state(self, srv, acked, refused, where):
        for k in refused:
            for pid in pids(k):
                self.assertFalse(present(srv, pid), "%s: %s of batch %d was answered 503 but is held"
                                 % (where, pid, k))
        for k in acked:
            for pid in pids(k)[:: 13] + [pids(k)[-1]]:
                self.assertTrue(present(srv, pid), "%s: %s of acknowledged batch %d is missing" % (where, pid, k))

    def test_full_disk(self):
        fs = mshtest.work_path("fs-full")
        mount_tmpfs(fs)
        live = os.path.join(fs, "live")
        srv = mshtest.Server(DB, "--live-dir", live, "--snapshot-s", "1", name="full")
        srv.start()
        poster = Poster(srv)
        filler = None
        try:
            self.assertEqual(health(srv)[0], 200)
            poster.start()
            poster.wait(lambda: len(poster.acked) >= 5, 20, "5 acknowledged batches")
            filler = fill(fs)
            poster.wait(lambda: len(poster.refused) >= 5, 20, "5 batches refused on the full disk")
            with poster.cond:
                refused_now = [k for k, _ in poster.refused]
            self.check_state(srv, [], refused_now, "on the full disk")
            status, doc = health(srv)
            self.assertEqual(status, 503, doc)
            self.assertEqual(doc["status"], "degraded")
            self.assertIn("No space left on device", doc["reason"])
            m = mshtest.parse_metrics(srv.get("/metrics").body.decode())
            self.assertGreaterEqual(mshtest.metric(m, "mashaer_wal_failures_total"), 1)
            self.assertEqual(mshtest.metric(m, "mashaer_storage_degraded"), 1)
            self.assertIn(b"No space left on device", poster.refused[-1][1])
            # free the space: the server recovers by itself, no post needed to notice
            poster.stop.set()
            poster.join(30)
            n_acked = len(poster.acked)
            os.unlink(filler)
            filler = None
            t0 = time.monotonic()
            mshtest.wait_for(lambda: health(srv)[0] == 200, 15, "/health ok after the space was freed")
            mshtest.note("healthy %.2f s after the space was freed" % (time.monotonic() - t0))
            self.assertEqual(health(srv)[1]["status"], "ok")
            poster2 = Poster(srv)
            poster2.k = poster.k
            poster2.start()
            poster2.wait(lambda: len(poster2.acked) >= 5, 20, "5 batches accepted after the space was freed")
            poster2.stop.set()
            poster2.join(30)
            self.assertEqual(poster2.refused, [])
            self.assertEqual(poster.other + poster2.other, [])
            acked = poster.acked + poster2.acked
            refused = [k for k, _ in poster.refused]
            self.assertGreater(n_acked, 0)
            m = mshtest.parse_metrics(srv.get("/metrics").body.decode())
            self.assertGreaterEqual(mshtest.metric(m, "mashaer_wal_recoveries_total"), 1)
            self.assertEqual(mshtest.metric(m, "mashaer_storage_degraded"), 0)
            self.check_state(srv, acked, refused, "after recovery")
            # kill -9 and restart: exactly what was acknowledged
            os.kill(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait(10)
            srv.stop()
            srv.start()
            self.check_state(srv, acked, refused, "after kill -9 and restart")
            self.assertEqual(health(srv)[0], 200)
            self.check_modes(live)
        finally:
            poster.stop.set()
            if filler:
                os.unlink(filler)
            srv.stop()

    def check_modes(self, live):
        def mode(p):
            return stat.S_IMODE(os.stat(p).st_mode)
        self.assertEqual(mode(live), 0o700, live)
        names = os.listdir(live)
        self.assertTrue(any(n.startswith("wal-") for n in names), names)
        self.assertTrue(any(n.startswith("snapshot-") for n in names), names)
        for n in names:
            p = os.path.join(live, n)
            if n == "playback" and os.path.isdir(p):  # the kept minutes (README, --playback-hours): its own folder
                self.assertEqual(mode(p), 0o700, p)
                for f in os.listdir(p):
                    self.assertEqual(mode(os.path.join(p, f)), 0o600, f)
                continue
            self.assertEqual(mode(p), 0o600, n)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(DB + suffix):
                self.assertEqual(mode(DB + suffix), 0o600, DB + suffix)

    def test_read_only_folder_at_start(self):
        fs = mshtest.work_path("fs-ro")
        mount_tmpfs(fs)
        live = os.path.join(fs, "live")
        srv = mshtest.Server(DB, "--live-dir", live, name="ro")
        try:
            srv.start()
            mshtest.post_ok(srv, "positions", [{"id": "RO-1", "lon": 39.88, "lat": 21.41, "time": mshtest.now_ms()}],
                            TOKENS["feed"])
            srv.stop()
            remount(fs, "ro")
            srv.start()
            self.assertIn("cannot be written", srv.stderr())
            status, doc = health(srv)
            self.assertEqual((status, doc["status"]), (503, "degraded"), doc)
            self.assertIn("Read-only file system", doc["reason"])
            self.assertTrue(present(srv, "RO-1"), "the state the folder holds is served")
            r = mshtest.post_feed(srv, "positions", [{"id": "RO-2", "lon": 39.88, "lat": 21.41,
                                                      "time": mshtest.now_ms()}], TOKENS["feed"])
            self.assertEqual(r.status, 503, r.body)
            self.assertIn(b"Read-only file system", r.body)
            self.assertFalse(present(srv, "RO-2"))
            # writable again: it resumes by itself
            remount(fs, "rw")
            mshtest.wait_for(lambda: health(srv)[0] == 200, 15, "/health ok once the folder is writable")
            mshtest.post_ok(srv, "positions", [{"id": "RO-3", "lon": 39.88, "lat": 21.41, "time": mshtest.now_ms()}],
                            TOKENS["feed"])
            self.assertTrue(present(srv, "RO-3"))
        finally:
            srv.stop()


if __name__ == "__main__":
    in_own_namespace()
    mshtest.main()
