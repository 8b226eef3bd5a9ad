#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it:
#   1. installs the Debian packages (idempotent), starts private MariaDB + Redis and the HA
#      cluster (Galera + Redis Sentinel, scripts/services.sh ha);
#   2. normal build (RelWithDebInfo) -> ctest (unit + integration);
#   3. Debian packages: build + lintian, install, flow suite on the installed copy, purge
#      (scripts/test-packages.sh; needs root, as CI runs it);
#   4. AddressSanitizer + UBSan build -> ctest again (nginx runs the sanitized module);
#   5. clang libFuzzer build -> each fuzzer for LKK_FUZZ_SECONDS (default 60) with its exec count.
# LKK_SKIP_PACKAGES=1 / LKK_SKIP_ASAN=1 / LKK_SKIP_FUZZ=1 skip a stage for a quick local run
# (CI never sets them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=${LKK_JOBS:-$(nproc)}
FUZZ_SECONDS=${LKK_FUZZ_SECONDS:-60}
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true

bash scripts/install-deps.sh
eval "$(bash scripts/services.sh start)"
trap 'bash scripts/services.sh stop' EXIT
# MariaDB and Redis are running now: a suite that needs them must run, not skip.
export LKK_TEST_REQUIRE_SERVERS=1
# The HA cluster (issue 14): three Galera nodes, a Redis master, its replica, three sentinels.
ha_started=$(date +%s)
eval "$(bash scripts/services.sh ha)"
trap 'bash scripts/services.sh ha-stop; bash scripts/services.sh stop' EXIT
export LKK_TEST_REQUIRE_HA=1
echo "[ha] cluster up in $(( $(date +%s) - ha_started )) s, $(bash scripts/services.sh ha-rss) MiB resident"

stage() { printf '\n===== %s =====\n' "$*"; }

run_ctest() {  # run_ctest BUILD_DIR NAME
  local out=$1/ctest-summary.txt
  local rc=0
  ( cd "$1" && ctest --output-on-failure --timeout 900 -j"$JOBS" ) 2>&1 | tee "$out" || rc=$?
  grep -E "tests passed|tests failed" "$out" | sed "s/^/[$2] /"
  # Here every test is meant to run: one that CTest lists as skipped fails the run.
  if grep -qE '\*\*\*Skipped|Not Run' "$out"; then
    echo "[$2] FAILED: tests were skipped that must run here:"
    grep -E '\*\*\*Skipped|Not Run' "$out" | sed "s/^/[$2]   /"
    rc=1
  fi
  return "$rc"
}

stage "normal build"
cmake -S . -B build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/ci -j"$JOBS"
stage "normal tests"
run_ctest build/ci normal

if [ "${LKK_SKIP_PACKAGES:-0}" != 1 ]; then
  stage "Debian packages (build, lintian, install, flow suite on the installed copy, purge)"
  packages_start=$(date +%s)
  bash scripts/test-packages.sh build/debs
  echo "[packages] stage took $(($(date +%s) - packages_start)) s"
fi

if [ "${LKK_SKIP_ASAN:-0}" != 1 ]; then
  stage "sanitizer build (ASan + UBSan)"
  cmake -S . -B build/ci-asan -DCMAKE_BUILD_TYPE=Debug -DLKK_SANITIZE=ON >/dev/null
  cmake --build build/ci-asan -j"$JOBS"
  stage "sanitizer tests"
  # nginx itself is not sanitized: the harness preloads libasan when it loads our module.
  export LKK_ASAN=1
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_ctest build/ci-asan sanitizer
  unset LKK_ASAN
fi

if [ "${LKK_SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzzers (${FUZZ_SECONDS}s each)"
  cmake -S . -B build/ci-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLKK_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DLKK_BUILD_MODULE=OFF >/dev/null
  cmake --build build/ci-fuzz -j"$JOBS"
  for f in build/ci-fuzz/tests/lkk_*_fuzz; do
    name=$(basename "$f")
    mkdir -p "build/ci-fuzz/corpus/$name"
    "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "build/ci-fuzz/corpus/$name" \
      >"build/ci-fuzz/$name.log" 2>&1 || { tail -50 "build/ci-fuzz/$name.log"; exit 1; }
    echo "[fuzz] $name: $(grep -m1 stat::number_of_executed_units "build/ci-fuzz/$name.log" | awk '{print $2}') executions, no crash"
  done
fi
stage "all stages passed"
