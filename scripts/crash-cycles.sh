#!/usr/bin/env bash
# The long kill -9 crash run. Runs hub-crash-driver (tests/crash/crash_driver.cpp) in rounds
# until CYCLES kill cycles are done: each round generates a town of HOUSEHOLDS households,
# publishes it while hubd and the plugin host are killed at random moments (up to
# CYCLES_PER_ROUND kills) and restarted, then checks the event log and every department's
# ledger. Rounds keep every kill inside a publication or its delivery instead of killing an
# idle hub once a single town is done.
# Prints each round's seed and summary, then one line:
#   cycles=… acked=… lost=0 duplicated=0 misordered=0 rounds=… seconds=…
# and exits non-zero on any loss, duplicate, disorder or misbehaving process (the failing
# round's work directory is kept and named).
#
# Usage: scripts/crash-cycles.sh [CYCLES]        (default 200)
#   environment: BUILD_DIR (default build), HOUSEHOLDS (default 100000),
#   SEED (first round's seed, next rounds SEED+1…; default random),
#   CYCLES_PER_ROUND (default 25), IN_PROCESS (default schools,finance,land),
#   HOSTED (default police,civil_affairs), GAP_MS (default 100,1500: random pause before
#   each kill, in ms), DRIVER_ARGS (more hub-crash-driver options, e.g. --hubd PATH),
#   LOG_DIR (keep each round's progress log there as round-N.log; default: discarded)
# Reproduce a failed round: SEED=<its seed> CYCLES_PER_ROUND=<n> scripts/crash-cycles.sh <n>
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -n ${LOG_DIR:-} ]] && mkdir -p "$LOG_DIR"
cycles=${1:-200}
build=${BUILD_DIR:-build}
driver="$build/bin/hub-crash-driver"
if [[ ! -x $driver ]]; then
  echo "crash-cycles: $driver not found; build with -DHUB_BUILD_TESTS=ON first" >&2
  exit 2
fi
per_round=${CYCLES_PER_ROUND:-25}
seed=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "crash-cycles: $cycles cycles, first seed $seed"
done_cycles=0 acked=0 lost=0 duplicated=0 misordered=0 rounds=0 status=0
start=$(date +%s)
while (( done_cycles < cycles )); do
  n=$(( cycles - done_cycles < per_round ? cycles - done_cycles : per_round ))
  errlog=/dev/null
  [[ -n ${LOG_DIR:-} ]] && errlog="$LOG_DIR/round-$((rounds + 1)).log"
  out=$("$driver" --seed "$seed" --cycles "$n" --households "${HOUSEHOLDS:-100000}" \
        --in-process "${IN_PROCESS:-schools,finance,land}" --hosted "${HOSTED:-police,civil_affairs}" \
        --gap-ms "${GAP_MS:-100,1500}" --deliver-limit 1800 ${DRIVER_ARGS:-} \
        2>"$errlog") || status=1
  summary=$(grep '^cycles=' <<<"$out" || true)
  echo "round $((rounds + 1)) seed $seed: ${summary:-no summary}"
  if [[ -z $summary ]]; then echo "$out"; status=1; break; fi
  field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$summary"; }
  done_cycles=$(( done_cycles + $(field cycles) )); acked=$(( acked + $(field acked) ))
  lost=$(( lost + $(field lost) )); duplicated=$(( duplicated + $(field duplicated) ))
  misordered=$(( misordered + $(field misordered) )); rounds=$(( rounds + 1 ))
  if (( status != 0 )); then echo "$out"; break; fi
  seed=$(( seed + 1 ))
done
echo "cycles=$done_cycles acked=$acked lost=$lost duplicated=$duplicated misordered=$misordered rounds=$rounds seconds=$(( $(date +%s) - start ))"
exit $status
