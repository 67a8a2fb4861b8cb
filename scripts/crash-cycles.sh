#!/usr/bin/env bash
# The long kill -9 crash run: hub-crash-driver (tests/crash/crash_driver.cpp) with as many
# kill cycles as asked. A town of HOUSEHOLDS households is published while hubd and the plugin
# host are killed at random moments and restarted; afterwards the event log and every
# department's ledger are checked. Prints the seed first and, last, one line:
#   cycles=… acked=… lost=0 duplicated=0 misordered=0 …
# and exits non-zero on any loss, duplicate, disorder or misbehaving process.
#
# Usage: scripts/crash-cycles.sh [CYCLES] [-- more hub-crash-driver options]
#   environment: BUILD_DIR (default build), HOUSEHOLDS (default 100000), SEED (default random),
#   IN_PROCESS (default schools,finance,land), HOSTED (default police,civil_affairs),
#   GAP_MS (default 100,1500: the random pause before each kill, ms)
# Reproduce a failure with the seed it printed: SEED=… scripts/crash-cycles.sh CYCLES
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-200}
[[ $# -gt 0 ]] && shift
[[ ${1:-} == "--" ]] && shift
build=${BUILD_DIR:-build}
driver="$build/bin/hub-crash-driver"
if [[ ! -x $driver ]]; then
  echo "crash-cycles: $driver not found; build with -DHUB_BUILD_TESTS=ON first" >&2
  exit 2
fi
args=(--cycles "$cycles" --households "${HOUSEHOLDS:-100000}"
      --in-process "${IN_PROCESS:-schools,finance,land}" --hosted "${HOSTED:-police,civil_affairs}"
      --gap-ms "${GAP_MS:-100,1500}" --deliver-limit 1800)
[[ -n ${SEED:-} ]] && args+=(--seed "$SEED")
exec "$driver" "${args[@]}" "$@"
