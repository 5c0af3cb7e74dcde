#!/usr/bin/env bash
# cluster.sh: a Mashaer cluster on one machine, on loopback ports, for trying it out and for the
# failure tests by hand: PostgreSQL 15 + PostGIS (the shared store), three nats-server with
# JetStream in one cluster (the replicated feed log), N Mashaer nodes and HAProxy in front with
# health checks on /health. Everything lives in one run folder with a pid file per process;
# `stop` stops exactly those processes and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: scripts/cluster.sh [start] [--nodes N] [--port P] [--dir D] [--no-demo]
       scripts/cluster.sh stop [--dir D]
       scripts/cluster.sh status [--dir D]
       scripts/cluster.sh haproxy-cfg --port P --stats S [--inter-ms M] [--pidfile F] NODE_PORT...

start (the default) starts, on 127.0.0.1:
  PostgreSQL 15 + PostGIS on port P+20 (database "mashaer"; as root it runs as the user postgres),
  three nats-server with JetStream in one cluster (clients on P+31..P+33, monitoring P+36..P+38,
  routes P+41..P+43),
  N Mashaer nodes (default 2) on ports P+1..P+N, each `serve --db postgresql://... --live-dir DIR
  --feed-log nats://...`: one live crowd on every node (without nats-server: --no-live),
  HAProxy on port P (default 8080), health-checking every node's /health every 500 ms: a node that
  answers 503 (catching up with the feed log, or degraded) gets no traffic; its stats page on P+50.
