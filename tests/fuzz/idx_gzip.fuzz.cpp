// libFuzzer target: a gzip-compressed IDX file, decompressed then parsed, as read_idx does.
// The output limit keeps a decompression bomb within libFuzzer's memory limit; the limit
// itself is part of what is tested (it must raise a vaelib error, not grow past it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "vaelib/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  constexpr std::size_t max_output = std::size_t{64} << 20;
  try {
    if (!vaelib::io::is_gzip(bytes)) return 0;  // the raw target covers the rest
    const auto raw = vaelib::io::gunzip(bytes, "fuzz.idx.gz", max_output);
    if (raw.size() > max_output) std::abort();
    const vaelib::data::IdxArray a = vaelib::data::parse_idx(raw, "fuzz.idx.gz (decompressed)");
    if (vaelib::shape_size(a.shape) != a.data.size()) std::abort();
  } catch (const vaelib::Error&) {
  }
  return 0;
}
