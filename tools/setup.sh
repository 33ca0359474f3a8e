#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine (run as root, apt and npm reachable): installs the
# Debian packages that are missing, builds eqprop in build/ (release), and fetches MNIST
# into data/mnist. Every step is skipped when already done, so it is cheap to re-run.
#   tools/setup.sh [--mpi]   --mpi: also Open MPI and the MPI build in build-mpi/
set -euo pipefail
cd "$(dirname "$0")/.."
mpi=0
case "${1:-}" in
  --mpi) mpi=1 ;;
  "") ;;
  *) echo "setup: unknown argument '$1' (only --mpi)" >&2; exit 2 ;;
esac

packages=(g++ meson ninja-build pkg-config libtbb-dev libopenblas-dev
          libboost-program-options-dev libboost-serialization-dev doctest-dev zlib1g-dev
          nlohmann-json3-dev)
[ "$mpi" = 0 ] || packages+=(libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
echo "setup: built build/eqprop"
if [ "$mpi" = 1 ]; then
  [ -f build-mpi/build.ninja ] || meson setup build-mpi --buildtype=release -Dmpi=enabled >/dev/null
  ninja -C build-mpi eqprop test/test_shard >/dev/null  # what the mpi suite runs; the other unit tests are the plain build's
  echo "setup: built build-mpi/eqprop (MPI)"
fi

tools/fetch_mnist.sh data/mnist
