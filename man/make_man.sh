#!/usr/bin/env bash
# make_man.sh PROGRAM NAME OUT [INCLUDE...]: the man page of PROGRAM from its --help and
# --version (help2man), with INCLUDE files' sections added. The pages are bilingual: help2man
# runs in a UTF-8 locale, and groff is told that Chinese text, which has no spaces, may break
# after its punctuation and is set ragged right (else groff warns that it cannot break or
# adjust those lines).
set -euo pipefail
program=$1 name=$2 out=$3
shift 3
includes=()
for f in "$@"; do includes+=(--include="$f"); done
command -v help2man >/dev/null || { echo "help2man not found: install Debian's help2man (scripts/install-deps.sh)" >&2; exit 1; }
# A sanitizer build runs its own programs here: a leak report at exit must not fail the build.
ASAN_OPTIONS=detect_leaks=0 LC_ALL=C.UTF-8 help2man --locale=C.UTF-8 --no-info --no-discard-stderr --section=1 --name="$name" \
  "${includes[@]}" --output="$out.tmp" "$program"
sed '2a .\\" Chinese has no spaces: break lines after its punctuation, and set ragged right.\n.ds AD l\n.ad l\n.cflags 4 ，、。；：！？）' \
  "$out.tmp" > "$out"
rm -f "$out.tmp"
