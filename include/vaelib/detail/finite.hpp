#pragma once
// The finiteness scan shared by the tape's anomaly mode and save_checkpoint: where the first
// NaN or infinity is, and how to name it in an error message.

#include <cmath>
#include <cstddef>
#include <string>

namespace vaelib::detail {

/// Index of the first element of data[0, size) that is NaN or infinite, or size if none is.
template <class T>
std::size_t first_non_finite(const T* data, std::size_t size) noexcept {
  for (std::size_t k = 0; k < size; ++k) {
    if (!std::isfinite(data[k])) return k;
  }
  return size;
}

/// "NaN", "+inf" or "-inf".
template <class T>
std::string describe_non_finite(T v) {
  return std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf";
}

}  // namespace vaelib::detail
