#pragma once
// The examples' --data: a folder the user names is the only place looked in (a mistyped path
// is an error, not a silent switch to another copy); without --data, the usual search. The
// same for CIFAR-10.

#include <filesystem>
#include <string>
#include <vaelib/data.hpp>
#include <vaelib/vae.hpp>

namespace vaelib::examples {

inline std::filesystem::path dataset_folder(const std::string& dataset, const std::filesystem::path& data_option) {
  const data::Dataset d = data::parse_dataset(dataset);
  return data_option.empty() ? data::locate_dataset(d) : data::locate_dataset_in(d, data_option);
}

/// CIFAR-10's folder: with --data, that folder or its cifar-10-batches-bin only (as above);
/// without, the usual search (data::locate_cifar10).
inline std::filesystem::path cifar10_folder(const std::filesystem::path& data_option) {
  if (data_option.empty()) return data::locate_cifar10();
  for (const auto& folder : {data_option, data_option / data::cifar10_folder_name})
    if (data::has_cifar10_files(folder)) return folder;
  throw io::IoError("--data " + data_option.string() +
                    ": no CIFAR-10 files (data_batch_1.bin ... data_batch_5.bin and test_batch.bin, raw or .gz) "
                    "there or in its " + std::string(data::cifar10_folder_name) + "; " +
                    data::cifar10_download_hint(data_option));
}

}  // namespace vaelib::examples
