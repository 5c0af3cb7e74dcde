#!/usr/bin/env bash
# build.sh: configure and build. Usage: scripts/build.sh [--sanitize] [--werror] [BUILD_DIR]
#   --sanitize  clang with AddressSanitizer + UndefinedBehaviorSanitizer and real libFuzzer targets
#   --werror    warnings are errors (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
for a in "$@"; do
  case "$a" in
    # no bench programs (no test runs them); -O0 (Debug): -O1 compiles 2-3 times slower under the
    # sanitizers and saved the tests less than that (docs/BENCHMARKS.md, "CI time in CPU seconds")
    --sanitize) args+=(-DMSH_SANITIZE=ON -DMSH_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug
                       -DMSH_BENCH=OFF); dir=build-asan ;;
    --werror) args+=(-DMSH_WERROR=ON) ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
    -*) echo "build.sh: unknown option $a" >&2; exit 2 ;;
    *) dir="$a" ;;
  esac
done
# a later option wins over an earlier build type
cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
echo "build: $dir/mashaer"
