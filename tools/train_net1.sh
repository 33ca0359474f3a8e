#!/usr/bin/env bash
# The main job: set up (packages, build, MNIST), then train the paper's net1 (25 epochs)
# and write the per-epoch metrics to runs/net1.jsonl. Extra arguments go to eqprop train.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
mkdir -p runs
exec build/eqprop train --config configs/net1.cfg --metrics runs/net1.jsonl "$@"
