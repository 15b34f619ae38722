#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("log_mean_exp: value along each axis, keep_dims, large magnitudes", "[ops]") {
  Tape<double> tape;
  require_close(log_mean_exp(tape.constant(xt::xarray<double>{0.0, std::log(3.0)}), 0).value(),
                xt::xarray<double>(std::log(2.0)), 1e-15);
  const auto x = random_array({3, 4, 5}, -3, 3, 1);
  for (std::size_t axis = 0; axis < 3; ++axis) {
    INFO("axis " << axis);
    const auto ax = static_cast<std::ptrdiff_t>(axis);
    require_close(log_mean_exp(tape.constant(x), ax).value(),
                  xt::xarray<double>(xt::log(xt::mean(xt::exp(x), {axis}))));
    require_close(log_mean_exp(tape.constant(x), ax, true).value(),
                  xt::xarray<double>(xt::log(xt::mean(xt::exp(x), {axis}, xt::keep_dims))));
  }
  const double inf = std::numeric_limits<double>::infinity();
  const auto y = log_mean_exp(tape.constant(xt::xarray<double>{{-1000.0, -1000.0}, {-inf, -inf}}), -1);
  CHECK(y.value()(0) == Approx(-1000.0).epsilon(1e-15));
  CHECK(y.value()(1) == -inf);
  Tape<float> tf;
  CHECK(log_mean_exp(tf.constant(xt::xarray<float>{-300.0f, -300.0f, -300.0f}), 0).item() ==
        Approx(-300.0f).epsilon(1e-7));
}

TEST_CASE("log_mean_exp: gradient by finite differences (the softmax)", "[ops]") {
  for (std::ptrdiff_t axis : {0, 1, -1}) {
    INFO("axis " << axis);
    require_gradient([axis](Tape<double>&, const Vars& v) { return log_mean_exp(v[0], axis); },
                     {random_array({3, 4}, -3, 3, 2)});
  }
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0)});
  tape.backward(log_mean_exp(x, 0));
  require_close(x.grad(), xt::xarray<double>{0.25, 0.75}, 1e-15);
}

TEST_CASE("log_mean_exp: errors name the op", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  REQUIRE_THROWS_WITH(log_mean_exp(x, 2),
                      "log_mean_exp: axis 2 is out of range for a tensor of rank 2 (expected -2 <= axis < 2)");
  REQUIRE_THROWS_WITH(log_mean_exp(tape.constant(xt::xarray<double>(xt::zeros<double>({2, 0}))), 1),
                      "log_mean_exp: axis 1 of shape [2, 0] is empty (expected at least one element to normalise "
                      "over)");
  tape.clear();
  REQUIRE_THROWS_WITH(log_mean_exp(x, 0), Contains("log_mean_exp: an operand is a stale handle"));
}
