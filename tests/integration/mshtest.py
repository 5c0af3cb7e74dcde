"""Shared helpers for the Mashaer integration tests.

Every test file is a standalone unittest program run by ctest as

    /usr/bin/python3 test_NAME.py --mashaer BIN --source-dir SRC --work-dir DIR

Only the Python standard library and GDAL's Python bindings (osgeo, Debian's
python3-gdal) are used. The helpers here:

  * parse those options (CONFIG, main()) and prepare an empty work directory (work_path,
    demo_path),
  * run `mashaer import` and parse its report lines (run_mashaer, import_layer, import_demo,
    parse_reports),
  * read a store with sqlite3 (+ mod_spatialite for geometry): Store; write to it as another
    program would (store_exec), copy it (copy_store), ask whether it was made (store_exists),
  * run against PostgreSQL instead: with MSH_TEST_STORE=postgresql every `--db FILE` given to
    mashaer (run_mashaer, Server) becomes a database of one private PostgreSQL + PostGIS server
    of this test process (store_url; its data folder copied from one made once per build dir,
    pgsupport.template), `mashaer serve` gets --live-dir FILE.live (serve_args), and Store,
    store_exec, copy_store work on that database; a test whose subject is the SpatiaLite file
    itself says so (spatialite_only) and runs on SpatiaLite whatever the variable says,
  * start `mashaer serve --port 0` on a store and stop it with SIGTERM (Server); start any other
    child process so that it dies with the test (spawn),
  * wait on a condition, never a fixed sleep: wait_for(pred, timeout, what) polls pred and
    fails naming what it waited for; now_ms() is the wall clock in ms, as feeds carry it,
  * fetch URLs (fetch, urllib; raw_request, http.client with raw, un-normalised paths) and read
    /metrics (parse_metrics, metric),
  * post to the live feeds: post_feed(server, feed, records_or_body, token, ...) returns the
    Response; post_ok(...) also checks that every record was accepted and returns the answer,
  * decode MVT tiles with GDAL's MVT driver (decode_mvt, fetch_tile; EPSG:3857 coordinates) and
    PNG images with zlib (decode_png: RGB or RGBA, 8 bits, CRCs checked),
  * a little Web Mercator tile math and geometry measures.
"""

import argparse
import atexit
import collections
import gzip
import itertools
import json
import math
import os
import re
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import http.client
import socket
import threading

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()

# ---------------------------------------------------------------------------
# command line


class Config:
    mashaer = None     # path of the mashaer binary
    source_dir = None  # the repository root
    work_dir = None    # an empty directory owned by this test file


CONFIG = Config()


def main():
    """Parse our options, prepare the work dir, then run unittest with the rest of argv."""
    ap = argparse.ArgumentParser(add_help=False)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--mashaer", default=os.environ.get("MASHAER", ""))
    ap.add_argument("--source-dir", default=os.path.normpath(os.path.join(here, "..", "..")))
    ap.add_argument("--work-dir", default="")
    opts, rest = ap.parse_known_args()
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    CONFIG.source_dir = os.path.abspath(opts.source_dir)
    CONFIG.mashaer = os.path.abspath(opts.mashaer or os.path.join(CONFIG.source_dir, "build", "mashaer"))
    CONFIG.work_dir = os.path.abspath(opts.work_dir or os.path.join("/tmp", "mashaer-it-" + name))
    if not os.access(CONFIG.mashaer, os.X_OK):
        sys.exit("mashaer binary not found or not executable: %s" % CONFIG.mashaer)
    shutil.rmtree(CONFIG.work_dir, ignore_errors=True)
    os.makedirs(CONFIG.work_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


def work_path(*parts):
    return os.path.join(CONFIG.work_dir, *parts)


def demo_path(name):
    return os.path.join(CONFIG.source_dir, "data", "demo", name)


DEMO_LAYERS = ["assets", "camps", "cleaning_routes", "service_zones", "sites", "walkways", "site_walkways"]
# what a server of the demo store serves: `mashaer serve` adds the (empty) work_orders layer where there are assets,
# the (empty) cleaning_tasks layer where there are cleaning routes, the (empty) counting_lines layer where there
# are sites, and the reports layer
SERVED_LAYERS = DEMO_LAYERS + ["work_orders", "cleaning_tasks", "counting_lines", "reports"]
PUBLIC_SERVED_LAYERS = DEMO_LAYERS + ["work_orders", "cleaning_tasks", "counting_lines"]  # reports: ops only

# ---------------------------------------------------------------------------
# running mashaer


def run_mashaer(*args, timeout=120, check=None):
    """Run `mashaer ARGS...`; returns the CompletedProcess (text mode). The value after `--db` goes
    through store_url."""
    args = [str(a) for a in args]
    if args and args[0] == "serve":
        args = serve_args(args)
    for i in range(len(args) - 1):
        if args[i] == "--db":
            args[i + 1] = store_url(args[i + 1])
    p = subprocess.run([CONFIG.mashaer] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError("mashaer %s exited %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), p.returncode, check, p.stdout, p.stderr))
    return p


REPORT_RE = re.compile(
    r"^imported (?P<name>\S+) \(from (?P<src>[^)]*)\): (?P<features>\d+) features, (?P<repaired>\d+) repaired, "
    r"(?P<skipped>\d+) skipped \(no geometry\), (?P<rejected>\d+) rejected, version (?P<version>\d+), "
    r"(?P<seconds>[0-9.]+) s$")


def parse_reports(stdout):
    """The `imported ...` lines of an import run, as dicts (numbers as int)."""
    out = []
    for line in stdout.splitlines():
        m = REPORT_RE.match(line)
        if m:
            d = m.groupdict()
            for k in ("features", "repaired", "skipped", "rejected", "version"):
                d[k] = int(d[k])
            d["seconds"] = float(d["seconds"])
            out.append(d)
    return out


def import_layer(db, source, layer=None, *extra, check=0):
    """`mashaer import --db DB [--layer LAYER] EXTRA... SOURCE`; returns (process, reports)."""
    args = ["import", "--db", db]
    if layer:
        args += ["--layer", layer]
    args += list(extra) + [source]
    p = run_mashaer(*args, check=check)
    return p, parse_reports(p.stdout)


def import_walkways(db, lines, name="walkways"):
    """Import made-up walkways: `lines` are lists of (lon, lat) points, one LineString each."""
    path = work_path(name + ".geojson")
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "w"},
             "geometry": {"type": "LineString", "coordinates": [list(p) for p in pts]}} for pts in lines]}, f)
    import_layer(db, path, name, check=0)


