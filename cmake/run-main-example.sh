#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (as root, or with sudo): install what is needed,
# get MNIST (falling back to Fashion-MNIST when MNIST cannot be had), build the ZhuSuan VAE
# example and train it for a few epochs. Extra arguments go to the example (see --help).
#
#   bash cmake/run-main-example.sh                # 3 epochs, results in results/vae
#   bash cmake/run-main-example.sh --epochs 10
set -euo pipefail
cd "$(dirname "$0")/.."

bash cmake/setup-debian.sh
dataset=mnist
if ! bash cmake/get-data.sh mnist; then
  echo "MNIST could not be had: falling back to Fashion-MNIST" >&2
  dataset=fashion-mnist
  bash cmake/get-data.sh fashion-mnist
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j2 --target vae
./build/examples/vae --dataset "$dataset" --output results/vae "$@"
