#!/usr/bin/env bash
# run.sh: Mashaer's tile benchmark against nginx, PostGIS and MapServer, in one run, on the
# same data and the same tile lists.  See --help and docs/BENCHMARKS.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LIB="$HERE/lib/benchlib.py"
ORIG_CMD="bench/run.sh${*:+ $*}"

# ------------------------------------------------------------------ defaults
ROUNDS=3
DURATION=3
ZOOMS="12-18"
PEERS="mashaer-uncached,mashaer-cached,nginx,postgis,mapserver"
SETS="walkways,demo"
CAP=2000
WRK_THREADS=2
WRK_CONNS=8
TIMING_REPEAT=3
DATA_DIR="$REPO/data/demo"
DEMO_LAYERS="sites,service_zones,camps,cleaning_routes,walkways,assets"
WORKDIR=""
KEEP=0
INSTALL=1
BUILD=1
WRITE_DOC=1
PERF=0
PERF_ZOOMS="14,17"
MASHAER_THREADS=""
MASHAER_BIN=""
BASELINE_BIN=""
PG_BIN=/usr/lib/postgresql/15/bin
RESULTS_DIR="$REPO/bench/results"
DOC="$REPO/docs/BENCHMARKS.md"

usage() {
    cat <<EOF
Usage: bench/run.sh [options]

Measures vector tile throughput and latency of Mashaer (uncached and cached) against
nginx (Mashaer's own tiles as static files), PostGIS 3 ST_AsMVT behind a small C front
(bench/peers/pgfront.c, pool of 4) and MapServer 8 MVT (lighttpd + 2 FastCGI mapserv),
all on 127.0.0.1, all on the same data and the same tile lists:

  walkways  the OSM walkway network alone        /tiles/walkways/{z}/{x}/{y}.mvt
  demo      the demo site, all demo layers       /tiles/$DEMO_LAYERS/{z}/{x}/{y}.mvt

For each set and zoom the list holds every tile meeting the data's bounding box; a
list longer than --cap tiles is replaced by an evenly strided (deterministic) sample.
wrk (--wrk-threads threads, --connections connections) cycles through each list
(bench/tiles.lua) for --duration seconds; each figure is the median of --rounds rounds,
and the rounds are interleaved over peers so that noise hits them alike.
It also times every tile of the lists one by one on uncached Mashaer and tabulates the
time against the number of features in the tile.

Output: a table on stdout, bench/results/latest.md (+ raw TSV files next to it) and the
generated section of docs/BENCHMARKS.md.  Peers missing on the machine are installed with
apt-get; every service is started on a private folder and port and stopped at the end.

Options:
  --rounds N          rounds per measurement, median reported (default $ROUNDS)
  --duration S        seconds per wrk round (default $DURATION)
  --zooms LIST        zoom levels: "12-18", "14,16" or "12-14,17" (default $ZOOMS)
  --peers LIST        any of mashaer-uncached,mashaer-cached,nginx,postgis,mapserver
                      (default: all)
  --sets LIST         walkways,demo (default $SETS)
  --cap N             at most N tiles per list (default $CAP; 0 = no cap)
  --wrk-threads N     wrk threads (default $WRK_THREADS)
  --connections N     wrk connections (default $WRK_CONNS)
  --timing-repeat N   single-request timings per tile for the features table
                      (default $TIMING_REPEAT; 0 skips that table)
  --mashaer-threads N pass --threads N to mashaer serve (default: its own default)
  --mashaer PATH      measure this mashaer binary (e.g. a git worktree's build/mashaer)
                      instead of building this checkout's build/ (implies --no-build);
                      its commit is read from the source folder in the CMakeCache.txt
                      next to it
  --baseline PATH     also measure a second build, side by side in the same rounds
                      with the same peers: adds the peers baseline-uncached and
                      baseline-cached (its own store, imported by itself); the tables
                      give Mashaer / baseline, and bench/results/latest-compare.md has
                      before/after figures and ratios against each peer
  --perf              also record a perf profile of uncached Mashaer during one extra
                      wrk run per set and zoom (z14 and z17), written to
                      bench/results/perf-{set}-z{zoom}.txt
  --perf-zooms LIST   zooms for --perf (default $PERF_ZOOMS; implies --perf)
  --data DIR          the demo GeoJSON folder (default data/demo)
  --workdir DIR       keep the scratch files there (default: a fresh temp folder,
                      removed at the end)
  --keep              keep the scratch folder
  --no-install        do not apt-get install missing peers (skip those peers instead)
  --no-build          do not (re)build Mashaer; use build/mashaer as it is
  --no-doc            do not rewrite the generated section of docs/BENCHMARKS.md
  -h, --help          this help

The default run takes about 13 minutes on 2 cores.  A quick look:
  bench/run.sh --rounds 1 --duration 1 --zooms 14,16 --no-doc
EOF
}

die() { echo "run.sh: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --zooms) ZOOMS=$2; shift 2 ;;
        --peers) PEERS=$2; shift 2 ;;
        --sets) SETS=$2; shift 2 ;;
        --cap) CAP=$2; shift 2 ;;
        --wrk-threads) WRK_THREADS=$2; shift 2 ;;
        --connections) WRK_CONNS=$2; shift 2 ;;
        --timing-repeat) TIMING_REPEAT=$2; shift 2 ;;
        --mashaer-threads) MASHAER_THREADS=$2; shift 2 ;;
        --mashaer) MASHAER_BIN=$(realpath "$2"); BUILD=0; shift 2 ;;
        --baseline) BASELINE_BIN=$(realpath "$2"); shift 2 ;;
        --perf) PERF=1; shift ;;
        --perf-zooms) PERF=1; PERF_ZOOMS=$2; shift 2 ;;
        --data) DATA_DIR=$(cd "$2" && pwd); shift 2 ;;
        --workdir) WORKDIR=$2; KEEP=1; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-install) INSTALL=0; shift ;;
        --no-build) BUILD=0; shift ;;
        --no-doc) WRITE_DOC=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done

