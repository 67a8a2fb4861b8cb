#!/usr/bin/env bash
# measure-disk.sh [HOUSEHOLDS] [BUILD_DIR]: the disk a hub's files take, per household and per
# quarter, measured on a generated town (hub-towngen, default the reference town of 17,090
# households) with the nine department plugins, through a real hubd and hubctl import (the
# figures in docs/operations.md, "磁盘容量 · Disk sizing"). hubd runs in a temporary folder on
# free ports and is stopped (cleanly: its WAL files are checkpointed) before each measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
households=${1:-0}
BIN=${2:-build}/bin
work=$(mktemp -d)
trap '[ -n "${hubd:-}" ] && kill -TERM $hubd 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
config = json.load(open("config/hub.json"))
config["data_dir"] = work + "/var"
config["endpoints"] = {k: "tcp://127.0.0.1:*" for k in config["endpoints"]}
config["http"] = "127.0.0.1:0"
json.dump(config, open(work + "/hub.json", "w"), indent=1)
PY
size=()
[ "$households" -gt 0 ] && size=(--households "$households")
"$BIN/hub-towngen" --quiet "${size[@]}" --out "$work/town" --plugin-data "$work/var/plugins"
n=$(($(wc -l < "$work/town/households.csv") - 1))

start() {
  rm -f "$work/var/hubd.endpoints.json"
  "$BIN/hubd" --config "$work/hub.json" >> "$work/hubd.log" 2>&1 &
  hubd=$!
  for _ in $(seq 300); do [ -f "$work/var/hubd.endpoints.json" ] && return; sleep 0.1; done
  cat "$work/hubd.log"; exit 1
}
stop() { kill -TERM $hubd; wait $hubd; hubd=; }
import() {
  for f in "$@"; do "$BIN/hubctl" --data-dir "$work/var" --timeout 120000 import "$work/town/$f.csv" > /dev/null; done
  until [ "$("$BIN/hubctl" --data-dir "$work/var" status --json |
             python3 -c 'import json,sys; print(sum(d["lag"] for d in json.load(sys.stdin)["departments"]))')" = 0 ]; do
    sleep 1
  done
}
bytes() { du -sb --apparent-size "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
measure() {  # label
  local v=$work/var
  printf '%-28s %12s %12s %12s %12s %12s\n' "$1" "$(bytes $v/events.db*)" "$(bytes $v/ledger.db*)" \
    "$(bytes $v/audit.db*)" "$(bytes $v/plugins)" "$(bytes $v)"
}

echo "town: $n households, 9 departments ($(date -u +%F), $(uname -m))"
printf '%-28s %12s %12s %12s %12s %12s\n' "after" "events.db" "ledger.db" "audit.db" "plugins/" "data dir"
start; stop; measure "empty (first start)"
start; import households commitments; stop; measure "households + commitments"
start; import evaluations-2020Q3; stop; measure "+ quarter 2020Q3"
start; import evaluations-2020Q4; stop; measure "+ quarter 2020Q4"
echo "(bytes, apparent size, after a clean stop; plugins/ includes the generator's rosters)"
