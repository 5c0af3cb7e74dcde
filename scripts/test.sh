#!/usr/bin/env bash
# test.sh: set up, build with -Werror, run every test; then build with ASan+UBSan (clang, real
# libFuzzer targets) and run the whole suite again, its integration tests on PostgreSQL.
# Usage: scripts/test.sh [--fast] [--store spatialite|postgresql]
#   --fast        skip the sanitizer pass
#   --store NAME  the store of the plain pass's integration tests (default spatialite)
# No test is retried: a test that needs a second try is a flaky test, and is fixed instead.
#
# Each store backend runs the whole suite once, in one of the two passes: the plain pass's
# integration tests run on SpatiaLite files, the ASan+UBSan pass's on PostgreSQL (MSH_TEST_STORE=
# postgresql: every --db FILE becomes a database of a private PostgreSQL + PostGIS server the test
# starts, tests/integration/mshtest.py), so the PostgreSQL backend's C (layers/store_pg*.c, the libpq
# paths) runs under the sanitizers. A third pass would not fit CI's 25 minutes. The few tests whose
# subject is the SpatiaLite file itself say so (mshtest.spatialite_only) and run on it in both passes.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
store=spatialite
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1 ;;
    --store)
      if [ $# -lt 2 ]; then echo "test.sh: --store needs a name: spatialite or postgresql" >&2; exit 2; fi
      store=$2
      shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# //'; exit 0 ;;
    *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$store" in
  spatialite|postgresql) ;;
  *) echo "test.sh: --store is spatialite or postgresql, not '$store'" >&2; exit 2 ;;
esac
# phase NAME CMD...: run CMD and say how many seconds it took, so that a CI log shows where its time went
took=""
phase() {
  local name=$1 t0=$SECONDS
  shift
  "$@"
  took="$took $name $((SECONDS - t0)) s,"
  echo "test.sh: $name took $((SECONDS - t0)) s"
}
# Three tests at a time on CI's two cores: at two, a quarter of the cores idled (a quiet plain pass used
# 707 s of CPU in 452 s: 78 %) while tests wait on servers, timers, elections and Chromium's frames, and
# the Chromium tests' chain (one at a time, a RESOURCE_LOCK) held one of the two slots for most of the
# pass. The whole suite passed at -j3 on a machine at load 10-16 (docs/BENCHMARKS.md, "CI time: three
# tests at a time"). MSH_TEST_JOBS overrides it.
jobs=${MSH_TEST_JOBS:-3}
phase setup scripts/setup.sh
phase build scripts/build.sh --werror
phase tests env MSH_TEST_STORE="$store" bash -c "cd build && ctest --output-on-failure -j$jobs --timeout 600"
if [ "$fast" = 0 ]; then
  phase build-asan scripts/build.sh --sanitize --werror
  # quarantine 64 MB, not 256: a freed block stays poisoned until 64 MB more has been freed (a use after
  # free is caught unless that much was freed in between); at 256 MB every ASan process grew to about
  # 660 MB and spent half of its CPU in page faults of fresh memory (docs/BENCHMARKS.md, "CI time in CPU seconds")
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:quarantine_size_mb=64:suppressions=$PWD/tests/asan.supp"
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp"
  # the integration tests on PostgreSQL (see the top of this file)
  phase tests-asan env MSH_TEST_STORE=postgresql bash -c "cd build-asan && ctest --output-on-failure -j$jobs --timeout 900"
fi
took=${took# }
echo "test.sh: all tests passed (${took%,}; $SECONDS s in all)"
