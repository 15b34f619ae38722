#pragma once
// The examples' --data: a folder the user names is the only place looked in (a mistyped path
// is an error, not a silent switch to another copy); without --data, the usual search.

#include <filesystem>
#include <string>
#include <vaelib/data.hpp>
#include <vaelib/vae.hpp>

namespace vaelib::examples {

inline std::filesystem::path dataset_folder(const std::string& dataset, const std::filesystem::path& data_option) {
  const data::Dataset d = data::parse_dataset(dataset);
  return data_option.empty() ? data::locate_dataset(d) : data::locate_dataset_in(d, data_option);
}

}  // namespace vaelib::examples
