#pragma once
// MNIST and Fashion-MNIST: the same four IDX files (raw or .gz) in a folder.
//
//   train-images-idx3-ubyte  train-labels-idx1-ubyte   60,000 images and labels
//   t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte    10,000
//
// locate_dataset() finds the folder the way the example and the get-data script do.

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vaelib/data/byte_image_set.hpp"
#include "vaelib/data/idx.hpp"
#include "vaelib/data/image_set.hpp"

namespace vaelib::data {

enum class Split { train, test };
enum class Dataset { mnist, fashion_mnist };

inline std::string_view dataset_name(Dataset d) { return d == Dataset::mnist ? "mnist" : "fashion-mnist"; }

/// Parses "mnist" or "fashion-mnist" (ArgumentError otherwise).
inline Dataset parse_dataset(std::string_view name) {
  if (name == "mnist") return Dataset::mnist;
  if (name == "fashion-mnist" || name == "fashion_mnist") return Dataset::fashion_mnist;
  throw ArgumentError("unknown dataset '" + std::string(name) + "' (expected mnist or fashion-mnist)");
}

/// `folder/name` or `folder/name.gz`, whichever exists (the raw file first).
inline std::optional<std::filesystem::path> find_idx_file(const std::filesystem::path& folder, const std::string& name) {
  for (const auto& candidate : {folder / name, folder / (name + ".gz")}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

/// Images (as bytes) and labels from two IDX files; checks that they agree.
inline ByteImageSet load_idx_byte_images(const std::filesystem::path& images_path,
                                         const std::filesystem::path& labels_path) {
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (images.shape.size() != 3) {
    throw FormatError(images_path.string() + ": expected images of shape [n, rows, cols], got " + to_string(images.shape));
  }
  if (labels.shape.size() != 1 || labels.shape[0] != images.shape[0]) {
    throw FormatError(labels_path.string() + ": expected " + std::to_string(images.shape[0]) + " labels (one per image of " +
                      images_path.string() + "), got shape " + to_string(labels.shape));
  }
  ByteImageSet set;
  set.rows = images.shape[1];
  set.cols = images.shape[2];
  set.bytes = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

/// Images (as floats in [0, 1]) and labels from two IDX files; checks that they agree.
inline ImageSet load_idx_images(const std::filesystem::path& images_path, const std::filesystem::path& labels_path) {
  return to_image_set(load_idx_byte_images(images_path, labels_path));
}

/// One split of MNIST or Fashion-MNIST from `folder`, as bytes (a quarter of the memory of
/// load_mnist's floats; gather() turns batches of it into floats).
inline ByteImageSet load_mnist_bytes(const std::filesystem::path& folder, Split split) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::string images_name = prefix + "-images-idx3-ubyte", labels_name = prefix + "-labels-idx1-ubyte";
  const auto images = find_idx_file(folder, images_name);
  const auto labels = find_idx_file(folder, labels_name);
  if (!images || !labels) {
    throw io::IoError("load_mnist: " + folder.string() + " has no " + (images ? labels_name : images_name) +
                      " (nor .gz); get the data with cmake/get-data.sh, or pass the folder that holds the four IDX files");
  }
  return load_idx_byte_images(*images, *labels);
}

/// One split of MNIST or Fashion-MNIST from `folder`, as floats in [0, 1].
inline ImageSet load_mnist(const std::filesystem::path& folder, Split split) {
  return to_image_set(load_mnist_bytes(folder, split));
}

/// Whether `folder` holds the four files of a dataset.
inline bool has_dataset_files(const std::filesystem::path& folder) {
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"})
    if (!find_idx_file(folder, name)) return false;
  return true;
}

/// The folder a user named (the examples' --data): `folder` itself or `folder/<name>`, and no
/// other place, so that a mistyped path is an error instead of a silent switch to another
/// copy of the data. IoError naming the folder and what it lacks otherwise.
inline std::filesystem::path locate_dataset_in(Dataset d, const std::filesystem::path& folder) {
  const std::string name(dataset_name(d));
  const std::filesystem::path nested = folder / name;
  if (has_dataset_files(folder)) return folder;
  if (has_dataset_files(nested)) return nested;
  std::error_code ec;
  std::string why;
  if (!std::filesystem::exists(folder, ec)) {
    why = "it does not exist";
  } else if (!std::filesystem::is_directory(folder, ec)) {
    why = "it is not a folder";
  } else {
    for (const char* file : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                             "t10k-labels-idx1-ubyte"})
      if (!find_idx_file(folder, file)) why += (why.empty() ? "it has no " : ", ") + std::string(file);
    why += " (nor .gz)";
  }
  throw io::IoError("cannot find " + name + " in " + folder.string() + ": " + why + "; nor in " + nested.string() +
                    " (pass the folder that holds the four IDX files, or run `bash cmake/get-data.sh`)");
}

/// The folders searched for a dataset, in order: `explicit_folder` (itself, then /<name>),
/// $VAELIB_DATA/<name>, ./data/<name>, ../shared/data/<name>, and for Fashion-MNIST Debian's
/// /usr/share/datasets/fashion-mnist.
inline std::vector<std::filesystem::path> dataset_search_path(Dataset d, const std::filesystem::path& explicit_folder = {}) {
  const std::string name(dataset_name(d));
  std::vector<std::filesystem::path> folders;
  if (!explicit_folder.empty()) {
    folders.push_back(explicit_folder);
    folders.push_back(explicit_folder / name);
  }
  if (const char* env = std::getenv("VAELIB_DATA"); env && *env) folders.push_back(std::filesystem::path(env) / name);
  folders.push_back(std::filesystem::path("data") / name);
  folders.push_back(std::filesystem::path("..") / "shared" / "data" / name);
  if (d == Dataset::fashion_mnist) folders.push_back("/usr/share/datasets/fashion-mnist");
  return folders;
}

/// The first folder of dataset_search_path that holds the four files (IoError listing every
/// folder tried otherwise).
inline std::filesystem::path locate_dataset(Dataset d, const std::filesystem::path& explicit_folder = {}) {
  std::string tried;
  for (const auto& folder : dataset_search_path(d, explicit_folder)) {
    if (has_dataset_files(folder)) return folder;
    tried += "\n  " + folder.string();
  }
  throw io::IoError("cannot find " + std::string(dataset_name(d)) + " (the four IDX files, raw or .gz) in:" + tried +
                    "\nrun `bash cmake/get-data.sh` to fetch it, or pass its folder");
}

}  // namespace vaelib::data
