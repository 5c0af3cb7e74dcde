"""scripts/cluster.sh: start a cluster on loopback, read its status, stop exactly what it started.

`cluster.sh start --no-demo --nodes 2` in this test's work dir (MASHAER names the binary under
test): PostgreSQL, three NATS servers, two nodes, HAProxy. Then: HAProxy answers /health 200 from
a node, exactly one node holds the emitter lease, `status` names every process as running;
`stop` ends each process of its pid files (each pid checked gone afterwards) and removes them.
The cluster's processes are daemons, not children of this test: an atexit hook runs `stop` if the
test ends early.
"""

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

SCRIPT = None
RUN = None


def ports_free(base):
    for p in [base + i for i in (0, 1, 2, 20, 31, 32, 33, 36, 37, 38, 41, 42, 43, 50)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def cluster(*args, timeout=300):
    env = dict(os.environ, MASHAER=mshtest.CONFIG.mashaer)
    return subprocess.run([SCRIPT] + list(args) + ["--dir", RUN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, env=env, cwd=mshtest.CONFIG.source_dir)


class ClusterScript(unittest.TestCase):
    def test_start_status_stop(self):
        global SCRIPT, RUN
        for t in ("haproxy", "nats-server"):
            if not shutil.which(t) and not os.access("/usr/sbin/" + t, os.X_OK):
                raise AssertionError("%s is not installed; run scripts/setup.sh" % t)
        SCRIPT = os.path.join(mshtest.CONFIG.source_dir, "scripts", "cluster.sh")
        RUN = mshtest.work_path("run")
        base = next(p for p in range(21000, 60000, 97) if ports_free(p))
        atexit.register(lambda: cluster("stop", timeout=120))
        r = cluster("start", "--nodes", "2", "--port", str(base), "--no-demo")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("Mashaer cluster: http://127.0.0.1:%d (2 nodes" % base, r.stdout)
        h = mshtest.fetch("http://127.0.0.1:%d/health" % base)
        self.assertEqual((h.status, json.loads(h.body)["status"]), (200, "ok"))

        def lease(port):
            m = mshtest.parse_metrics(mshtest.fetch("http://127.0.0.1:%d/metrics" % port).body.decode())
            return int(mshtest.metric(m, "mashaer_emitter_lease"))
        mshtest.wait_for(lambda: lease(base + 1) + lease(base + 2) == 1, 20, "one node holding the emitter lease")
        # every node holds the live crowd from the feed log (live feeds on the PostgreSQL store)
        for port in (base + 1, base + 2):
            doc = json.loads(mshtest.fetch("http://127.0.0.1:%d/health" % port).body)
            self.assertEqual((doc["feed_log_connected"], doc["live"]["incidents"]), (True, 0), doc)
        st = cluster("status")
        self.assertEqual(st.returncode, 0, st.stdout)
        for name in ("haproxy", "nats1", "nats2", "nats3", "node1", "node2", "postgres"):
            self.assertRegex(st.stdout, r"(?m)^%s: running \(\d+\)" % name)
        pids = {}
        for f in os.listdir(os.path.join(RUN, "pids")):
            pids[f] = int(open(os.path.join(RUN, "pids", f)).read().split()[0])
        pids["postgres"] = int(open(os.path.join(RUN, "pg", "data", "postmaster.pid")).readline())
        self.assertEqual(len(pids), 7, pids)
        s = cluster("stop")
        self.assertEqual(s.returncode, 0, s.stdout)
        for name, pid in pids.items():
            self.assertFalse(os.path.exists("/proc/%d" % pid) and
                             b"zombie" not in open("/proc/%d/status" % pid, "rb").read().lower(),
                             "%s (%d) still runs after stop" % (name, pid))
        self.assertEqual(os.listdir(os.path.join(RUN, "pids")), [])
        self.assertIn("nothing runs", cluster("status").stdout)


if __name__ == "__main__":
    mshtest.main()
