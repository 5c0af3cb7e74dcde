#!/usr/bin/env bash
# setup.sh: install what Mashaer needs on Debian 12 (only what is missing), then the web
# viewer's npm packages. Safe to run again. Usage: scripts/setup.sh [--no-browser]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  echo "Usage: scripts/setup.sh [--no-browser]"
  echo "Installs the Debian packages Mashaer builds and tests with (apt-get, via sudo when not root),"
  echo "Debian's Node.js and npm when node is missing, checks that every package of web/package-lock.json"
  echo "accepts that node (scripts/check_engines.py), then the web viewer's npm packages (npm ci in web/)."
  exit 0
fi
with_browser=1
[ "${1:-}" = "--no-browser" ] && with_browser=0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

pkgs=(
  build-essential cmake pkg-config ca-certificates curl procps
  libgdal-dev gdal-bin python3 python3-gdal
  libgeos-dev libspatialite-dev libsqlite3-dev libsqlite3-mod-spatialite sqlite3
  libmicrohttpd-dev libcairo2-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libdeflate-dev libjansson-dev libssl-dev
  libcurl4-openssl-dev
  libfreetype-dev libfontconfig-dev fonts-noto-core fonts-dejavu-core
  libpango1.0-dev libharfbuzz-dev
  libmosquitto-dev mosquitto mosquitto-clients
  libnats-dev nats-server
  clang libclang-rt-14-dev
  libpq-dev postgresql-15 postgresql-15-postgis-3
  haproxy nats-server libnats-dev
)
# HAProxy and NATS (the JetStream feed log, its C client) for a cluster: scripts/cluster.sh, integration.cluster
# libpq for the PostgreSQL store; PostgreSQL and PostGIS (above) for it and its tests.
# For the tests only: Chromium for the browser test; pgRouting, which the route tests compare with (each test starts its own server on a private port and stops it)
if [ "$with_browser" = 1 ]; then
  pkgs+=(chromium fonts-dejavu-core postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting)
fi
# Node: Debian's nodejs (18.19 on Debian 12) and npm when there is no node at all; npm alone when a node
# came without one. web/package.json pins packages whose engines accept that node, and
# scripts/check_engines.py checks it below before anything is installed.
if ! command -v node >/dev/null 2>&1; then pkgs+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then pkgs+=(npm); fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages already installed"
fi

# The viewer's packages (MapLibre GL JS, the style validator, playwright-core for the browser test),
# served by Mashaer itself so the map works offline.
# Every package's engines must accept this node: say which do not, and stop, rather than install
# packages that fail later (playwright-core 1.62+ wants node 20; Debian 12 has 18).
if ! python3 scripts/check_engines.py web/package-lock.json; then
  echo "setup: stopped: node $(node --version) does not fit web/package-lock.json (see above)" >&2
  exit 1
fi
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in web/"
  (cd web && npm ci --engine-strict --no-audit --no-fund --loglevel=error)
fi
echo "setup: done"
