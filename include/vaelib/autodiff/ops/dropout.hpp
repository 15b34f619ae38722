#pragma once
// dropout: inverted dropout. The mask is drawn once, in the forward, from the caller's Rng,
// and kept in the node for the backward.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib {

namespace detail {

/// dropout's random words (one per element), kept across steps so drawing allocates nothing.
struct DropoutCache {
  std::vector<std::uint32_t> words;
};

}  // namespace detail

/// Inverted dropout with drop probability p in [0, 1):
///   y = x m, m_i = 1 / (1 - p) with probability 1 - p, else 0 (independently), so E[y] = x.
///   Element i is kept when the i-th of x.size() words drawn from `rng` (next_u32 order) is
///   at least floor(p 2^32): the same seed gives the same mask, in float and double.
///   p = 0, or training = false, is the identity: x itself is returned and no word is drawn.
/// forward:  y = x m (m kept in the node)
/// backward: dx += dy m (the same mask)
template <class T>
Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool training = true) {
  constexpr const char* op = "dropout";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  if (!(p >= 0 && p < 1)) {
    std::ostringstream s;
    s << p;
    throw ArgumentError(std::string(op) + ": expected a drop probability p in [0, 1); got " + s.str());
  }
  if (p == 0 || !training) return x;
  const Var<T> y = tape.make_node(op, x.shape(), {x});
  TapeRecord<T>& node = tape.node(y);
  const std::size_t n = node.size;
  std::vector<std::uint32_t>& words = op_cache<detail::DropoutCache>(node).words;
  words.resize(n);  // no allocation once a step has had this size
  rng.fill_u32(std::span<std::uint32_t>(words.data(), n));
  const auto threshold = static_cast<std::uint64_t>(p * 4294967296.0);  // P(word < threshold) = p, to 2^-32
  const T scale = static_cast<T>(1 / (1 - p));
  T* const mask = node.scratch.ensure(n);  // the backward reads the mask, not the words
  const T* const xv = x.data();
  T* const yv = tape.value_ptr(y);
  for (std::size_t i = 0; i < n; ++i) {
    mask[i] = words[i] >= threshold ? scale : T(0);
    yv[i] = xv[i] * mask[i];
  }
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    const T* const mask = self.scratch.data();
    for (std::size_t i = 0; i < self.size; ++i) {
      const T v = self.grad[i] * mask[i];
      g.data[i] = g.accumulate ? g.data[i] + v : v;
    }
  });
  return y;
}

}  // namespace vaelib
