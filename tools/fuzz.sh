#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, with ASan+UBSan) in build-fuzz and runs each one on a
# scratch copy of its seed corpus in fuzz/corpus/. A finding stops the run with the crashing
# input saved in build-fuzz/findings/.
#
#   tools/fuzz.sh [SECONDS] [TARGET ...]      each target for SECONDS (default 60), random seed
#   tools/fuzz.sh --runs N [TARGET ...]        each target for N inputs with seed 1: the same
#                                              inputs every time (CI uses this)
#   targets: fuzz_idx fuzz_checkpoint fuzz_config fuzz_npz fuzz_cifar
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time=60) what="60 s"
if [ "${1:-}" = --runs ]; then
  limit=(-runs="$2" -seed=1) what="$2 inputs, seed 1"
  shift 2
elif [ $# -gt 0 ]; then
  limit=(-max_total_time="$1") what="$1 s"
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_idx fuzz_checkpoint fuzz_config fuzz_npz fuzz_cifar)
tools/setup.sh >/dev/null
if ! command -v clang++ >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ meson setup build-fuzz -Dfuzz=true --buildtype=debugoptimized -Db_sanitize=address,undefined -Dpython=disabled \
    -Db_lundef=false -Dcpp_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
fi
# Quiet unless the build fails (ninja prints the compiler's errors on its stdout).
ninja -C build-fuzz "${targets[@]/#/fuzz/}" > build-fuzz/ninja.log 2>&1 ||
  { tail -40 build-fuzz/ninja.log >&2; echo "fuzz: the build failed" >&2; exit 1; }
mkdir -p build-fuzz/findings
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
export ASAN_OPTIONS=detect_leaks=0  # oneTBB/OpenBLAS keep their pools until exit
for t in "${targets[@]}"; do
  case "$t" in
    fuzz_idx) seeds=fuzz/corpus/idx; max_len=4096 ;;
    fuzz_checkpoint) seeds=fuzz/corpus/checkpoint; max_len=16384 ;;
    fuzz_config) seeds=fuzz/corpus/config; max_len=2048 ;;
    fuzz_npz) seeds=fuzz/corpus/npz; max_len=4096 ;;
    fuzz_cifar) seeds=fuzz/corpus/cifar; max_len=8192 ;;
    *) echo "fuzz: unknown target '$t'" >&2; exit 2 ;;
  esac
  mkdir -p "$work/$t"
  cp "$seeds"/* "$work/$t/"
  echo "fuzz: $t for $what"
  build-fuzz/fuzz/$t "$work/$t" "${limit[@]}" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/findings/$t- -print_final_stats=1 2> "$work/$t.log" ||
    { tail -40 "$work/$t.log" >&2; echo "fuzz: $t FOUND A PROBLEM (input in build-fuzz/findings/)" >&2;
      echo "fuzz: 0 passed, 1 failed"; exit 1; }
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$work/$t.log" | tail -2
done
echo "fuzz: no findings"
echo "fuzz: ${#targets[@]} passed, 0 failed"