def import_demo(db, layers=DEMO_LAYERS):
    """Import data/demo/{layer}.geojson as {layer} for each layer; returns {layer: report}."""
    reports = {}
    for name in layers:
        _, reps = import_layer(db, demo_path(name + ".geojson"), name)
        assert len(reps) == 1 and reps[0]["name"] == name, reps
        reports[name] = reps[0]
    return reports


def add_token(db, role, name):
    """`mashaer token add`: a new token of that role and name; returns its secret (the first line)."""
    return run_mashaer("token", "add", "--db", db, "--role", role, "--name", name,
                       check=0).stdout.split("\n")[0].strip()

# ---------------------------------------------------------------------------
# reading a store


# ---------------------------------------------------------------------------
# the store backend: SpatiaLite files (the default) or PostgreSQL (MSH_TEST_STORE=postgresql)

STORE_BACKEND = os.environ.get("MSH_TEST_STORE", "spatialite")
if STORE_BACKEND not in ("spatialite", "postgresql"):
    sys.exit("MSH_TEST_STORE must be spatialite or postgresql, not %r" % STORE_BACKEND)
_PG = None  # the private PostgreSQL server of this process, started on first use
_PG_DBS = {}  # store file -> database name


def spatialite_only(why):
    """Called at the top of a test file whose subject is the SpatiaLite file itself (a corrupt or
    unwritable file, its WAL, the PostgreSQL tests' own set-up): the file then runs on SpatiaLite
    whatever MSH_TEST_STORE says, and says why on stderr. Kept few: a test that is about the server
    rather than the file reads the store through Store and runs on both."""
    global STORE_BACKEND
    if STORE_BACKEND != "spatialite":
        sys.stderr.write("%s: runs on SpatiaLite whatever MSH_TEST_STORE says: %s\n"
                         % (os.path.basename(sys.argv[0]), why))
    STORE_BACKEND = "spatialite"


def pg_server():
    """The private PostgreSQL server of this test process (started on first call, stopped at exit;
    it runs as a spawn() child, so it dies with the test however the test ends)."""
    global _PG
    if _PG is None:
        import pgsupport
        _PG = pgsupport.Postgres(routing=False, in_memory=True).start_child(spawn, wait_for,
                                                                           template_root=pg_template_root())
        # servers first, then PostgreSQL: atexit runs the latest registration first
        atexit.unregister(_stop_all_servers)
        atexit.register(_stop_all_servers)
    return _PG


def pg_template_root():
    """Where the tests keep the PostgreSQL data folder they copy (pgsupport.template): beside their
    work dirs, so one build dir makes it once."""
    return os.path.dirname(CONFIG.work_dir)


