#!/usr/bin/env bash
# promtool_test.sh SOURCE_DIR WORK_DIR: `promtool check rules` on the shipped rules, then
# `promtool test rules` on the unit tests in tests/prometheus/ (the conditions against a copy
# without annotations, the annotations against the shipped file itself).
set -euo pipefail
src=$1
work=$2
rules=$src/config/prometheus/chengxin-hub-alerts.yml
command -v promtool >/dev/null || { echo "promtool not found: install Debian's prometheus package (scripts/install-deps.sh)"; exit 1; }
rm -rf "$work" && mkdir -p "$work"
promtool check rules "$rules"
cp "$rules" "$work/chengxin-hub-alerts.yml"
python3 "$src/tests/prometheus/alert_rules.py" strip "$rules" "$work/chengxin-hub-alerts.conditions.yml"
cp "$src/tests/prometheus/rules_test.yml" "$src/tests/prometheus/annotations_test.yml" "$work/"
promtool test rules "$work/rules_test.yml" "$work/annotations_test.yml"
