#!/usr/bin/env bash
# Tests hub-new-plugin (run from the source tree, where it finds sdk/template): the id is
# substituted everywhere, names go into the catalogue, and bad input is refused with the
# documented exit codes (2 usage, 1 failure) and nothing written.
# Usage: hub_new_plugin_test.sh <path of hub-new-plugin>
set -euo pipefail
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_exit() {  # code fragment command…
  local code=$1 fragment=$2 out rc=0
  shift 2
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$code" ] || fail "$* exited $rc, expected $code: $out"
  grep -qF -- "$fragment" <<<"$out" || fail "$*: no '$fragment' in: $out"
}

"$tool" urban_construction --dir "$work/uc" --name-zh 城建办 --name-en "Urban construction office" >/dev/null
for f in CMakeLists.txt README.md urban_construction_plugin.cpp urban_construction_plugin_test.cpp \
         catalogue/urban_construction.json; do
  [ -f "$work/uc/$f" ] || fail "missing $f"
done
if grep -rn "my_department\|MyDepartment" "$work/uc"; then fail "template names left behind"; fi
grep -q "class UrbanConstructionPlugin" "$work/uc/urban_construction_plugin.cpp" || fail "class not renamed"
grep -q 'HUB_DECLARE_PLUGIN(UrbanConstructionPlugin, "urban_construction"' "$work/uc/urban_construction_plugin.cpp" \
  || fail "HUB_DECLARE_PLUGIN not renamed"
grep -q '"department": "urban_construction"' "$work/uc/catalogue/urban_construction.json" || fail "department id"
grep -q '"name_zh": "城建办"' "$work/uc/catalogue/urban_construction.json" || fail "name_zh"
grep -q '"name_en": "Urban construction office"' "$work/uc/catalogue/urban_construction.json" || fail "name_en"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/uc/catalogue/urban_construction.json" \
  || fail "the catalogue is not valid JSON"

expect_exit 2 "use lower-case letters" "$tool" Bad-Name --dir "$work/bad"
expect_exit 2 "use lower-case letters" "$tool" 9lives --dir "$work/bad"
expect_exit 2 "only one ID" "$tool" one two
expect_exit 2 "unknown option --force" "$tool" x --force
expect_exit 2 "go into JSON" "$tool" x --dir "$work/bad" --name-en 'say "hi"'
expect_exit 2 "Usage:" "$tool"
expect_exit 1 "exists and is not empty" "$tool" urban_construction --dir "$work/uc"
[ ! -e "$work/bad" ] || fail "a refused run wrote $work/bad"
expect_exit 0 "create a department plugin" "$tool" --help
echo "hub-new-plugin: ok"