def serve_args(args):
    """`mashaer serve` ARGS as the test's backend needs them. On SpatiaLite the live folder is FILE.live
    beside the store; a PostgreSQL store has no file to put it beside, and runs without live feeds
    unless --live-dir names one: so on PostgreSQL --live-dir FILE.live is added (unless the test
    names one or asks for --no-live), and both backends keep live state in the same place."""
    args = [str(a) for a in args]
    if STORE_BACKEND != "postgresql" or "--live-dir" in args or "--no-live" in args or "--help" in args:
        return args
    if "--db" in args and args.index("--db") + 1 < len(args):
        db = args[args.index("--db") + 1]
        if db.startswith("postgres"):  # a URL store_url made: the file it stands for
            db = next((f for f, name in _PG_DBS.items() if db.endswith("/" + name)), None)
        if db:
            args += ["--live-dir", db + ".live"]
    return args


def missing_store(name):
    """A `--db` naming a store that does not exist: the file `name` in the work dir (not made), or on
    PostgreSQL a database of pg_server() that was never created."""
    if STORE_BACKEND == "postgresql":
        return pg_server().url(re.sub(r"\W", "_", os.path.splitext(name)[0]))
    return work_path(name)


def store_exists(db):
    """True once the store `db` was made (the file, or on PostgreSQL its database)."""
    if STORE_BACKEND != "postgresql":
        return os.path.exists(db)
    return os.path.abspath(str(db)) in _PG_DBS


