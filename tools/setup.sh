#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine (run as root, apt and npm reachable): installs the
# Debian packages that are missing, builds eqprop in build/ (release, with the Python package's
# module and tests), and fetches MNIST into data/mnist. Every step is skipped when already done,
# so it is cheap to re-run.
#   tools/setup.sh [--mpi] [--python]
#     --mpi:    also Open MPI and the MPI build in build-mpi/
#     --python: also installs the package into .venv/ (Debian's Python, its NumPy and
#               matplotlib; PEP 668 keeps pip out of the system's site-packages), so
#               .venv/bin/python can `import eqprop` (examples/quickstart.py)
set -euo pipefail
cd "$(dirname "$0")/.."
mpi=0 python=0
for arg in "$@"; do
  case "$arg" in
    --mpi) mpi=1 ;;
    --python) python=1 ;;
    *) echo "setup: unknown argument '$arg' (only --mpi, --python)" >&2; exit 2 ;;
  esac
done

packages=(g++ meson ninja-build pkg-config libtbb-dev libopenblas-dev
          libboost-program-options-dev libboost-serialization-dev doctest-dev zlib1g-dev
          nlohmann-json3-dev
          python3-dev pybind11-dev python3-numpy python3-pytest python3-matplotlib)
[ "$mpi" = 0 ] || packages+=(libopenmpi-dev openmpi-bin)
[ "$python" = 0 ] || packages+=(python3-mesonpy python3-pip python3-venv)
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
  [ -f build-mpi/build.ninja ] || meson setup build-mpi --buildtype=release -Dmpi=enabled -Dpython=disabled >/dev/null
  ninja -C build-mpi eqprop test/test_shard >/dev/null  # what the mpi suite runs; the other unit tests are the plain build's
  echo "setup: built build-mpi/eqprop (MPI)"
fi

if [ "$python" = 1 ]; then
  # Debian's interpreter (another python3 may come first on PATH); its NumPy and matplotlib are
  # seen from the environment. pip rebuilds only what changed (build-pip/).
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/pip install -q --no-build-isolation --no-index --config-settings=builddir=build-pip . >/dev/null
  echo "setup: installed the Python package into .venv (.venv/bin/python -c 'import eqprop')"
fi

tools/fetch_mnist.sh data/mnist
