#pragma once
// gunzip: the decompressed contents of gzip data (every member, as gzip(1) does), through
// zlib. Corrupt or truncated input is a FormatError naming the source and the compressed
// offset where zlib gave up; output is capped so a hostile file cannot exhaust memory.

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "vaelib/io/npy.hpp"

namespace vaelib::io {

/// Whether `bytes` start with the gzip magic number 1f 8b.
inline bool is_gzip(std::span<const std::byte> bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

inline std::vector<std::byte> gunzip(std::span<const std::byte> compressed, const std::string& source,
                                     std::size_t max_output = std::size_t{1} << 32) {
  std::vector<std::byte> out;
  out.resize(std::min<std::size_t>(std::max<std::size_t>(compressed.size() * 4, 1 << 16), max_output));
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw FormatError(source + ": zlib could not start inflating");
  std::size_t produced = 0, consumed = 0;
  struct End {
    z_stream& z;
    ~End() { inflateEnd(&z); }
  } end{z};
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max_output) {
        throw FormatError(source + ": decompresses to more than " + std::to_string(max_output) +
                          " bytes (refused: not a plausible data file)");
      }
      out.resize(std::min(out.size() * 2, max_output));
    }
    const std::size_t in_chunk = std::min<std::size_t>(compressed.size() - consumed, 1u << 30);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - produced, 1u << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(compressed.data() + consumed));
    z.avail_in = static_cast<uInt>(in_chunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&z, Z_NO_FLUSH);
    consumed += in_chunk - z.avail_in;
    produced += out_chunk - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (consumed == compressed.size()) break;
      if (!is_gzip(compressed.subspan(consumed))) {
        throw FormatError(source + ": " + std::to_string(compressed.size() - consumed) +
                          " bytes of garbage after the gzip data at offset " + std::to_string(consumed));
      }
      inflateReset(&z);  // another gzip member follows
      continue;
    }
    if (rc == Z_BUF_ERROR && consumed == compressed.size() && z.avail_out > 0) {
      throw FormatError(source + ": the gzip data is truncated (it ends at offset " + std::to_string(consumed) +
                        " in the middle of a compressed stream)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw FormatError(source + ": corrupt gzip data near offset " + std::to_string(consumed) + " (zlib: " +
                        (z.msg ? z.msg : "error " + std::to_string(rc)) + ")");
    }
  }
  out.resize(produced);
  return out;
}

}  // namespace vaelib::io
