#!/usr/bin/env bash
# Tests the ABI guard itself (scripts/sdk_abi_fingerprint.py) on a copy of the SDK headers:
# comments may change freely; a declaration change fails the check with instructions; the old
# version's fingerprint cannot be overwritten; bump + record makes the check pass again.
# Usage: abi_guard_test.sh <repository root>
set -euo pipefail
root=$1
script="$root/scripts/sdk_abi_fingerprint.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/sdk/include/hub/sdk" "$work/include"
cp "$root/sdk/abi/fingerprints.txt" "$work/fingerprints.txt"
guard() { python3 "$script" --include-dir "$work/include" --records "$work/fingerprints.txt" "$@"; }
fail() { echo "FAIL: $1" >&2; exit 1; }

guard --check >/dev/null || fail "the shipped headers do not match their recorded fingerprint"
recorded=$(grep -c '^[0-9]' "$work/fingerprints.txt")

# A comment or spacing change is not an ABI change.
sed -i 's|^// The values that cross the plugin boundary|//   The values that cross the plugin boundary (reworded)|' "$work/include/types.h"
sed -i 's|  std::string reason; |  std::string   reason; |' "$work/include/types.h"
guard --check >/dev/null || fail "a comment/spacing change was taken for an ABI change"

# A new field in a type that crosses the boundary is.
sed -i 's|  bool correction = false; |  bool correction = false;\n  int priority = 0;|' "$work/include/types.h"
grep -q "int priority" "$work/include/types.h" || fail "test setup: types.h was not changed"
if out=$(guard --check 2>&1); then fail "a changed Event passed the check"; fi
for expected in "public ABI headers changed: bump HUB_SDK_ABI_VERSION and record the new fingerprint" \
                "set HUB_SDK_ABI_VERSION to" "python3 scripts/sdk_abi_fingerprint.py --record"; do
  grep -qF "$expected" <<<"$out" || fail "the message lacks '$expected':\n$out"
done

# Re-recording the same version is refused: a released ABI version never changes.
if out=$(guard --record 2>&1); then fail "--record overwrote a released ABI version"; fi
grep -qF "bump HUB_SDK_ABI_VERSION" <<<"$out" || fail "--record refusal does not say what to do:\n$out"

# Bump, record, and the check passes again.
current=$(sed -nE 's/^#define HUB_SDK_ABI_VERSION ([0-9]+)u$/\1/p' "$work/include/version.h")
sed -i "s/^#define HUB_SDK_ABI_VERSION ${current}u$/#define HUB_SDK_ABI_VERSION $((current + 1))u/" "$work/include/version.h"
guard --record >/dev/null || fail "--record after a bump failed"
guard --check >/dev/null || fail "the check fails after bump + record"
[ "$(grep -c '^[0-9]' "$work/fingerprints.txt")" -eq $((recorded + 1)) ] || fail "expected one more recorded version"

# A version without a record is reported.
sed -i "s/^#define HUB_SDK_ABI_VERSION $((current + 1))u$/#define HUB_SDK_ABI_VERSION $((current + 2))u/" "$work/include/version.h"
if out=$(guard --check 2>&1); then fail "an unrecorded ABI version passed"; fi
grep -qF "has no fingerprint for it" <<<"$out" || fail "unrecorded version message:\n$out"
echo "abi guard: ok"
