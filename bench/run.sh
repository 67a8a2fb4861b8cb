#!/usr/bin/env bash
# The benchmarks in one command (see docs/benchmarks.md):
#   bash bench/run.sh [hub-bench options, e.g. --runs 5 --scaling]
# Installs what is missing (including redis-server, hiredis, nats-server and libnats), builds the hub and hub-bench
# optimised (Release) in build-bench/, runs every figure back to back and writes
# bench/results/<UTC time>.{txt,json}. Run it on a quiet machine: other load skews the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUB_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
echo "hub-bench $* -> bench/results/$stamp.{txt,json}"
"$BUILD_DIR/bin/hub-bench" --out "bench/results/$stamp.json" "$@" | tee "bench/results/$stamp.txt"
