#!/usr/bin/env bash
# Installs Fashion-MNIST from Debian (package dataset-fashion-mnist: the four gzip IDX files in
# /usr/share/datasets/fashion-mnist, where `--dataset fashion-mnist` looks by default) and
# checks that they are there. Does nothing if they already are. Run as root (or with sudo).
set -euo pipefail
dir=/usr/share/datasets/fashion-mnist
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
present() { local f; for f in "${files[@]}"; do [ -s "$dir/$f" ] || return 1; done; }
if ! present; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null
fi
present || { echo "fetch_fashion_mnist: $dir lacks the IDX files after installing dataset-fashion-mnist" >&2; exit 1; }
echo "fetch_fashion_mnist: Fashion-MNIST in $dir (eqprop train --dataset fashion-mnist)"
