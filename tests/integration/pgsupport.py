"""A private PostgreSQL + PostGIS + pgRouting server for a test, started and stopped by it.

Debian's postgresql-15, postgresql-15-postgis-3 and postgresql-15-pgrouting (scripts/setup.sh
installs them with the test set-up). The cluster lives in a fresh folder under /tmp (a test's: in
memory, under /dev/shm), listens on 127.0.0.1 at a free port, and is removed by stop(). As root, the
server runs as `postgres`.
psql is driven as a subprocess: no Python driver is needed.
"""

import atexit
import csv
import fcntl
import hashlib
import io
import os
import shutil
import socket
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"


SHM = "/dev/shm"


def _roomy(root):
    """`root` is a folder this process may write with 1 GB free (a container's /dev/shm is often
    64 MB: then the data folder stays on disk)."""
    try:
        st = os.statvfs(root)
    except OSError:
        return False
    return os.access(root, os.W_OK) and st.f_bavail * st.f_frsize >= 1 << 30


def _sweep(root):
    """Remove the in-memory data folders whose test process is gone (one killed by SIGKILL, which left
    its folder behind: a folder's name carries its process id)."""
    for name in os.listdir(root):
        parts = name.split("-")
        if name.startswith("mashaer-pg-") and len(parts) >= 4 and parts[2].isdigit():
            try:
                os.kill(int(parts[2]), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
            except PermissionError:
                pass


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    def __init__(self, routing=True, in_memory=False):
        """`routing`: pgRouting is needed too (the route tests); the store tests need PostGIS only.
        `in_memory`: the data folder on /dev/shm (a tmpfs) when it has room, for the tests: copying
        the template and writing there costs a tenth of the CPU it takes on a disk's file system
        (docs/BENCHMARKS.md); a benchmark that measures writes made durable keeps it on disk."""
        for f in ("initdb", "pg_ctl"):
            if not os.access(os.path.join(PG_BIN, f), os.X_OK):
                raise AssertionError("PostgreSQL 15 is not installed (%s/%s); run scripts/setup.sh" % (PG_BIN, f))
        if not os.path.exists("/usr/share/postgresql/15/extension/postgis.control"):
            raise AssertionError("PostGIS is not installed (postgresql-15-postgis-3); run scripts/setup.sh")
        if routing and not os.path.exists("/usr/share/postgresql/15/extension/pgrouting.control"):
            raise AssertionError("pgRouting is not installed (postgresql-15-pgrouting); run scripts/setup.sh")
        shm = in_memory and _roomy(SHM)
        if shm:
            _sweep(SHM)
        self.dir = tempfile.mkdtemp(prefix="mashaer-pg-%d-" % os.getpid(), dir=SHM if shm else None)
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

    def start_child(self, spawn, wait_for, extra=(), template_root=None):
        """`postgres` in the foreground as a child of this process through `spawn` (mshtest.spawn: it
        dies with this process however that ends, even by SIGKILL), on a data folder where template1
        holds the postgis extension, so every database created after has it; waits until it accepts
        connections. stop() ends it (SIGINT: a fast shutdown).

        With `template_root` (a folder: the build dir's tests) the data folder is a copy of one made
        there once (template(): initdb and CREATE EXTENSION postgis, about 1.5 CPU seconds, under a lock
        so that tests run side by side make it once); without, initdb runs here and the extension
        is made after the start."""
        if template_root:
            made = template(spawn, wait_for, template_root)
            p = subprocess.run(["cp", "-a", "--reflink=auto", os.path.join(made, "data"), self.data],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
            if p.returncode:
                raise AssertionError("copying the PostgreSQL template failed:\n" + p.stderr[-2000:])
        else:
            self._initdb()
        self._spawn(spawn, wait_for, extra)
        if not template_root:
            self.psql("template1", "CREATE EXTENSION IF NOT EXISTS postgis")
        return self

    def _initdb(self):
        p = self._run([PG_BIN + "/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                       "--locale=C"], timeout=120)
        if p.returncode:
            raise AssertionError("initdb failed:\n" + p.stderr[-2000:])

    def _spawn(self, spawn, wait_for, extra):
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
                with open(log) as f:
                    raise AssertionError("postgres exited %s:\n%s" % (self.child.returncode, f.read()[-2000:]))
            with open(log, "rb") as f:
                return b"ready to accept connections" in f.read()
        wait_for(ready, 60, "postgres to accept connections")

    def shutdown(self):
        """Stop the server and keep its data folder."""
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

    def stop(self):
        self.shutdown()
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


def template(spawn, wait_for, root):
    """The folder under `root` whose `data` is a stopped PostgreSQL cluster with the postgis extension
    in template1 (start_child copies it). Made on first use and kept; its name carries the installed
    PostgreSQL's and PostGIS's files, so an upgrade makes a new one. A lock file orders the tests that
    ctest -j runs at once: one makes it, the others wait and copy; a folder is only renamed into place
    complete (READY written), so a test killed half-way leaves nothing that looks made."""
    key = hashlib.sha1()
    for f in (PG_BIN + "/postgres", "/usr/share/postgresql/15/extension/postgis.control"):
        st = os.stat(f)
        key.update(("%s %d %d;" % (f, st.st_size, st.st_mtime_ns)).encode())
    made = os.path.join(root, "pg-template-" + key.hexdigest()[:12])
    ready = os.path.join(made, "READY")
    if os.path.exists(ready):
        return made
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "pg-template.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(ready):
            return made
        pg = Postgres(routing=False)
        try:
            pg._initdb()
            pg._spawn(spawn, wait_for, ())
            pg.psql("template1", "CREATE EXTENSION IF NOT EXISTS postgis")
            pg.shutdown()
            part = made + ".part"
            shutil.rmtree(part, ignore_errors=True)
            shutil.rmtree(made, ignore_errors=True)
            os.makedirs(part)
            p = subprocess.run(["cp", "-a", pg.data, os.path.join(part, "data")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
            if p.returncode:
                raise AssertionError("saving the PostgreSQL template failed:\n" + p.stderr[-2000:])
            open(os.path.join(part, "READY"), "w").close()
            os.rename(part, made)
        finally:
            pg.stop()
    return made
