#!/usr/bin/env bash
# test.sh: set up, build with -Werror, run every test; then build with ASan+UBSan (clang, real
# libFuzzer targets) and run the whole suite again. Usage: scripts/test.sh [--fast] (skip the sanitizer pass)
# No test is retried: a test that needs a second try is a flaky test, and is fixed instead.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
case "${1:-}" in
  --fast) fast=1 ;;
  -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;;
esac
scripts/setup.sh
scripts/build.sh --werror
(cd build && ctest --output-on-failure -j2 --timeout 600)
if [ "$fast" = 0 ]; then
  scripts/build.sh --sanitize --werror
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:suppressions=$PWD/tests/asan.supp"
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp"
  (cd build-asan && ctest --output-on-failure -j2 --timeout 900)
fi
echo "test.sh: all tests passed"
