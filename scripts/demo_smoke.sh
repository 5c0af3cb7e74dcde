#!/usr/bin/env bash
# demo_smoke.sh: run the README's demo command on a machine that may have nothing installed yet, and
# check that it serves a live map. Usage: scripts/demo_smoke.sh [PORT]   (default 18080)
# scripts/demo.sh installs python3 and GDAL's bindings among the rest, so this waits for them, then
# scripts/demo_smoke.py --attach checks the viewer, /vendor/, a movement tile with people, a heatmap
# and /kpi. The demo (its whole process group) is stopped on every way out.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
port=${1:-18080}
setsid scripts/demo.sh --port "$port" &
demo=$!
stop() { kill -TERM -- "-$demo" 2>/dev/null || true; for _ in $(seq 50); do kill -0 "$demo" 2>/dev/null || return 0; sleep 0.2; done; kill -KILL -- "-$demo" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
until [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import osgeo' 2>/dev/null; do
  kill -0 "$demo" 2>/dev/null || { echo "FAIL scripts/demo.sh exited before python3 and GDAL were installed"; exit 1; }
  sleep 2   # set-up takes minutes; the barrier is python3 with GDAL being there
done
/usr/bin/python3 scripts/demo_smoke.py --port "$port" --attach "$demo"
