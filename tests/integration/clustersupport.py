"""HAProxy in front of Mashaer nodes, for a test or a benchmark (test_cluster.py, bench/cluster.py).

Haproxy(ports, inter_ms).start() writes a configuration in the work dir and runs `haproxy -db` (in
the foreground) as a spawn() child, so it dies with the caller; `port` is the front, `stats` the
stats page, states() HAProxy's view of each node from its CSV stats. The configuration is the one
scripts/cluster.sh writes: round robin, health checks on /health (200 = in the rotation), and a GET
whose connection was refused or cut retried on another node (`retry-on`, `option redispatch`).
"""

import subprocess

import mshtest
import pgsupport

CONFIG = """global
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    option http-keep-alive
frontend front
    bind 127.0.0.1:%(port)d
    default_backend nodes
frontend stats
    bind 127.0.0.1:%(stats)d
    stats enable
    stats uri /
backend nodes
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
%(servers)s"""


class Haproxy:
    def __init__(self, node_ports, inter_ms=100):
        self.node_ports = list(node_ports)
        self.inter_ms = inter_ms
        self.port, self.stats = pgsupport._free_port(), pgsupport._free_port()
        self.proc = self.log = None

    def start(self):
        servers = "".join("    server node%d 127.0.0.1:%d check inter %dms fall 2 rise 2\n" % (i, p, self.inter_ms)
                          for i, p in enumerate(self.node_ports))
        cfg = mshtest.work_path("haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(CONFIG % dict(port=self.port, stats=self.stats, servers=servers))
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
        return {f[1]: f[17] for f in (line.split(",") for line in r.body.decode().splitlines())
                if len(f) > 17 and f[0] == "nodes" and f[1].startswith("node")}

    def all_up(self):
        return self.states() == {"node%d" % i: "UP" for i in range(len(self.node_ports))}

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.log is not None:
            self.log.close()
