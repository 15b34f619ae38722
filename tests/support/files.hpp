#pragma once
// Files for I/O tests: a fresh scratch folder per test, byte helpers, gzip, and where the
// shared test data lives (../shared/data beside the repository).

#include <zlib.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vaelib/vae.hpp"

namespace vaelib::testing {

/// An empty folder under the system's temporary folder, unique to `name`.
inline std::filesystem::path scratch_folder(const std::string& name) {
  const auto folder = std::filesystem::temp_directory_path() / ("vaelib_test_" + name);
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

inline std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

/// gzip-compressed `bytes` (a gzip header, as gzip(1) writes).
inline std::vector<std::byte> gzip_bytes(const std::vector<std::byte>& bytes) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<std::byte> out(deflateBound(&z, bytes.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// An IDX file's bytes: unsigned-byte type, big-endian dimensions, then `data`.
inline std::vector<std::byte> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::vector<std::byte> out = bytes_of({0, 0, 0x08, static_cast<int>(dims.size())});
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::byte>((d >> shift) & 0xff));
  for (std::uint8_t v : data) out.push_back(static_cast<std::byte>(v));
  return out;
}

/// ../shared/data beside the repository (CI and every development machine have it).
inline std::filesystem::path shared_data() { return std::filesystem::path(VAELIB_SOURCE_DIR) / ".." / "shared" / "data"; }

}  // namespace vaelib::testing
