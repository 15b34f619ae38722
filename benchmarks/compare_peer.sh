#!/usr/bin/env bash
# vaelib against the PyTorch peer (../shared/peers/pytorch_vae.py) on the workloads of issue 8,
# each run alternately ROUNDS times in one session, printing medians and the ratios:
#   gemm   target 1: the VAE step / its raw cblas GEMMs (bench_vae_step, alternating rounds), with
#          the step's first layer dense (the same work), and as the example runs it; and the
#          machine's float FMA peak, which bounds the ratios of targets 2 and 4 (with epoch, iwae):
#          no library running the GEMMs on dense inputs as dense products can beat it
#   epoch  targets 2 and 5: the ZhuSuan VAE example against the peer, same model (784-500-500-40),
#          batch (128), data (MNIST) and epochs: median seconds per epoch, and peak resident
#          memory of each whole run (/usr/bin/time -v)
#   is-ll  target 3: importance-sampled log-likelihood, k = 1000, images per second
#          (bench_vae_step against benchmarks/peer_workloads.py, the peer's own log_weights)
#   iwae   target 4: an IWAE training step with k = 50 (the same pair of programs)
#
#   bash benchmarks/compare_peer.sh [--rounds N (3)] [--epochs E (2)] [--build DIR (build)]
#                                   [--workloads LIST (gemm,epoch,is-ll,iwae)] [--peer-config same|default]
#
# --peer-config same (the default) runs the peer as vaelib runs: on the OpenBLAS kernels
# vaelib selected (OPENBLAS_CORETYPE; on a CPU OpenBLAS does not recognise, the peer would
# otherwise get its generic kernels) and flushing denormals (torch.set_flush_denormal, as
# vaelib's examples do), so the ratios compare the libraries, not their settings. `default`
# leaves the peer as it starts. Needs Debian's python3-torch and time (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 epochs=2 build=build workloads=gemm,epoch,is-ll,iwae peer_config=same
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --peer-config) peer_config=$2; shift 2 ;;
    -h | --help) sed -n 2,20p "$0"; exit 0 ;;
    *) echo "$0: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ && $epochs =~ ^[1-9][0-9]*$ ]] ||
  { echo "$0: --rounds and --epochs take whole numbers of at least 1" >&2; exit 2; }
[[ $peer_config == same || $peer_config == default ]] ||
  { echo "$0: --peer-config takes 'same' or 'default', not '$peer_config'" >&2; exit 2; }
IFS=, read -r -a chosen <<< "$workloads"
for w in "${chosen[@]}"; do
  case $w in gemm | epoch | is-ll | iwae) ;; *) echo "$0: unknown workload '$w' (gemm, epoch, is-ll, iwae)" >&2; exit 2 ;; esac
done
program=$build/examples/vae
bench=$build/benchmarks/bench_vae_step
peer=../shared/peers/pytorch_vae.py
data=../shared/data/mnist
[[ -x $program ]] || { echo "$0: no $program (build it: cmake --build $build --target vae)" >&2; exit 2; }
[[ -x $bench ]] || { echo "$0: no $bench (build it: cmake --build $build --target bench_vae_step)" >&2; exit 2; }
[[ -f $peer ]] || { echo "$0: no PyTorch peer at $peer" >&2; exit 2; }
if ! /usr/bin/python3 -c "import torch" 2> /dev/null || [[ ! -x /usr/bin/time ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch time
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The kernels vaelib runs on, as bench_vae_step reports them ("BLAS kernels: SkylakeX, ...").
kernels=$("$bench" --benchmark_filter='^$' 2> /dev/null | sed -n 's/^BLAS kernels: \([A-Za-z0-9]*\).*/\1/p')
peer_env=() peer_cmd=(/usr/bin/python3 "$peer") workload_flags=()
if [[ $peer_config == same ]]; then
  [[ -n $kernels ]] && peer_env=(env "OPENBLAS_CORETYPE=$kernels")
  # the peer's own script, run with denormals flushed first
  peer_cmd=(/usr/bin/python3 -c 'import runpy, sys, torch; torch.set_flush_denormal(True); sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")' "$peer")
  workload_flags=(--flush-denormal)
fi
echo "vaelib on OpenBLAS ${kernels:-?} kernels, denormals flushed; the peer: ${peer_config} configuration (${peer_env[*]:-its own kernels}${workload_flags[*]:+, denormals flushed})"
has() { [[ ",$workloads," == *",$1,"* ]]; }
bench_json() { "$bench" --benchmark_filter="$1" --benchmark_min_time="$2" --benchmark_out="$3" --benchmark_out_format=json > /dev/null 2>&1; }

for ((r = 1; r <= rounds; ++r)); do
  if has gemm; then
    "$bench" --benchmark_filter='^$' 2> /dev/null | grep -E 'alternating|^PEAK|^BOUND' > "$work/gemm.$r" || true
  fi
  if has epoch; then
    /usr/bin/time -v -o "$work/vaelib.time.$r" "$program" --data "$data" --epochs "$epochs" --ll-particles 0 \
      --test-n 1000 --save-freq 0 --no-progress --output "$work/vaelib.$r" > "$work/vaelib.log.$r"
    /usr/bin/time -v -o "$work/peer.time.$r" "${peer_env[@]}" "${peer_cmd[@]}" --data "$data" --epochs "$epochs" \
      --ll-samples 1 --test-n 1000 > "$work/peer.log.$r"
  fi
  if has is-ll; then
    bench_json '^is_loglikelihood/k:1000/chunk:250$' 3 "$work/isll.$r.json"
    "${peer_env[@]}" /usr/bin/python3 benchmarks/peer_workloads.py --workload is-ll --k 1000 --images 100 "${workload_flags[@]}" \
      --peer ../shared/peers --data "$data" > "$work/peer_isll.$r"
  fi
  if has iwae; then
    bench_json '^iwae_step/k:50$' 5 "$work/iwae.$r.json"
    "${peer_env[@]}" /usr/bin/python3 benchmarks/peer_workloads.py --workload iwae --k 50 --steps 12 "${workload_flags[@]}" \
      --peer ../shared/peers --data "$data" > "$work/peer_iwae.$r"
  fi
  echo "round $r of $rounds done"
done

/usr/bin/python3 - "$work" "$rounds" "$workloads" <<'PY'
import json, re, statistics, sys
work, rounds, workloads = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
R = range(1, rounds + 1)
med = statistics.median
def jsonl(path):
    for line in open(path):
        try:
            yield json.loads(line)
        except ValueError:
            pass
def bench_time(path):  # seconds per iteration of the one benchmark in a Google Benchmark JSON file
    b = [x for x in json.load(open(path))["benchmarks"] if x.get("run_type", "iteration") == "iteration"][0]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    return b["real_time"] * scale, b
def rss(path):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1)) / 1024
if "gemm" in workloads:
    # bench_vae_step prints two alternating ratios: the step with its first layer dense (the raw
    # GEMMs' exact work: target 1), then the step as the example runs it (sparse first layer)
    runs = [re.findall(r"([0-9.]+)\s+\(alternating", open(f"{work}/gemm.{r}").read()) for r in R]
    dense = [float(x[0]) for x in runs if len(x) > 0]
    sparse = [float(x[1]) for x in runs if len(x) > 1]
    if dense:
        print(f"RATIO VAE step, dense input / its raw GEMMs = {med(dense):.3f}   (median of {len(dense)} runs; target <= 1.15)")
    if sparse:
        print(f"RATIO VAE step (sparse first layer) / the raw dense GEMMs = {med(sparse):.3f}   (median of {len(sparse)} runs)")
