#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("softmax: value along each axis, sums to 1, large logits", "[ops]") {
  Tape<double> tape;
  require_close(softmax(tape.constant(xt::xarray<double>{0.0, std::log(3.0)})).value(), xt::xarray<double>{0.25, 0.75},
                1e-15);
  const auto x = random_array({3, 4}, -3, 3, 1);
  const xt::xarray<double> e = xt::exp(x);
  // Sums evaluated first (a lazy keep_dims reducer inside a broadcast is wrong in xtensor 0.24).
  const xt::xarray<double> by_column = xt::sum(e, {0}, xt::keep_dims);
  const xt::xarray<double> by_row = xt::sum(e, {1}, xt::keep_dims);
  require_close(softmax(tape.constant(x), 0).value(), xt::xarray<double>(e / by_column));
  require_close(softmax(tape.constant(x)).value(), xt::xarray<double>(e / by_row));
  const double inf = std::numeric_limits<double>::infinity();
  require_close(softmax(tape.constant(xt::xarray<double>{1000.0, 1000.0 + std::log(3.0), -inf})).value(),
                xt::xarray<double>{0.25, 0.75, 0.0}, 1e-12);  // 1000 + log 3 is rounded to 1e-13
  Tape<float> tf;
  require_close(softmax(tf.constant(xt::xarray<float>{{200.0f, 200.0f}, {-200.0f, -200.0f}})).value(),
                xt::xarray<float>{{0.5f, 0.5f}, {0.5f, 0.5f}}, 0.0);  // exact: no large sum subtracted
}

TEST_CASE("softmax: gradient by finite differences and its closed form", "[ops]") {
  for (std::ptrdiff_t axis : {0, 1, -1}) {
    INFO("axis " << axis);
    require_gradient([axis](Tape<double>&, const Vars& v) { return softmax(v[0], axis); },
                     {random_array({3, 4}, -3, 3, 2)});
  }
  // d (sum_j w_j y_j) / dx_i = y_i (w_i - sum_j y_j w_j)
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0)});
  tape.backward(sum(softmax(x) * tape.constant(xt::xarray<double>{1.0, 3.0})));
  require_close(x.grad(), xt::xarray<double>{0.25 * (1 - 2.5), 0.75 * (3 - 2.5)}, 1e-15);
}

TEST_CASE("softmax: errors name the op", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_WITH(softmax(x, -3),
                      "softmax: axis -3 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_AS(softmax(tape.constant(xt::xarray<double>(xt::zeros<double>({0, 2}))), 0), ShapeError);
  tape.clear();
  REQUIRE_THROWS_WITH(softmax(x), Contains("softmax: an operand is a stale handle"));
}
