#!/usr/bin/env bash
# Builds eqprop with sanitizers in its own folder and runs tests there.
#
#   tools/sanitize.sh asan   # AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite
#   tools/sanitize.sh tsan   # ThreadSanitizer, the tests that run threads (trainer, claims, checkpoint)
#
# UBSan findings abort (-fno-sanitize-recover), so any finding fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-asan}
# Runs a meson test command and ends with one '<kind>: N passed, N failed' line.
summarize() {
  local log status=0
  log=$(mktemp)
  "$@" 2>&1 | tee "$log" || status=$?
  echo "$kind: $(awk '/^Ok:/ {print $2}' "$log") passed, $(awk '/^(Fail|Timeout|Unexpected Pass):/ {n += $NF} END {print n + 0}' "$log") failed"
  rm -f "$log"
  return $status
}
tools/setup.sh >/dev/null
case "$kind" in
  asan)
    dir=build-asan
    [ -f $dir/build.ninja ] || meson setup $dir --buildtype=debugoptimized -Db_sanitize=address,undefined -Dpython=disabled \
      -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=all -Dcpp_link_args=-fno-sanitize-recover=all >/dev/null
    # Quiet unless the build fails (ninja prints the compiler's errors on its stdout).
    ninja -C $dir > $dir/ninja.log 2>&1 ||
      { tail -40 $dir/ninja.log >&2; echo "sanitize: the build failed" >&2; exit 1; }
    # OpenBLAS and oneTBB keep thread pools and buffers until exit: not leaks of ours.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
    export LSAN_OPTIONS=suppressions=$PWD/tools/sanitizers/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    summarize meson test -C $dir --print-errorlogs --timeout-multiplier 4 "${@:2}"
    ;;
  tsan)
    dir=build-tsan
    [ -f $dir/build.ninja ] || meson setup $dir --buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false -Dpython=disabled >/dev/null
    # Quiet unless the build fails (ninja prints the compiler's errors on its stdout).
    ninja -C $dir > $dir/ninja.log 2>&1 ||
      { tail -40 $dir/ninja.log >&2; echo "sanitize: the build failed" >&2; exit 1; }
    export TSAN_OPTIONS="suppressions=$PWD/tools/sanitizers/tsan.supp halt_on_error=1 history_size=7"
    summarize meson test -C $dir --print-errorlogs --timeout-multiplier 6 trainer claims checkpoint "${@:2}"
    ;;
  *) echo "sanitize: expected asan or tsan, found '$kind'" >&2; exit 2 ;;
esac
