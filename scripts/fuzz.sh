#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) into build-fuzz and runs each
# for a bounded time, starting from the seed corpus in tests/fuzz/corpus/<target>.
#
#   bash scripts/fuzz.sh [seconds per target, default 60] [target ...]
#
# Fails (exit 1) on any crash, leak, timeout, out-of-memory or sanitizer report, and leaves the
# offending input in build-fuzz/artifacts/<target>/ (replay: build-fuzz/bin/fuzz_<target> <file>).
# New inputs the fuzzer finds go to build-fuzz/corpus/<target>, never into the repository's seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ingest import config clients host_protocol operator_request)
BUILD_DIR=${BUILD_DIR:-build-fuzz}

command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (bash scripts/install-deps.sh)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DHUB_FUZZ=ON \
  -DHUB_BUILD_TESTS=OFF -DHUB_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in "${targets[@]}"; do
  corpus="$BUILD_DIR/corpus/$t"
  artifacts="$BUILD_DIR/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  log="$BUILD_DIR/fuzz_$t.log"
  echo "== fuzz_$t: ${seconds}s =="
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a runaway allocation.
  if "$BUILD_DIR/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" "tests/fuzz/corpus/$t" \
       >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz_$t: ok, ${execs:-?} executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz_$t: FAILED (log $log, input in $artifacts/)" >&2
    grep -E "ERROR|FUZZ_CHECK|runtime error|Test unit written" "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"
