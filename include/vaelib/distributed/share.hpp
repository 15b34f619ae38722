#pragma once
// A rank's share of n items (the rows of a batch, the images of a test set): plain arithmetic,
// without MPI, so code that runs on one rank too (the examples' Ranks) splits the same way.

#include <cstddef>

namespace vaelib::distributed {

/// [begin, end) of n items for one rank: the first n % size ranks take one more, so shares
/// differ by at most one and their concatenation in rank order is 0..n.
struct Share {
  std::size_t begin = 0, end = 0;
  std::size_t size() const noexcept { return end - begin; }
};
inline Share share_of(std::size_t n, int rank, int size) {
  const auto r = static_cast<std::size_t>(rank), s = static_cast<std::size_t>(size);
  const std::size_t base = n / s, extra = n % s;
  const std::size_t begin = r * base + (r < extra ? r : extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

}  // namespace vaelib::distributed