It loads data/demo/*.geojson into the database first (with --no-demo only sites.geojson), then
prints the URL.
The run folder (default build/cluster) holds the data, the logs and a pid file per process.
stop stops the processes of those pid files (HAProxy, the nodes, NATS, PostgreSQL) and nothing else.
status says which of them run, and each node's /health.
haproxy-cfg prints the HAProxy configuration that start writes (front on P, stats page on S, a health
check of each node's /health every M ms, default 500), for the nodes on 127.0.0.1:NODE_PORT...; the
tests and benchmarks use it so that there is one configuration.
Needs: build/mashaer (scripts/build.sh; another binary with MASHAER=PATH), postgresql-15 postgresql-15-postgis-3 haproxy nats-server
(scripts/setup.sh installs them).
EOF
}

# haproxy_cfg PORT STATS INTER_MS PIDFILE NODE_PORT...: the HAProxy configuration on stdout (PIDFILE
# may be empty: HAProxy then runs in the foreground of whoever started it)
haproxy_cfg() {
  local front="$1" st="$2" inter="$3" pidfile="$4" i=0 np
  shift 4
  echo "global"
  echo "    # no maxconn: HAProxy derives it from the file descriptor limit (ulimit -n)"
  if [ -n "$pidfile" ]; then echo "    pidfile $pidfile"; fi
  cat <<EOF
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # a GET that found its node gone (refused, reset before an answer) goes to another one
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response
    option forwardfor
    option http-keep-alive
frontend mashaer
    bind 127.0.0.1:$front
    default_backend nodes
frontend stats
    bind 127.0.0.1:$st
    stats enable
    stats uri /
backend nodes
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
EOF
  for np in "$@"; do
    i=$((i + 1))
    echo "    server node$i 127.0.0.1:$np check inter ${inter}ms fall 2 rise 2"
  done
}

if [ "${1:-}" = haproxy-cfg ]; then
  shift
  hp="" hs="" hi=500 hf=""
  while [ $# -gt 0 ] && [[ "$1" == -* ]]; do
    case "$1" in
      --port) hp="$2"; shift 2 ;;
      --stats) hs="$2"; shift 2 ;;
      --inter-ms) hi="$2"; shift 2 ;;
      --pidfile) hf="$2"; shift 2 ;;
      *) echo "cluster.sh haproxy-cfg: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
  done
  for v in "$hp" "$hs" "$hi" "$@"; do
    if ! [[ "$v" =~ ^[0-9]+$ ]]; then
      echo "cluster.sh haproxy-cfg: --port, --stats, --inter-ms and the node ports are numbers" >&2; exit 2
    fi
  done
  if [ $# -eq 0 ]; then echo "cluster.sh haproxy-cfg: no node port given" >&2; exit 2; fi
  haproxy_cfg "$hp" "$hs" "$hi" "$hf" "$@"
  exit 0
fi

cmd=start nodes=2 port=8080 dir=build/cluster demo=1
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then cmd="$1"; shift; fi
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --no-demo) demo=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$cmd" in start|stop|status) ;; -h|--help|help) usage; exit 0 ;;
  *) echo "cluster.sh: unknown command $cmd (start, stop, status)" >&2; exit 2 ;; esac
if ! [[ "$nodes" =~ ^[1-9][0-9]?$ ]]; then echo "cluster.sh: --nodes takes 1 to 99" >&2; exit 2; fi
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1024 ] || [ "$port" -gt 65400 ]; then
  echo "cluster.sh: --port takes 1024 to 65400" >&2; exit 2
fi

PG_BIN=/usr/lib/postgresql/15/bin
bin="${MASHAER:-build/mashaer}"
pgport=$((port + 20)) stats=$((port + 50))
run="$(mkdir -p "$dir" && cd "$dir" && pwd)"
pids="$run/pids"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
# pg_do CMD...: a PostgreSQL program, as postgres when we are root, from / (the run folder may sit
# under a home the postgres user cannot enter, such as /root)
pg_do() { (cd / && "${as_pg[@]}" "$@"); }
# pg_dir: the database's folder. As root it lives under /tmp (postgres must reach it) and $run/pg
# is a link to it; otherwise it is $run/pg itself.
pg_dir() { if [ -L "$run/pg" ]; then readlink "$run/pg"; else echo "$run/pg"; fi; }

# alive PIDFILE WORD: the pid of the file runs and its command line holds WORD (not a reused pid)
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(head -1 "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

stop_one() { # PIDFILE WORD: SIGTERM, wait up to 20 s, then SIGKILL; only that pid
  local f="$1" word="$2" pid
  if alive "$f" "$word"; then
    pid="$(head -1 "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$f" "$word" || break; sleep 0.2; done
    if alive "$f" "$word"; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "stopped $word ($pid)"
  fi
  rm -f "$f"
}

do_stop() {
  [ -d "$pids" ] || { echo "cluster.sh: nothing started in $run"; return 0; }
  stop_one "$pids/haproxy.pid" haproxy
  for f in "$pids"/node*.pid; do [ -e "$f" ] && stop_one "$f" mashaer; done
  for f in "$pids"/nats*.pid; do [ -e "$f" ] && stop_one "$f" nats-server; done
  if [ -s "$run/pg/data/postmaster.pid" ]; then
    pg_do "$PG_BIN/pg_ctl" -D "$(pg_dir)/data" -m fast -w stop >/dev/null 2>&1 && echo "stopped postgres" || true
  fi
}

do_status() {
  local f name any=0
  for f in "$pids"/*.pid; do
    [ -e "$f" ] || continue
    any=1
    name="$(basename "$f" .pid)"
    case "$name" in haproxy) w=haproxy ;; node*) w=mashaer ;; nats*) w=nats-server ;; *) w="$name" ;; esac
    if alive "$f" "$w"; then echo "$name: running ($(head -1 "$f"))"; else echo "$name: not running"; fi
    if [[ "$name" == node* ]] && [ -s "$run/$name.port" ]; then
      echo "  /health: $(curl -s -m 2 "http://127.0.0.1:$(cat "$run/$name.port")/health" || echo unreachable)"
    fi
  done
  if [ -s "$run/pg/data/postmaster.pid" ] && alive "$run/pg/data/postmaster.pid" postgres; then
    echo "postgres: running ($(head -1 "$run/pg/data/postmaster.pid")) on 127.0.0.1:$(cat "$run/pg.port")"
    any=1
  fi
  [ "$any" = 1 ] || echo "nothing runs from $run"
}

wait_http() { # URL SECONDS: until it answers 200
  for _ in $(seq 1 $(($2 * 5))); do curl -sf -m 1 -o /dev/null "$1" && return 0; sleep 0.2; done
  return 1
}

do_start() {
  for t in "$bin" "$PG_BIN/initdb" /usr/sbin/haproxy; do
    [ -x "$t" ] || { echo "cluster.sh: $t is missing (scripts/setup.sh, scripts/build.sh)" >&2; exit 1; }
  done
  if [ -d "$pids" ] && ls "$pids"/*.pid >/dev/null 2>&1; then
    echo "cluster.sh: $run already holds a cluster; scripts/cluster.sh stop --dir $dir first" >&2; exit 1
  fi
  trap 'echo "cluster.sh: start failed; stopping what started (logs in $run)" >&2; do_stop' ERR
  mkdir -p "$pids"
  if [ -L "$run/pg" ]; then rm -rf "$(pg_dir)"; fi
  rm -rf "$run/pg" "$run/nats" "$run"/node*.live
  # PostgreSQL + PostGIS, owned by postgres when we are root (initdb refuses root)
  if [ "${#as_pg[@]}" -eq 0 ]; then
    mkdir -p "$run/pg"
  else
    ln -s "$(mktemp -d /tmp/mashaer-cluster-pg.XXXXXX)" "$run/pg"
    chown postgres:postgres "$(pg_dir)"
    chmod 755 "$(pg_dir)"
  fi
  pgdir="$(pg_dir)"
  pg_do "$PG_BIN/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --locale=C >"$run/pg-initdb.log"
  pg_do "$PG_BIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $pgport -c unix_socket_directories=$pgdir -c max_connections=100" start >/dev/null
  echo "$pgport" >"$run/pg.port"
  psql -X -q -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -c "CREATE DATABASE mashaer" >/dev/null
  psql -X -q -h 127.0.0.1 -p "$pgport" -U postgres -d mashaer -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  db="postgresql://postgres@127.0.0.1:$pgport/mashaer"
  echo "PostgreSQL: $db"
  # NATS: three servers with JetStream, routed to each other
  feedlog=""
  if command -v nats-server >/dev/null; then
    routes="" urls=""
    for i in 1 2 3; do
      routes="$routes nats-route://127.0.0.1:$((port + 40 + i))"
      urls="$urls,nats://127.0.0.1:$((port + 30 + i))"
    done
    for i in 1 2 3; do
      mkdir -p "$run/nats/n$i"
      cat >"$run/nats/n$i.conf" <<EOF
server_name: n$i
http: 127.0.0.1:$((port + 35 + i))
listen: 127.0.0.1:$((port + 30 + i))
jetstream { store_dir: "$run/nats/n$i" }
cluster { name: mashaer, listen: 127.0.0.1:$((port + 40 + i)), routes: [$(echo $routes | tr ' ' ',')] }
EOF
      nohup nats-server -c "$run/nats/n$i.conf" >"$run/nats$i.log" 2>&1 &
      echo $! >"$pids/nats$i.pid"
    done
    feedlog="${urls#,}"
    for i in 1 2 3; do wait_http "http://127.0.0.1:$((port + 35 + i))/healthz" 30; done
    echo "NATS JetStream: $feedlog"
  else
    echo "cluster.sh: nats-server is missing: nodes run without a feed log" >&2
  fi
  demo_files=(data/demo/*.geojson)
  [ "$demo" = 1 ] || demo_files=(data/demo/sites.geojson) # a node serves a store that holds a layer
  for f in "${demo_files[@]}"; do
    "$bin" import --db "$db" --layer "$(basename "$f" .geojson)" "$f" >>"$run/import.log" 2>&1
  done
  echo "loaded ${#demo_files[@]} demo layer(s) into the database"
  use_log=()
  [ -n "$feedlog" ] && use_log=(--feed-log "$feedlog")
  for i in $(seq 1 "$nodes"); do
    np=$((port + i))
    # with the feed log every node holds the live crowd: its write-ahead log and snapshots in a folder of its own
    live=(--no-live)
    [ -n "$feedlog" ] && live=(--live-dir "$run/node$i.live" "${use_log[@]}")
    nohup "$bin" serve --db "$db" --port "$np" --bind 127.0.0.1 "${live[@]}" >"$run/node$i.log" 2>&1 &
    echo $! >"$pids/node$i.pid"
    echo "$np" >"$run/node$i.port"
  done
  haproxy_cfg "$port" "$stats" 500 "$pids/haproxy.pid" $(seq $((port + 1)) $((port + nodes))) >"$run/haproxy.cfg"
  haproxy -c -q -f "$run/haproxy.cfg"
  haproxy -D -f "$run/haproxy.cfg"
  for i in $(seq 1 "$nodes"); do
    for _ in $(seq 1 300); do
      curl -sf -m 1 -o /dev/null "http://127.0.0.1:$((port + i))/health" && break
      alive "$pids/node$i.pid" mashaer || break
      sleep 0.2
    done
    curl -sf -m 1 -o /dev/null "http://127.0.0.1:$((port + i))/health" ||
      { echo "node$i did not come up; see $run/node$i.log" >&2; false; }
  done
  wait_http "http://127.0.0.1:$port/health" 10
  trap - ERR
  echo "Mashaer cluster: http://127.0.0.1:$port ($nodes nodes; HAProxy stats http://127.0.0.1:$stats)"
  echo "stop it with: scripts/cluster.sh stop${dir:+ --dir $dir}"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
esac
