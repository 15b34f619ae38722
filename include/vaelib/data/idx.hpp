#pragma once
// read_idx: the IDX format of MNIST and Fashion-MNIST (LeCun's), raw or gzip-compressed.
//
//   offset 0   0x00 0x00 <type> <ndims>      type 0x08 = unsigned byte (the only one used)
//   offset 4   ndims big-endian uint32 dimensions
//   then       prod(dims) elements, row-major
//
// Every check names the file and the offset: wrong magic, a type other than unsigned byte,
// zero or too many dimensions, a size that overflows, truncated data, trailing bytes, and
// (for .gz) corrupt or truncated compression.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "vaelib/autodiff/shape.hpp"
#include "vaelib/io/gzip.hpp"
#include "vaelib/io/read_file.hpp"

namespace vaelib::data {

using io::FormatError;

/// An IDX array of unsigned bytes.
struct IdxArray {
  Shape shape;
  std::vector<std::uint8_t> data;
};

/// Parses IDX bytes (already decompressed); `source` names them in errors.
inline IdxArray parse_idx(std::span<const std::byte> bytes, const std::string& source) {
  auto at = [&](std::size_t i) { return std::to_integer<std::uint32_t>(bytes[i]); };
  auto hex = [](std::uint32_t b) {
    const char* digits = "0123456789abcdef";
    return std::string{digits[b >> 4], digits[b & 15]};
  };
  if (bytes.size() < 4) {
    throw FormatError(source + ": too short for an IDX header (" + std::to_string(bytes.size()) +
                      " bytes; the magic number alone takes 4)");
  }
  if (at(0) != 0 || at(1) != 0) {
    throw FormatError(source + ": not an IDX file: the magic number at offset 0 starts with " + hex(at(0)) + " " +
                      hex(at(1)) + ", expected 00 00");
  }
  if (at(2) != 0x08) {
    throw FormatError(source + ": IDX element type 0x" + hex(at(2)) +
                      " at offset 2 is not supported (vaelib reads unsigned-byte IDX files, type 0x08)");
  }
  const std::size_t ndims = at(3);
  if (ndims == 0 || ndims > 4) {
    throw FormatError(source + ": IDX header at offset 3 declares " + std::to_string(ndims) +
                      " dimensions (expected 1 to 4)");
  }
  const std::size_t header = 4 + 4 * ndims;
  if (bytes.size() < header) {
    throw FormatError(source + ": truncated IDX header: " + std::to_string(ndims) + " dimensions need " +
                      std::to_string(header) + " bytes, the file has " + std::to_string(bytes.size()));
  }
  IdxArray out;
  std::size_t count = 1;
  for (std::size_t d = 0; d < ndims; ++d) {
    const std::size_t o = 4 + 4 * d;
    const std::size_t dim = (at(o) << 24) | (at(o + 1) << 16) | (at(o + 2) << 8) | at(o + 3);
    if (dim != 0 && count > std::numeric_limits<std::size_t>::max() / dim) {
      throw FormatError(source + ": IDX dimensions overflow at offset " + std::to_string(o));
    }
    count *= dim;
    out.shape.push_back(dim);
  }
  const std::size_t available = bytes.size() - header;
  if (available < count) {
    throw FormatError(source + ": truncated IDX data: the header declares " + to_string(out.shape) + " = " +
                      std::to_string(count) + " bytes from offset " + std::to_string(header) + ", but the data ends at offset " +
                      std::to_string(bytes.size()));
  }
  if (available > count) {
    throw FormatError(source + ": " + std::to_string(available - count) + " unexpected bytes after the IDX data at offset " +
                      std::to_string(header + count) + " (header declares " + to_string(out.shape) + ")");
  }
  out.data.resize(count);
  for (std::size_t i = 0; i < count; ++i) out.data[i] = std::to_integer<std::uint8_t>(bytes[header + i]);
  return out;
}

/// Reads an IDX file, decompressing it first if it is gzip (detected by content, not name).
inline IdxArray read_idx(const std::filesystem::path& path) {
  const std::vector<std::byte> bytes = io::read_file(path);
  if (io::is_gzip(bytes)) return parse_idx(io::gunzip(bytes, path.string()), path.string() + " (decompressed)");
  return parse_idx(bytes, path.string());
}

}  // namespace vaelib::data
