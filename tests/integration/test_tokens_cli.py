"""`mashaer token add|list|revoke`: outputs, exit codes, only hashes in the store, and a running
server picking up new and revoked tokens."""

import hashlib
import os
import re
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mshtest  # noqa: E402

TOKEN_RE = re.compile(r"msh_[A-Za-z0-9_-]{43}")
ROW_RE = re.compile(r"^(\d+)\s+(.*?)\s+(feed|ops|admin)\s+(\S{8})\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\s+(\S+)$")


def make_store(name):
    db = mshtest.work_path(name)
    mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
    return db


def add(db, role, name, check=0):
    p = mshtest.run_mashaer("token", "add", "--db", db, "--role", role, "--name", name, check=check)
    return p, (p.stdout.splitlines() or [""])[0]


def listing(db):
    """`token list` as (stdout, rows); each row a dict."""
    p = mshtest.run_mashaer("token", "list", "--db", db, check=0)
    lines = p.stdout.splitlines()
    assert lines and lines[0].split() == ["id", "name", "role", "prefix", "created", "revoked"], p.stdout
    rows = []
    for line in lines[1:]:
        m = ROW_RE.match(line)
        assert m, "unparsable listing line %r" % line
        rows.append(dict(id=int(m.group(1)), name=m.group(2), role=m.group(3), prefix=m.group(4),
                         created=m.group(5), revoked=None if m.group(6) == "-" else m.group(6)))
    return p.stdout, rows


