#!/usr/bin/env bash
# `systemd-analyze verify` on the packaged units (packaging/systemd/), offline: CI containers
# have no systemd as PID 1, and verify checks that ExecStart's program exists. So the hub and
# plugin-host components are installed into a scratch root (DESTDIR, prefix /usr) beside a copy
# of this machine's systemd units (the targets the units refer to), and verify runs with
# --root on it. Any message fails the test: verify reports unknown keys and bad values on
# stderr but still exits 0.
# Usage: systemd_verify_test.sh <hub build dir>
set -euo pipefail
build_dir=$(cd "$1" && pwd)
command -v systemd-analyze >/dev/null ||
  { echo "SKIP: systemd-analyze is missing (package systemd; bash scripts/install-deps.sh)"; exit 77; }
[ -d /usr/lib/systemd/system ] || [ -d /lib/systemd/system ] ||
  { echo "SKIP: no systemd unit directory on this machine to verify against"; exit 77; }
root=$(mktemp -d "${TMPDIR:-/tmp}/hub-units-XXXXXX")
trap 'rm -rf "$root"' EXIT
for component in hub plugin-host; do
  DESTDIR=$root cmake --install "$build_dir" --prefix /usr --component "$component" >/dev/null
done
mkdir -p "$root/usr/lib/systemd/system" "$root/bin"
system_units=/usr/lib/systemd/system
[ -d "$system_units" ] || system_units=/lib/systemd/system
cp -a "$system_units"/*.target "$root/usr/lib/systemd/system/"
cp "$(type -P kill)" "$root/bin/kill"   # ExecReload=/bin/kill
# One instance of the template, as `systemctl enable chengxin-hub-plugin-host@schools` makes it.
units=(chengxin-hubd.service chengxin-hub-plugin-host@schools.service)
for unit in chengxin-hubd.service chengxin-hub-plugin-host@.service; do
  [ -f "$root/usr/lib/systemd/system/$unit" ] || { echo "FAIL: $unit is not installed to /usr/lib/systemd/system"; exit 1; }
done
# First, that this systemd-analyze reports a mistake here at all (a misspelt key), so that
# silence below means clean units and not a verify that checks nothing.
unit_dir=$root/usr/lib/systemd/system
sed 's/^ProtectSystem=/ProtectSystm=/' "$unit_dir/chengxin-hubd.service" > "$unit_dir/hub-verify-selfcheck.service"
selfcheck=$(systemd-analyze --root="$root" verify --man=no hub-verify-selfcheck.service 2>&1 || true)
grep -q "ProtectSystm" <<<"$selfcheck" ||
  { echo "$selfcheck"; echo "FAIL: systemd-analyze verify did not report a misspelt key: it cannot check the units here"; exit 1; }
rm "$unit_dir/hub-verify-selfcheck.service"
out=$(systemd-analyze --root="$root" verify --man=no "${units[@]}" 2>&1) || { echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1; }
if [ -n "$out" ]; then echo "$out"; echo "FAIL: systemd-analyze verify reported the above"; exit 1; fi
echo "systemd-analyze verify ${units[*]}: clean"
