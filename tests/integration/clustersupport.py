"""HAProxy in front of Mashaer nodes, for a test or a benchmark (test_cluster.py, bench/cluster.py).

Haproxy(ports, inter_ms).start() has `scripts/cluster.sh haproxy-cfg` write the configuration (the
one `cluster.sh start` runs: round robin, health checks on /health, 200 = in the rotation, and a GET
whose connection was refused or cut retried on another node) into the work dir and runs `haproxy -db`
(in the foreground) as a spawn() child, so it dies with the caller; `port` is the front, `stats` the
stats page, states() HAProxy's view of each node from its CSV stats, keyed node0, node1... in the
order of `ports`.
"""

import os
import subprocess

import mshtest
import pgsupport


class Haproxy:
    def __init__(self, node_ports, inter_ms=100):
        self.node_ports = list(node_ports)
        self.inter_ms = inter_ms
        self.port, self.stats = pgsupport._free_port(), pgsupport._free_port()
        self.proc = self.log = None

    def start(self):
        script = os.path.join(mshtest.CONFIG.source_dir, "scripts", "cluster.sh")
        cfg = mshtest.work_path("haproxy.cfg")
        with open(cfg, "w") as f:
            subprocess.run(["bash", script, "haproxy-cfg", "--port", str(self.port), "--stats", str(self.stats),
                            "--inter-ms", str(self.inter_ms)] + [str(p) for p in self.node_ports],
                           stdout=f, check=True, timeout=30)
        self.log = open(mshtest.work_path("haproxy.log"), "wb")
        self.proc = mshtest.spawn(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=self.log)
        return self

    def states(self):
        """{'node0': 'UP', ...} ({} before it listens)."""
        try:
            r = mshtest.fetch("http://127.0.0.1:%d/;csv" % self.stats, timeout=5)
        except OSError:
            if self.proc.poll() is not None:
                raise AssertionError("haproxy exited: " + open(mshtest.work_path("haproxy.log")).read()[-2000:])
            return {}
        # cluster.sh names the servers node1, node2... in the order of the ports
        return {"node%d" % (int(f[1][4:]) - 1): f[17] for f in (line.split(",") for line in r.body.decode().splitlines())
                if len(f) > 17 and f[0] == "nodes" and f[1].startswith("node")}

    def all_up(self):
        return self.states() == {"node%d" % i: "UP" for i in range(len(self.node_ports))}

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.log is not None:
            self.log.close()