class TokenCli(unittest.TestCase):
    def test_help(self):
        for args in (["token", "--help"], ["token", "-h"], ["token", "add", "--help"], ["token", "list", "--help"],
                     ["token", "revoke", "--help"], ["token", "add", "-h"]):
            with self.subTest(args=args):
                p = mshtest.run_mashaer(*args)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("Usage: mashaer token", p.stdout)
                self.assertIn("--db", p.stdout)
        self.assertIn("--role", mshtest.run_mashaer("token", "add", "--help").stdout)
        self.assertRegex(mshtest.run_mashaer("--help").stdout, r"(?m)^\s+token\s")

    def test_usage_errors_exit_2(self):
        db = make_store("usage.sqlite")
        missing = mshtest.work_path("never-made.sqlite")
        cases = [
            ["token"],
            ["token", "frobnicate"],
            ["token", "add", "--bogus"],
            ["token", "add", "--db", db, "--role", "feed"],                     # no --name
            ["token", "add", "--db", db, "--name", "x"],                        # no --role
            ["token", "add", "--role", "feed", "--name", "x"],                  # no --db
            ["token", "add", "--db", db, "--role", "root", "--name", "x"],
            ["token", "add", "--db", db, "--role", "FEED", "--name", "x"],
            ["token", "add", "--db", db, "--role", "feed", "--name", ""],
            ["token", "add", "--db", db, "--role", "feed", "--name", "12345"],  # reads as an id
            ["token", "add", "--db", db, "--role", "feed", "--name", "x" * 101],
            ["token", "add", "--db", db, "--role", "feed", "--name", "two\nlines"],
            ["token", "add", "--db", db, "--role", "feed", "--name", "x", "extra"],
            ["token", "add", "--db", missing, "--role", "feed", "--name", "x", "extra"],
            ["token", "list"],
            ["token", "list", "--db", db, "extra"],
            ["token", "list", "--bogus"],
            ["token", "revoke", "--db", db],
            ["token", "revoke", "--db", db, "a", "b"],
            ["token", "revoke", "x"],
        ]
        for args in cases:
            with self.subTest(args=args):
                p = mshtest.run_mashaer(*args)
                self.assertEqual(p.returncode, 2, "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
                self.assertNotEqual(p.stderr.strip(), "", "no message on stderr")
                self.assertIsNone(TOKEN_RE.search(p.stdout))
        self.assertEqual(listing(db)[1], [], "a usage error made a token")
        self.assertFalse(os.path.exists(missing), "a usage error created a store")
        # 100 bytes of UTF-8 is the limit, not 100 characters
        self.assertEqual(add(db, "feed", "\u0645" * 50)[0].returncode, 0)
        self.assertEqual(add(db, "feed", "\u0645" * 51, check=2)[0].returncode, 2)

    def test_errors_exit_1(self):
        missing = mshtest.work_path("missing.sqlite")
        for sub in (["add", "--role", "feed", "--name", "x"], ["list"], ["revoke", "x"]):
            with self.subTest(sub=sub):
                p = mshtest.run_mashaer("token", sub[0], "--db", missing, *sub[1:])
                self.assertEqual(p.returncode, 1, p.stderr)
                # a PostgreSQL store is a database: there it exists, empty (MSH_TEST_STORE=postgresql)
                self.assertIn("does not exist" if mshtest.STORE_BACKEND == "spatialite" else "not a Mashaer store",
                              p.stderr)
                self.assertFalse(os.path.exists(missing))
        # a file that is not a store
        bogus = mshtest.work_path("bogus.sqlite")
        sqlite3.connect(bogus).execute("CREATE TABLE t (x)").connection.commit()
        p = mshtest.run_mashaer("token", "add", "--db", bogus, "--role", "feed", "--name", "x")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("not a Mashaer store", p.stderr)
        self.assertEqual(p.stdout, "")
        # nothing to revoke
        db = make_store("errors.sqlite")
        for which in ("nobody", "1", "99999999999999999999999"):
            with self.subTest(which=which):
                p = mshtest.run_mashaer("token", "revoke", "--db", db, which)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("no token", p.stderr)
                self.assertEqual(p.stdout, "")

    def test_add_list_revoke(self):
        db = make_store("tokens.sqlite")
        self.assertEqual(listing(db)[1], [])
        made = []
        names = (("feed", "gate sensors"), ("ops", "ops-desk"), ("admin", "\u0645\u0634\u0627\u0639\u0631 admin"))
        for role, name in names:
            p, tok = add(db, role, name)
            # the token alone on the first (and only) line of stdout; the note on stderr
            self.assertRegex(p.stdout, r"\Amsh_[A-Za-z0-9_-]{43}\n\Z")
            self.assertIn("only", p.stderr)
            self.assertNotIn(tok, p.stderr)
            made.append((role, name, tok))
        self.assertEqual(len({t for _, _, t in made}), 3)

        out, rows = listing(db)
        self.assertEqual([(r["id"], r["role"], r["name"]) for r in rows],
                         [(i + 1, role, name) for i, (role, name, _) in enumerate(made)])
        for r, (_, _, tok) in zip(rows, made):
            self.assertEqual(r["prefix"], tok[:8])
            self.assertIsNone(r["revoked"])
            # the token never appears in a listing, nor its secret part
            self.assertNotIn(tok, out)
            self.assertNotIn(tok[8:20], out)

        # the store holds SHA-256 hashes, never the token text
        with mshtest.Store(db) as st:
            stored = st.sql("SELECT id, name, role, hash, prefix, created_at, revoked_at FROM msh_tokens ORDER BY id")
        for row, (_, _, tok) in zip(stored, made):
            self.assertEqual(bytes(row[3]), hashlib.sha256(tok.encode()).digest())
            for col in row:
                blob = col if isinstance(col, bytes) else str(col).encode()
                self.assertNotIn(tok[8:].encode(), blob)
        for path in (db, db + "-wal"):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                for _, _, tok in made:
                    self.assertNotIn(tok[8:].encode(), data, path)

        # revoke by name, then by id
        p = mshtest.run_mashaer("token", "revoke", "--db", db, "gate sensors")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("revoked", p.stdout)
        p = mshtest.run_mashaer("token", "revoke", "--db", db, "gate sensors")
        self.assertEqual(p.returncode, 1)
        self.assertIn("already revoked", p.stderr)
        p = mshtest.run_mashaer("token", "revoke", "--db", db, "3")
        self.assertEqual(p.returncode, 0, p.stderr)
        _, rows = listing(db)
        self.assertEqual([r["revoked"] is not None for r in rows], [True, False, True])
        for r in rows:
            if r["revoked"]:
                self.assertGreaterEqual(r["revoked"], r["created"])

        # two valid tokens with one name: refused by name, fine by id
        add(db, "feed", "twin")
        add(db, "feed", "twin")
        p = mshtest.run_mashaer("token", "revoke", "--db", db, "twin")
        self.assertEqual(p.returncode, 1)
        self.assertIn("by id", p.stderr)
        self.assertEqual(mshtest.run_mashaer("token", "revoke", "--db", db, "4").returncode, 0)
        self.assertEqual(mshtest.run_mashaer("token", "revoke", "--db", db, "twin").returncode, 0)

        # the store still serves its layers as before
        p = mshtest.run_mashaer("layers", "--db", db, check=0)
        self.assertIn("sites", p.stdout)

    def test_running_server_reloads_tokens(self):
        db = make_store("serve.sqlite")
        add(db, "feed", "before start")
        with mshtest.Server(db, "--reload-ms", "100", name="serve-tokens") as srv:
            def wait_logged(text, timeout=20):
                try:
                    mshtest.wait_for(lambda: text in srv.stderr(), timeout, "the server to log %r" % text)
                except AssertionError as e:
                    self.fail("%s; stderr:\n%s" % (e, srv.stderr()))

            wait_logged("write tokens: 1 valid")
            add(db, "ops", "while running")
            wait_logged("write tokens changed: 2 valid")
            mshtest.run_mashaer("token", "revoke", "--db", db, "before start", check=0)
            wait_logged("write tokens changed: 1 valid")
            # data reloads still work alongside
            self.assertEqual(srv.get("/health").status, 200)
            rc = srv.stop()
        self.assertEqual(rc, 0)

    def test_whoami(self):
        """GET /auth/whoami names the token's owner and role (the viewer's console signs in with it);
        no token, a wrong one or a revoked one is 401; the answer is never cached."""
        db = make_store("whoami.sqlite")
        tokens = {role: add(db, role, name)[1] for role, name in
                  (("admin", "root"), ("ops", "alice"), ("feed", "sensors"), ("reporter", "app م"))}
        with mshtest.Server(db, "--reload-ms", "100", name="serve-whoami") as srv:
            for role, name in (("admin", "root"), ("ops", "alice"), ("feed", "sensors"), ("reporter", "app م")):
                r = srv.get("/auth/whoami", headers={"Authorization": "Bearer " + tokens[role]})
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.json(), {"name": name, "role": role})
                self.assertEqual(r.header("Cache-Control"), "private, no-store")
            r = srv.get("/auth/whoami")
            self.assertEqual(r.status, 401)
            self.assertIn("Bearer", r.header("WWW-Authenticate", ""))
            self.assertEqual(srv.get("/auth/whoami", headers={"Authorization": "Bearer msh_" + "x" * 43}).status, 401)
            self.assertEqual(srv.get("/auth/whoami", headers={"Authorization": "Basic abc"}).status, 401)
            mshtest.run_mashaer("token", "revoke", "--db", db, "alice", check=0)
            mshtest.wait_for(lambda: "write tokens changed: 3 valid" in srv.stderr(), 20, "the revocation to be loaded")
            self.assertEqual(srv.get("/auth/whoami", headers={"Authorization": "Bearer " + tokens["ops"]}).status, 401)
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    mshtest.main()
