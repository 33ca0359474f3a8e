#!/usr/bin/env bash
# The whole test suite: set up (packages, the plain and the MPI build, the Python package,
# MNIST), then run every meson test of the plain build (C++ and the Python package's pytest
# suite), the MPI acceptance test of the MPI build and the installed package's quickstart,
# and finish with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --mpi --python
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log" || status=$?
# (With arguments, a selection of the plain build's tests: the MPI test then stays out.)
if [ $# -eq 0 ]; then
  EQPROP_PLAIN_BIN="$PWD/build/eqprop" meson test -C build-mpi --no-rebuild --print-errorlogs --suite mpi 2>&1 | tee -a "$log" || status=$?
fi
# The installed package (.venv), built by pip: the CLI's bits (its compiler flags must be the
# CLI's), then the quickstart as a user runs it.
if [ $# -eq 0 ]; then
  EQPROP_BIN="$PWD/build/eqprop" EQPROP_DATA="$PWD/data/mnist" EQPROP_CONFIGS="$PWD/configs" \
    .venv/bin/python -m pytest -q -p no:cacheprovider python/tests -k same_bits 2>&1 | tee "$log.pip" || status=$?
  if grep -q " passed" "$log.pip" && ! grep -q " failed" "$log.pip"; then echo "Ok:                 1" >>"$log"; else echo "Fail:               1" >>"$log"; status=1; fi
  rm -f "$log.pip"
  out=$(mktemp -d)
  if .venv/bin/python examples/quickstart.py --epochs 1 --train-samples 5000 --out "$out/quickstart.png" >"$out/log" 2>&1 \
     && [ -s "$out/quickstart.png" ]; then
    echo "quickstart from the installed package: ok"; echo "Ok:                 1" >>"$log"
  else
    cat "$out/log"; echo "quickstart from the installed package: FAILED"; echo "Fail:               1" >>"$log"; status=1
  fi
  rm -rf "$out"
fi
ok=$(awk '/^Ok:/ {n += $2} END {print n + 0}' "$log")
fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $NF} END {print n + 0}' "$log")
echo "tests: ${ok:-0} passed, ${fail} failed"
exit "$status"
