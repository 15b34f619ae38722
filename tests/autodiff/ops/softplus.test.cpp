#include "support/unary_op_checks.hpp"

#include <cmath>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("softplus: value, gradient, float and stale handle (shared checks)", "[ops]") {
  check_unary_op(
      "softplus", [](const auto& x) { return vaelib::softplus(x); }, [](auto v) { return std::log1p(std::exp(v)); },
      -4.0, 4.0, 1);
}

TEST_CASE("softplus: closed-form values, stability for large |x| and gradient", "[ops]") {
  Tape<double> tape;
  const auto y = softplus(tape.constant(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0, 40.0}));
  require_close(y.value(), xt::xarray<double>{std::log(2.0), std::log(4.0), 1000.0, 0.0, 40.0 + std::exp(-40.0)},
                1e-14);
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0});
  tape.backward(sum(softplus(x)));
  require_close(x.grad(), xt::xarray<double>{0.5, 0.75, 1.0, 0.0});
  require_gradient([](Tape<double>&, const Vars& v) { return softplus(v[0]); },
                   {xt::xarray<double>{-30.0, 30.0, 1e-3}});
}
