"""The command line: help, usage errors, `layers` (list and drop), `version`, serve start-up errors."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402


class Cli(unittest.TestCase):
    def test_help(self):
        for args in (["--help"], ["-h"], ["serve", "--help"], ["import", "--help"], ["layers", "--help"],
                     ["serve", "-h"], ["import", "-h"], ["layers", "-h"]):
            with self.subTest(args=args):
                p = mshtest.run_mashaer(*args)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("Usage", p.stdout)
                if args[0] in ("serve", "import", "layers"):
                    self.assertIn("mashaer " + args[0], p.stdout)
                    self.assertIn("--db", p.stdout)
        top = mshtest.run_mashaer("--help").stdout
        for cmd in ("serve", "import", "layers", "version"):
            self.assertRegex(top, r"(?m)^\s+%s\s" % cmd)
        imp = mshtest.run_mashaer("import", "--help").stdout
        for opt in ("--layer", "--source-layer", "--s-srs", "--minzoom", "--maxzoom"):
            self.assertIn(opt, imp)
        srv = mshtest.run_mashaer("serve", "--help").stdout
        for opt in ("--port", "--bind", "--reload-ms", "--cache-mb", "--web", "--styles"):
            self.assertIn(opt, srv)

    def test_usage_errors_exit_2(self):
        db = mshtest.work_path("usage.sqlite")
        src = mshtest.demo_path("sites.geojson")
        cases = [
            ["--bogus"],
            ["frobnicate"],
            ["serve", "--bogus"],
            ["import", "--bogus"],
            ["layers", "--bogus"],
            ["import", "--db", db, "--bogus", src],
            ["serve", "--db", db, "--port", "70000"],
            ["serve", "--db", db, "--port", "abc"],
            ["serve", "--db", db, "--threads", "0"],
            ["serve", "--db", db, "extra-argument"],
            ["serve"],                                   # no --db
            ["import", src],                             # no --db
            ["import", "--db", db],                      # no source
            ["import", "--db", db, "--minzoom", "25", src],
            ["import", "--db", db, "--maxzoom", "-1", src],
            ["import", "--db", db, "--minzoom", "10", "--maxzoom", "5", src],
            ["import", "--db", db, "--layer", "Bad-Name", src],
            ["import", "--db", db, "--layer", "x", src, src],
        ]
        for args in cases:
            with self.subTest(args=args):
                p = mshtest.run_mashaer(*args)
                self.assertEqual(p.returncode, 2, "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
                self.assertNotEqual(p.stderr.strip(), "", "no message on stderr")
                self.assertEqual(mshtest.parse_reports(p.stdout), [])
        self.assertFalse(os.path.exists(db), "a usage error created the store")

    def test_version(self):
        p = mshtest.run_mashaer("version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"\d+\.\d+\.\d+")

    def test_layers_list_and_drop(self):
        db = mshtest.work_path("layers.sqlite")
        mshtest.import_demo(db, ["sites", "camps"])
        mshtest.import_layer(db, mshtest.demo_path("cleaning_routes.geojson"), "routes", "--minzoom", "12",
                             "--maxzoom", "17")
        p = mshtest.run_mashaer("layers", "--db", db, check=0)
        with mshtest.Store(db) as st:
            reg = st.registry()
        lines = {l.split()[0]: l for l in p.stdout.splitlines()[1:] if l.strip()}
        self.assertEqual(set(lines), {"sites", "camps", "routes"})
        for name, row in reg.items():
            cols = lines[name].split()
            self.assertEqual(cols[1], row["geometry_type"])
            self.assertEqual(int(cols[2]), row["feature_count"])
            self.assertEqual(cols[3], "%d-%d" % (row["minzoom"], row["maxzoom"]))
            self.assertEqual(int(cols[4]), row["version"])
        self.assertEqual(lines["routes"].split()[3], "12-17")
        # drop one
        p = mshtest.run_mashaer("layers", "--db", db, "--drop", "camps")
        self.assertEqual(p.returncode, 0, p.stderr)
        with mshtest.Store(db) as st:
            self.assertEqual(set(st.registry()), {"sites", "routes"})
            tables = set(st.tables())
            self.assertNotIn("camps", tables)
            self.assertFalse([t for t in tables if t.startswith("idx_camps")], tables)
            self.assertEqual(st.count("sites"), 5)
        # dropping it again, or an unknown layer, fails
        p = mshtest.run_mashaer("layers", "--db", db, "--drop", "camps")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("camps", p.stderr)
        # and it can come back
        _, reps = mshtest.import_layer(db, mshtest.demo_path("camps.geojson"), "camps")
        with mshtest.Store(db) as st:
            self.assertEqual(reps[0]["features"], st.count("camps"))
            self.assertEqual(set(st.registry()), {"sites", "routes", "camps"})

    def test_serve_missing_store(self):
        db = mshtest.missing_store("nope.sqlite")
        p = mshtest.run_mashaer("serve", "--db", db, "--port", "0", timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nope", p.stderr)
        self.assertEqual(p.stdout, "")
        if mshtest.STORE_BACKEND == "postgresql":  # serve made no database either
            self.assertEqual(mshtest.pg_server().psql("postgres", "SELECT count(*) FROM pg_database WHERE datname = "
                                                      "'nope'"), [["0"]])
        else:
            self.assertFalse(os.path.exists(mshtest.work_path("nope.sqlite")))

    def test_serve_starts_and_stops(self):
        db = mshtest.work_path("serve.sqlite")
        mshtest.import_demo(db, ["sites"])
        srv = mshtest.Server(db)
        srv.start()
        self.assertRegex(srv.base, r"^http://127\.0\.0\.1:\d+$")
        self.assertEqual(srv.json("/health")["layers"], 3)   # sites, the (empty) counting_lines and reports layers
        rc = srv.stop()
        self.assertEqual(rc, 0, srv.stderr())
        self.assertTrue(re.search(r"loaded 3 layers, 5 features", srv.stderr()), srv.stderr())

    def test_import_quiet(self):
        db = mshtest.work_path("quiet.sqlite")
        p = mshtest.run_mashaer("import", "-q", "--db", db, "--layer", "sites", mshtest.demo_path("sites.geojson"))
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, "")
        with mshtest.Store(db) as st:
            self.assertEqual(st.count("sites"), 5)


if __name__ == "__main__":
    mshtest.main()
