#!/usr/bin/env bash
# man_pages_test.sh MAN_DIR HUBD HUBCTL HUB_PLUGIN_HOST: the three man pages exist, groff
# renders each with every warning on and prints none, each program answers --version and
# --help with exit 0, and hubctl's page holds the --help of every verb and action its own
# help lists.
set -euo pipefail
man_dir=$1 hubd=$2 hubctl=$3 host=$4
export LC_ALL=C.UTF-8
status=0
for program in "$hubd" "$hubctl" "$host"; do
  name=$(basename "$program")
  for flag in --version --help; do
    "$program" $flag > /dev/null || { echo "FAIL: $name $flag exits $?"; status=1; }
  done
  page=$man_dir/$name.1
  [ -s "$page" ] || { echo "FAIL: no man page $page (help2man missing?)"; status=1; continue; }
  warnings=$(groff -k -man -Tutf8 -ww -z "$page" 2>&1) || { echo "FAIL: groff failed on $page"; status=1; }
  [ -z "$warnings" ] || { echo "FAIL: groff warns on $page:"; echo "$warnings"; status=1; }
  grep -q '^\.SH DESCRIPTION' "$page" || { echo "FAIL: $page has no DESCRIPTION"; status=1; }
  grep -q 'Chengxin Hub' "$page" || { echo "FAIL: $page lacks the program's description"; status=1; }
done
# Every verb, and every action of a verb, has its own section in hubctl.1.
verbs=$("$hubctl" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ {print $1}')
[ -n "$verbs" ] || { echo "FAIL: no verbs in hubctl --help"; status=1; }
for verb in $verbs; do
  grep -qx ".SS \"hubctl $verb\"" "$man_dir/hubctl.1" || { echo "FAIL: hubctl.1 has no section for $verb"; status=1; }
  for action in $("$hubctl" "$verb" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ {print $1}'); do
    grep -qx ".SS \"hubctl $verb $action\"" "$man_dir/hubctl.1" ||
      { echo "FAIL: hubctl.1 has no section for $verb $action"; status=1; }
  done
done
[ $status -eq 0 ] && echo "man pages: hubd.1 hubctl.1 hub-plugin-host.1 render cleanly; $(grep -c '^\.SS "hubctl' "$man_dir/hubctl.1") hubctl verb sections"
exit $status
