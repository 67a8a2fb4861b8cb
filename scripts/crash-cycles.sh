#!/usr/bin/env bash
# The long kill -9 crash run. Runs hub-crash-driver (tests/crash/crash_driver.cpp) in rounds
# until CYCLES kill cycles are done: each round generates a town of HOUSEHOLDS households,
# publishes it while hubd and the plugin host are killed at random moments (up to
# CYCLES_PER_ROUND kills) and restarted, then checks the event log and every department's
# ledger. Rounds keep every kill inside a publication or its delivery instead of killing an
# idle hub once a single town is done. With NET_FAULTS=1 the cycles mix network faults (cut,
# stall, half-close, one-way partition of the publisher's and the plugin host's links) with
# the kills (hub-crash-driver --net-faults).
# Prints each round's seed and summary, then one line:
#   cycles=… acked=… lost=0 duplicated=0 misordered=0 hubd_kills=… host_kills=…
#   [net_cuts=… net_stalls=… net_half_closes=… net_partitions=…] while_publishing=… rounds=… seconds=…
# (while_publishing: cycles that began before the round's town was all acknowledged)
# and exits non-zero on any loss, duplicate, disorder or misbehaving process (the failing
# round's work directory is kept and named).
#
# Usage: scripts/crash-cycles.sh [CYCLES]        (default 200)
#   environment: BUILD_DIR (default build), HOUSEHOLDS (default 100000),
#   SEED (first round's seed, next rounds SEED+1…; default random),
#   CYCLES_PER_ROUND (default 25), IN_PROCESS (default schools,finance,land),
#   HOSTED (default police,civil_affairs), GAP_MS (default 100,1500: random pause before
#   each kill, in ms), NET_FAULTS (1: mix network faults with the kills),
#   DRIVER_ARGS (more hub-crash-driver options, e.g. --hubd PATH),
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
net_args=()
[[ ${NET_FAULTS:-0} == 1 ]] && net_args=(--net-faults)
# Summed over the rounds (the net_ ones only appear with NET_FAULTS=1).
counters=(cycles acked lost duplicated misordered hubd_kills host_kills)
[[ ${NET_FAULTS:-0} == 1 ]] && counters+=(net_cuts net_stalls net_half_closes net_partitions)
counters+=(while_publishing)
declare -A total
for c in "${counters[@]}"; do total[$c]=0; done
rounds=0 status=0
start=$(date +%s)
while (( total[cycles] < cycles )); do
  n=$(( cycles - total[cycles] < per_round ? cycles - total[cycles] : per_round ))
  errlog=/dev/null
  [[ -n ${LOG_DIR:-} ]] && errlog="$LOG_DIR/round-$((rounds + 1)).log"
  out=$("$driver" --seed "$seed" --cycles "$n" --households "${HOUSEHOLDS:-100000}" \
        --in-process "${IN_PROCESS:-schools,finance,land}" --hosted "${HOSTED:-police,civil_affairs}" \
        --gap-ms "${GAP_MS:-100,1500}" --deliver-limit 1800 "${net_args[@]}" ${DRIVER_ARGS:-} \
        2>"$errlog") || status=1
  summary=$(grep '^cycles=' <<<"$out" || true)
  echo "round $((rounds + 1)) seed $seed: ${summary:-no summary}"
  if [[ -z $summary ]]; then echo "$out"; status=1; break; fi
  field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$summary"; }
  for c in "${counters[@]}"; do v=$(field "$c"); total[$c]=$(( total[$c] + ${v:-0} )); done
  rounds=$(( rounds + 1 ))
  if (( status != 0 )); then echo "$out"; break; fi
  seed=$(( seed + 1 ))
done
line=""
for c in "${counters[@]}"; do line+="$c=${total[$c]} "; done
echo "${line}rounds=$rounds seconds=$(( $(date +%s) - start ))"
exit $status
