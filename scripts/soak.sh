#!/usr/bin/env bash
# The soak run (issue 21, item 4): a generated town's evaluations published at a steady rate for
# hours, with departments in hubd's process and on a real hub-plugin-host, plugin lifecycle
# operations and parked events mixed in; hubd's RSS, open files, WAL sizes, delivery latency p99
# and lag sampled every minute, plotted, and judged flat or not.
#
# What it does:
#   1. hub-towngen makes a town of HOUSEHOLDS households (default 17090, the reference town) and
#      the rosters of its departments;
#   2. starts hubd with schools and finance in its process, police in its process as the test
#      plugin that throws for household V01-00666 (tests/plugins/faulty_plugin.cpp, FAULT=1, at
#      most 3 attempts, so that household's event of every quarter is parked), and
#      civil_affairs and land on a hub-plugin-host;
#   3. imports the households and the commitments at once (the set-up; not sampled);
#   4. for MINUTES minutes, imports RATE events a second (hubctl import of RATE*5 rows every 5 s):
#      the town's evaluations (2020Q3, 2020Q4), then one synthetic quarter after another of the
#      same households (each keeps its status or, 5 %, changes it), so it can run for days;
#      every 4 minutes one lifecycle operation, in turn: hubctl plugins reload of each
#      department (in process and hosted), hubctl plugins disable of one (enabled again 30 s
#      later); every 5 minutes hubctl parked retry, then skip, of police's parked events;
#   5. every minute samples hubd's VmRSS (/proc/PID/status), open file descriptors
#      (/proc/PID/fd), the sizes of events.db-wal, ledger.db-wal and audit.db-wal, the p99 of
#      the delivery latencies of the minute (difference of the cumulative buckets of
#      hub_delivery_latency_seconds on /metrics, all departments), the lag, the parked events
#      and the plugin host's RSS, into OUT/samples.csv;
#   6. at the end (or on SIGINT/SIGTERM, with the minutes sampled so far) lets the deliveries
#      drain, checks that every acknowledged event is in the log (lost) and was delivered
#      (undelivered, the parked ones aside), stops hubd and the host with SIGTERM, writes
#      OUT/soak.svg (one panel per figure) and OUT/summary.txt, and prints one line:
#        minutes=… events=… rss_first=… rss_last=… rss_max=… rss_growth=…% fds_first=… fds_last=…
#        fds_max=… wal_max=… p99_median=… p99_max=… lifecycle_ops=… lifecycle_failures=…
#        parked_max=… parked_actions=… import_failures=… lost=… undelivered=… hubd_exit=…
#        stopped_by=… verdict=flat|NOT-FLAT
#
# FLATNESS — it exits 1 (verdict=NOT-FLAT) when hubd or the host died, an event was lost or
# left undelivered, hubd did not stop cleanly, or, comparing the second half of the samples with
# the first (after a warm-up of the first 10 %, at least 2 minutes):
#   - hubd's mean RSS grew more than RSS_GROWTH_PCT % (default 10);
#   - the most open files grew by more than FD_SLACK (default 8);
#   - a WAL passed WAL_LIMIT_MB (default 128, the allowance of docs/operations.md; hubd cuts a
#     WAL back to 64 MiB when it restarts), or a WAL only grew: in the second half never below
#     the first half's largest size, and more than 8 MB above it;
#   - the largest per-minute p99 more than doubled and passed 1 s.
#
# Usage: scripts/soak.sh [--minutes N] [--rate R] [--households N] [--build-dir D] [--out D]
#   environment (the flags win): MINUTES (default 720 = 12 h), RATE (events/s, default 20),
#   HOUSEHOLDS (default 17090), BUILD_DIR (default build; needs -DHUB_BUILD_TESTS=ON for the
#   test plugin), OUT_DIR (default soak-YYYYmmdd-HHMMSS), SEED (default 1), RSS_GROWTH_PCT,
#   FD_SLACK, WAL_LIMIT_MB, SAMPLE_SECONDS (default 60), LIFECYCLE_SECONDS (default 240), PARKED_SECONDS
#   (default 300), KEEP_WORK=1 (keep the hub's data directory).
set -euo pipefail
{ # one compound command: bash reads all of it before running it, so editing this file during a
  # run of many hours does not change the running script
cd "$(dirname "$0")/.."
root=$PWD

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
minutes=${MINUTES:-720} rate=${RATE:-20} households=${HOUSEHOLDS:-17090} build=${BUILD_DIR:-build}
out=${OUT_DIR:-soak-$(date -u +%Y%m%d-%H%M%S)}
while (( $# )); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --households) households=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
for p in bin/hubd bin/hubctl bin/hub-plugin-host bin/hub-towngen tests/plugins/libhub_plugin_throws.so; do
  [[ -e $build/$p ]] || { echo "soak: $build/$p not found; build with -DHUB_BUILD_TESTS=ON first" >&2; exit 2; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
helper="$root/scripts/soak_helper.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/hub-soak.XXXXXX")
hubd_pid="" host_pid="" run_pid="" stopping=""
in_process=schools,finance parked=police hosted=civil_affairs,land

say() { echo "soak: $*"; echo "$(date -u +%H:%M:%S) $*" >> "$out/soak.log"; }
cleanup() {
  [[ -n $run_pid ]] && kill -TERM "$run_pid" 2>/dev/null || true
  [[ -n $host_pid ]] && kill -TERM "$host_pid" 2>/dev/null || true
  [[ -n $hubd_pid ]] && kill -TERM "$hubd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "soak: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# SIGINT/SIGTERM: the run ends early; what was sampled is reported.
trap 'stopping=1; [[ -n $run_pid ]] && kill -TERM "$run_pid" 2>/dev/null || true' INT TERM

: > "$out/soak.log"
say "town of $households households; $minutes min at $rate events/s; output in $out"
"$build/bin/hub-towngen" --quiet --households "$households" --seed "${SEED:-20200701}" --out "$work/town" \
  --plugin-data "$work/hub/var/plugins" > "$out/towngen.txt"
mkdir -p "$work/host/var"
cp -r "$work/hub/var/plugins" "$work/host/var/plugins"
read -r ingest admin feed hosts < <(python3 "$helper" free-ports 4)
plugins_json=""
for d in ${in_process//,/ }; do plugins_json+="{\"id\":\"$d\"},"; done
plugins_json+="{\"id\":\"$parked\",\"library\":\"$build/tests/plugins/libhub_plugin_throws.so\",\"delivery\":{\"max_attempts\":3}},"
for d in ${hosted//,/ }; do plugins_json+="{\"id\":\"$d\",\"placement\":\"host\"},"; done
cat > "$work/hub/hub.json" <<EOF
{"data_dir": "var", "log_level": "info", "http": "127.0.0.1:0",
 "endpoints": {"ingest": "tcp://127.0.0.1:$ingest", "admin": "tcp://127.0.0.1:$admin",
               "live_feed": "tcp://127.0.0.1:$feed", "plugin_hosts": "tcp://127.0.0.1:$hosts"},
 "delivery": {"retry_initial_ms": 200, "retry_max_ms": 2000},
 "plugin_dir": "$build/plugins", "security": {"mode": "insecure"},
 "plugins": [${plugins_json%,}]}
EOF
cat > "$work/host/host.json" <<EOF
{"hub": "tcp://127.0.0.1:$hosts", "host_name": "soak-host", "plugin_dir": "$build/plugins",
 "data_dir": "var", "plugins": ["${hosted//,/\", \"}"]}
EOF
(cd "$work/hub" && exec "$build/bin/hubd" --config hub.json > "$work/hubd.log" 2>&1) &
hubd_pid=$!
for _ in $(seq 1 600); do
  [[ -s $work/hub/var/hubd.endpoints.json ]] && break
  kill -0 "$hubd_pid" 2>/dev/null || { cat "$work/hubd.log" >&2; echo "soak: hubd did not start" >&2; exit 1; }
  sleep 0.2
done
(cd "$work/host" && exec "$build/bin/hub-plugin-host" --config host.json > "$work/host.log" 2>&1) &
host_pid=$!
hubctl=("$build/bin/hubctl" --data-dir "$work/hub/var")
for f in households commitments; do
  "${hubctl[@]}" --timeout 300000 import "$work/town/$f.csv" | tail -n 1 | tee -a "$out/soak.log"
done
initial=$("${hubctl[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_seq"])')
say "hubd pid $hubd_pid, plugin host pid $host_pid; $initial events after the set-up; steady publication starts"

python3 "$helper" run --town "$work/town" --hubctl "$build/bin/hubctl" --data-dir "$work/hub/var" \
  --out "$out" --work "$work" --hubd-pid "$hubd_pid" --host-pid "$host_pid" --minutes "$minutes" --rate "$rate" \
  --seed "${SEED:-1}" --in-process "$in_process" --hosted "$hosted" --parked-department "$parked" \
  --sample-seconds "${SAMPLE_SECONDS:-60}" --lifecycle-seconds "${LIFECYCLE_SECONDS:-240}" \
  --parked-seconds "${PARKED_SECONDS:-300}" &
run_pid=$!
while ! wait "$run_pid"; do kill -0 "$run_pid" 2>/dev/null || break; done
run_pid=""
trap 'stopping=1' INT TERM  # from here on the run finishes its report

# Drain: the acknowledged events are all in the log, and all delivered but the parked ones.
problems=()
lost=0 undelivered=0 hubd_exit=-
if kill -0 "$hubd_pid" 2>/dev/null; then
  for _ in $(seq 1 180); do
    undelivered=$("${hubctl[@]}" --json status 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(max(0, x["lag"] - x["parked"]) for x in d["departments"]))' || echo "?")
    [[ $undelivered == 0 ]] && break
    sleep 1
  done
  published=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["published"])' "$out/run.json")
  in_log=$("${hubctl[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_seq"])')
  lost=$(( initial + published > in_log ? initial + published - in_log : 0 ))
  "${hubctl[@]}" status >> "$out/soak.log" 2>&1 || true
  "${hubctl[@]}" parked list --all --limit 20 >> "$out/soak.log" 2>&1 || true
  kill -TERM "$host_pid" 2>/dev/null || true
  wait "$host_pid" 2>/dev/null || true
  host_pid=""
  kill -TERM "$hubd_pid"
  hubd_exit=0
  wait "$hubd_pid" || hubd_exit=$?
  hubd_pid=""
  [[ $hubd_exit == 0 ]] || problems+=("hubd SIGTERM exit status $hubd_exit")
else
  problems+=("hubd was not running at the end")
fi
[[ $lost == 0 ]] || problems+=("$lost acknowledged events are not in the log")
[[ $undelivered == 0 ]] || problems+=("$undelivered events not delivered after 180 s (parked ones aside)")
cp "$work/hubd.log" "$out/hubd.log"; cp "$work/host.log" "$out/host.log"
python3 - "$out/final.json" "$lost" "$undelivered" "$hubd_exit" "${problems[@]+"${problems[@]}"}" <<'EOF'
import json, sys
path, lost, undelivered, code, *problems = sys.argv[1:]
json.dump({"lost": lost, "undelivered": undelivered, "hubd_exit": code, "problems": problems}, open(path, "w"))
EOF
status=0
python3 "$helper" report --out "$out" --final "$out/final.json" --rate "$rate" \
  --rss-growth-pct "${RSS_GROWTH_PCT:-10}" --fd-slack "${FD_SLACK:-8}" --wal-limit-mb "${WAL_LIMIT_MB:-128}" || status=$?
say "samples: $out/samples.csv, plot: $out/soak.svg, log: $out/soak.log"
exit $status
}
