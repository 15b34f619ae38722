#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("log_sigmoid: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "log_sigmoid", [](const auto& x) { return vaelib::log_sigmoid(x); },
      [](auto v) { return -std::log1p(std::exp(-v)); }, -4.0, 4.0, 1);
}

TEST_CASE("log_sigmoid: closed-form values, stability for large |x| and gradient", "[ops]") {
  Tape<double> tape;
  const auto y = log_sigmoid(tape.constant(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0}));
  require_close(y.value(), xt::xarray<double>{-std::log(2.0), std::log(0.75), 0.0, -1000.0}, 1e-14);
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0});
  tape.backward(sum(log_sigmoid(x)));
  require_close(x.grad(), xt::xarray<double>{0.5, 0.25, 0.0, 1.0});
  // log sigmoid(x) = -softplus(-x)
  const auto z = random_array({6}, -5, 5, 21);
  require_close(log_sigmoid(tape.constant(z)).value(), xt::xarray<double>(-softplus(-tape.constant(z)).value()), 1e-14);
  require_gradient([](Tape<double>&, const Vars& v) { return log_sigmoid(v[0]); },
                   {xt::xarray<double>{-30.0, 30.0, 1e-3}});
}
