#!/usr/bin/env bash
# Runs the seed documents' experiments (docs/examples.md) at full size, one command each,
# and copies the figures each produces into docs/images/<experiment>/ with its log.
#
#   bash examples/reproduce.sh                   # every experiment (about 45 minutes on 2 cores)
#   bash examples/reproduce.sh gaussian_vae iwae_k50
#   bash examples/reproduce.sh --list            # the experiments and their commands
#
# Needs the examples built (cmake --build build) and MNIST (cmake/get-data.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VAELIB_BUILD_DIR:-build}/examples

# name | program and arguments | figures (relative to the output folder)
experiments=(
  "gaussian_vae|gaussian_vae --epochs 10|samples.png reconstructions.png training_curve.png"
  "course_vae_k3|course_vae --latent 3|samples.png encode_decode.png training_curve.png"
  "course_vae_k20|course_vae --latent 20|samples.png encode_decode.png training_curve.png"
  "bernoulli_latent_vae|bernoulli_latent_vae --epochs 10|samples_probabilities.png samples_binary.png latent_means_histogram.png reconstructions.png training_curve.png"
  "bernoulli_latent_vae_vimco|bernoulli_latent_vae --objective vimco --particles 10 --epochs 10|samples_probabilities.png samples_binary.png latent_means_histogram.png training_curve.png"
  "autoencoder_gmm|autoencoder_gmm --epochs 10|gmm_samples.png gmm_samples_binary.png gmm_scatter.png autoencoder_latent_scatter.png vae_2d_latent_scatter.png vae_2d/samples.png vae_2d/samples_binary.png"
  "iwae_k1|iwae --particles 1 --epochs 10|samples.png training_curve.png"
  "iwae_k50|iwae --particles 50 --epochs 10|samples.png reconstructions.png training_curve.png"
  "continuous_bernoulli_vae|continuous_bernoulli_vae --epochs 10|samples.png reconstructions.png training_curve.png"
  "vae_conv|vae_conv --epochs 10 --ll-test-n 500|samples.png reconstructions.png training_curve.png"
  "vae_nf_none|vae_nf --flow none --epochs 10 --ll-test-n 2000|samples.png training_curve.png"
  "vae_nf_none_e11|vae_nf --flow none --epochs 11 --ll-test-n 2000|"
  "vae_nf_none_e12|vae_nf --flow none --epochs 12 --ll-test-n 2000|"
  "vae_nf_none_e15|vae_nf --flow none --epochs 15 --ll-test-n 2000|"
  "vae_nf_planar_k10|vae_nf --flow planar --flow-length 10 --epochs 10 --ll-test-n 2000|samples.png reconstructions.png training_curve.png"
  "vae_nf_planar_k20|vae_nf --flow planar --flow-length 20 --epochs 10 --ll-test-n 2000|samples.png training_curve.png"
  "vae_nf_iaf_k2|vae_nf --flow iaf --flow-length 2 --epochs 10 --ll-test-n 2000|samples.png training_curve.png"
  "vae_nf_iaf_k4|vae_nf --flow iaf --flow-length 4 --iaf-hidden 320 320 --epochs 10 --ll-test-n 2000|"
)

if [[ ${1:-} == --list ]]; then
  for e in "${experiments[@]}"; do
    IFS='|' read -r name command _ <<< "$e"
    printf '%-28s ./build/examples/%s --output results/%s\n' "$name" "$command" "$name"
  done
  exit 0
fi

selected=("$@")
# Check every name and program before running anything: a typo or a missing build found
# after half an hour of training would waste it.
names=" "
for e in "${experiments[@]}"; do names+="${e%%|*} "; done
for s in "${selected[@]}"; do
  [[ $names == *" $s "* ]] || { echo "reproduce.sh: no experiment named '$s' (see --list)" >&2; exit 1; }
done
for e in "${experiments[@]}"; do
  IFS='|' read -r name command _ <<< "$e"
  if ((${#selected[@]})) && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  program=${command%% *}
  [[ -x $bin/$program ]] || { echo "reproduce.sh: $bin/$program is not built (cmake --build build)" >&2; exit 1; }
done
ran=0
for e in "${experiments[@]}"; do
  IFS='|' read -r name command figures <<< "$e"
  if ((${#selected[@]})) && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  read -r -a argv <<< "$command"
  program=${argv[0]}
  out=results/$name
  echo "== $name: $bin/$command --output $out"
  rm -rf "$out" && mkdir -p results
  "$bin/$program" "${argv[@]:1}" --output "$out" --no-progress 2>&1 | tee "$out.log"
  mkdir -p "docs/images/$name"
  for f in $figures; do
    cp "$out/$f" "docs/images/$name/$(echo "$f" | tr / _)"
  done
  cp "$out.log" "docs/images/$name/log.txt"
  ran=$((ran + 1))
done
((ran)) || { echo "reproduce.sh: no experiment ran" >&2; exit 1; }
