#pragma once
// The shape checks every distribution test shares: for group_ndims 0/1/2, the shapes of
// sample() without n_samples, with 1 and with k, of log_prob of each, and (where the
// distribution has them) of entropy() and mean(). Each distribution's test file calls
// check_distribution_shapes once, in its "shapes for group_ndims 0/1/2 and n_samples
// none/1/k" TEST_CASE, and keeps its distribution-specific checks next to it.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "vaelib/vae.hpp"

namespace vaelib::testing {

struct ShapeCheckOptions {
  /// entropy() has the batch shape with its last group_ndims axes summed.
  bool entropy = false;
  /// mean() has shape batch_shape + value_shape.
  bool mean = false;
  /// Every element of the log_prob of an n_samples draw (1 and k) is finite.
  bool finite_log_prob = false;
  /// The k of "n_samples none/1/k".
  std::size_t n_samples = 5;
  /// A value that broadcasts against batch_shape + value_shape (e.g. of shape value_shape, or
  /// the batch's last axis): its log_prob has the batch shape with group_ndims axes summed.
  std::optional<xt::xarray<double>> broadcast_given = std::nullopt;
  std::uint64_t seed = 1;
};

namespace detail {
/// A distribution held by value or by pointer (std::unique_ptr, ...).
template <class P>
const auto& as_distribution(const P& p) {
  if constexpr (requires { *p; }) {
    return *p;
  } else {
    return p;
  }
}

/// `shape` with `leading` (if any) in front.
inline Shape prepend(std::optional<std::size_t> leading, const Shape& shape) {
  Shape out;
  if (leading) out.push_back(*leading);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

inline Shape concat(const Shape& a, const Shape& b) {
  Shape out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
}  // namespace detail

/// For group_ndims 0, 1 and 2, `make(group_ndims)` (a distribution by value or by pointer)
/// must have `batch_shape`, `value_shape` and that group_ndims; sample(rng) has shape
/// batch_shape + value_shape and sample(rng, n) for n in {1, k} has [n] + batch_shape +
/// value_shape; the log_prob of each has the same leading axis followed by batch_shape
/// without its last group_ndims axes. `options` adds the entropy, mean, finiteness and
/// broadcast checks a distribution supports.
template <class Make>
void check_distribution_shapes(Make make, const Shape& batch_shape, const Shape& value_shape,
                               const ShapeCheckOptions& options = {}) {
  REQUIRE(batch_shape.size() >= 2);
  Rng rng(options.seed);
  for (std::size_t g = 0; g <= 2; ++g) {
    INFO("group_ndims " << g);
    const auto holder = make(g);
    const auto& d = detail::as_distribution(holder);
    using T = decltype(d.sample(rng).item());
    CHECK(d.batch_shape() == batch_shape);
    CHECK(d.value_shape() == value_shape);
    CHECK(d.group_ndims() == g);
    const Shape kept(batch_shape.begin(), batch_shape.end() - static_cast<std::ptrdiff_t>(g));

    for (const std::optional<std::size_t> n :
         {std::optional<std::size_t>{}, std::optional<std::size_t>{1}, std::optional<std::size_t>{options.n_samples}}) {
      INFO("n_samples " << (n ? std::to_string(*n) : std::string("none")));
      const auto s = n ? d.sample(rng, *n) : d.sample(rng);
      CHECK(s.shape() == detail::prepend(n, detail::concat(batch_shape, value_shape)));
      const auto lp = d.log_prob(s);
      CHECK(lp.shape() == detail::prepend(n, kept));
      if (options.finite_log_prob && n) {
        for (const T v : lp.value()) CHECK(std::isfinite(v));
      }
    }

    if (options.broadcast_given) {
      const xt::xarray<T> given = xt::cast<T>(*options.broadcast_given);
      CHECK(d.log_prob(d.tape().constant(given)).shape() == kept);
    }
    if (options.entropy) CHECK(d.entropy().shape() == kept);
    if (options.mean) CHECK(d.mean().shape() == detail::concat(batch_shape, value_shape));
  }
}

/// The elements of a node's value, in row-major order.
inline std::vector<double> values(const Var<double>& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

/// Asserts a node's values element by element, to a relative tolerance.
inline void require_values(const Var<double>& v, const std::vector<double>& expected, double relative = 1e-10) {
  REQUIRE(v.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("flat index " << i);
    if (std::isinf(expected[i]))
      CHECK(v.data()[i] == expected[i]);
    else
      CHECK(v.data()[i] == Approx(expected[i]).epsilon(relative));
  }
}

}  // namespace vaelib::testing
