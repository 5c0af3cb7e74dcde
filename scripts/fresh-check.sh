#!/usr/bin/env bash
# fresh-check.sh: run the README's two commands on a bare Debian 12, as a newcomer would.
# Usage: scripts/fresh-check.sh [test|demo|both]   (default both; as root; clones the committed HEAD)
#
# A bare root (bookworm minbase with git, ca-certificates and sudo, nothing else) is made once with
# debootstrap and kept in $MSH_FRESH_DIR (default /var/tmp/mashaer-fresh/base; delete it to make
# it again). Each run copies it, clones this checkout's HEAD into /root/mashaer and runs, as root,
# in its own pid and mount namespaces (so whatever it starts dies with it):
#   test: scripts/test.sh                 (every test, both passes)
#   demo: scripts/demo_smoke.sh           (scripts/demo.sh, then the viewer, /vendor/, a movement
#                                          tile with people, a heatmap and /kpi are checked)
# apt in the copy reaches the archives the way this machine's apt does (its sources, proxy
# settings, keyrings and local CAs are copied in). Logs: $MSH_FRESH_DIR/../logs/. Exit 0 when all passed.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
case "${1:-both}" in
  test) runs=(test) ;; demo) runs=(demo) ;; both) runs=(test demo) ;;
  -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "fresh-check: unknown argument $1 (test, demo or both)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root (it uses debootstrap, chroot and mounts)" >&2; exit 2; }
git diff --quiet HEAD || echo "fresh-check: note: uncommitted changes are not checked (it clones HEAD)" >&2

base=${MSH_FRESH_DIR:-/var/tmp/mashaer-fresh/base}
top=$(dirname "$base")
logs="$top/logs"
mkdir -p "$logs"
repo=$PWD
head=$(git rev-parse HEAD)
chroot_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb)

run_dir=""
mounts=()
cleanup() {
  local i
  for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true; done
  mounts=()
  if [ -n "$run_dir" ] && [ -z "$(findmnt -rn -o TARGET | grep -F "$run_dir/")" ]; then rm -rf --one-file-system "$run_dir"; fi
  run_dir=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bind() { mount --bind "$1" "$2"; mounts+=("$2"); }

# What apt here needs to reach its archives, copied into the root $1.
apt_like_here() {
  local r=$1 f
  rm -f "$r/etc/apt/sources.list" "$r"/etc/apt/sources.list.d/*
  [ -f /etc/apt/sources.list ] && cp -L /etc/apt/sources.list "$r/etc/apt/"
  for f in /etc/apt/sources.list.d/*; do [ -f "$f" ] && cp -L "$f" "$r/etc/apt/sources.list.d/"; done
  for f in /etc/apt/apt.conf.d/*; do   # proxy and registry settings this machine added
    [ -f "$f" ] && ! dpkg -S "$f" >/dev/null 2>&1 && grep -qiE '^[^#/]*(acquire|proxy)' "$f" && cp -L "$f" "$r/etc/apt/apt.conf.d/"
  done
  for f in /etc/apt/trusted.gpg.d/* /usr/share/keyrings/*; do
    [ -f "$f" ] && [ ! -e "$r$f" ] && { mkdir -p "$r$(dirname "$f")"; cp -L "$f" "$r$f"; }
  done
  if [ -d /usr/local/share/ca-certificates ]; then
    mkdir -p "$r/usr/local/share/ca-certificates"; cp -aL /usr/local/share/ca-certificates/. "$r/usr/local/share/ca-certificates/"
  fi
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"; cp -L /etc/hosts "$r/etc/hosts"
}

mount_sys() {
  bind /proc "$1/proc"; bind /sys "$1/sys"; bind /dev "$1/dev"; bind /dev/pts "$1/dev/pts"
  mount -t tmpfs -o mode=1777 msh-shm "$1/dev/shm"; mounts+=("$1/dev/shm")
}

make_base() {
  [ -f "$base/.mashaer-fresh" ] && return 0
  command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  local mirror
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 2>/dev/null | awk '$2 == "bookworm" {print $1; exit}')
  mirror=${mirror:-http://deb.debian.org/debian/}
  echo "fresh-check: making the bare Debian 12 in $base from $mirror (once, a few minutes)"
  rm -rf --one-file-system "$base.new"; mkdir -p "$base.new"; chmod 755 "$base.new"
  debootstrap --variant=minbase bookworm "$base.new" "$mirror" >"$logs/base.log" 2>&1 \
    || { echo "fresh-check: debootstrap failed, see $logs/base.log" >&2; exit 1; }
  apt_like_here "$base.new"
  run_dir=$base.new; mount_sys "$base.new"
  { chroot "$base.new" "${chroot_env[@]}" DEBIAN_FRONTEND=noninteractive sh -c \
      'apt-get update && apt-get install -y --no-install-recommends git ca-certificates sudo && update-ca-certificates && apt-get clean'
  } >>"$logs/base.log" 2>&1 || { echo "fresh-check: installing git, ca-certificates, sudo failed, see $logs/base.log" >&2; exit 1; }
  run_dir=""; cleanup
  rm -rf "$base.new"/var/lib/apt/lists/*_*   # as on a new machine: no package lists before apt-get update
  touch "$base.new/.mashaer-fresh"; mv "$base.new" "$base"
}

run_one() {
  local what=$1 cmd log rc=0 t0
  case $what in
    test) cmd='scripts/test.sh' ;;
    demo) cmd='scripts/demo_smoke.sh 18080' ;;
  esac
  run_dir=$(mktemp -d "$top/run-XXXX"); chmod 755 "$run_dir"
  cp -a "$base/." "$run_dir/"
  apt_like_here "$run_dir"
  git clone --quiet --no-hardlinks "$repo" "$run_dir/root/mashaer"
  git -C "$run_dir/root/mashaer" checkout --quiet --detach "$head"
  mount_sys "$run_dir"
  log="$logs/$what-$(date +%Y%m%d-%H%M%S).log"
  echo "fresh-check: $what: $cmd at ${head:0:12} on a bare Debian 12 (log: $log)"
  t0=$(date +%s)
  unshare --mount --pid --fork --kill-child --mount-proc="$run_dir/proc" \
    chroot "$run_dir" "${chroot_env[@]}" CI=true bash -c "cd /root/mashaer && $cmd" </dev/null >"$log" 2>&1 || rc=$?
  echo "fresh-check: $what: exit $rc after $(( $(date +%s) - t0 )) s; last lines:"
  tail -n 4 "$log" | sed 's/^/  /'
  cleanup
  return $rc
}

make_base
status=0
for r in "${runs[@]}"; do run_one "$r" || status=1; done
exit $status
