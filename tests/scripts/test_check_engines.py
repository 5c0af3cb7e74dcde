"""scripts/check_engines.py: npm's range syntax read right, and a misfit named with its versions."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "scripts"))
from check_engines import floor, parse, satisfies  # noqa: E402


class Ranges(unittest.TestCase):
    def test_ranges(self):
        cases = [("18.19.0", ">=18", True), ("18.19.0", ">=20", False), ("18.19.0", ">= 0.6", True),
                 ("18.19.0", "^18.0.0", True), ("19.0.0", "^18.0.0", False), ("18.19.0", "~18.19", True),
                 ("18.20.0", "~18.19", False), ("18.19.0", "<18", False), ("18.19.0", "<=18", True),
                 ("18.19.0", "14 || >=16", True), ("15.0.0", "14 || >=16", False), ("18.19.0", "16 - 18", True),
                 ("19.0.0", "16 - 18", False), ("18.19.0", "*", True), ("18.19.0", ">=16.14.0", True),
                 ("18.19.0", ">18", False), ("19.0.0", ">18", True), ("0.3.1", "^0.3", True), ("0.4.0", "^0.3", False),
                 ("20.0.0", ">=18 <20", False), ("19.9.9", ">=18 <20", True)]
        for node, rng, want in cases:
            self.assertEqual(satisfies(floor(parse(node)), rng), want, (node, rng))

    def test_misfit_named(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"packages": {"": {"name": "x"}, "node_modules/a": {"version": "1.2.3", "engines": {"node": ">=20"}},
                                    "node_modules/b": {"version": "2.0.0", "engines": {"node": ">=16"}}}}, f)
        try:
            p = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "check_engines.py"), f.name, "--node", "v18.19.0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("node 18.19.0", p.stderr)
            self.assertIn("a 1.2.3 wants node >=20", p.stderr)
            self.assertNotIn(" b ", p.stderr)
            ok = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "check_engines.py"), f.name, "--node", "20.0.0"])
            self.assertEqual(ok.returncode, 0)
        finally:
            os.unlink(f.name)

    def test_project_fits_debian_node(self):
        """web/ installs on Debian 12's own nodejs (18.19), the one setup.sh installs on a bare machine."""
        p = subprocess.run([sys.executable, os.path.join(SRC, "scripts", "check_engines.py"),
                            os.path.join(SRC, "web", "package-lock.json"), "--node", "18.19.0"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
