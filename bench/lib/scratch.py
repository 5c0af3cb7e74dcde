"""scratch.py: a scratch Mashaer for the live benchmarks (bench/*.py), set up the same way in each.

The benchmarks that run a server of their own share these steps: the build and source flags, a
store in a temporary folder with some of the demo layers imported, a feed token, `mashaer serve`
on a free port (the port read from its first line), and POSTing position batches. Standard
library only. Usage from a script in bench/:

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
    import scratch
    ap = argparse.ArgumentParser(...); ...; scratch.add_build_args(ap); args = ap.parse_args()
    work, db = scratch.store(args, "msh-live-", ["sites"])
    token = scratch.feed_token(args, db)
    srv, port = scratch.serve(args, db, "--snapshot-s", "3600")
"""
import http.client
import json
import os
import re
import subprocess
import tempfile

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_build_args(ap):
    """--mashaer (the binary, build/mashaer by default) and --source-dir (the checkout, for data/demo)."""
    ap.add_argument("--mashaer", default=os.path.join(BENCH, "..", "build", "mashaer"))
    ap.add_argument("--source-dir", default=os.path.join(BENCH, ".."))


def store(args, prefix, layers, only_existing=False):
    """A temporary folder and a store in it holding the named demo layers; (folder, store path).
    With only_existing, layers missing from data/demo are passed over."""
    work = tempfile.mkdtemp(prefix=prefix)
    db = os.path.join(work, "bench.sqlite")
    for layer in layers:
        src = os.path.join(args.source_dir, "data", "demo", layer + ".geojson")
        if only_existing and not os.path.exists(src):
            continue
        subprocess.run([args.mashaer, "import", "-q", "--db", db, "--layer", layer, src], check=True)
    return work, db


def feed_token(args, db):
    """A new feed token (the first line `mashaer token add` prints)."""
    return subprocess.run([args.mashaer, "token", "add", "--db", db, "--role", "feed", "--name", "bench"],
                          check=True, capture_output=True, text=True).stdout.split("\n")[0].strip()


# A benchmark is one client on loopback: the per-client limits of the server (README, "serve") would
# measure themselves, not the server. Builds from before those limits do not know the flags.
NO_CLIENT_LIMITS = ["--rate-per-client", "0", "--rate-per-token", "0", "--max-conn-per-client", "0"]


def client_limit_flags(mashaer):
    """NO_CLIENT_LIMITS when this build has per-client limits, else nothing."""
    out = subprocess.run([mashaer, "serve", "--help"], capture_output=True, text=True).stdout
    return NO_CLIENT_LIMITS if "--rate-per-client" in out else []


def serve(args, db, *flags):
    """`mashaer serve` on a free port with the given flags, per-client limits lifted; (process, port)
    once it listens."""
    srv = subprocess.Popen([args.mashaer, "serve", "--db", db, "--port", "0"] + list(flags)
                           + client_limit_flags(args.mashaer),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return srv, int(re.search(r":(\d+)$", srv.stdout.readline().strip()).group(1))


def post_positions(port, token, body, timeout=60):
    """POST one NDJSON batch to /feeds/positions on a fresh connection; the count accepted."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", "/feeds/positions", body, {"Authorization": "Bearer " + token})
    r = c.getresponse()
    n = json.loads(r.read())["accepted"]
    c.close()
    return n
