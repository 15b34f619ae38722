#pragma once
// CIFAR-10 in its binary version (the "CIFAR-10 binary version", cifar-10-binary.tar.gz, whose
// folder is cifar-10-batches-bin): six files of 3073-byte records, raw or .gz.
//
//   data_batch_1.bin ... data_batch_5.bin   50,000 training images (10,000 a file)
//   test_batch.bin                          10,000 test images
//
//   record: 1 label byte (0..9), then 3072 pixel bytes: the red 32x32 plane, then the green,
//           then the blue, each row-major
//
// The images load as 3-channel image sets (ImageSet::channels = 3), each row R, G, B planes:
// exactly the file's order, so to_nchw gives [n, 3, 32, 32]. Every check names the file and
// the byte offset. Neither Debian nor npm packages CIFAR-10: when a folder lacks the files,
// the error says where to put them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/data/byte_image_set.hpp"
#include "vaelib/data/image_set.hpp"
#include "vaelib/data/mnist.hpp"
#include "vaelib/io/gzip.hpp"
#include "vaelib/io/read_file.hpp"

namespace vaelib::data {

inline constexpr std::size_t cifar10_side = 32;
inline constexpr std::size_t cifar10_channels = 3;
inline constexpr std::size_t cifar10_pixels = cifar10_channels * cifar10_side * cifar10_side;  // 3072
inline constexpr std::size_t cifar10_record = 1 + cifar10_pixels;                              // 3073
/// The folder the CIFAR-10 binary version unpacks to (and the name searched under $VAELIB_DATA).
inline constexpr std::string_view cifar10_folder_name = "cifar-10-batches-bin";

/// The classes, by label.
inline constexpr std::array<std::string_view, 10> cifar10_classes{
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/// The files of a split, in the order their records are concatenated.
inline std::vector<std::string> cifar10_file_names(Split split) {
  if (split == Split::test) return {"test_batch.bin"};
  std::vector<std::string> names;
  for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i) + ".bin");
  return names;
}

/// Appends the records of one CIFAR-10 file's bytes (already decompressed) to `set`; `source`
/// names them in errors.
inline void parse_cifar10(std::span<const std::byte> bytes, const std::string& source, ByteImageSet& set) {
  if (bytes.empty()) {
    throw FormatError(source + ": empty (a CIFAR-10 batch holds " + std::to_string(cifar10_record) +
                      "-byte records: 1 label byte + 3072 pixel bytes)");
  }
  // a short last record is the usual sign of an interrupted download: name where it starts
  if (const std::size_t partial = bytes.size() % cifar10_record; partial != 0) {
    throw FormatError(source + ": truncated record at offset " + std::to_string(bytes.size() - partial) + " (" +
                      std::to_string(partial) + " of its " + std::to_string(cifar10_record) + " bytes): the file's " +
                      std::to_string(bytes.size()) + " bytes are not a multiple of " + std::to_string(cifar10_record) +
                      " (1 label byte + 3072 pixel bytes)");
  }
  const std::size_t n = bytes.size() / cifar10_record;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t offset = i * cifar10_record;
    const auto label = std::to_integer<std::uint8_t>(bytes[offset]);
    if (label > 9) {
      throw FormatError(source + ": label " + std::to_string(label) + " at offset " + std::to_string(offset) +
                        " (record " + std::to_string(i) + ") is not a CIFAR-10 class (0 to 9)");
    }
  }
  set.rows = set.cols = cifar10_side;
  set.channels = cifar10_channels;
  set.labels.reserve(set.labels.size() + n);
  set.bytes.reserve(set.bytes.size() + n * cifar10_pixels);
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* record = bytes.data() + i * cifar10_record;
    set.labels.push_back(std::to_integer<std::uint8_t>(record[0]));
    for (std::size_t j = 1; j < cifar10_record; ++j) set.bytes.push_back(std::to_integer<std::uint8_t>(record[j]));
  }
}