isnum() { [[ "$1" =~ ^[0-9]+$ ]]; }
for v in ROUNDS DURATION CAP WRK_THREADS WRK_CONNS TIMING_REPEAT; do
    isnum "${!v}" || die "--$(echo "$v" | tr 'A-Z_' 'a-z-') takes a whole number, not '${!v}'"
done
[ "$ROUNDS" -ge 1 ] && [ "$DURATION" -ge 1 ] || die "--rounds and --duration must be at least 1"

expand_zooms() {
    local out=() part a b z
    IFS=',' read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
            a=${BASH_REMATCH[1]}; b=${BASH_REMATCH[2]}
            for ((z = a; z <= b; z++)); do out+=("$z"); done
        elif [[ "$part" =~ ^[0-9]+$ ]]; then
            out+=("$part")
        else
            die "bad --zooms '$1'"
        fi
    done
    for z in "${out[@]}"; do [ "$z" -le 22 ] || die "zoom $z is too deep"; done
    echo "${out[@]}"
}
ZOOM_LIST=$(expand_zooms "$ZOOMS")
if [ -n "$BASELINE_BIN" ] && [ "$PEERS" = "mashaer-uncached,mashaer-cached,nginx,postgis,mapserver" ]; then
    PEERS="mashaer-uncached,mashaer-cached,baseline-uncached,baseline-cached,nginx,postgis,mapserver"
fi
IFS=',' read -ra PEER_LIST <<<"$PEERS"
IFS=',' read -ra SET_LIST <<<"$SETS"
for p in "${PEER_LIST[@]}"; do
    case "$p" in mashaer-uncached|mashaer-cached|nginx|postgis|mapserver) ;;
        baseline-uncached|baseline-cached) [ -n "$BASELINE_BIN" ] || die "peer '$p' needs --baseline PATH" ;;
        *) die "unknown peer '$p'" ;;
    esac
done
for s in "${SET_LIST[@]}"; do
    case "$s" in walkways|demo) ;; *) die "unknown set '$s'" ;; esac
