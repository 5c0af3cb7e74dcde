"""The test helpers leave no process behind: a test that fails, raises, exits, or is stopped by
SIGTERM or SIGKILL ends within seconds, says why, and its `mashaer serve` is gone."""
import os
import re
import subprocess
import sys
import time
import unittest

import mshtest

HERE = os.path.dirname(os.path.abspath(__file__))


def alive(pid):
    """True while pid runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Cleanup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mshtest.import_layer(mshtest.work_path("site.sqlite"), mshtest.demo_path("sites.geojson"), "sites")

    def run_mode(self, mode, says):
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, os.path.join(HERE, "harness_fail.py"), mode,
                            "--mashaer", mshtest.CONFIG.mashaer, "--source-dir", mshtest.CONFIG.source_dir,
                            "--work-dir", mshtest.work_path(mode)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        secs = time.monotonic() - t0
        m = re.search(r"server pid (\d+)", p.stdout)
        self.assertTrue(m, p.stdout + p.stderr)
        self.assertNotEqual(p.returncode, 0)
        self.assertLess(secs, 15)
        if says:
            self.assertIn(says, p.stderr)
        pid = int(m.group(1))
        mshtest.wait_for(lambda: not alive(pid), 5, "server %d of mode %s to be gone" % (pid, mode))

    def test_failed_assertion(self):
        self.run_mode("fail", "AssertionError: deliberate failure")

    def test_error(self):
        self.run_mode("raise", "RuntimeError: deliberate error")

    def test_sys_exit(self):
        self.run_mode("exit", None)

    def test_sigterm(self):
        self.run_mode("sigterm", "stopped by SIGTERM")

    def test_sigkill(self):
        self.run_mode("sigkill", None)


if __name__ == "__main__":
    mshtest.main()
