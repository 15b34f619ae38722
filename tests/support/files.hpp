#pragma once
// Files for I/O tests: a fresh scratch folder per test, byte helpers, gzip, an environment
// variable set for a scope, and where a test finds MNIST or Fashion-MNIST (test_data_folder).

#include <zlib.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/data.hpp"
#include "vaelib/io.hpp"
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

/// Sets (or, given nullopt, unsets) an environment variable for its lifetime, then restores
/// the value it had.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : m_name(std::move(name)) {
    if (const char* old = std::getenv(m_name.c_str())) m_old = old;
    set(value);
  }
  ~ScopedEnv() { set(m_old); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void set(const std::optional<std::string>& value) const {
    if (value)
      ::setenv(m_name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(m_name.c_str());
  }
  std::string m_name;
  std::optional<std::string> m_old;
};

/// The folders a test searches for a dataset ("mnist" or "fashion-mnist"), in the order of
/// cmake/get-data.sh and examples/find_data.cmake: $VAELIB_DATA/<name> (when set),
/// <source>/data/<name>, <source>/../shared/data/<name> (optional: a development machine's
/// shared copy), and for Fashion-MNIST Debian's /usr/share/datasets/fashion-mnist.
inline std::vector<std::filesystem::path> test_data_places(const std::string& name) {
  const std::filesystem::path source(VAELIB_SOURCE_DIR);
  std::vector<std::filesystem::path> places;
  if (const char* env = std::getenv("VAELIB_DATA"); env && *env) places.push_back(std::filesystem::path(env) / name);
  places.push_back(source / "data" / name);
  places.push_back(source / ".." / "shared" / "data" / name);
  if (name == "fashion-mnist") places.emplace_back("/usr/share/datasets/fashion-mnist");
  return places;
}

/// The first of test_data_places(name) that holds the four IDX files (raw or .gz). Where none
/// does, the test fails (never skips), naming every place searched and how to get the data.
inline std::filesystem::path test_data_folder(const std::string& name) {
  std::string tried;
  const char* env = std::getenv("VAELIB_DATA");
  if (!env || !*env) tried += "\n  $VAELIB_DATA/" + name + " (VAELIB_DATA is not set)";
  for (const auto& folder : test_data_places(name)) {
    if (data::has_dataset_files(folder)) return folder;
    tried += "\n  " + folder.string();
  }
  FAIL(name << " (the four IDX files, raw or .gz) is in none of:" << tried << "\nrun `bash " << VAELIB_SOURCE_DIR
            << "/cmake/get-data.sh` to fetch it (or set VAELIB_DATA to a folder holding " << name << "/)");
  return {};
}

}  // namespace vaelib::testing
