#pragma once
// The checks every elementwise unary op test shares: values against an independent scalar
// computation, finite-difference gradients, a float run and the stale-handle error. Each op's
// test file calls check_unary_op once, in a TEST_CASE of its own, and keeps its op-specific
// cases (closed forms, saturation, argument errors) next to it.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support/gradients.hpp"

namespace vaelib::testing {

/// Values moved at least `margin` away from each point of `kinks`, so that central finite
/// differences (step 1e-6) straddle none of them.
inline xt::xarray<double> away_from(xt::xarray<double> x, const std::vector<double>& kinks, double margin = 0.05) {
  for (double& v : x)
    for (double k : kinks)
      if (std::abs(v - k) < margin) v = v < k ? k - margin : k + margin;
  return x;
}

/// `reference` applied to every element, the result cast back to T (a float reference may
/// compute in double).
template <class T, class Reference>
xt::xarray<T> apply_reference(xt::xarray<T> x, const Reference& reference) {
  for (T& v : x) v = static_cast<T>(reference(v));
  return x;
}

struct UnaryOpOptions {
  /// Points where the op is not differentiable (abs and relu at 0, clamp at its bounds): the
  /// gradient checks move their inputs at least `margin` away from each.
  std::vector<double> kinks{};
  double margin = 0.05;
};

/// The shared checks of an elementwise unary op, as SECTIONs of the calling TEST_CASE:
/// - value: for shapes {3, 4}, {2, 3, 2} and rank 0 (inputs uniform in [lo, hi), seeds seed,
///   seed + 1, seed + 2), the shape, y.op() == name and the value against `reference`
///   element by element (1e-12);
/// - gradient: require_gradient for the same shapes (seeds seed + 3 to seed + 5) and for the
///   input used twice, op(x) * x on shape {5} (seed + 6);
/// - float: Var<float> values against `reference` within 1e-5 (shape {3, 4}, seed + 7);
/// - stale handle: TapeError whose message starts "<name>: an operand is a stale handle".
/// `op` must accept both Var<double> and Var<float> (a generic lambda), `reference` both double
/// and float.
template <class Op, class Reference>
void check_unary_op(const char* name, Op op, Reference reference, double lo, double hi, std::uint32_t seed,
                    const UnaryOpOptions& options = {}) {
  INFO("op " << name << ", inputs in [" << lo << ", " << hi << "), seed " << seed);
  const std::vector<Shape> shapes{{3, 4}, {2, 3, 2}, {}};

  SECTION("value against an independent computation") {
    Tape<double> tape;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const auto x = random_array(shapes[i], lo, hi, seed + static_cast<std::uint32_t>(i));
      const Var<double> y = op(tape.constant(x));
      CHECK(y.shape() == shapes[i]);
      CHECK(std::string(y.op()) == name);
      require_close(y.value(), apply_reference(x, reference));
    }
  }

  SECTION("gradient") {
    const auto input = [&](const Shape& shape, std::uint32_t s) {
      return away_from(random_array(shape, lo, hi, s), options.kinks, options.margin);
    };
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      require_gradient([op](Tape<double>&, const Vars& v) { return op(v[0]); },
                       {input(shapes[i], seed + 3 + static_cast<std::uint32_t>(i))});
    }
    // The same input used twice: gradients accumulate.
    require_gradient([op](Tape<double>&, const Vars& v) { return op(v[0]) * v[0]; }, {input({5}, seed + 6)});
  }

  SECTION("float smoke test") {
    Tape<float> tape;
    const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, lo, hi, seed + 7));
    const Var<float> y = op(tape.constant(x));
    require_close(y.value(), apply_reference(x, reference), 1e-5);
  }

  SECTION("a stale handle throws TapeError naming the op") {
    Tape<double> tape;
    const auto x = tape.variable(random_array({2}, lo, hi, seed));
    tape.clear();
    REQUIRE_THROWS_AS(op(x), TapeError);
    REQUIRE_THROWS_WITH(op(x), Catch::Matchers::Contains(std::string(name) + ": an operand is a stale handle"));
  }
}

}  // namespace vaelib::testing
