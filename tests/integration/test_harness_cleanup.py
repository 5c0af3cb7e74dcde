"""The test helpers leave no process behind: a test that fails, raises, exits, or is stopped by
SIGTERM or SIGKILL ends (it does not wait out its last step), says why, and its `mashaer serve` is
gone (and on PostgreSQL, MSH_TEST_STORE=postgresql, its private PostgreSQL server too). No wall-clock limit: what is timed out is a hang of ten minutes, not a slow machine."""
import os
import re
import signal
import subprocess
import sys
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
    def run_mode(self, mode, says):
        proc = mshtest.spawn([sys.executable, os.path.join(HERE, "harness_fail.py"), mode,
                              "--mashaer", mshtest.CONFIG.mashaer, "--source-dir", mshtest.CONFIG.source_dir,
                              "--work-dir", mshtest.work_path(mode)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # the barrier: the test has its server and is about to end the way `mode` says. From here a
        # harness that does not end the test waits out harness_fail.py's 600 s, which `communicate`
        # stops far sooner (a hang, however loaded the machine is, since nothing is left to start)
        first = proc.stdout.readline()
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail("mode %s: the test did not end (%s)" % (mode, (first + out + err)[-2000:]))
        m = re.search(r"server pid (\d+)", first)
        self.assertTrue(m, first + out + err)
        self.assertNotEqual(proc.returncode, 0)
        self.assertNotIn("not reached", out)
        if says:
            self.assertIn(says, err)
        pid = int(m.group(1))
        mshtest.wait_for(lambda: not alive(pid), 60, "server %d of mode %s to be gone" % (pid, mode))
        pg = re.search(r"postgres pid (\d+)", first)
        self.assertEqual(pg is not None, mshtest.STORE_BACKEND == "postgresql", first)
        if pg:
            pid = int(pg.group(1))
            mshtest.wait_for(lambda: not alive(pid), 60, "postgres %d of mode %s to be gone" % (pid, mode))
        return proc.returncode

    def test_failed_assertion(self):
        self.run_mode("fail", "AssertionError: deliberate failure")

    def test_error(self):
        self.run_mode("raise", "RuntimeError: deliberate error")

    def test_sys_exit(self):
        self.run_mode("exit", None)

    def test_sigterm(self):
        self.run_mode("sigterm", "stopped by SIGTERM")

    def test_sigkill(self):
        self.assertEqual(self.run_mode("sigkill", None), -signal.SIGKILL)  # killed, not failed on the way


if __name__ == "__main__":
    mshtest.main()
