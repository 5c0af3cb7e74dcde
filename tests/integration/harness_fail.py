"""A test that goes wrong on purpose, for test_harness_cleanup.py.

    python3 harness_fail.py MODE --mashaer BIN --source-dir SRC --work-dir DIR

imports the demo sites into DIR/site.sqlite (on PostgreSQL, MSH_TEST_STORE=postgresql: a database
of this process's own PostgreSQL server), starts `mashaer serve` on it through mshtest.Server, prints
"server pid N" (and " postgres pid M" on PostgreSQL), then ends the way MODE says: fail (a failed assertion), raise (an error),
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
        db = mshtest.work_path("site.sqlite")
        mshtest.import_layer(db, mshtest.demo_path("sites.geojson"), "sites")
        srv = mshtest.Server(db, "--no-live").start()
        pg = " postgres pid %d" % mshtest.pg_server().child.pid if mshtest.STORE_BACKEND == "postgresql" else ""
        print("server pid %d%s" % (srv.proc.pid, pg), flush=True)
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
