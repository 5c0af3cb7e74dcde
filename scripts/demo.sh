#!/usr/bin/env bash
# demo.sh: set up, build, load the demo site of the holy sites and serve it at http://localhost:8080
# Usage: scripts/demo.sh [--port N]
set -euo pipefail
cd "$(dirname "$0")/.."
port=8080
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    -h|--help) echo "Usage: scripts/demo.sh [--port N]"; echo "Installs, builds, imports data/demo/*.geojson into build/demo.sqlite and serves it with the web viewer."; exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --no-browser
scripts/build.sh
db=build/demo.sqlite
rm -f "$db" "$db-wal" "$db-shm"
for f in data/demo/*.geojson; do
  build/mashaer import --db "$db" --layer "$(basename "$f" .geojson)" "$f"
done
echo
echo "Mashaer demo: open http://localhost:$port in a browser (Ctrl-C stops the server)"
exec build/mashaer serve --db "$db" --port "$port"
