#!/usr/bin/env bash
# demo.sh: set up, build, load the demo site of the holy sites, serve it at http://localhost:8080
# and play a crowd on it with the simulator, so the map is alive.
# Usage: scripts/demo.sh [--port N] [--pilgrims N] [--rate R] [--no-sim]
set -euo pipefail
cd "$(dirname "$0")/.."
port=8080 pilgrims=100000 rate=20000 sim=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --pilgrims) pilgrims="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --no-sim) sim=0; shift ;;
    -h|--help)
      echo "Usage: scripts/demo.sh [--port N] [--pilgrims N] [--rate R] [--no-sim]"
      echo "Installs, builds, imports data/demo/*.geojson into build/demo.sqlite, serves it with the web"
      echo "viewer and runs 'mashaer simulate' against it (a living map: crowds, crews, gates, sensors, incidents)."
      exit 0 ;;
    *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --no-browser
scripts/build.sh
db=build/demo.sqlite
rm -rf "$db" "$db-wal" "$db-shm" "$db.live"
for f in data/demo/*.geojson; do
  build/mashaer import --db "$db" --layer "$(basename "$f" .geojson)" "$f"
done
# the simulator's token goes in a file only this user can read: on a command line it would be in ps
token_file=build/demo-simulator.token
rm -f "$token_file"
(umask 077 && build/mashaer token add --db "$db" --role feed --name demo-simulator 2>/dev/null | head -1 > "$token_file")
# the demo's OpenStreetMap walkways carry no width; its simulator walks them as about 21 m wide (35 %
# of a 60 m block: importers/sim), so the forecast is told the same (site_walkways have their own)
build/mashaer serve --db "$db" --port "$port" --forecast-width 21 &
server=$!
trap 'kill $sim_pid $server 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
sim_pid=""
for _ in $(seq 1 50); do curl -sf "http://localhost:$port/health" >/dev/null && break; sleep 0.2; done
echo
echo "Mashaer demo: open http://localhost:$port in a browser (Ctrl-C stops everything)"
if [ "$sim" = 1 ]; then
  build/mashaer simulate --url "http://localhost:$port" --token-file "$token_file" --pilgrims "$pilgrims" --rate "$rate" &
  sim_pid=$!
fi
wait "$server"
