#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// x - log(sum(exp(x))) along `axis`, the naive way (fine for moderate values).
xt::xarray<double> naive_log_softmax(const xt::xarray<double>& x, std::size_t axis) {
  // The sum evaluated first: a lazy keep_dims reducer inside a broadcast expression gives wrong
  // values with xtensor 0.24.
  const xt::xarray<double> total = xt::sum(xt::exp(x), {axis}, xt::keep_dims);
  return x - xt::log(total);
}
}  // namespace

TEST_CASE("log_softmax: value along each axis; exp sums to 1", "[ops]") {
  Tape<double> tape;
  require_close(log_softmax(tape.constant(xt::xarray<double>{0.0, std::log(3.0)})).value(),
                xt::xarray<double>{std::log(0.25), std::log(0.75)}, 1e-15);
  const auto x = random_array({3, 4, 5}, -3, 3, 1);
  for (std::ptrdiff_t axis : {0, 1, 2, -1, -3}) {
    INFO("axis " << axis);
    const auto ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    const auto y = log_softmax(tape.constant(x), axis);
    CHECK(y.shape() == Shape{3, 4, 5});
    require_close(y.value(), naive_log_softmax(x, ax));
    require_close(xt::xarray<double>(xt::sum(xt::exp(y.value()), {ax})),
                  xt::xarray<double>(xt::ones<double>(xt::xarray<double>(xt::sum(x, {ax})).shape())), 1e-14);
  }
  // Large logits: no overflow; -inf beside finite entries gives -inf.
  const double inf = std::numeric_limits<double>::infinity();
  const auto large = log_softmax(tape.constant(xt::xarray<double>{1000.0, 1000.0, -inf})).value();
  CHECK(large(0) == Approx(-std::log(2.0)).epsilon(1e-15));
  CHECK(large(1) == Approx(-std::log(2.0)).epsilon(1e-15));
  CHECK(large(2) == -inf);
  // float: against the exact value for the float inputs (100 + log 3 is rounded by 7.6e-6).
  Tape<float> tf;
  const xt::xarray<float> xf{100.0f, 100.0f + std::log(3.0f)};
  const double gap = static_cast<double>(xf(1)) - static_cast<double>(xf(0));
  const double log_total = gap + std::log1p(std::exp(-gap));
  require_close(log_softmax(tf.constant(xf)).value(),
                xt::xarray<float>{static_cast<float>(-log_total), static_cast<float>(gap - log_total)}, 1e-7);
}

TEST_CASE("log_softmax: gradient by finite differences", "[ops]") {
  for (std::ptrdiff_t axis : {0, 1, -1}) {
    INFO("axis " << axis);
    require_gradient([axis](Tape<double>&, const Vars& v) { return log_softmax(v[0], axis); },
                     {random_array({3, 4}, -3, 3, 2)});
  }
  GradCheckOptions options;
  options.step = 1e-4;  // f ~ 1000: a larger step keeps rounding below the tolerance
  require_gradient([](Tape<double>&, const Vars& v) { return log_softmax(v[0] + 1000.0); },
                   {random_array({2, 3}, -1, 1, 3)}, options);
}

TEST_CASE("log_softmax: errors name the op", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_AS(log_softmax(x, 2), ArgumentError);
  REQUIRE_THROWS_WITH(log_softmax(x, 2),
                      "log_softmax: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(log_softmax(tape.constant(xt::xarray<double>(xt::zeros<double>({2, 0})))),
                      "log_softmax: axis -1 of shape [2, 0] is empty (expected at least one element to normalise "
                      "over)");
  tape.clear();
  REQUIRE_THROWS_WITH(log_softmax(x), Contains("log_softmax: an operand is a stale handle"));
}

TEST_CASE("log_softmax: all -inf or a +inf in a slice gives NaN there, other slices unaffected", "[ops]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape<double> tape;
  const auto y = log_softmax(tape.constant(xt::xarray<double>{{-inf, -inf}, {inf, 0.0}, {0.0, 0.0}})).value();
  CHECK(std::isnan(y(0, 0)));
  CHECK(std::isnan(y(1, 0)));
  CHECK(y(2, 0) == Approx(-std::log(2.0)).epsilon(1e-15));
}