def copy_store(src, dst):
    """Make the store `dst` a copy of the store `src` (replacing it): the file copied through SQLite's
    backup (what its -wal holds included), or on PostgreSQL a database made from src's as its template;
    while a server is connected to src (which CREATE DATABASE refuses) src is copied through pg_dump
    into a new database instead."""
    if STORE_BACKEND != "postgresql":
        for ext in ("", "-wal", "-shm"):
            if os.path.exists(str(dst) + ext):
                os.unlink(str(dst) + ext)
        with sqlite3.connect("file:%s?mode=ro" % src, uri=True) as a, sqlite3.connect(dst) as b:
            a.backup(b)
        a.close()
        b.close()
        return
    pg = pg_server()
    source = _pg_db(src)
    key = os.path.abspath(str(dst))
    name = _pg_db_name(key)
    _PG_DBS.pop(key, None)
    pg.psql("postgres", "DROP DATABASE IF EXISTS %s" % name)
    busy = pg.psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'" % source)[0][0] != "0"
    if not busy:
        try:
            pg.psql("postgres", "CREATE DATABASE %s TEMPLATE %s" % (name, source))
        except AssertionError as e:  # a connection came between the look and the copy: copy by pg_dump
            if "is being accessed by other users" not in str(e):
                raise
            busy = True
    if busy:
        pg.psql("postgres", "CREATE DATABASE %s" % name)
        dump = subprocess.run(["pg_dump", "--no-owner", "-d", pg.url(source)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=600)
        if dump.returncode:
            raise AssertionError("pg_dump %s failed: %s" % (src, dump.stderr[-2000:]))
        # the new database has postgis already (from template1)
        text = dump.stdout.decode().replace("CREATE EXTENSION IF NOT EXISTS postgis", "-- postgis")
        pg.psql(name, text)
    _PG_DBS[key] = name


def _pg_db(db):
    """The name of the database that stands for the store file `db` (made on first use)."""
    store_url(db)
    return _PG_DBS[os.path.abspath(str(db))]


def _pg_db_name(key):
    import hashlib
    return "t_" + hashlib.sha1(key.encode()).hexdigest()[:16]


def serve_command(db, *args):
    """The command line of `mashaer serve --db DB ARGS...` on the test's backend (store_url, serve_args)."""
    return [CONFIG.mashaer, "serve"] + serve_args(["--db", store_url(db)] + list(args))


def store_url(db):
    """What `--db` is given for the store `db`: the file itself, or with MSH_TEST_STORE=postgresql
    the URL of a database of pg_server(), one per file (created empty on first use)."""
    db = str(db)
    if STORE_BACKEND != "postgresql" or db.startswith("postgres"):
        return db
    key = os.path.abspath(db)
    if key not in _PG_DBS:
        name = _pg_db_name(key)
        pg_server().psql("postgres", "CREATE DATABASE %s" % name)
        _PG_DBS[key] = name
    return pg_server().url(_PG_DBS[key])


def _inline_params(query, params):
    """`?` parameters written into the SQL as literals (for psql and GDAL, which take none), in one pass
    over the query, so a `?` inside a value is never taken for the next parameter."""
    lits = iter(["NULL" if p is None else str(p) if isinstance(p, (int, float)) else "'%s'" % str(p).replace("'", "''")
                 for p in params])
    return re.sub(r"\?", lambda m: next(lits, "?"), query)


# SQLite's words in a table definition as PostgreSQL says them (as layers/store_pg.c's dialect() does)
_PG_DDL_WORDS = [(r"\bINTEGER PRIMARY KEY\b", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
                 (r"\bINTEGER\b", "bigint"), (r"\bREAL\b", "double precision"), (r"\bBLOB\b", "bytea"),
                 (r"\bWITHOUT ROWID\b", "")]


def store_exec(db, sql, *params):
    """Write to the store `db` as another program would (sqlite3, or psql on PostgreSQL), committed:
    one statement with `?` parameters, or without parameters a script. SQL both engines take; in a
    CREATE TABLE, SQLite's INTEGER PRIMARY KEY (an identity), INTEGER, REAL, BLOB and WITHOUT ROWID are
    said in PostgreSQL's words."""
    if STORE_BACKEND != "postgresql":
        conn = sqlite3.connect(db, timeout=30)
        try:
            with conn:
                conn.execute(sql, params) if params else conn.executescript(sql)
        finally:
            conn.close()
        return
    if "CREATE TABLE" in sql:
        for a, b in _PG_DDL_WORDS:
            sql = re.sub(a, b, sql)
    pg_server().psql(_pg_db(db), _inline_params(sql, params))


class WriteLock:
    """Holds the store's writers' lock until release(), as another writer would: SQLite's write lock
    (BEGIN IMMEDIATE), or on PostgreSQL the version row every Mashaer writer locks first (a psql
    session in `SELECT ... FOR UPDATE`, store_pg_edit.c's msh_pg_edit_begin)."""

    def __init__(self, db):
        if STORE_BACKEND != "postgresql":
            self.conn = sqlite3.connect(db, timeout=30, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
            return
        self.conn = None
        pg = pg_server()
        self.psql = spawn(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port),
                           "-U", "postgres", "-d", _pg_db(db)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.psql.stdin.write("BEGIN;\nSELECT value FROM msh_meta WHERE key = 'version' FOR UPDATE \\g /dev/null\n"
                              "\\echo held\n")
        self.psql.stdin.flush()
        line = self.psql.stdout.readline()  # the barrier: the row is locked
        if line.strip() != "held":
            raise AssertionError("psql did not lock the version row: %r" % line)

    def release(self):
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            return
        self.psql.communicate("ROLLBACK;\n", timeout=60)


class Store:
    """Read-only view of a SpatiaLite store through sqlite3 and mod_spatialite (PgStore for
    PostgreSQL under MSH_TEST_STORE=postgresql)."""

    def __new__(cls, path):
        if cls is Store and STORE_BACKEND == "postgresql":
            return PgStore(path)
        return super().__new__(cls)

    def __init__(self, path):
        self.path = path
        self.conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        self.conn.enable_load_extension(True)
        self.conn.load_extension("mod_spatialite")
        self.conn.enable_load_extension(False)

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def registry(self):
        """{name: row dict} of msh_layers, `fields` decoded from JSON."""
        cur = self.conn.execute("SELECT * FROM msh_layers ORDER BY name")
        cols = [c[0] for c in cur.description]
        out = {}
        for row in cur:
            d = dict(zip(cols, row))
            d["fields"] = json.loads(d["fields"])
            out[d["name"]] = d
        return out

    def field_names(self, layer):
        return [f["name"] for f in self.registry()[layer]["fields"]]

    def count(self, layer):
        return self.conn.execute('SELECT count(*) FROM "%s"' % layer).fetchone()[0]

    def fids(self, layer):
        return {r[0] for r in self.conn.execute('SELECT fid FROM "%s"' % layer)}

    def rows(self, layer, raw_text=False):
        """{fid: {field: value}} for every feature (attributes only)."""
        names = self.field_names(layer)
        cols = "".join(', "%s"' % n.replace('"', '""') for n in names)
        old = self.conn.text_factory
        if raw_text:
            self.conn.text_factory = bytes
        try:
            cur = self.conn.execute('SELECT fid%s FROM "%s" ORDER BY fid' % (cols, layer))
            return {r[0]: dict(zip(names, r[1:])) for r in cur}
        finally:
            self.conn.text_factory = old

    def geometries(self, layer):
        """{fid: ogr.Geometry} in EPSG:4326 (lon, lat order)."""
        out = {}
        for fid, wkb in self.conn.execute('SELECT fid, AsBinary(geom) FROM "%s"' % layer):
            out[fid] = ogr.CreateGeometryFromWkb(bytes(wkb))
        return out

    def tables(self):
        """The names of the store's tables and views (SpatiaLite's own and the R*Tree's included)."""
        return sorted(r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"))

    def table_rows(self, table, order="fid"):
        """Every column of every row of `table` as tuples, ordered by `order` (geometry as stored)."""
        return self.conn.execute('SELECT * FROM "%s" ORDER BY %s' % (table, order)).fetchall()

    def sql(self, query, *params):
        return self.conn.execute(query, params).fetchall()


class PgStore(Store):
    """The same reads on the PostgreSQL database store_url(path) names, through GDAL's PostgreSQL
    driver; SpatiaLite function names in sql() are mapped to PostGIS ones and `?` parameters are
    inlined as literals."""

    SPATIALITE_NAMES = [("AsBinary(", "ST_AsBinary(")]

    def __init__(self, path):
        url = store_url(path)
        m = re.fullmatch(r"postgresql://(\w+)@([\d.]+):(\d+)/(\w+)", url)
        self.path = path
        self.ds = ogr.Open("PG:host=%s port=%s user=%s dbname=%s" % (m.group(2), m.group(3), m.group(1),
                                                                       m.group(4)))

    def close(self):
        self.ds = None

    def _rows(self, query):
        lyr = self.ds.ExecuteSQL(query)
        if lyr is None:
            return []
        try:
            defn = lyr.GetLayerDefn()
            out = []
            for f in lyr:
                row = []
                for i in range(defn.GetFieldCount()):
                    if not f.IsFieldSet(i) or f.IsFieldNull(i):
                        row.append(None)
                    elif defn.GetFieldDefn(i).GetType() == ogr.OFTBinary:
                        row.append(f.GetFieldAsBinary(i))
                    else:
                        row.append(f.GetField(i))
                for i in range(defn.GetGeomFieldCount()):
                    g = f.GetGeomFieldRef(i)
                    row.append(g.ExportToWkb() if g is not None else None)
                out.append(tuple(row))
            return out
        finally:
            self.ds.ReleaseResultSet(lyr)

    def registry(self):
        cols = ["name", "kind", "geometry_type", "minx", "miny", "maxx", "maxy", "minzoom", "maxzoom", "fields",
                "feature_count", "version", "source", "updated_at", "title"]
        out = {}
        for row in self._rows("SELECT %s FROM msh_layers ORDER BY name" % ", ".join(cols)):
            d = dict(zip(cols, row))
            d["fields"] = json.loads(d["fields"])
            out[d["name"]] = d
        return out

    def rows(self, layer, raw_text=False):
        names = self.field_names(layer)
        cols = "".join(', "%s"' % n.replace('"', '""') for n in names)
        out = {}
        for r in self._rows('SELECT fid%s FROM "%s" ORDER BY fid' % (cols, layer)):
            vals = [v.encode() if raw_text and isinstance(v, str) else v for v in r[1:]]
            out[r[0]] = dict(zip(names, vals))
        return out

    def count(self, layer):
        return self._rows('SELECT count(*) FROM "%s"' % layer)[0][0]

    def tables(self):
        return sorted(r[0] for r in self._rows("SELECT table_name::text FROM information_schema.tables "
                                               "WHERE table_schema = 'public'"))

    def table_rows(self, table, order="fid"):
        return self._rows('SELECT * FROM "%s" ORDER BY %s' % (table, order))

    def fids(self, layer):
        return {r[0] for r in self._rows('SELECT fid FROM "%s"' % layer)}

    def geometries(self, layer):
        return {fid: ogr.CreateGeometryFromWkb(bytes(wkb))
                for fid, wkb in self._rows('SELECT fid, ST_AsBinary(geom) AS wkb FROM "%s"' % layer)}

    def sql(self, query, *params):
        for a, b in self.SPATIALITE_NAMES:
            query = re.sub(r"(?<![\w_])" + re.escape(a), b, query)
        query = re.sub(r"(?<!\w)ST_Is3D\((\w+)\)", r"(ST_NDims(\1) > 2)::int", query)
        # (|| '': GDAL would read a column named st_astext as a geometry)
        query = re.sub(r"(?<!\w)AsText\((\w+)\)", r"(ST_AsText(\1) || '')", query)
        query = re.sub(r"(?<!\w)CoordDimension\((\w+)\)",
                       r"(CASE ST_NDims(\1) WHEN 2 THEN 'XY' WHEN 3 THEN 'XYZ' ELSE 'XYZM' END)", query)
        return self._rows(_inline_params(query, params))

# ---------------------------------------------------------------------------
# the server


# No test leaves a process behind, whatever way it ends:
#  * servers started and not yet stopped are stopped at exit (atexit), even when a test failed;
#  * SIGTERM, SIGHUP and SIGINT end the test through SystemExit, so atexit runs then too;
#  * every child is started by spawn() with PR_SET_PDEATHSIG = SIGKILL, so the kernel kills it
#    when this process dies without running atexit (SIGKILL, ctest's timeout).

_RUNNING = []  # servers started and not yet stopped
_CHILDREN = []  # every process spawn() started


def _stop_all_servers():
    for s in list(_RUNNING):
        try:
            s.stop(timeout=5)
        except Exception:  # a server that will not stop is killed
            if s.proc:
                s.proc.kill()
    for p in _CHILDREN:
        if p.poll() is None:
            p.kill()


atexit.register(_stop_all_servers)


def _exit_on_signal(signum, frame):
    raise SystemExit("stopped by %s" % signal.Signals(signum).name)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _exit_on_signal)

_PR_SET_PDEATHSIG = 1
_LIBC = None


def _die_with_parent():
    """In the child between fork and exec: SIGKILL when the parent dies."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(cmd, **kw):
    """subprocess.Popen(cmd, **kw) whose process dies with this one, however this one ends."""
    global _LIBC
    if _LIBC is None:
        import ctypes
        _LIBC = ctypes.CDLL(None, use_errno=True)
    p = subprocess.Popen([str(c) for c in cmd], preexec_fn=_die_with_parent, **kw)
    _CHILDREN[:] = [c for c in _CHILDREN if c.poll() is None] + [p]
    return p



def cpu_seconds(pid):
    """CPU seconds process `pid` has used so far, user and system, its own and those of the children
    it has waited for (/proc/PID/stat utime, stime, cutime, cstime). Work budgets are checked in CPU
    time: a loaded machine stretches the wall clock, not the work."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class Server:
    """`mashaer serve --db DB --port 0` in the background.

    Use as a context manager, or call start() / stop(). `base` is http://127.0.0.1:PORT.
    A test is one client on loopback asking far faster than any person: the per-client request
    rates and connection counts are lifted (NO_CLIENT_LIMITS) unless `client_limits=True` keeps
    the server's defaults (test_clients.py, which tests them); flags in `extra` come later and win.
    """

    NO_CLIENT_LIMITS = ["--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"]

    def __init__(self, db, *extra, name="serve", client_limits=False):
        self.db = db
        self.extra = ([] if client_limits else list(self.NO_CLIENT_LIMITS)) + [str(e) for e in extra]
        self.proc = None
        self.port = None
        self.base = None
        self.log_path = work_path("%s.stderr.log" % name)
        self._log = None

    def start(self, timeout=20):
        self._log = open(self.log_path, "wb")
        cmd = serve_command(self.db, "--port", "0", *self.extra)
        self.proc = spawn(cmd, stdout=subprocess.PIPE, stderr=self._log)
        _RUNNING.append(self)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("mashaer serve did not print its listening line within %d s" % timeout)
                if not sel.select(left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError("mashaer serve exited (%s) before listening; stderr:\n%s"
                                         % (self.proc.wait(5), self.stderr()))
                buf += chunk
        finally:
            sel.close()
        line = buf.split(b"\n", 1)[0].decode()
        m = re.fullmatch(r"mashaer: listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise AssertionError("unexpected first line from mashaer serve: %r" % line)
        self.port = int(m.group(1))
        self.base = "http://127.0.0.1:%d" % self.port
        return self

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit status."""
        if not self.proc:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("mashaer serve did not stop within %d s of SIGTERM" % timeout)
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        if self in _RUNNING:
            _RUNNING.remove(self)
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, path):
        return self.base + path

    def get(self, path, headers=None, method="GET"):
        return fetch(self.url(path), headers=headers, method=method)

    def raw(self, path, headers=None, method="GET"):
        return raw_request(self.port, path, headers=headers, method=method)

    def json(self, path):
        r = self.get(path)
        if r.status != 200:
            raise AssertionError("GET %s: %d %r" % (path, r.status, r.body[:300]))
        return json.loads(r.body)

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()


def stop_servers(*servers):
    """tearDownModule's check: stop each server that was started (None is passed over); an exit status
    other than 0 fails, with the server's stderr."""
    for s in servers:
        if s is None:
            continue
        rc = s.stop()
        if rc != 0:
            raise AssertionError("mashaer serve exited %s; stderr:\n%s" % (rc, s.stderr()))

# ---------------------------------------------------------------------------
# waiting on a condition (a barrier, never a fixed sleep)


def wait_for(pred, timeout, what, interval=0.02):
    """pred()'s first true value, polled every `interval` s; AssertionError naming `what` after
    timeout s. A barrier: the test goes on as soon as the condition holds, however slow the
    machine, and the timeout only bounds a failure."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(interval)


def now_ms():
    """Wall-clock time in milliseconds, as feeds carry it."""
    return int(time.time() * 1000)

# ---------------------------------------------------------------------------
# HTTP


class Response(collections.namedtuple("Response", "status headers body")):
    """status: int; headers: {lower-case name: value}; body: bytes (as sent, not decompressed)."""

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body)


def fetch(url, headers=None, method="GET", data=None, timeout=30):
    """urllib request that returns error statuses instead of raising."""
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, body)


def api(server, path, method="GET", token=None, body=None, ctype="application/geo+json", headers=None):
    """A request as an API client sends it: a Bearer token, a JSON body (an object is dumped, bytes go
    as they are) with its type."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = ctype
    return fetch(server.url(path), headers=h, method=method, data=data)


request = api  # the name the live-write tests use


def raw_request(port, path, headers=None, method="GET", timeout=30):
    """http.client request with the path sent exactly as given (no normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        conn.close()


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(labels.items())): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)', line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def metric(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def feed_body(records_or_body):
    """What to POST to a feed: a list of records -> NDJSON (one json.dumps line each), a dict ->
    its JSON, a str -> UTF-8; bytes are sent as given."""
    body = records_or_body
    if isinstance(body, (list, tuple)):
        body = "".join(json.dumps(r) + "\n" for r in body)
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return body


def post_feed(server, feed, records_or_body, token=None, content_type="application/x-ndjson", headers=None):
    """POST /feeds/FEED with `Authorization: Bearer TOKEN` (none when token is None); returns the
    Response (status, headers, body; .json() parses the answer). Error statuses are returned."""
    h = {"Authorization": "Bearer " + token} if token else {}
    if content_type:
        h["Content-Type"] = content_type
    h.update(headers or {})
    return fetch(server.url("/feeds/" + feed), headers=h, method="POST", data=feed_body(records_or_body))


def post_ok(server, feed, records_or_body, token, accepted=None, **kw):
    """post_feed that must succeed whole: HTTP 200 and {"accepted": N, "rejected": []}, N being
    `accepted`, or len(records) for a list. Returns that answer."""
    if accepted is None:
        if not isinstance(records_or_body, (list, tuple)):
            raise TypeError("post_ok: say how many records a raw body holds (accepted=N)")
        accepted = len(records_or_body)
    r = post_feed(server, feed, records_or_body, token, **kw)
    if r.status != 200:
        raise AssertionError("POST /feeds/%s: HTTP %d %r" % (feed, r.status, r.body[:500]))
    doc = r.json()
    if doc != {"accepted": accepted, "rejected": []}:
        raise AssertionError("POST /feeds/%s: expected %d accepted and none rejected, got %r"
                             % (feed, accepted, doc))
    return doc

# ---------------------------------------------------------------------------
# tile math (Web Mercator, XYZ scheme)

MERC = 20037508.342789244


def lonlat_to_tile(lon, lat, z):
    n = 1 << z
    x = int(math.floor((lon + 180.0) / 360.0 * n))
    lr = math.radians(lat)
    y = int(math.floor((1.0 - math.asinh(math.tan(lr)) / math.pi) / 2.0 * n))
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_bounds_3857(z, x, y):
    """(minx, miny, maxx, maxy) of a tile in EPSG:3857 metres, without buffer."""
    size = 2 * MERC / (1 << z)
    minx = -MERC + x * size
    maxy = MERC - y * size
    return (minx, maxy - size, minx + size, maxy)


def tiles_covering(bounds, z):
    """Every (x, y) at zoom z whose tile meets the lon/lat box (w, s, e, n)."""
    w, s, e, n = bounds
    x0, y0 = lonlat_to_tile(w, n, z)
    x1, y1 = lonlat_to_tile(e, s, z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def box_geometry(minx, miny, maxx, maxy):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for px, py in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)):
        ring.AddPoint_2D(px, py)
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    return poly


def srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


_TO_3857 = None


def to_3857(geom_4326):
    """A copy of a lon/lat geometry in EPSG:3857."""
    global _TO_3857
    if _TO_3857 is None:
        _TO_3857 = osr.CoordinateTransformation(srs(4326), srs(3857))
    g = geom_4326.Clone()
    g.Transform(_TO_3857)
    return g

# ---------------------------------------------------------------------------
# MVT decoding with GDAL's MVT driver

DecodedFeature = collections.namedtuple("DecodedFeature", "id attrs geom")

_vsi_counter = itertools.count()


def decode_mvt(data, z, x, y, clip=False):
    """Decode one tile: {layer name: [DecodedFeature(id, attrs, geom)]}.

    id is the MVT feature id (GDAL's 'mvt_id' field, None when the feature has
    none); attrs the other fields (None omitted); geom an ogr.Geometry in
    EPSG:3857. clip=False asks GDAL for the geometry as encoded, buffer
    included (GDAL's default CLIP=YES would cut it to the tile for us).
    """
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    path = "/vsimem/mshtest_%d.mvt" % next(_vsi_counter)
    gdal.FileFromMemBuffer(path, bytes(data))
    try:
        ds = gdal.OpenEx(path, gdal.OF_VECTOR,
                         open_options=["X=%d" % x, "Y=%d" % y, "Z=%d" % z, "CLIP=%s" % ("YES" if clip else "NO")])
        out = {}
        for i in range(ds.GetLayerCount()):
            lyr = ds.GetLayer(i)
            feats = []
            for f in lyr:
                attrs = {k: v for k, v in f.items().items() if v is not None and k != "mvt_id"}
                fid = f.GetField("mvt_id") if f.GetFieldIndex("mvt_id") >= 0 and f.IsFieldSet("mvt_id") else None
                g = f.GetGeometryRef()
                feats.append(DecodedFeature(fid, attrs, g.Clone() if g is not None else None))
            out[lyr.GetName()] = feats
        ds = None
        return out
    finally:
        gdal.Unlink(path)


def decode_png(data, colour_types=(2, 6)):
    """An 8-bit RGB (colour type 2) or RGBA (6) PNG, not interlaced (what the server's Cairo
    writes) -> (width, height, rows) with rows[y][x] = (r, g, b, a), a = 255 for RGB.
    colour_types narrows what is accepted (the sprite sheets must be RGBA: (6,)). Every chunk's
    CRC is checked, and the image has exactly height rows of width pixels."""
    import struct
    import zlib
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG: %r" % data[:8]
    assert data[12:16] == b"IHDR", "a PNG must start with IHDR"
    pos, idat, w, h, bpp = 8, b"", 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(data[pos + 4:pos + 8 + n]) & 0xffffffff == crc, "bad CRC in %r" % kind
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and ctype in colour_types and inter == 0, \
                "PNG depth %d, colour type %d, interlace %d: expected 8, one of %r, 0" % (depth, ctype, inter,
                                                                                       colour_types)
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    assert bpp, "a PNG without IHDR"
    raw = zlib.decompress(idat)
    stride = w * bpp
    assert len(raw) == h * (stride + 1), "PNG data of %d bytes for %d x %d" % (len(raw), w, h)
    rows, prev = [], bytearray(stride)
    for r in range(h):
        f = raw[r * (stride + 1)]
        assert f <= 4, "PNG filter type %d" % f
        line = bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + bpp]) + ((255,) if bpp == 3 else ()) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def fetch_tile(server, layers, z, x, y, headers=None):
    """GET a tile; returns (Response, decoded dict or {} for 204)."""
    r = server.get("/tiles/%s/%d/%d/%d.mvt" % (layers, z, x, y), headers=headers)
    if r.status == 204:
        return r, {}
    if r.status != 200:
        raise AssertionError("tile %s/%d/%d/%d: HTTP %d %r" % (layers, z, x, y, r.status, r.body[:300]))
    return r, decode_mvt(r.body, z, x, y)


def total_area(geoms):
    return sum(polygon_area(g) for g in geoms)


def note(msg):
    """A measurement worth seeing in the ctest log."""
    sys.stderr.write("    [measured] %s\n" % msg)
    sys.stderr.flush()


def total_length(geoms):
    return sum(line_length(g) for g in geoms)


def line_length(g):
    """Length of the linear parts of a geometry (points and polygons count 0)."""
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t == ogr.wkbLineString:
        return g.Length()
    if t in (ogr.wkbMultiLineString, ogr.wkbGeometryCollection):
        return sum(line_length(g.GetGeometryRef(i)) for i in range(g.GetGeometryCount()))
    return 0.0


def polygon_area(g):
    """Area of the polygonal parts of a geometry."""
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
        return g.GetArea()
    if t == ogr.wkbGeometryCollection:
        return sum(polygon_area(g.GetGeometryRef(i)) for i in range(g.GetGeometryCount()))
    return 0.0


def clip_to_tile(geom, z, x, y):
    """The part of a decoded geometry inside the tile proper (no buffer)."""
    return geom.Intersection(box_geometry(*tile_bounds_3857(z, x, y)))


def values_equal(store_value, tile_value, rel=1e-9):
    """Store value vs decoded tile value: exact for text and integers, relative for reals."""
    if isinstance(store_value, float) or isinstance(tile_value, float):
        if store_value is None or tile_value is None:
            return False
        a, b = float(store_value), float(tile_value)
        return a == b or abs(a - b) <= rel * max(abs(a), abs(b))
    return store_value == tile_value


class EventStream:
    """A minimal reader of one server's /events: `GET /events?QUERY` on `port`, the data of every
    `event: KIND` frame parsed as JSON into `events`, in order (under `lock`). The constructor returns
    once the stream's first `retry:` frame has come, so nothing published after it is missed."""

    def __init__(self, port, query, kind, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(("GET /events?%s HTTP/1.1\r\nHost: t\r\n\r\n" % query).encode())
        self.marker = ("event: %s\ndata: " % kind).encode()
        self.events, self.ready = [], threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(20), "no retry: frame from /events"

    def _run(self):
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if b"retry:" in buf:
                    self.ready.set()
                while self.marker in buf:
                    start = buf.index(self.marker) + len(self.marker)
                    end = buf.find(b"\n", start)
                    if end < 0:
                        break
                    with self.lock:
                        self.events.append(json.loads(buf[start:end]))
                    buf = buf[end:]
        except OSError:
            return

    def wait(self, pred, what, timeout=10):
        """The first event for which pred is true, waited for up to `timeout` seconds."""
        def hit():
            with self.lock:
                return next((e for e in self.events if pred(e)), None)
        return wait_for(hit, timeout, what)

    def close(self):
        self.sock.close()