# the machine's FMA peak and each step's least time at it (GEMMs on dense inputs), from
# bench_vae_step: no library that runs those GEMMs as dense products can be faster
bound = {}
if "gemm" in workloads:
    for key, pattern in (("vae", r"BOUND VAE step:.* at least ([0-9.]+) ms"), ("iwae", r"BOUND IWAE k=50 step:.* at least ([0-9.]+) ms"),
                         ("peak", r"PEAK float FMA peak on \d+ threads: ([0-9.]+) GFLOP/s")):
        found = [float(m.group(1)) for r in R for m in [re.search(pattern, open(f"{work}/gemm.{r}").read())] if m]
        if found:
            bound[key] = med(found)
    if "peak" in bound:
        print(f"float FMA peak (median of {rounds}): {bound['peak']:.0f} GFLOP/s; at it a VAE step's GEMMs on dense inputs take "
              f">= {bound.get('vae', 0):.2f} ms, an IWAE k = 50 step's >= {bound.get('iwae', 0):.0f} ms")
steps_per_epoch = 469  # 60000 MNIST training images in batches of 128
if "epoch" in workloads:
    ours = [d["seconds"] for r in R for d in jsonl(f"{work}/vaelib.{r}/metrics.jsonl") if "epoch" in d and "seconds" in d]
    peer = [d["seconds"] for r in R for d in jsonl(f"{work}/peer.log.{r}") if "epoch" in d and "seconds" in d]
    mo, mp = med(ours), med(peer)
    print(f"seconds per epoch (median of {len(ours)} and {len(peer)} epochs): vaelib {mo:.2f}, PyTorch {mp:.2f}")
    print(f"RATIO epoch time PyTorch / vaelib = {mp / mo:.2f}   (target >= 2.5)")
    if "vae" in bound:
        print(f"BOUND epoch time PyTorch / ({steps_per_epoch} steps at the FMA peak) = {mp / (steps_per_epoch * bound['vae'] / 1e3):.2f}"
              "   (the most a library on dense GEMMs could reach here)")
    ro, rp = med(rss(f"{work}/vaelib.time.{r}") for r in R), med(rss(f"{work}/peer.time.{r}") for r in R)
    print(f"peak RSS (median of {rounds} runs): vaelib {ro:.0f} MB, PyTorch {rp:.0f} MB")
    print(f"RATIO peak RSS vaelib / PyTorch = {ro / rp:.2f}   (target <= 0.5)")
if "is-ll" in workloads:
    ours = med(bench_time(f"{work}/isll.{r}.json")[1]["images_per_second"] for r in R)
    peer = med(next(jsonl(f"{work}/peer_isll.{r}"))["images_per_second"] for r in R)
    print(f"IS log-likelihood, k = 1000 (median of {rounds}): vaelib {ours:.1f} images/s, PyTorch {peer:.1f} images/s")
    print(f"RATIO IS-LL throughput vaelib / PyTorch = {ours / peer:.2f}   (target >= 2.5)")
if "iwae" in workloads:
    ours = med(bench_time(f"{work}/iwae.{r}.json")[0] for r in R)
    peer = med(next(jsonl(f"{work}/peer_iwae.{r}"))["seconds_per_step"] for r in R)
    print(f"IWAE step, k = 50 (median of {rounds}): vaelib {ours * 1e3:.0f} ms, PyTorch {peer * 1e3:.0f} ms")
    print(f"RATIO IWAE step PyTorch / vaelib = {peer / ours:.2f}   (target >= 2.5)")
    if "iwae" in bound:
        print(f"BOUND IWAE step PyTorch / (its GEMMs at the FMA peak) = {peer / (bound['iwae'] / 1e3):.2f}"
              "   (the most a library on dense GEMMs could reach here)")
PY
