#!/usr/bin/env bash
# Follows docs/writing-a-plugin.md literally, as a department's IT staff would:
#   1. install the SDK into a fresh prefix (cmake --install);
#   2. create a plugin from the template (hub-new-plugin);
#   3. build it out of tree against the prefix (find_package(HubSdk)) and run its tests;
#   4. run it in-process in a real hubd (config entry, plugin_dir, departments_dir), publish a
#      few status changes with hubctl, and check with `hubctl status --json` and
#      `hubctl household --json` that the plugin's actions were recorded.
# Usage: tutorial_test.sh <hub source dir> <hub build dir> <hubd> <hubctl>
# HUB_TEST_KEEP=1 keeps the work directory.
set -euo pipefail
source_dir=$(cd "$1" && pwd)
build_dir=$(cd "$2" && pwd)
hubd=$3
hubctl=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/hub-tutorial-XXXXXX")
hubd_pid=""
cleanup() {
  if [ -n "$hubd_pid" ] && kill -0 "$hubd_pid" 2>/dev/null; then kill -9 "$hubd_pid" 2>/dev/null || true; fi
  if [ -n "${HUB_TEST_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
started=$SECONDS
step() { echo "== [$((SECONDS - started))s] $*"; }
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/hub/hubd.log" ] && { echo "--- hubd.log" >&2; tail -n 40 "$work/hub/hubd.log" >&2; }
  exit 1
}
# The system Python (a version manager's shim can take seconds to start).
python=$(command -v /usr/bin/python3 || command -v python3)
json() { "$python" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- 1. Install the SDK (tutorial step 1) -------------------------------------------------------
step "cmake --install <build> --component sdk --prefix $work/sdk"
cmake --install "$build_dir" --component sdk --prefix "$work/sdk" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }
for f in include/hub/sdk/plugin.h include/hub/sdk/roster.h include/hub/sdk/testing/harness.h \
         lib/cmake/HubSdk/HubSdkConfig.cmake \
         share/hub-sdk/template/my_department_plugin.cpp bin/hub-new-plugin; do
  [ -e "$work/sdk/$f" ] || fail "the installed SDK lacks $f"
done
[ ! -e "$work/sdk/include/hub/loader" ] || fail "hubd's loader headers must not be installed"

# --- 2. Create the plugin from the template (step 2) ---------------------------------------------
cd "$work"
step "hub-new-plugin tutorial_dept"
"$work/sdk/bin/hub-new-plugin" tutorial_dept --name-zh 教程部门 --name-en "Tutorial department" \
  || fail "hub-new-plugin"
[ -f tutorial_dept/catalogue/tutorial_dept.json ] || fail "no catalogue written"

# --- 3. Build against the installed SDK and run the plugin's tests (steps 3 and 5) ----------------
step "cmake -S tutorial_dept -B tutorial_dept/build -DCMAKE_PREFIX_PATH=$work/sdk"
cmake -S tutorial_dept -B tutorial_dept/build -DCMAKE_PREFIX_PATH="$work/sdk" >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; fail "configure against the installed SDK"; }
grep -q "plugin ABI" "$work/configure.log" || fail "the template did not report the SDK's ABI version"
step "cmake --build tutorial_dept/build"
cmake --build tutorial_dept/build -j"$(nproc)" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
if grep -q "warning:" "$work/build.log"; then cat "$work/build.log"; fail "the template builds with warnings"; fi
plugin_so="$work/tutorial_dept/build/libhub_plugin_tutorial_dept.so"
[ -f "$plugin_so" ] || fail "no $plugin_so"
step "ctest --test-dir tutorial_dept/build"
ctest --test-dir tutorial_dept/build --output-on-failure >"$work/ctest.log" 2>&1 || { cat "$work/ctest.log"; fail "the plugin's tests"; }
grep -q "100% tests passed" "$work/ctest.log" || { cat "$work/ctest.log"; fail "ctest summary"; }
[ "$(grep -c ' Passed' "$work/ctest.log")" -ge 5 ] || { cat "$work/ctest.log"; fail "expected the template's 5 tests"; }

