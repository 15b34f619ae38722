// libFuzzer target: parse_idx on raw (uncompressed) bytes. Bad input must raise a vaelib
// error; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "vaelib/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const vaelib::data::IdxArray a = vaelib::data::parse_idx(bytes, "fuzz.idx");
    if (vaelib::shape_size(a.shape) != a.data.size()) std::abort();  // the shape must describe the data
  } catch (const vaelib::Error&) {
  }
  return 0;
}
