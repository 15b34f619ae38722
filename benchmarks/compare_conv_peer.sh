#!/usr/bin/env bash
# vaelib's convolutional VAE (examples/vae_conv) against its LibTorch peer
# (benchmarks/libtorch_vae_conv.cpp, target peer_libtorch_vae_conv; issue 24, item 5): the same
# model, batch (128), data (MNIST) and epochs, the two programs run alternately ROUNDS times in
# one session, each under /usr/bin/time -v. Prints the median seconds per training epoch of each
# (vaelib's from its metrics.jsonl, the peer's from its JSON lines), their RATIO LibTorch / vaelib
# (target >= 1.5), the median peak resident memory of each whole run, and each one's test lower
# bound (a check that both learned; first 1000 test images).
#
#   bash benchmarks/compare_conv_peer.sh [--rounds N (3)] [--epochs E (2)] [--build DIR (build)]
#                                        [--data DIR]
#
# --data: the folder with MNIST's IDX files; by default the first of $VAELIB_DATA/mnist,
# data/mnist and ../shared/data/mnist that holds them. Both programs run in their default
# thread configurations: vaelib with OpenBLAS's threads, the peer with the configuration its
# header comment measured as its fastest. Build both first:
#   cmake --build DIR --target vae_conv peer_libtorch_vae_conv
# (the peer exists when CMake found LibTorch: apt-get install libtorch-dev, then reconfigure).
set -euo pipefail
cd "$(dirname "$0")/.."
me=compare_conv_peer.sh
fail() { echo "$me: $*" >&2; exit 2; }
rounds=3 epochs=2 build=build data=
while (($#)); do
  case $1 in
    --rounds | --epochs | --build | --data)
      (($# >= 2)) || fail "$1 needs a value (see --help)"
      case $1 in
        --rounds) rounds=$2 ;;
        --epochs) epochs=$2 ;;
        --build) build=$2 ;;
        --data) data=$2 ;;
      esac
      shift 2 ;;
    --rounds=* | --epochs=* | --build=* | --data=*)
      value=${1#*=}
      case $1 in
        --rounds=*) rounds=$value ;;
        --epochs=*) epochs=$value ;;
        --build=*) build=$value ;;
        --data=*) data=$value ;;
      esac
      shift ;;
    -h | --help) sed -n 2,18p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "--rounds takes a whole number of at least 1, not '$rounds'"
[[ $epochs =~ ^[1-9][0-9]*$ ]] || fail "--epochs takes a whole number of at least 1, not '$epochs'"
[[ -n $build ]] || fail "--build needs a build folder, not ''"

program=$build/examples/vae_conv
peer=$build/benchmarks/peer_libtorch_vae_conv
[[ -d $build ]] || fail "no build folder '$build' (--build)"
[[ -x $program ]] || fail "no $program (build it: cmake --build $build --target vae_conv)"
[[ -x $peer ]] || fail "no $peer (it is built when CMake finds LibTorch: apt-get install libtorch-dev, reconfigure $build, then cmake --build $build --target peer_libtorch_vae_conv)"

has_mnist() { [[ -f $1/train-images-idx3-ubyte || -f $1/train-images-idx3-ubyte.gz ]] &&
  [[ -f $1/t10k-images-idx3-ubyte || -f $1/t10k-images-idx3-ubyte.gz ]]; }
if [[ -n $data ]]; then
  [[ -d $data ]] || fail "--data: no folder '$data'"
  has_mnist "$data" || fail "--data: '$data' holds no train-images-idx3-ubyte and t10k-images-idx3-ubyte (nor .gz)"
else
  tried=()
  [[ -n ${VAELIB_DATA:-} ]] && tried+=("$VAELIB_DATA/mnist")
  tried+=(data/mnist ../shared/data/mnist)
  for folder in "${tried[@]}"; do
    if has_mnist "$folder"; then data=$folder; break; fi
  done
  [[ -n $data ]] || fail "cannot find MNIST in ${tried[*]} (pass --data DIR, or set VAELIB_DATA)"
fi
if [[ ! -x /usr/bin/time ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time > /dev/null ||
    fail "needs /usr/bin/time (apt-get install time)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
family=$(grep -m1 '^cpu family' /proc/cpuinfo | sed 's/.*: //')
model=$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | sed 's/.*: //')
echo "CPU: $cpu (family $family, model $model), $(nproc) threads; data: $data; $rounds rounds of $epochs epochs"

# runs "$@" under /usr/bin/time -v into $work/<name>.{log,time}; on failure shows its log's tail
run() {
  local name=$1
  shift
  if ! /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.log" 2>&1; then
    echo "$me: '$*' failed; the end of its output:" >&2
    tail -n 20 "$work/$name.log" >&2
    exit 1
  fi
}
for ((r = 1; r <= rounds; ++r)); do
  run "vaelib.$r" "$program" --data "$data" --epochs "$epochs" --ll-particles 0 --test-n 1000 --no-progress \
    --output "$work/vaelib.$r"
  run "peer.$r" "$peer" --data "$data" --epochs "$epochs" --test-n 1000
  echo "round $r of $rounds done"
done

/usr/bin/python3 - "$work" "$rounds" <<'PY'
import json, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
R = range(1, rounds + 1)
def records(path):
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                yield json.loads(line)
            except ValueError:
                pass
def epochs(path):
    return [d["seconds"] for d in records(path) if "epoch" in d and "seconds" in d]
def rss_mb(path):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1)) / 1024
def test_bound(path):
    found = [d["test_lower_bound"] for d in records(path) if "summary" in d and "test_lower_bound" in d]
    return found[-1] if found else float("nan")
ours = [s for r in R for s in epochs(f"{work}/vaelib.{r}/metrics.jsonl")]
peer = [s for r in R for s in epochs(f"{work}/peer.{r}.log")]
if not ours or not peer:
    sys.exit("compare_conv_peer.sh: no per-epoch seconds from " + ("vaelib's metrics.jsonl" if not ours else "the peer"))
mo, mp = statistics.median(ours), statistics.median(peer)
print(f"seconds per epoch (median of {len(ours)} and {len(peer)} epochs): vaelib {mo:.2f}, LibTorch {mp:.2f}")
print(f"RATIO epoch time LibTorch / vaelib = {mp / mo:.2f}   (target >= 1.5)")
ro = statistics.median(rss_mb(f"{work}/vaelib.{r}.time") for r in R)
rp = statistics.median(rss_mb(f"{work}/peer.{r}.time") for r in R)
print(f"peak RSS (median of {rounds} runs): vaelib {ro:.0f} MB, LibTorch {rp:.0f} MB   (RATIO vaelib / LibTorch = {ro / rp:.2f})")
print(f"test lower bound after {len(ours) // rounds} epoch(s) (round {rounds}, first 1000 test images): "
      f"vaelib {test_bound(f'{work}/vaelib.{rounds}/metrics.jsonl'):.2f}, LibTorch {test_bound(f'{work}/peer.{rounds}.log'):.2f}")
PY
