#!/usr/bin/env bash
# The whole test suite: set up (packages, build, MNIST), then run every meson test and
# finish with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log" || status=$?
ok=$(awk '/^Ok:/ {print $2}' "$log")
fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $NF} END {print n + 0}' "$log")
echo "tests: ${ok:-0} passed, ${fail} failed"
exit "$status"
