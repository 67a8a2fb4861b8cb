#!/usr/bin/env bash
# The Debian packages, installed on this machine as an operator would (issue 20 item 3):
#   1. cpack in the build tree writes chengxin-hub, chengxin-hub-plugin-host, chengxin-hub-sdk;
#   2. apt-get installs the three .debs (their Depends come from dpkg-shlibdeps); postinst made
#      the system user chengxin-hub and /var/lib/chengxin-hub;
#   3. the INSTALLED hubd starts as that user with the packaged /etc/chengxin-hub/hub.json and
#      the installed plugins and catalogues only, and reports READY=1 to a notify socket (as
#      systemd's Type=notify would see it; CI containers have no systemd as PID 1); the
#      installed hubctl imports and publishes, and every department delivers; SIGHUP (the
#      unit's ExecReload) reloads the keys; SIGTERM stops it;
#   4. a plugin made by the installed hub-new-plugin builds against the installed SDK
#      (find_package(HubSdk) under /usr) and passes its tests;
#   5. dpkg -r leaves only the data (/var/lib/chengxin-hub) and the conffile
#      (/etc/chengxin-hub/hub.json, kept until purge as Debian policy wants); dpkg -P removes
#      those and the user too.
# Needs root (dpkg); exits 77 (ctest: skipped) without it. If the packages are installed
# already it refuses to touch them (exit 77) unless HUB_INSTALL_TEST_REPLACE=1: purging them
# would delete that machine's data. Whatever this test installed it purges again on exit.
# Usage: install_test.sh <hub build dir>        HUB_TEST_KEEP=1 keeps the work directory.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
packages=(chengxin-hub chengxin-hub-plugin-host chengxin-hub-sdk)
data_dir=/var/lib/chengxin-hub
started=$SECONDS
step() { echo "== [$((SECONDS - started))s] $*"; }
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "the install test needs root (dpkg -i, a system user); CI runs it as root"
for tool in dpkg apt-get dpkg-shlibdeps cpack setpriv python3; do
  command -v "$tool" >/dev/null || skip "$tool is missing (bash scripts/install-deps.sh installs it)"
