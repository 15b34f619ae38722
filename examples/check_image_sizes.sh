#!/usr/bin/env bash
# ctest: test images of another size than the training images are refused before anything is
# trained or written (they were read with the training images' size: an out-of-bounds read).
# Crafts a data folder of small IDX files (28x28 training, 14x14 test images) and runs each
# program given on it; each must fail naming both files and sizes, and write no metrics.
#   bash check_image_sizes.sh <work folder> <program>...
set -euo pipefail
work=$1
shift
rm -rf "$work"
mkdir -p "$work/data"
/usr/bin/python3 - "$work/data" <<'PY'
import struct, sys, random
folder = sys.argv[1]
random.seed(1)
def idx(name, dims, n_bytes):
    with open(f"{folder}/{name}", "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 8, len(dims)))
        f.write(b"".join(struct.pack(">I", d) for d in dims))
        f.write(bytes(random.randrange(256) for _ in range(n_bytes)))
idx("train-images-idx3-ubyte", [200, 28, 28], 200 * 28 * 28)
idx("train-labels-idx1-ubyte", [200], 0)
with open(f"{folder}/train-labels-idx1-ubyte", "ab") as f: f.write(bytes(i % 10 for i in range(200)))
idx("t10k-images-idx3-ubyte", [100, 14, 14], 100 * 14 * 14)
idx("t10k-labels-idx1-ubyte", [100], 0)
with open(f"{folder}/t10k-labels-idx1-ubyte", "ab") as f: f.write(bytes(i % 10 for i in range(100)))
PY
for program in "$@"; do
  name=$(basename "$program")
  out=$work/$name
  if "$program" --data "$work/data" --train-n 200 --batch-size 100 --epochs 1 --ll-particles 0 --no-progress \
      --output "$out" > "$work/$name.log" 2>&1; then
    cat "$work/$name.log"; echo "$name: ran on test images of another size" >&2; exit 1
  fi
  expected="the test images are not the size of the training images: $work/data/t10k-images-idx3-ubyte holds 14x14 images, $work/data/train-images-idx3-ubyte holds 28x28"
  grep -qF -- "$expected" "$work/$name.log" ||
    { cat "$work/$name.log"; echo "$name: the error does not say: $expected" >&2; exit 1; }
  if [[ -e $out/metrics.jsonl ]]; then echo "$name: wrote $out/metrics.jsonl before refusing" >&2; exit 1; fi
  echo "$name: refused: $(grep -F 'not the size' "$work/$name.log")"
done