done
has_peer() { local p; for p in "${PEER_LIST[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
drop_peer() {
    local p keep=()
    for p in "${PEER_LIST[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PEER_LIST=("${keep[@]}")
}

# ------------------------------------------------------------------ tools
APT_UPDATED=0
apt_install() {
    [ "$INSTALL" = 1 ] || return 1
    [ "$(id -u)" = 0 ] || { echo "run.sh: need root to apt-get install $*" >&2; return 1; }
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -qq >/dev/null 2>&1 || true
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1
}
# need CHECK PACKAGES...: CHECK is a command name or an absolute path that must exist
need() {
    local check=$1; shift
    if [[ "$check" = /* ]]; then [ -e "$check" ] && return 0; else command -v "$check" >/dev/null && return 0; fi
    apt_install "$@" || return 1
    if [[ "$check" = /* ]]; then [ -e "$check" ]; else command -v "$check" >/dev/null; fi
}

need wrk wrk || die "wrk is required (apt-get install wrk)"
need curl curl || die "curl is required"
need python3 python3 || die "python3 is required"
# the real interpreter: a pyenv shim costs about a second per call
PY=$(python3 -c 'import sys; print(sys.executable)')
need cmake cmake || die "cmake is required"
if has_peer nginx; then need nginx nginx-light || { log "nginx unavailable: skipping it"; drop_peer nginx; }; fi
if has_peer postgis; then
    if ! need "$PG_BIN/initdb" postgresql-15 || ! need /usr/share/postgresql/15/extension/postgis.control postgresql-15-postgis-3 \
        || ! need ogr2ogr gdal-bin || ! need pg_config libpq-dev || ! need /usr/include/microhttpd.h libmicrohttpd-dev \
        || ! need cc gcc; then
        log "PostGIS set-up unavailable: skipping it"; drop_peer postgis
    fi
fi
if has_peer mapserver; then
    if ! need /usr/lib/cgi-bin/mapserv cgi-mapserver || ! need shptree mapserver-bin || ! need lighttpd lighttpd \
        || ! need ogr2ogr gdal-bin; then
        log "MapServer set-up unavailable: skipping it"; drop_peer mapserver
    fi
fi
[ ${#PEER_LIST[@]} -gt 0 ] || die "no peer left to measure"

# ------------------------------------------------------------------ scratch folder and cleanup
if [ -z "$WORKDIR" ]; then
    WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/mashaer-bench.XXXXXX")
else
    mkdir -p "$WORKDIR"
    WORKDIR=$(cd "$WORKDIR" && pwd)
fi
chmod 755 "$WORKDIR" # the postgres user and nginx workers must reach their folders
W=$WORKDIR
mkdir -p "$W"/{lists,paths,raw,www,mashaer}

PIDS_TO_KILL=()   # pids we started, stopped with TERM at the end
PG_STARTED=0
PGFRONT_PID=""
NGINX_PIDFILE=""
LIGHTTPD_PIDFILE=""
MAPSERV_PIDS=()

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS_TO_KILL[@]}"; do kill "$pid" 2>/dev/null; done
    if [ -n "$NGINX_PIDFILE" ] && [ -s "$NGINX_PIDFILE" ]; then kill -QUIT "$(cat "$NGINX_PIDFILE")" 2>/dev/null; fi
    if [ -n "$LIGHTTPD_PIDFILE" ] && [ -s "$LIGHTTPD_PIDFILE" ]; then
        # mapserv processes lighttpd (re)started, including any it respawned during the run
        MAPSERV_PIDS+=($(pgrep -P "$(cat "$LIGHTTPD_PIDFILE")" -x mapserv))
        kill "$(cat "$LIGHTTPD_PIDFILE")" 2>/dev/null
    fi
    for pid in "${MAPSERV_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    if [ "$PG_STARTED" = 1 ]; then as_pg "$PG_BIN/pg_ctl" -D "$W/pg/data" -m fast -w stop >/dev/null 2>&1; fi
    sleep 0.3
    for pid in "${PIDS_TO_KILL[@]}" "${MAPSERV_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
    if [ "$KEEP" = 0 ]; then rm -rf "$W"; else log "scratch files kept in $W"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # URL SECONDS: until the server answers at all
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        curl -s -o /dev/null --max-time 2 "$1" && return 0
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------------------------ Mashaer
MASHAER="${MASHAER_BIN:-$REPO/build/mashaer}"
if [ "$BUILD" = 1 ]; then
    log "building Mashaer (Release)"
    cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release >"$W/build.log" 2>&1 \
        && cmake --build "$REPO/build" -j"$(nproc)" >>"$W/build.log" 2>&1 || { tail -30 "$W/build.log" >&2; die "build failed"; }
fi
[ -x "$MASHAER" ] || die "$MASHAER is missing (build it, drop --no-build or give --mashaer PATH)"
# build_info BINARY: "<commit>[ + local changes], <build type> build" from the CMakeCache.txt
# next to the binary (its source folder and CMAKE_BUILD_TYPE)
build_info() {
    local dir src type commit
    dir=$(dirname "$1")
    src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$dir/CMakeCache.txt" 2>/dev/null)
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$dir/CMakeCache.txt" 2>/dev/null)
    [ -n "$src" ] || src=$REPO
    commit="$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')"
    git -C "$src" diff --quiet HEAD -- layers server 2>/dev/null || commit+=" + local changes"
    echo "$commit, ${type:-unknown} build"
}
COMMIT=$(build_info "$MASHAER")
case "$COMMIT" in *", Release build") ;; *) log "warning: $MASHAER is not a Release build ($COMMIT)" ;; esac
# run a private copy: a rebuild of build/ during the run must not change what is measured
cp "$MASHAER" "$W/mashaer/mashaer"
MASHAER="$W/mashaer/mashaer"
BASELINE=""
BASELINE_COMMIT=""
if [ -n "$BASELINE_BIN" ]; then
    [ -x "$BASELINE_BIN" ] || die "--baseline $BASELINE_BIN is not an executable"
    BASELINE_COMMIT=$(build_info "$BASELINE_BIN")
    mkdir -p "$W/baseline"
    cp "$BASELINE_BIN" "$W/baseline/mashaer"
    BASELINE="$W/baseline/mashaer"
    log "Mashaer: $COMMIT; baseline: $BASELINE_COMMIT"
fi

DB="$W/mashaer/demo.db"
IFS=',' read -ra DEMO_LAYER_ARR <<<"$DEMO_LAYERS"
log "importing ${DEMO_LAYERS} into $DB"
for l in "${DEMO_LAYER_ARR[@]}"; do
    [ -f "$DATA_DIR/$l.geojson" ] || die "missing $DATA_DIR/$l.geojson"
    "$MASHAER" import --db "$DB" --layer "$l" "$DATA_DIR/$l.geojson" >>"$W/mashaer/import.log" 2>&1 \
        || { cat "$W/mashaer/import.log" >&2; die "import of $l failed"; }
done
BASELINE_DB="$W/baseline/demo.db"
if [ -n "$BASELINE" ]; then
    # each build imports its own store: the store's format may differ between commits
    for l in "${DEMO_LAYER_ARR[@]}"; do
        "$BASELINE" import --db "$BASELINE_DB" --layer "$l" "$DATA_DIR/$l.geojson" >>"$W/baseline/import.log" 2>&1 \
            || { cat "$W/baseline/import.log" >&2; die "baseline import of $l failed"; }
    done
fi

MASHAER_ARGS=()
[ -n "$MASHAER_THREADS" ] && MASHAER_ARGS+=(--threads "$MASHAER_THREADS")
declare -A MPID MURL
start_mashaer() { # NAME CACHE_MB ("" = default); NAME baseline-* runs the baseline build
    local name=$1 cache=$2 out="$W/mashaer/$1.out" i bin=$MASHAER db=$DB
    case "$name" in baseline-*) bin=$BASELINE; db=$BASELINE_DB ;; esac
    local args=(serve --db "$db" --port 0 "${MASHAER_ARGS[@]}")
    [ -n "$cache" ] && args+=(--cache-mb "$cache")
    # the load generator is one client on loopback: lift the per-client limits of builds that have them
    "$bin" serve --help | grep -q -- --rate-per-client && args+=(--rate-per-client 0 --max-conn-per-client 0)
    : >"$out"
    "$bin" "${args[@]}" >"$out" 2>>"$W/mashaer/$name.err" &
    MPID[$name]=$!
    PIDS_TO_KILL+=($!)
    for ((i = 0; i < 100; i++)); do
        MURL[$name]=$(grep -o 'http://[0-9.]*:[0-9]*' "$out" 2>/dev/null || true)
        [ -n "${MURL[$name]}" ] && break
        kill -0 "${MPID[$name]}" 2>/dev/null || die "mashaer serve ($name) exited: $(cat "$W/mashaer/$name.err")"
        sleep 0.1
    done
    [ -n "${MURL[$name]}" ] || die "mashaer serve ($name) did not start"
    log "Mashaer $name: ${MURL[$name]} (pid ${MPID[$name]})"
}
BUGS="$W/bugs.txt"
: >"$BUGS"
ensure_mashaer() { # NAME CACHE: restart after a crash, and say so
    if ! kill -0 "${MPID[$1]}" 2>/dev/null; then
        local st
        wait "${MPID[$1]}" 2>/dev/null && st=0 || st=$?
        echo "Mashaer ($1) died during the run (exit status $st); stderr tail: $(tail -3 "$W/mashaer/$1.err" | tr '\n' ' ')" >>"$BUGS"
        log "Mashaer $1 died (status $st): restarting"
        start_mashaer "$1" "$2"
    fi
}
start_mashaer uncached 0
start_mashaer cached ""
if [ -n "$BASELINE" ]; then
    start_mashaer baseline-uncached 0
    start_mashaer baseline-cached ""
fi

# ------------------------------------------------------------------ tile lists
composite_prefix="/tiles/$DEMO_LAYERS"
META="$W/meta.env"
: >"$META"
meta() { printf '%s=%s\n' "$1" "$2" >>"$META"; }

declare -A SET_FILES SET_PREFIX SET_MSLAYERS
SET_FILES[walkways]="$DATA_DIR/walkways.geojson"
SET_PREFIX[walkways]="/tiles/walkways"
SET_MSLAYERS[walkways]="walkways"
SET_FILES[demo]=$(for l in "${DEMO_LAYER_ARR[@]}"; do printf '%s ' "$DATA_DIR/$l.geojson"; done)
SET_PREFIX[demo]="$composite_prefix"
SET_MSLAYERS[demo]=$(echo "$DEMO_LAYERS" | tr ',' '+')

log "making tile lists (zooms $ZOOM_LIST, at most $CAP tiles each)"
SAMPLED_NOTE=""
for s in "${SET_LIST[@]}"; do
    # shellcheck disable=SC2086
    bbox=$("$PY" "$LIB" bbox ${SET_FILES[$s]})
    meta "bbox_$s" "$bbox"
    echo "${SET_PREFIX[$s]}" >"$W/lists/$s.prefix"
    for z in $ZOOM_LIST; do
        counts=$("$PY" "$LIB" tiles --bbox "$bbox" --zoom "$z" --cap "$CAP" 2>&1 >"$W/lists/${s}_z$z.zxy")
        total=${counts% *}; kept=${counts#* }
        if [ "$total" != "$kept" ]; then
            meta "tiles_${s}_z$z" "$kept of $total (sampled)"
            SAMPLED_NOTE+="${s} z$z: $kept of $total tiles; "
        else
            meta "tiles_${s}_z$z" "$total"
        fi
        awk -v p="${SET_PREFIX[$s]}" '{printf "%s/%s/%s/%s.mvt\n", p, $1, $2, $3}' "$W/lists/${s}_z$z.zxy" >"$W/paths/std_${s}_z$z.txt"
        awk -v l="${SET_MSLAYERS[$s]}" '{printf "/mapserv?map=BENCH&mode=tile&tilemode=gmap&tile=%s+%s+%s&layers=%s\n", $2, $3, $1, l}' \
            "$W/lists/${s}_z$z.zxy" >"$W/paths/ms_${s}_z$z.txt"
    done
done
[ -n "$SAMPLED_NOTE" ] && log "sampled lists: $SAMPLED_NOTE"

# curl over a list of paths: writes "CODE SIZE SECONDS PATH" per request.
# curl_pass BASE_URL PATHS_FILE OUT [DUMP_ROOT]
curl_pass() {
    local base=$1 paths=$2 out=$3 root=${4:-} cfg="$W/raw/curl.cfg"
    if [ -n "$root" ]; then
        awk -v b="$base" -v r="$root" '{printf "url = \"%s%s\"\noutput = \"%s%s\"\n", b, $0, r, $0}' "$paths" >"$cfg"
        curl -s --create-dirs -K "$cfg" -w '%{http_code} %{size_download} %{time_total} %{url_effective}\n' >"$out" || true
    else
        awk -v b="$base" '{printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", b, $0}' "$paths" >"$cfg"
        curl -s -K "$cfg" -w '%{http_code} %{size_download} %{time_total} %{url_effective}\n' >"$out" || true
    fi
    sed -i "s#$base##" "$out"
}

# ------------------------------------------------------------------ dump Mashaer's tiles (nginx root, feature counts)
log "dumping Mashaer's tiles to $W/www (uncached server)"
: >"$W/dump.log"
for s in "${SET_LIST[@]}"; do
    for z in $ZOOM_LIST; do
        curl_pass "${MURL[uncached]}" "$W/paths/std_${s}_z$z.txt" "$W/raw/dump_${s}_z$z.log" "$W/www"
        cat "$W/raw/dump_${s}_z$z.log" >>"$W/dump.log"
    done
done
find "$W/www" -type f -size 0 -delete
chmod -R a+rX "$W/www" # curl --create-dirs makes 0750 folders; nginx workers run as nobody
awk '$1 != 200 && $1 != 204 {print}' "$W/dump.log" >"$W/dump.bad"
if [ -s "$W/dump.bad" ]; then
    echo "Mashaer answered $(wc -l <"$W/dump.bad") of $(wc -l <"$W/dump.log") tile requests with a status other than 200/204, e.g. $(head -3 "$W/dump.bad" | tr '\n' ';')" >>"$BUGS"
fi
DUMP_MB=$(du -sm "$W/www" | cut -f1)
meta dump_mb "$DUMP_MB"
log "dumped $(find "$W/www" -type f | wc -l) non-empty tiles, ${DUMP_MB} MB; $(awk '$1==204' "$W/dump.log" | wc -l) answered 204"
"$PY" "$LIB" features --root "$W/www" --lists "$W/lists" --out "$W/features.tsv"

# ------------------------------------------------------------------ time per tile versus features (uncached Mashaer)
if [ "$TIMING_REPEAT" -gt 0 ]; then
    log "timing every tile one by one on uncached Mashaer ($TIMING_REPEAT passes)"
    : >"$W/timing.tsv"
    for ((r = 1; r <= TIMING_REPEAT; r++)); do
        for s in "${SET_LIST[@]}"; do
            for z in $ZOOM_LIST; do
                curl_pass "${MURL[uncached]}" "$W/paths/std_${s}_z$z.txt" "$W/raw/timing.log"
                # "set z x y code seconds"
                awk -v s="$s" '{n=split($4, a, "/"); y=a[n]; sub(/\.mvt$/, "", y); print s, a[n-2], a[n-1], y, $1, $3}' \
                    "$W/raw/timing.log" >>"$W/timing.tsv"
            done
        done
    done
    "$PY" "$LIB" buckets --features "$W/features.tsv" --timing "$W/timing.tsv" --md "$W/buckets.md" >/dev/null
fi

# ------------------------------------------------------------------ peers
declare -A PEER_URL
PEER_URL[mashaer-uncached]=${MURL[uncached]}
PEER_URL[mashaer-cached]=${MURL[cached]}
if [ -n "$BASELINE" ]; then
    PEER_URL[baseline-uncached]=${MURL[baseline-uncached]}
    PEER_URL[baseline-cached]=${MURL[baseline-cached]}
fi
PORTS=($("$PY" "$LIB" freeport 4))
VERSIONS="wrk $( (wrk -v 2>&1 || true) | head -1 | awk '{print $2}')"

if has_peer nginx; then
    mkdir -p "$W/nginx/tmp"
    sed -e "s#@DIR@#$W/nginx#g" -e "s#@ROOT@#$W/www#g" -e "s#@PORT@#${PORTS[0]}#g" \
        "$HERE/peers/nginx.conf.in" >"$W/nginx/nginx.conf"
    NGINX_PIDFILE="$W/nginx/nginx.pid"
    nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" || die "nginx did not start"
    PEER_URL[nginx]="http://127.0.0.1:${PORTS[0]}"
    wait_http "${PEER_URL[nginx]}/" 10 || die "nginx does not answer"
    VERSIONS+=", $( (nginx -v 2>&1 || true) | sed 's/.*version: //')"
    log "nginx: ${PEER_URL[nginx]}"
fi

if has_peer postgis; then
    log "PostGIS: initdb, load the GeoJSON with ogr2ogr, tile functions, pgfront"
    mkdir -p "$W/pg"
    [ "$(id -u)" = 0 ] && chown postgres: "$W/pg"
    PGPORT_=${PORTS[1]}
    as_pg "$PG_BIN/initdb" -D "$W/pg/data" -A trust -U postgres >"$W/pg/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$W/pg/initdb.log")"
    as_pg "$PG_BIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/postgres.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $PGPORT_ -c unix_socket_directories=$W/pg -c shared_buffers=256MB -c jit=off -c max_connections=20" \
        start >/dev/null || die "postgres did not start: $(tail -5 "$W/pg/postgres.log")"
    PG_STARTED=1
    PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT_" -U postgres)
    "${PSQL[@]}" -d postgres -c 'CREATE DATABASE bench' >/dev/null
    "${PSQL[@]}" -d bench -c 'CREATE EXTENSION postgis' >/dev/null
    for l in "${DEMO_LAYER_ARR[@]}"; do
        ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$PGPORT_ dbname=bench user=postgres" "$DATA_DIR/$l.geojson" \
            -nln "$l" -t_srs EPSG:3857 -lco GEOMETRY_NAME=geom -overwrite 2>>"$W/pg/ogr2ogr.log" || die "ogr2ogr $l failed"
    done
    "${PSQL[@]}" -d bench -f "$HERE/peers/postgis.sql" >/dev/null
    "${PSQL[@]}" -d bench -c 'VACUUM ANALYZE' >/dev/null
    # the fair set-up, checked: every table in EPSG:3857 (no ST_Transform per request) with a GiST index
    pg_check=$("${PSQL[@]}" -d bench -tAc "SELECT count(*) FILTER (WHERE g.srid = 3857),
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pg_indexes i WHERE i.schemaname = 'public'
            AND i.tablename = g.f_table_name AND i.indexdef ILIKE '%USING gist%'))
        FROM geometry_columns g WHERE g.f_table_schema = 'public'")
    [ "$pg_check" = "${#DEMO_LAYER_ARR[@]}|${#DEMO_LAYER_ARR[@]}" ] \
        || die "PostGIS tables: expected ${#DEMO_LAYER_ARR[@]} in EPSG:3857 with a GiST index each, found '$pg_check' (3857|gist)"
    cc -O2 -Wall -o "$W/pgfront" "$HERE/peers/pgfront.c" -I"$(pg_config --includedir)" -lpq -lmicrohttpd -lpthread \
        || die "building pgfront failed"
    "$W/pgfront" --port "${PORTS[2]}" --pool 4 --threads 4 \
        --conninfo "host=127.0.0.1 port=$PGPORT_ dbname=bench user=postgres" >"$W/pg/pgfront.out" 2>&1 &
    PIDS_TO_KILL+=($!)
    PGFRONT_PID=$!
    PEER_URL[postgis]="http://127.0.0.1:${PORTS[2]}"
    wait_http "${PEER_URL[postgis]}/" 10 || die "pgfront does not answer: $(cat "$W/pg/pgfront.out")"
    VERSIONS+=", PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') + PostGIS $("${PSQL[@]}" -d bench -tAc 'SELECT postgis_lib_version()')"
    log "PostGIS front: ${PEER_URL[postgis]}"
fi

if has_peer mapserver; then
    log "MapServer: shapefiles (EPSG:3857) + shptree, lighttpd + 2 FastCGI mapserv"
    mkdir -p "$W/ms/data" "$W/ms/www"
    for l in "${DEMO_LAYER_ARR[@]}"; do
        ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:3857 -lco ENCODING=UTF-8 "$W/ms/data/$l.shp" "$DATA_DIR/$l.geojson" 2>>"$W/ms/ogr2ogr.log" \
            || die "ogr2ogr $l failed"
        shptree "$W/ms/data/$l.shp" >/dev/null 2>&1 || die "shptree $l failed"
    done
    sed "s#@DATA@#$W/ms/data#g" "$HERE/peers/mapserver.map.in" >"$W/ms/bench.map"
    sed -e "s#@DIR@#$W/ms#g" -e "s#@MAP@#$W/ms/bench.map#g" "$HERE/peers/mapserver.conf.in" >"$W/ms/mapserver.conf"
    sed -e "s#@DIR@#$W/ms#g" -e "s#@PORT@#${PORTS[3]}#g" -e "s#@MSCONF@#$W/ms/mapserver.conf#g" \
        "$HERE/peers/lighttpd.conf.in" >"$W/ms/lighttpd.conf"
    LIGHTTPD_PIDFILE="$W/ms/lighttpd.pid"
    lighttpd -f "$W/ms/lighttpd.conf" || die "lighttpd did not start: $(tail -5 "$W/ms/lighttpd.error.log")"
    PEER_URL[mapserver]="http://127.0.0.1:${PORTS[3]}"
    wait_http "${PEER_URL[mapserver]}/" 10 || die "lighttpd does not answer"
    for ((i = 0; i < 50; i++)); do
        mapfile -t MAPSERV_PIDS < <(pgrep -P "$(cat "$LIGHTTPD_PIDFILE")" -x mapserv || true)
        [ ${#MAPSERV_PIDS[@]} -ge 2 ] && break
        sleep 0.1
    done
    [ ${#MAPSERV_PIDS[@]} -eq 2 ] || die "lighttpd started ${#MAPSERV_PIDS[@]} mapserv FastCGI processes, not 2"
    MAPSERV_PIDS_START="${MAPSERV_PIDS[*]}"
    VERSIONS+=", MapServer $( (/usr/lib/cgi-bin/mapserv -v || true) | awk '{print $3}') + $( (lighttpd -v || true) | awk '{print $1}')"
    log "MapServer: ${PEER_URL[mapserver]} (mapserv pids ${MAPSERV_PIDS[*]})"
fi

paths_for() { # PEER SET ZOOM
    if [ "$1" = mapserver ]; then echo "$W/paths/ms_$2_z$3.txt"; else echo "$W/paths/std_$2_z$3.txt"; fi
}

# ------------------------------------------------------------------ what each peer serves (a check, not a benchmark)
log "checking what each peer serves on the same tiles"
CHECK_MD="$W/check.md"
{
    echo "| set | zoom | peer | 200 | 204 | other | empty 200 | features in all tiles | KiB in all tiles |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
} >"$CHECK_MD"
CHECK_ZOOMS=$(for z in $ZOOM_LIST; do if [ "$z" -ge 14 ] && [ "$z" -le 16 ]; then echo "$z"; fi; done | tr '\n' ' ')
[ -n "$CHECK_ZOOMS" ] || CHECK_ZOOMS=$(echo "$ZOOM_LIST" | awk '{print $1}')
for s in "${SET_LIST[@]}"; do
    for z in $CHECK_ZOOMS; do
        for p in mashaer-uncached baseline-uncached postgis mapserver nginx; do
            [ -n "${PEER_URL[$p]:-}" ] || continue
            rm -rf "$W/check"
            mkdir -p "$W/check"
            curl_pass "${PEER_URL[$p]}" "$(paths_for "$p" "$s" "$z")" "$W/raw/check.log" "$W/check"
            find "$W/check" -type f -size 0 -delete
            feats=$(find "$W/check" -type f -print0 | xargs -0 -r "$PY" "$LIB" mvtcount | "$PY" -c '
import json, sys
print(sum(sum(json.loads(l.split(" ", 1)[1]).values()) for l in sys.stdin))')
            awk -v s="$s" -v z="$z" -v p="$p" -v f="$feats" '
                {if ($1 == 200) {ok++; if ($2 == 0) e++; kb += $2 / 1024} else if ($1 == 204) nc++; else bad++}
                END {printf "| %s | z%s | %s | %d | %d | %d | %d | %s | %.0f |\n", s, z, p, ok, nc, bad, e, f, kb}' \
                "$W/raw/check.log" >>"$CHECK_MD"
        done
    done
done
rm -rf "$W/check"
# nginx must serve exactly Mashaer's tiles: same 200 and 204 counts, or its figures mean nothing
if [ -n "${PEER_URL[nginx]:-}" ]; then
    awk -F' [|] ' '$3 == "mashaer-uncached" {m[$1 $2] = $4 "/" $5} $3 == "nginx" {n[$1 $2] = $4 "/" $5}
        END {for (k in m) if (m[k] != n[k]) {print "nginx serves " n[k] " (200/204) where Mashaer serves " m[k] " at " k; bad = 1}; exit bad}' \
        "$CHECK_MD" >&2 || die "nginx does not serve the dumped tiles (see $W/nginx/error.log)"
fi

# ------------------------------------------------------------------ wrk rounds
RESULTS="$W/results.tsv"
: >"$RESULTS"
# Server CPU per tile: on a shared machine a peer's rate follows the share of the cores it
# gets, and a server with many threads gets a larger share than one with 2 processes when
# other work is runnable.  The CPU time its processes used per tile during the wrk run
# (user + system, every thread) is much less sensitive to that, so it is recorded beside
# the rate.
CLK_TCK=$(getconf CLK_TCK)
peer_pids() { # PEER: the processes that serve it
    local m
    case "$1" in
        mashaer-uncached) echo "${MPID[uncached]}" ;;
        mashaer-cached) echo "${MPID[cached]}" ;;
        baseline-uncached) echo "${MPID[baseline-uncached]}" ;;
        baseline-cached) echo "${MPID[baseline-cached]}" ;;
        nginx) m=$(cat "$NGINX_PIDFILE"); echo "$m" $(pgrep -P "$m") ;;
        postgis) m=$(head -1 "$W/pg/data/postmaster.pid"); echo "$PGFRONT_PID $m" $(pgrep -P "$m") ;;
        mapserver) m=$(cat "$LIGHTTPD_PIDFILE"); echo "$m" $(pgrep -P "$m" -x mapserv) ;;
    esac
}
cpu_ticks() { # PIDS...: user + system clock ticks these processes have used (all threads)
    local t=0 p v
    for p in "$@"; do
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
run_wrk() { # PEER SET ZOOM ROUND
    local p=$1 s=$2 z=$3 r=$4 out="$W/raw/wrk_$1_$2_z$3_r$4.txt" line
    local paths
    paths=$(paths_for "$p" "$s" "$z")
    case "$p" in
        mashaer-uncached) ensure_mashaer uncached 0 ;;
        mashaer-cached)
            ensure_mashaer cached ""
            PEER_URL[mashaer-cached]=${MURL[cached]}
            curl_pass "${MURL[cached]}" "$paths" "$W/raw/warm.log" ;; # warm: every tile of the list is in the cache
        baseline-uncached)
            ensure_mashaer baseline-uncached 0
            PEER_URL[baseline-uncached]=${MURL[baseline-uncached]} ;;
        baseline-cached)
            ensure_mashaer baseline-cached ""
            PEER_URL[baseline-cached]=${MURL[baseline-cached]}
            curl_pass "${MURL[baseline-cached]}" "$paths" "$W/raw/warm.log" ;;
    esac
    PEER_URL[mashaer-uncached]=${MURL[uncached]}
    local pids cpu0 cpu1
    pids=$(peer_pids "$p")
    # shellcheck disable=SC2086
    cpu0=$(cpu_ticks $pids)
    wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --timeout 30s -s "$HERE/tiles.lua" "${PEER_URL[$p]}" \
        -- "$paths" "$WRK_THREADS" >"$out" 2>&1 || true
    # shellcheck disable=SC2086
    cpu1=$(cpu_ticks $pids)
    line=$(grep '^BENCH ' "$out" || true)
    if [ -z "$line" ]; then
        log "wrk failed for $p $s z$z: $(tail -2 "$out" | tr '\n' ' ')"
        return
    fi
    # results.tsv: set zoom peer round rps p50_us p99_us requests err_status err_other MB/s cpu_ms_per_tile
    awk -v p="$p" -v s="$s" -v z="$z" -v r="$r" -v res="$RESULTS" -v cpu=$((cpu1 - cpu0)) -v hz="$CLK_TCK" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        cpt = (v["requests"] > 0) ? cpu * 1000 / hz / v["requests"] : 0
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.4f\n", s, z, p, r, v["rps"], v["p50_us"], v["p99_us"],
            v["requests"], v["err_status"], v["err_other"], v["bytes"] / (v["duration_us"] / 1e6) / 1e6, cpt >> res
        err = ""
        if (v["err_status"] + 0) err = err " err_status=" v["err_status"]
        if (v["err_other"] + 0) err = err " err_other=" v["err_other"]
        printf "  %-17s %-8s z%-2s round %s: %10.0f tiles/s  p50 %7.2f ms  p99 %7.2f ms  server CPU %6.3f ms/tile%s\n", p, s, z, r,
            v["rps"], v["p50_us"] / 1000, v["p99_us"] / 1000, cpt, err > "/dev/stderr"
    }' <<<"$line"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
NRUNS=$((ROUNDS * ${#SET_LIST[@]} * $(echo "$ZOOM_LIST" | wc -w) * ${#PEER_LIST[@]}))
log "wrk: $NRUNS runs of ${DURATION}s (${WRK_THREADS} threads, ${WRK_CONNS} connections), about $((NRUNS * (DURATION + 1) / 60)) min"
T0=$(date +%s)
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r of $ROUNDS"
    for s in "${SET_LIST[@]}"; do
        for z in $ZOOM_LIST; do
            for p in "${PEER_LIST[@]}"; do
                run_wrk "$p" "$s" "$z" "$r"
            done
        done
    done
done
log "wrk runs took $(( $(date +%s) - T0 )) s"
MAPSERV_NOTE=""
if [ -n "${PEER_URL[mapserver]:-}" ]; then
    # FastCGI: the same 2 processes answer every request (a CGI set-up would start one per request)
    now=$(pgrep -P "$(cat "$LIGHTTPD_PIDFILE")" -x mapserv | sort -n | tr '\n' ' ' | sed 's/ $//')
    if [ "$now" = "$(echo "$MAPSERV_PIDS_START" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')" ]; then
        MAPSERV_NOTE="the same 2 mapserv FastCGI processes answered every request (pids $now)"
    else
        MAPSERV_NOTE="mapserv FastCGI processes changed during the run: $MAPSERV_PIDS_START at the start, $now at the end"
    fi
    log "MapServer: $MAPSERV_NOTE"
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ optional perf profile
if [ "$PERF" = 1 ] && has_peer mashaer-uncached && command -v perf >/dev/null; then
    mkdir -p "$RESULTS_DIR"
    rm -f "$RESULTS_DIR"/perf-*.txt
    for s in "${SET_LIST[@]}"; do
        for z in ${PERF_ZOOMS//,/ }; do
            [ -f "$W/paths/std_${s}_z$z.txt" ] || continue
            log "perf: uncached Mashaer, $s z$z"
            perf record -F 999 -p "${MPID[uncached]}" -o "$W/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
            ppid=$!
            wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --timeout 30s -s "$HERE/tiles.lua" "${MURL[uncached]}" \
                -- "$W/paths/std_${s}_z$z.txt" "$WRK_THREADS" | grep '^BENCH' >"$W/raw/perf-wrk.txt" || true
            wait "$ppid" || true
            {
                echo "# perf record -F 999 -p <uncached mashaer> during wrk on $s z$z: $(cat "$W/raw/perf-wrk.txt")"
                echo "# flat profile (the Release build has no frame pointers, so no call graphs)"
                perf report -i "$W/perf.data" --stdio --no-children --sort dso,symbol 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
            } >"$RESULTS_DIR/perf-${s}-z$z.txt" || true
        done
    done
fi

# ------------------------------------------------------------------ report
mkdir -p "$RESULTS_DIR"
{
    meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    meta command "$ORIG_CMD"
    meta nproc "$(nproc)"
    meta load "$LOAD_BEFORE before, $LOAD_AFTER after"
    meta cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    meta mem "$(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
    meta commit "$COMMIT"
    [ -n "$BASELINE_COMMIT" ] && meta baseline_commit "$BASELINE_COMMIT"
    meta mashaer_threads "mashaer serve --threads ${MASHAER_THREADS:-default (4 per CPU)}; uncached = --cache-mb 0, cached = default cache, each list warmed by one pass before its run"
    meta peer_versions "$VERSIONS"
    meta rounds "$ROUNDS"
    meta duration "$DURATION"
    meta wrk_threads "$WRK_THREADS"
    meta wrk_conns "$WRK_CONNS"
    meta cap "$CAP"
    meta set_title_walkways "walkways: the OSM walkway network alone (22,001 lines), /tiles/walkways/{z}/{x}/{y}.mvt"
    meta set_title_demo "demo: the demo site, composite of all demo layers, /tiles/$DEMO_LAYERS/{z}/{x}/{y}.mvt"
    meta bucket_note "Every tile of the lists above, requested one at a time over one keep-alive connection (curl), $TIMING_REPEAT passes, median per tile; time is curl's time_total (loopback included); features counted by decoding the tile."
    notes="- Sampled lists: ${SAMPLED_NOTE:-none}\\n"
    notes+="- Dumped tiles for nginx: $(find "$W/www" -type f | wc -l) non-empty files, ${DUMP_MB} MB; empty tiles are not written and nginx answers 204 for them.\\n"
    notes+="- MapServer answers an empty tile with 200 and an empty body; the others with 204. MapServer selects shapes by the unbuffered tile, so it serves fewer features at tile edges.\\n"
    notes+="- PostgreSQL ran with shared_buffers=256MB, jit=off; tables in EPSG:3857 with GiST indexes (checked); one plpgsql function per layer.\\n"
    [ -n "$MAPSERV_NOTE" ] && notes+="- MapServer: shapefiles in EPSG:3857 with shptree indexes, map projection = MapServer's tile-mode Mercator string (no reprojection); $MAPSERV_NOTE.\\n"
    notes+="\\nWhat each peer serves for the same tiles (one pass, z14-z16):\\n\\n$(sed ':a;N;$!ba;s/\n/\\n/g' "$CHECK_MD")\\n"
    if [ -s "$BUGS" ]; then notes+="\\n**Problems seen:**\\n\\n$(sed 's/^/- /' "$BUGS" | sed ':a;N;$!ba;s/\n/\\n/g')\\n"; fi
    meta notes "$notes"
}
rm -f "$RESULTS_DIR/latest-compare.md"
"$PY" "$LIB" report --results "$RESULTS" --meta "$META" --md "$RESULTS_DIR/latest.md" \
    --buckets "$W/buckets.md" --goals-md "$W/goals.md" --tables-md "$W/tables.md" \
    ${BASELINE:+--compare-md "$RESULTS_DIR/latest-compare.md"}
if [ -f "$W/buckets.md" ]; then
    echo
    echo "Mashaer uncached: time per tile versus features in it"
    cat "$W/buckets.md"
    cp "$W/buckets.md" "$RESULTS_DIR/latest-buckets.md"
fi
cp "$RESULTS" "$RESULTS_DIR/latest.tsv"
cp "$W/features.tsv" "$RESULTS_DIR/latest-features.tsv"
[ -f "$W/timing.tsv" ] && cp "$W/timing.tsv" "$RESULTS_DIR/latest-timing.tsv"
if [ -s "$BUGS" ]; then
    echo
    echo "Problems seen:"
    cat "$BUGS"
fi
if [ "$WRITE_DOC" = 1 ]; then
    "$PY" "$LIB" doc --doc "$DOC" --meta "$META" --goals-md "$W/goals.md" --tables-md "$W/tables.md" \
        --buckets "$W/buckets.md"
    log "wrote the generated section of $DOC"
fi
log "results: $RESULTS_DIR/latest.md"