done
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" != "" ] &&
              [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" != not-installed ]; }
for p in "${packages[@]}"; do
  if installed "$p" && [ "${HUB_INSTALL_TEST_REPLACE:-}" != 1 ]; then
    skip "$p is installed on this machine; the test would purge it and $data_dir (set HUB_INSTALL_TEST_REPLACE=1 to allow)"
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/hub-install-XXXXXX")
chmod 0755 "$work"
hubd_pid="" notify_pid=""
purge_all() {
  # Only what is installed: dpkg -P of an absent package fails.
  local present=()
  for p in "${packages[@]}"; do installed "$p" && present+=("$p"); done
  [ ${#present[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive dpkg -P "${present[@]}" >>"$work/dpkg.log" 2>&1 || true
}
cleanup() {
  local rc=$?
  for pid in $hubd_pid $notify_pid; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  purge_all
  if [ -n "${HUB_TEST_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/hubd.log" ] && { echo "--- hubd.log" >&2; tail -n 40 "$work/hubd.log" >&2; }
  exit 1
}
python=$(command -v /usr/bin/python3 || command -v python3)
json() { "$python" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

if [ "${HUB_INSTALL_TEST_REPLACE:-}" = 1 ]; then step "purge the installed packages first"; purge_all; fi
[ ! -e "$data_dir" ] || fail "$data_dir exists without the package: move it away first"
for user in chengxin-hub chengxin-hub-host; do
  ! getent passwd "$user" >/dev/null || fail "a user $user exists without the package: remove it first"
done

# --- 1. the packages ---------------------------------------------------------------------------
step "cpack -G DEB in $build_dir"
(cd "$build_dir" && cpack -G DEB -B "$work/debs") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
deb() { echo "$work/debs/${1}_${version}_${arch}.deb"; }
for p in "${packages[@]}"; do
  [ -f "$(deb "$p")" ] || { ls -l "$work/debs"; fail "cpack wrote no $(basename "$(deb "$p")")"; }
  echo "   $(basename "$(deb "$p")"): $(dpkg-deb -f "$(deb "$p")" Depends)"
done
dpkg-deb -f "$(deb chengxin-hub)" Depends | grep -q 'libzmq5' || fail "chengxin-hub: no libzmq5 in Depends (dpkg-shlibdeps?)"
dpkg-deb -f "$(deb chengxin-hub)" Depends | grep -q 'libsystemd0' || fail "chengxin-hub: no libsystemd0 in Depends"
dpkg-deb -f "$(deb chengxin-hub-plugin-host)" Depends | grep -q 'libzmq5' || fail "chengxin-hub-plugin-host: no libzmq5 in Depends"
[ "$(dpkg-deb -I "$(deb chengxin-hub)" conffiles)" = /etc/chengxin-hub/hub.json ] || fail "chengxin-hub: hub.json is not a conffile"
for p in "${packages[@]}"; do dpkg-deb -c "$(deb "$p")" | awk '{print $6}' | sed 's|^\.||; s|/$||' | grep -v '^$' > "$work/$p.files"; done
for f in /usr/bin/hubd /usr/bin/hubctl /usr/lib/chengxin-hub/plugins/libhub_plugin_fp_association.so \
         /usr/share/chengxin-hub/departments/schools.json /etc/chengxin-hub/hub.json \
         /usr/lib/systemd/system/chengxin-hubd.service; do
  grep -qx "$f" "$work/chengxin-hub.files" || fail "chengxin-hub lacks $f"
done
for f in /usr/bin/hub-plugin-host /usr/lib/systemd/system/chengxin-hub-plugin-host@.service; do
  grep -qx "$f" "$work/chengxin-hub-plugin-host.files" || fail "chengxin-hub-plugin-host lacks $f"
done
for f in /usr/include/hub/sdk/plugin.h /usr/include/hub/sdk/testing/harness.h /usr/lib/libhub_sdk.a \
         /usr/lib/cmake/HubSdk/HubSdkConfig.cmake /usr/share/hub-sdk/template/my_department_plugin.cpp \
         /usr/bin/hub-new-plugin; do
  grep -qx "$f" "$work/chengxin-hub-sdk.files" || fail "chengxin-hub-sdk lacks $f"
done

# --- 2. install ----------------------------------------------------------------------------------
step "apt-get install ./chengxin-hub*.deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$(deb chengxin-hub)" "$(deb chengxin-hub-plugin-host)" "$(deb chengxin-hub-sdk)" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; fail "apt-get install"; }
for p in "${packages[@]}"; do installed "$p" || fail "$p is not installed"; done
getent passwd chengxin-hub >/dev/null || fail "postinst made no user chengxin-hub"
getent passwd chengxin-hub-host >/dev/null || fail "postinst made no user chengxin-hub-host"
[ "$(stat -c '%U:%G %a' "$data_dir")" = "chengxin-hub:chengxin-hub 750" ] ||
  fail "$data_dir: $(stat -c '%U:%G %a' "$data_dir"), expected chengxin-hub:chengxin-hub 750"
grep -q '"data_dir": "/var/lib/chengxin-hub"' /etc/chengxin-hub/hub.json || fail "hub.json's data_dir"
[ "$(/usr/bin/hubd --version)" = "hubd $version (plugin ABI $(/usr/bin/hubd --version | sed -n 's/.*plugin ABI \([0-9]*\).*/\1/p'))" ] ||
  fail "the package's version $version is not hubd's: $(/usr/bin/hubd --version)"

# --- 3. the installed hubd -----------------------------------------------------------------------
step "setpriv (as chengxin-hub) /usr/bin/hubd --config /etc/chengxin-hub/hub.json (NOTIFY_SOCKET set)"
notify_socket=$work/notify.sock
"$python" - "$notify_socket" "$work/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode() + "\n")
PY
notify_pid=$!
for _ in $(seq 1 50); do [ -S "$notify_socket" ] && break; sleep 0.1; done
# The rosters that schools, land and finance read from their data folders, as an operator
# puts them there (hubd names the file and its columns); without them those three refuse to start.
for dept in schools land finance; do install -d -o chengxin-hub -g chengxin-hub "$data_dir/plugins/$dept"; done
printf 'household_id,children\nV01-00001,1\nV01-00002,2\n' > "$data_dir/plugins/schools/roster.csv"
printf 'household_id,application_id,applied_on\nV01-00002,A-1,2026-05-01\n' > "$data_dir/plugins/land/roster.csv"
printf 'household_id,policy_id,amount_fen_per_quarter\nV01-00001,finance.rural_reward,15000\n' \
  > "$data_dir/plugins/finance/roster.csv"
chown chengxin-hub:chengxin-hub "$data_dir"/plugins/*/roster.csv
# From /: the packaged configuration must not depend on the working directory. setpriv execs
# hubd itself (runuser would stay its parent), so $! is hubd's pid, as MAINPID is for systemd.
(cd / && exec env NOTIFY_SOCKET="$notify_socket" setpriv --reuid=chengxin-hub --regid=chengxin-hub --init-groups \
   --inh-caps=-all /usr/bin/hubd --config /etc/chengxin-hub/hub.json) >"$work/hubd.log" 2>&1 &
hubd_pid=$!
for _ in $(seq 1 300); do
  [ -f "$data_dir/hubd.endpoints.json" ] && grep -qx 'READY=1' "$work/notify.log" 2>/dev/null && break
  kill -0 "$hubd_pid" 2>/dev/null || fail "the installed hubd exited during start-up"
  sleep 0.1
done
[ -f "$data_dir/hubd.endpoints.json" ] || fail "hubd wrote no $data_dir/hubd.endpoints.json"
grep -qx 'READY=1' "$work/notify.log" || fail "hubd did not send READY=1 to NOTIFY_SOCKET"
[ "$(stat -c %U "$data_dir/hubd.endpoints.json")" = chengxin-hub ] || fail "hubd did not run as chengxin-hub"
ctl() { /usr/bin/hubctl --data-dir "$data_dir" "$@"; }

step "/usr/bin/hubctl import, publish; every department delivers"
printf 'household_id,village,head,members\nV01-00001,V01,张三,3\nV01-00002,V01,李四,4\n' > "$work/households.csv"
ctl import "$work/households.csv" >/dev/null || fail "hubctl import"
ctl publish --household V01-00001 --status credit --quarter 2026Q3 >/dev/null || fail "hubctl publish credit"
ctl publish --household V01-00002 --status breach --quarter 2026Q3 >/dev/null || fail "hubctl publish breach"
status=""
for _ in $(seq 1 300); do
  status=$(ctl status --json) || fail "hubctl status"
  [ "$(json 'sum(x["lag"] for x in d["departments"])' <<<"$status")" = 0 ] && break
  sleep 0.2
done
[ "$(json 'len(d["departments"])' <<<"$status")" = 9 ] || fail "expected the nine departments: $status"
[ "$(json 'sum(x["lag"] for x in d["departments"])' <<<"$status")" = 0 ] || fail "not delivered: $status"
[ "$(json 'sum(x["failed"] for x in d["departments"])' <<<"$status")" = 0 ] || fail "deliveries failed: $status"
[ "$(json 'min(x["delivered"] for x in d["departments"])' <<<"$status")" -ge 2 ] || fail "a department has fewer than 2 events: $status"

step "SIGHUP (ExecReload) reloads the keys; SIGTERM stops hubd"
kill -HUP "$hubd_pid"
for _ in $(seq 1 100); do grep -q 'RELOADING=1' "$work/notify.log" && [ "$(grep -cx 'READY=1' "$work/notify.log")" -ge 2 ] && break; sleep 0.1; done
grep -q 'RELOADING=1' "$work/notify.log" || fail "no RELOADING=1 after SIGHUP"
[ "$(grep -cx 'READY=1' "$work/notify.log")" -ge 2 ] || fail "no READY=1 after the reload"
kill -0 "$hubd_pid" 2>/dev/null || fail "hubd died on SIGHUP"
kill -TERM "$hubd_pid"
wait "$hubd_pid" || fail "hubd exited with $? on SIGTERM"
hubd_pid=""
grep -q 'STOPPING=1' "$work/notify.log" || fail "no STOPPING=1 on SIGTERM"
[ -f "$data_dir/events.db" ] || fail "no $data_dir/events.db"

step "the installed hub-plugin-host, as the template unit runs it: --check-config as chengxin-hub-host"
# The packaged hub.json places every department in hubd (no plugin-host endpoint is bound), so
# the host is checked, not connected: its configuration where the unit reads it, the installed
# plugin found, the CURVE keys made by the installed hubctl keygen and readable by its user.
install -d /etc/chengxin-hub/plugin-host
/usr/bin/hubctl keygen police-server-1 --dir /etc/chengxin-hub/plugin-host/keys >/dev/null || fail "hubctl keygen"
chgrp -R chengxin-hub-host /etc/chengxin-hub/plugin-host/keys
chmod 0750 /etc/chengxin-hub/plugin-host/keys
chmod 0640 /etc/chengxin-hub/plugin-host/keys/police-server-1.curve.key
cat > /etc/chengxin-hub/plugin-host/police.json <<JSON
{"hub": "tcp://127.0.0.1:7002", "host_name": "police-server-1",
 "plugin_dir": "/usr/lib/chengxin-hub/plugins", "data_dir": "/var/lib/chengxin-hub-host/police",
 "plugins": ["police"],
 "curve": {"hub_public_key": "$(cat "$data_dir/keys/hub.curve.pub")",
           "secret_key_file": "/etc/chengxin-hub/plugin-host/keys/police-server-1.curve.key"}}
JSON
host_check=$(cd / && setpriv --reuid=chengxin-hub-host --regid=chengxin-hub-host --init-groups \
  /usr/bin/hub-plugin-host --config /etc/chengxin-hub/plugin-host/police.json --check-config 2>&1) ||
  fail "hub-plugin-host --check-config: $host_check"
grep -q '/usr/lib/chengxin-hub/plugins/libhub_plugin_police.so' <<<"$host_check" ||
  fail "hub-plugin-host does not use the installed police plugin: $host_check"
rm -rf /etc/chengxin-hub/plugin-host   # the operator's files, not the package's

# --- 4. a plugin against the installed SDK -------------------------------------------------------
step "hub-new-plugin install_dept; cmake (find_package(HubSdk) from /usr); build; ctest"
(cd "$work" && /usr/bin/hub-new-plugin install_dept) >"$work/new-plugin.log" 2>&1 || { cat "$work/new-plugin.log"; fail "hub-new-plugin"; }
cmake -S "$work/install_dept" -B "$work/install_dept/build" -G Ninja >"$work/plugin-configure.log" 2>&1 ||
  { cat "$work/plugin-configure.log"; fail "configure the plugin against the installed SDK"; }
grep -q "/usr/lib/cmake/HubSdk" "$work/install_dept/build/CMakeCache.txt" || fail "HubSdk was not found under /usr/lib/cmake"
cmake --build "$work/install_dept/build" >"$work/plugin-build.log" 2>&1 || { cat "$work/plugin-build.log"; fail "build the plugin"; }
[ -f "$work/install_dept/build/libhub_plugin_install_dept.so" ] || fail "no libhub_plugin_install_dept.so"
ctest --test-dir "$work/install_dept/build" --output-on-failure >"$work/plugin-ctest.log" 2>&1 ||
  { cat "$work/plugin-ctest.log"; fail "the plugin's tests"; }

# --- 5. remove, purge ---------------------------------------------------------------------------
step "dpkg -r: only the data and the conffile stay"
DEBIAN_FRONTEND=noninteractive dpkg -r "${packages[@]}" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -r"; }
left=$(cat "$work"/*.files | sort -u | while read -r f; do
  [ -d "$f" ] && [ ! -L "$f" ] && continue     # shared directories (/usr/bin …) stay
  [ -e "$f" ] || [ -L "$f" ] && echo "$f"
done; true)
[ "$left" = /etc/chengxin-hub/hub.json ] || fail "after dpkg -r, expected only the conffile to stay, found: $left"
for d in /usr/lib/chengxin-hub /usr/share/chengxin-hub /usr/include/hub /usr/lib/cmake/HubSdk /usr/share/hub-sdk; do
  [ ! -e "$d" ] || fail "dpkg -r left $d"
done
[ -f "$data_dir/events.db" ] || fail "dpkg -r removed the data ($data_dir)"
step "dpkg -P: the data, the conffile and the user go too"
DEBIAN_FRONTEND=noninteractive dpkg -P "${packages[@]}" >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -P"; }
for d in "$data_dir" /etc/chengxin-hub; do [ ! -e "$d" ] || fail "dpkg -P left $d"; done
! getent passwd chengxin-hub >/dev/null || fail "dpkg -P left the user chengxin-hub"
! getent group chengxin-hub >/dev/null || fail "dpkg -P left the group chengxin-hub"
! getent passwd chengxin-hub-host >/dev/null || fail "dpkg -P left the user chengxin-hub-host"
step "installed, ran, built a plugin, removed: ok"