# --- 4. Run it in-process in hubd (step 6) --------------------------------------------------------
step "hubd --config hub/hub.json with the plugin"
mkdir -p hub
# Wildcard ports, so the test runs beside others; the rest as in the tutorial. The shipped
# police plugin runs beside the new one.
cat > hub/hub.json <<JSON
{
  "data_dir": "var",
  "endpoints": {"ingest": "tcp://127.0.0.1:*", "plugin_hosts": "tcp://127.0.0.1:*",
                "live_feed": "tcp://127.0.0.1:*", "admin": "tcp://127.0.0.1:*"},
  "http": "127.0.0.1:0",
  "delivery": {"retry_initial_ms": 100, "retry_max_ms": 1000},
  "plugin_dir": "$work/tutorial_dept/build",
  "departments_dir": "$work/tutorial_dept/catalogue",
  "plugins": [
    {"id": "police", "library": "$build_dir/plugins/libhub_plugin_police.so",
     "catalogue": "$source_dir/config/departments/police.json"},
    {"id": "tutorial_dept", "enabled": true, "settings": {}}
  ]
}
JSON
(cd hub && exec "$hubd" --config hub.json >hubd.log 2>&1) &
hubd_pid=$!
for _ in $(seq 1 200); do
  [ -f hub/var/hubd.endpoints.json ] && break
  kill -0 "$hubd_pid" 2>/dev/null || fail "hubd exited during start-up"
  sleep 0.1
done
[ -f hub/var/hubd.endpoints.json ] || fail "hubd did not write hub/var/hubd.endpoints.json"
ctl() { "$hubctl" --data-dir hub/var "$@"; }

step "hubctl import households, publish three status changes"
printf 'household_id,village,head,members\nV01-00001,V01,张三,3\nV01-00002,V01,李四,4\nV01-00003,V01,王五,2\n' > households.csv
ctl import households.csv >/dev/null || fail "import households"
ctl publish --household V01-00001 --status credit --quarter 2026Q3 >/dev/null || fail "publish credit"
ctl publish --household V01-00002 --status non_credit --quarter 2026Q3 --designation assistance >/dev/null \
  || fail "publish non_credit"
ctl publish --household V01-00003 --status breach --quarter 2026Q3 >/dev/null || fail "publish breach"

step "hubctl status --json until delivered"
status=""
for _ in $(seq 1 150); do
  status=$(ctl status --json) || fail "hubctl status"
  lag=$(json 'sum(x["lag"] for x in d["departments"])' <<<"$status")
  [ "$lag" = 0 ] && break
  sleep 0.2
done
mine() { json "[x for x in d['departments'] if x['id']=='tutorial_dept'][0]$1" <<<"$status"; }
[ "$(mine "['state']")" = running ] || fail "tutorial_dept is not running: $status"
[ "$(mine "['lag']")" = 0 ] || fail "tutorial_dept still has lag: $status"
[ "$(mine "['failed']")" = 0 ] || fail "tutorial_dept failed: $status"
[ "$(mine "['plugin_version']")" = 0.1.0 ] || fail "tutorial_dept version: $status"
[ "$(mine "['delivered']")" -ge 3 ] || fail "tutorial_dept delivered fewer than 3 events: $status"

step "hubctl household --json: the plugin's actions are in the ledger"
expect_actions() {  # household policy=action…
  local household=$1 got
  shift
  got=$(ctl household "$household" --json | json "' '.join(p['policy_id'].split('.', 1)[1] + '=' +
        (p['state']['action'] if p['state'] else 'none')
        for x in d['departments'] if x['id'] == 'tutorial_dept' for p in x['policies'])") \
    || fail "hubctl household $household"
  for expected in "$@"; do
    [[ " $got " == *" $expected "* ]] || fail "$household: expected tutorial_dept.$expected, the ledger has: $got"
  done
}
expect_actions V01-00001 service_priority=apply assistance_programme=not_applicable
expect_actions V01-00002 service_priority=defer assistance_programme=defer
expect_actions V01-00003 service_priority=withhold assistance_programme=not_applicable

step "stop hubd"
kill -TERM "$hubd_pid"
wait "$hubd_pid" || fail "hubd exited with $? on SIGTERM"
hubd_pid=""
step "tutorial followed: ok"
