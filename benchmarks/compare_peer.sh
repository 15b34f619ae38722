#!/usr/bin/env bash
# vaelib's ZhuSuan VAE example against the PyTorch peer (../shared/peers/pytorch_vae.py):
# the same model (784-500-500-40), batch (128), data (MNIST) and epochs, run alternately
# ROUNDS times in one session. Prints the median seconds per epoch of each, the ratio
# PyTorch / vaelib (issue 8, target 2) and the peak resident memory of each run
# (/usr/bin/time -v; target 5). The IS log-likelihood and IWAE comparisons (targets 3 and 4)
# are not measured here yet.
#   bash benchmarks/compare_peer.sh [--rounds N (3)] [--epochs E (2)] [--build DIR (build)]
# Needs Debian's python3-torch and time (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 epochs=2 build=build
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "$0: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ && $epochs =~ ^[1-9][0-9]*$ ]] ||
  { echo "$0: --rounds and --epochs take whole numbers of at least 1" >&2; exit 2; }
program=$build/examples/vae
peer=../shared/peers/pytorch_vae.py
data=../shared/data/mnist
[[ -x $program ]] || { echo "$0: no $program (build it: cmake --build $build --target vae)" >&2; exit 2; }
[[ -f $peer ]] || { echo "$0: no PyTorch peer at $peer" >&2; exit 2; }
if ! /usr/bin/python3 -c "import torch" 2> /dev/null || [[ ! -x /usr/bin/time ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch time
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
peak_rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
for ((r = 1; r <= rounds; ++r)); do
  /usr/bin/time -v -o "$work/vaelib.time.$r" "$program" --data "$data" --epochs "$epochs" --ll-particles 0 \
    --test-n 1000 --save-freq 0 --no-progress --output "$work/vaelib.$r" > "$work/vaelib.log.$r"
  /usr/bin/time -v -o "$work/peer.time.$r" /usr/bin/python3 "$peer" --data "$data" --epochs "$epochs" \
    --ll-samples 1 --test-n 1000 > "$work/peer.log.$r"
  echo "round $r: vaelib $(peak_rss_mb "$work/vaelib.time.$r") MB peak, PyTorch $(peak_rss_mb "$work/peer.time.$r") MB peak"
done

/usr/bin/python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys, re
work, rounds = sys.argv[1], int(sys.argv[2])
def epochs(path, key="seconds"):
    out = []
    for line in open(path):
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if "epoch" in d and key in d:
            out.append(float(d[key]))
    return out
def rss(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return int(m.group(1)) / 1024
ours = [s for r in range(1, rounds + 1) for s in epochs(f"{work}/vaelib.{r}/metrics.jsonl")]
peer = [s for r in range(1, rounds + 1) for s in epochs(f"{work}/peer.log.{r}")]
ours_rss = statistics.median(rss(f"{work}/vaelib.time.{r}") for r in range(1, rounds + 1))
peer_rss = statistics.median(rss(f"{work}/peer.time.{r}") for r in range(1, rounds + 1))
mo, mp = statistics.median(ours), statistics.median(peer)
print(f"seconds per epoch (median of {len(ours)} and {len(peer)} epochs): vaelib {mo:.2f}, PyTorch {mp:.2f}")
print(f"RATIO epoch time PyTorch / vaelib = {mp / mo:.2f}   (target >= 2.5)")
print(f"peak RSS (median of {rounds} runs): vaelib {ours_rss:.0f} MB, PyTorch {peer_rss:.0f} MB")
print(f"RATIO peak RSS vaelib / PyTorch = {ours_rss / peer_rss:.2f}   (target <= 0.5)")
PY
