#include <cmath>
#include <limits>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl uniform: Uniform-Uniform matches the mpmath reference, +inf outside q's support",
                   "[distributions][kl]", double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kUniform, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Uniform<T>(leaf(c.p[0]), leaf(c.p[1])), Uniform<T>(leaf(c.q[0]), leaf(c.q[1])));
  });
}

TEST_CASE("kl uniform: Monte Carlo, gradients, KL(p || p) = 0, +inf has no gradient, broadcasting",
          "[distributions][kl]") {
  Tape<double> tape;
  const Uniform<double> p(tape.constant(xt::xarray<double>{0.0, -1.0, 2.0}),
                          tape.constant(xt::xarray<double>{1.0, 0.5, 2.5}));
  const Uniform<double> q(tape.constant(xt::xarray<double>{-1.0, -1.0, 0.0}),
                          tape.constant(xt::xarray<double>{3.0, 2.0, 2.5}));
  require_kl_matches_monte_carlo(p, q, 20000, 51);  // log p - log q is constant: the estimate is exact
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);

  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Uniform<double>(v[0], v[1]), Uniform<double>(v[2], v[3]));
      },
      {xt::xarray<double>{0.1, -0.5}, xt::xarray<double>{0.9, 0.4}, xt::xarray<double>{-0.3, -2.0},
       xt::xarray<double>{1.5, 0.6}});

  // p's support not inside q's: +inf, and no gradient (not NaN)
  const Var<double> low = tape.variable(xt::xarray<double>{0.0, -2.0});
  const Var<double> high = tape.variable(xt::xarray<double>{2.0, 0.5});
  const Var<double> kl =
      kl_divergence<double>(Uniform<double>(low, high), Uniform<double>(tape.constant(-1.0), tape.constant(1.0)));
  CHECK(kl.data()[0] == std::numeric_limits<double>::infinity());
  CHECK(kl.data()[1] == std::numeric_limits<double>::infinity());
  tape.backward(sum(kl));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(tape.grad_of(low)[i] == 0.0);
    CHECK(tape.grad_of(high)[i] == 0.0);
  }

  const Uniform<double> grouped_p(tape.constant(kl_column({0.0, 0.5})), tape.constant(kl_column({0.5, 1.0})),
                                  {.group_ndims = 1});
  const Uniform<double> wide(tape.constant(xt::xarray<double>{-1.0, 0.0, -3.0}),
                             tape.constant(xt::xarray<double>{1.0, 2.0, 3.0}));
  const auto grouped = kl_divergence<double>(grouped_p, wide);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(grouped.value()(i) == Approx(std::log(2.0 / 0.5) + std::log(2.0 / 0.5) + std::log(6.0 / 0.5)).epsilon(1e-14));
}
