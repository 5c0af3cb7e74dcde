"""pgbench.py: the set-up the PostgreSQL benchmarks share (store_backends.py, pg_edits.py).

setup(ap, work_dir) adds --mashaer and --work-dir to the script's parser, parses it, points the
test helpers (tests/integration/mshtest.py) at the binary and folder, and starts a private
PostgreSQL 15 + PostGIS (tests/integration/pgsupport.py) with fsync and synchronous commit on, a
child of the script that dies with it. Returns (args, mshtest module, the server)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import mshtest  # noqa: E402


def setup(ap, work_dir):
    ap.add_argument("--mashaer", default=os.path.join(ROOT, "build", "mashaer"))
    ap.add_argument("--work-dir", default=work_dir)
    args = ap.parse_args()
    mshtest.CONFIG.mashaer = os.path.abspath(args.mashaer)
    mshtest.CONFIG.source_dir = ROOT
    mshtest.CONFIG.work_dir = args.work_dir
    os.makedirs(args.work_dir, exist_ok=True)
    import pgsupport
    pg = pgsupport.Postgres(routing=False).start_child(mshtest.spawn, mshtest.wait_for,
                                                       ["-c", "fsync=on", "-c", "synchronous_commit=on"])
    return args, mshtest, pg
