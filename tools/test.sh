#!/usr/bin/env bash
# The whole test suite: set up (packages, the plain and the MPI build, MNIST), then run
# every meson test of the plain build and the MPI acceptance test of the MPI build, and
# finish with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --mpi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log" || status=$?
# (With arguments, a selection of the plain build's tests: the MPI test then stays out.)
if [ $# -eq 0 ]; then
  EQPROP_PLAIN_BIN="$PWD/build/eqprop" meson test -C build-mpi --no-rebuild --print-errorlogs --suite mpi 2>&1 | tee -a "$log" || status=$?
fi
ok=$(awk '/^Ok:/ {n += $2} END {print n + 0}' "$log")
fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $NF} END {print n + 0}' "$log")
echo "tests: ${ok:-0} passed, ${fail} failed"
exit "$status"
