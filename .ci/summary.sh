#!/usr/bin/env bash
# The closing line of .ci/run: `N passed, N failed, N skipped` from a `make test` log (cargo's
# `test result:` lines) and a skip log (crates/testkit/src/peer.rs writes it). A test that
# skipped returned early, and cargo counted it as passed: it moves from passed to skipped.
#
#   .ci/summary.sh MAKE-TEST-LOG SKIP-LOG
set -euo pipefail
log=$1 skips=$2
[ -f "$skips" ] || skips=/dev/null
read -r passed failed ignored < <(grep -E '^test result: ' "$log" |
  awk '{p += $4; f += $6; i += $8} END {printf "%d %d %d\n", p, f, i}')
# One per skipped test or check, however often it recorded a skip.
read -r tests others < <(awk '(n = index($0, ": ")) {print substr($0, 1, n - 1)}' "$skips" |
  sort -u | awk '/^scripts\// {o++; next} {t++} END {printf "%d %d\n", t, o}')
passed=$((passed > tests ? passed - tests : 0))
echo "$passed passed, $failed failed, $((ignored + tests + others)) skipped"
