"""A test that goes wrong on purpose, for test_harness_cleanup.py.

    python3 harness_fail.py MODE --mashaer BIN --source-dir SRC --work-dir DIR

starts `mashaer serve` through mshtest.Server on DIR/site.sqlite (made by the caller), prints
"server pid N", then ends the way MODE says: fail (a failed assertion), raise (an error),
exit (sys.exit(3)), sigterm, sigkill.
"""
import os
import signal
import sys
import threading
import unittest

import mshtest

MODE = sys.argv.pop(1)


class Fail(unittest.TestCase):
    def test_fail(self):
        srv = mshtest.Server(os.path.join(mshtest.CONFIG.work_dir, "..", "site.sqlite"), "--no-live").start()
        print("server pid %d" % srv.proc.pid, flush=True)
        if MODE == "fail":
            self.fail("deliberate failure")
        if MODE == "raise":
            raise RuntimeError("deliberate error")
        if MODE == "exit":
            sys.exit(3)
        if MODE == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        if MODE == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Event().wait(600)  # not reached: each mode has ended the test
        print("not reached", flush=True)


if __name__ == "__main__":
    mshtest.main()
