#!/usr/bin/env bash
# Shows that scripts/check_layers.py has teeth: on a copy of hub/ it must pass as the tree is,
# fail on a new back-edge (domain including a daemon header), on SQL outside the storage
# backend, on a listed debt that is paid but still listed, on a CMake link PARTS does not
# allow, and on a folder that is not a part.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
check() { python3 "$root/scripts/check_layers.py" "$1" --root "$work"; }
fresh() { rm -rf "$work/hub"; cp -r "$root/hub" "$work/hub"; }
expect_fail() {  # expect_fail CHECK TEXT: the check fails, naming TEXT
  local out
  if out="$(check "$1")"; then echo "FAIL: '$1' passed, expected a finding with: $2"; exit 1; fi
  grep -qF -- "$2" <<<"$out" || { echo "FAIL: '$1' did not say: $2"; echo "$out"; exit 1; }
  echo "ok: '$1' refused: $(grep -F -- "$2" <<<"$out" | head -1)"
}

fresh
check layers >/dev/null && check sql >/dev/null && check cmake >/dev/null && echo "ok: the tree as it is passes the three checks"

fresh
sed -i '0,/#include <string>/s//#include <string>\n#include "daemon\/anything.h"/' "$work/hub/domain/status.h"
expect_fail layers 'hub/domain/status.h:'

fresh
printf '%s\n' 'const char* kQuery = "SELECT seq FROM event";' >> "$work/hub/runtime/plugin_worker.cpp"
expect_fail sql 'hub/runtime/plugin_worker.cpp:'

fresh
grep -v '"\s*SELECT\|PRAGMA' "$root/hub/eventlog/event_reader.cpp" > "$work/hub/eventlog/event_reader.cpp"
expect_fail sql 'KNOWN_SQL lists hub/eventlog/event_reader.cpp'

fresh
sed -i 's/^hub_add_part(domain SOURCES domain\/status_json.cpp domain\/wire_event.cpp)/hub_add_part(domain SOURCES domain\/status_json.cpp domain\/wire_event.cpp DEPENDS store)/' \
  "$work/hub/CMakeLists.txt"
expect_fail cmake 'domain links store'

fresh
mkdir -p "$work/hub/newpart" && echo '#pragma once' > "$work/hub/newpart/x.h"
expect_fail layers 'hub/newpart/ is not a part'
echo "check_layers_test: 6 passed, 0 failed"
