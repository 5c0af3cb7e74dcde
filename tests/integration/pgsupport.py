"""A private PostgreSQL + PostGIS + pgRouting server for a test, started and stopped by it.

Debian's postgresql-15, postgresql-15-postgis-3 and postgresql-15-pgrouting (scripts/setup.sh
installs them with the test set-up). The cluster lives in a fresh folder under /tmp, listens on
127.0.0.1 at a free port, and is removed by stop(). As root, the server runs as `postgres`.
psql is driven as a subprocess: no Python driver is needed.
"""

import atexit
import csv
import io
import os
import shutil
import socket
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    def __init__(self, routing=True):
        """`routing`: pgRouting is needed too (the route tests); the store tests need PostGIS only."""
        for f in ("initdb", "pg_ctl"):
            if not os.access(os.path.join(PG_BIN, f), os.X_OK):
                raise AssertionError("PostgreSQL 15 is not installed (%s/%s); run scripts/setup.sh" % (PG_BIN, f))
        if not os.path.exists("/usr/share/postgresql/15/extension/postgis.control"):
            raise AssertionError("PostGIS is not installed (postgresql-15-postgis-3); run scripts/setup.sh")
        if routing and not os.path.exists("/usr/share/postgresql/15/extension/pgrouting.control"):
            raise AssertionError("pgRouting is not installed (postgresql-15-pgrouting); run scripts/setup.sh")
        self.dir = tempfile.mkdtemp(prefix="mashaer-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.started = False
        self.as_root = os.getuid() == 0
        if self.as_root:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, args, **kw):
        if self.as_root:
            args = ["runuser", "-u", "postgres", "--"] + args
        return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def start(self, extra=""):
        """initdb and start; `extra` server options come last, so they win (a benchmark: fsync on)."""
        p = self._run([PG_BIN + "/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"], timeout=120)
        if p.returncode:
            raise AssertionError("initdb failed:\n" + p.stderr[-2000:])
        opts = ("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c jit=off "
                "-c fsync=off -c max_connections=10 %s" % (self.port, self.dir, extra))
        p = self._run([PG_BIN + "/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-o", opts,
                       "start"], timeout=120)
        if p.returncode:
            raise AssertionError("postgres did not start:\n" + p.stdout[-1000:] + p.stderr[-1000:])
        self.started = True
        atexit.register(self.stop)  # stopped even when the test fails or is stopped by a signal (mshtest)
        return self

    def start_child(self, spawn, wait_for, extra=()):
        """initdb, then `postgres` in the foreground as a child of this process through `spawn`
        (mshtest.spawn: it dies with this process however that ends, even by SIGKILL); waits until
        it accepts connections and makes the postgis extension ready in template1, so every
        database created after has it. stop() ends it (SIGINT: a fast shutdown)."""
        p = self._run([PG_BIN + "/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                       "--locale=C"], timeout=120)
        if p.returncode:
            raise AssertionError("initdb failed:\n" + p.stderr[-2000:])
        log = os.path.join(self.dir, "log")
        cmd = [PG_BIN + "/postgres", "-D", self.data, "-c", "listen_addresses=127.0.0.1", "-p", str(self.port),
               "-c", "unix_socket_directories=" + self.dir, "-c", "jit=off", "-c", "fsync=off",
               "-c", "max_connections=40"] + list(extra)
        kw = {}
        if self.as_root:
            import pwd
            pw = pwd.getpwnam("postgres")
            kw["user"], kw["group"], kw["extra_groups"] = pw.pw_uid, pw.pw_gid, []
        self._log = open(log, "wb")
        self.child = spawn(cmd, stdout=self._log, stderr=subprocess.STDOUT, **kw)
        self.started = True
        atexit.register(self.stop)

        def ready():
            if self.child.poll() is not None:
                raise AssertionError("postgres exited %s:\n%s" % (self.child.returncode, open(log).read()[-2000:]))
            return b"ready to accept connections" in open(log, "rb").read()
        wait_for(ready, 60, "postgres to accept connections")
        self.psql("template1", "CREATE EXTENSION IF NOT EXISTS postgis")
        return self

    def stop(self):
        child = getattr(self, "child", None)
        if child is not None:
            if child.poll() is None:
                child.send_signal(2)  # SIGINT: fast shutdown
                try:
                    child.wait(60)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            self.child = None
            self.started = False
            self._log.close()
        if self.started:
            self._run([PG_BIN + "/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], timeout=60)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def dsn(self, db):
        return "host=127.0.0.1 port=%d dbname=%s user=postgres" % (self.port, db)

    def url(self, db):
        """The connection string `mashaer --db` takes for database `db`."""
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def psql(self, db, sql):
        """Run SQL; returns the rows of the last statement as lists of strings (CSV)."""
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-t", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "postgres", "-d", db],
                           input=sql, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if p.returncode:
            raise AssertionError("psql failed: %s\n%s" % (p.stderr[-2000:], sql[:500]))
        return [row for row in csv.reader(io.StringIO(p.stdout)) if row]

    def load(self, db, path, table, *extra):
        """ogr2ogr a file into a table."""
        p = subprocess.run(["ogr2ogr", "-f", "PostgreSQL", "PG:" + self.dsn(db), path, "-nln", table,
                            "-lco", "GEOMETRY_NAME=geom", "-overwrite"] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if p.returncode:
            raise AssertionError("ogr2ogr %s failed: %s" % (path, p.stderr[-2000:]))


def bench_postgres(ap, work_dir):
    """A benchmark's start (bench/store_backends.py, bench/cluster.py): adds --mashaer and --work-dir
    (default `work_dir`) to the argparse parser `ap`, parses, points mshtest at the binary and the
    folder, and starts a private PostgreSQL with fsync and synchronous commit on (a real server's
    durability). Returns (args, Postgres)."""
    import mshtest
    src = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--mashaer", default=os.path.join(src, "build", "mashaer"))
    ap.add_argument("--work-dir", default=work_dir)
    args = ap.parse_args()
    mshtest.CONFIG.mashaer = os.path.abspath(args.mashaer)
    mshtest.CONFIG.source_dir = src
    mshtest.CONFIG.work_dir = args.work_dir
    os.makedirs(args.work_dir, exist_ok=True)
    pg = Postgres(routing=False).start_child(mshtest.spawn, mshtest.wait_for,
                                             ["-c", "fsync=on", "-c", "synchronous_commit=on"])
    return args, pg
