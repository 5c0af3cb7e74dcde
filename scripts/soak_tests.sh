#!/usr/bin/env bash
# soak_tests.sh: the whole suite (both passes, as scripts/test.sh runs them) N times in a row, each time with a second ctest -j2 of
# the fast pass running over and over beside it, to show that no test needs a retry under load.
# Usage: scripts/soak_tests.sh [RUNS] [WORK_DIR]   (default 5 runs in /tmp/mashaer-soak; after scripts/setup.sh)
# Two clones of HEAD are made in WORK_DIR (the suite's work folders are per build tree, so the two
# suites never share one); per run it prints the two passes' results and how many beside passes ran.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
runs=${1:-5}
work=${2:-/tmp/mashaer-soak}
src=$PWD
rm -rf "$work"; mkdir -p "$work"
for c in main beside; do
  git clone -q "$src" "$work/$c"
  [ -d "$src/web/node_modules" ] && cp -r "$src/web/node_modules" "$work/$c/web/"
done
(cd "$work/main" && scripts/build.sh --werror >/dev/null && scripts/build.sh --sanitize --werror >/dev/null)
(cd "$work/beside" && scripts/build.sh --werror >/dev/null)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:quarantine_size_mb=64:suppressions=$work/main/tests/asan.supp"  # as scripts/test.sh
export LSAN_OPTIONS="suppressions=$work/main/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$work/main/tests/ubsan.supp"
jobs=${MSH_TEST_JOBS:-3}  # as scripts/test.sh, and its sanitizer pass's integration tests on PostgreSQL
beside=""
stop_beside() { [ -n "$beside" ] && { kill -- "-$beside" 2>/dev/null || true; wait "$beside" 2>/dev/null || true; beside=""; }; }
trap stop_beside EXIT
failed=0
for i in $(seq "$runs"); do
  setsid bash -c "cd '$work/beside/build' && while :; do ctest -j2 >>'$work/beside-$i.log' 2>&1; echo 'beside pass done' >>'$work/beside-$i.log'; done" &
  beside=$!
  t0=$(date +%s)
  a=0; b=0
  (cd "$work/main/build" && ctest --output-on-failure -j"$jobs") >"$work/run-$i-fast.log" 2>&1 || a=$?
  (cd "$work/main/build-asan" && MSH_TEST_STORE=postgresql ctest --output-on-failure -j"$jobs") >"$work/run-$i-asan.log" 2>&1 || b=$?
  stop_beside
  echo "run $i: fast: $(grep -o '[0-9]*% tests passed.*' "$work/run-$i-fast.log"); sanitizers: $(grep -o '[0-9]*% tests passed.*' "$work/run-$i-asan.log"); $(( $(date +%s) - t0 )) s; $(grep -c 'beside pass done' "$work/beside-$i.log" || true) fast passes beside"
  [ "$a" = 0 ] && [ "$b" = 0 ] || failed=1
done
exit $failed
