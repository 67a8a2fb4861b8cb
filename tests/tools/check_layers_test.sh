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

# A debt listed in the script that the tree no longer has (the lists are empty now, so a copy of
# the script gets one planted): the check says to remove it.
fresh
sed 's|^KNOWN_SQL = {}|KNOWN_SQL = {"hub/eventlog/event_log.cpp": "planted by the test"}|' \
  "$root/scripts/check_layers.py" > "$work/check_layers.py"
grep -q 'planted by the test' "$work/check_layers.py" || { echo "FAIL: could not plant a debt"; exit 1; }
if out="$(python3 "$work/check_layers.py" sql --root "$work")"; then
  echo "FAIL: 'sql' passed with a paid debt still listed"; exit 1
fi
grep -qF 'KNOWN_SQL lists hub/eventlog/event_log.cpp' <<<"$out" || { echo "FAIL: 'sql' did not name the paid debt"; echo "$out"; exit 1; }
echo "ok: 'sql' refused a paid debt that is still listed"

fresh
# Whatever domain's sources are: the line gains a dependency on store.
sed -i 's/^\(hub_add_part(domain SOURCES [^)]*\))/\1 DEPENDS store)/' "$work/hub/CMakeLists.txt"
grep -q '^hub_add_part(domain SOURCES .* DEPENDS store)' "$work/hub/CMakeLists.txt" ||
  { echo "FAIL: the test could not add 'DEPENDS store' to domain's line in hub/CMakeLists.txt"; exit 1; }
expect_fail cmake 'domain links store'

fresh
mkdir -p "$work/hub/newpart" && echo '#pragma once' > "$work/hub/newpart/x.h"
expect_fail layers 'hub/newpart/ is not a part'
echo "check_layers_test: 6 passed, 0 failed"