/// Reads CIFAR-10 files (raw, or gzip detected by content) into one set, in the order given.
inline ByteImageSet read_cifar10_bytes(const std::vector<std::filesystem::path>& files) {
  ByteImageSet set;
  set.rows = set.cols = cifar10_side;
  set.channels = cifar10_channels;
  for (const auto& path : files) {
    const std::vector<std::byte> bytes = io::read_file(path);
    if (io::is_gzip(bytes))
      parse_cifar10(io::gunzip(bytes, path.string()), path.string() + " (decompressed)", set);
    else
      parse_cifar10(bytes, path.string(), set);
  }
  return set;
}

/// Where to get the data and where to put it, for the errors.
inline std::string cifar10_download_hint(const std::filesystem::path& folder) {
  const char* env = std::getenv("VAELIB_DATA");
  const std::string env_folder = (env && *env) ? (std::filesystem::path(env) / cifar10_folder_name).string()
                                               : "$VAELIB_DATA/" + std::string(cifar10_folder_name);
  return "download the \"CIFAR-10 binary version\" (cifar-10-binary.tar.gz, https://www.cs.toronto.edu/~kriz/cifar.html; "
         "neither Debian nor npm packages it) and put its files (data_batch_1.bin ... data_batch_5.bin, "
         "test_batch.bin) in " +
         (folder.empty() ? std::string() : folder.string() + ", or in ") + env_folder;
}

/// One split of CIFAR-10 from `folder` (which holds the .bin files, raw or .gz), as bytes.
inline ByteImageSet load_cifar10_bytes(const std::filesystem::path& folder, Split split) {
  std::vector<std::filesystem::path> files;
  std::string missing;
  for (const std::string& name : cifar10_file_names(split)) {
    if (const auto file = find_idx_file(folder, name))
      files.push_back(*file);
    else
      missing += (missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) {
    throw io::IoError("load_cifar10: " + folder.string() + " has no " + missing + " (nor .gz); " +
                      cifar10_download_hint(folder));
  }
  return read_cifar10_bytes(files);
}

/// One split of CIFAR-10 from `folder`, as floats in [0, 1] (rows of 3 x 32 x 32, R, G, B).
inline ImageSet load_cifar10(const std::filesystem::path& folder, Split split) {
  return to_image_set(load_cifar10_bytes(folder, split));
}

/// Whether `folder` holds the six files.
inline bool has_cifar10_files(const std::filesystem::path& folder) {
  for (Split split : {Split::train, Split::test})
    for (const std::string& name : cifar10_file_names(split))
      if (!find_idx_file(folder, name)) return false;
  return true;
}

/// The folders searched, in order: `explicit_folder` (itself, then /cifar-10-batches-bin),
/// $VAELIB_DATA/cifar-10-batches-bin, ./data/cifar-10-batches-bin,
/// ../shared/data/cifar-10-batches-bin (as dataset_search_path does for MNIST).
inline std::vector<std::filesystem::path> cifar10_search_path(const std::filesystem::path& explicit_folder = {}) {
  const std::string name(cifar10_folder_name);
  std::vector<std::filesystem::path> folders;
  if (!explicit_folder.empty()) {
    folders.push_back(explicit_folder);
    folders.push_back(explicit_folder / name);
  }
  if (const char* env = std::getenv("VAELIB_DATA"); env && *env) folders.push_back(std::filesystem::path(env) / name);
  folders.push_back(std::filesystem::path("data") / name);
  folders.push_back(std::filesystem::path("..") / "shared" / "data" / name);
  return folders;
}

/// The first folder of cifar10_search_path that holds the six files (IoError listing every
/// folder tried, and where to put the data, otherwise).
inline std::filesystem::path locate_cifar10(const std::filesystem::path& explicit_folder = {}) {
  std::string tried;
  for (const auto& folder : cifar10_search_path(explicit_folder)) {
    if (has_cifar10_files(folder)) return folder;
    tried += "\n  " + folder.string();
  }
  throw io::IoError("cannot find cifar-10 (data_batch_1.bin ... data_batch_5.bin and test_batch.bin, raw or .gz) in:" +
                    tried + "\n" + cifar10_download_hint(explicit_folder));
}

}  // namespace vaelib::data
