#pragma once
// read_file: a whole file into memory, with errors that name the file and the reason.

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vaelib/io/atomic_file.hpp"

namespace vaelib::io {

inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("read " + path.string() + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("read " + path.string() + ": cannot open the file (" + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw IoError("read " + path.string() + ": cannot determine the size");
  in.seekg(0);
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw IoError("read " + path.string() + ": read failed (" + std::strerror(errno) + ")");
  }
  return bytes;
}

}  // namespace vaelib::io
