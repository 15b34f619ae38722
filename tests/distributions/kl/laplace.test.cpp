#include <cmath>
#include <limits>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl laplace: Laplace-Laplace and Normal-Laplace match the mpmath reference", "[distributions][kl]",
                   double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kLaplace, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Laplace<T>(leaf(c.p[0]), leaf(c.p[1])), Laplace<T>(leaf(c.q[0]), leaf(c.q[1])));
  });
  klref::require_kl_reference<T>(klref::kNormalLaplace, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Normal<T>::with_logstd(leaf(c.p[0]), leaf(c.p[1])), Laplace<T>(leaf(c.q[0]), leaf(c.q[1])));
  });
}

TEST_CASE("kl laplace: Monte Carlo, gradients, KL(p || p) = 0, infinite scales, broadcasting", "[distributions][kl]") {
  Tape<double> tape;
  const Laplace<double> p(tape.constant(xt::xarray<double>{0.0, 1.0, -2.0}),
                          tape.constant(xt::xarray<double>{1.0, 0.3, 2.0}));
  const Laplace<double> q(tape.constant(xt::xarray<double>{0.5, 1.0, 1.0}),
                          tape.constant(xt::xarray<double>{2.0, 0.6, 0.5}));
  require_kl_matches_monte_carlo(p, q, 40000, 61);
  const auto n = Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0, 1.5, -2.0}),
                                          tape.constant(xt::xarray<double>{1.0, 0.3, 3.0}));
  require_kl_matches_monte_carlo(n, q, 40000, 62);
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);

  const auto m1 = random_array({4}, -2, 2, 1), m2 = random_array({4}, -2, 2, 2);
  const auto b1 = random_array({4}, 0.3, 3, 3), b2 = random_array({4}, 0.3, 3, 4);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Laplace<double>(v[0], v[1]), Laplace<double>(v[2], v[3]));
      },
      {m1, b1, m2, b2});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Normal<double>::with_logstd(v[0], v[1]), Laplace<double>(v[2], v[3]));
      },
      {m1, random_array({4}, -1, 1, 5), m2, b2});

  // Laplace refuses an infinite scale; at the largest finite scales the KL stays finite (never NaN):
  // KL(b1 || b2) = log(b2 / b1) + b1 / b2 - 1 at equal locations (exp(log(1e300)) carries ~1e-13 relative)
  const double wide_scale = 1e300;
  const Laplace<double> flat(tape.constant(0.0), tape.constant(wide_scale));
  const Laplace<double> unit(tape.constant(0.0), tape.constant(1.0));
  CHECK(kl_divergence<double>(flat, unit).item() == Approx(wide_scale - std::log(wide_scale) - 1).epsilon(1e-12));
  CHECK(kl_divergence<double>(unit, flat).item() == Approx(std::log(wide_scale) - 1).epsilon(1e-14));

  const Laplace<double> grouped_p(tape.constant(kl_column({0.0, 1.0})), tape.constant(kl_column({1.0, 2.0})),
                                  {.group_ndims = 1});
  const auto grouped = kl_divergence<double>(grouped_p, q);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      const double a = i == 0 ? 0.0 : 1.0, s = i == 0 ? 1.0 : 2.0;
      const double c = q.loc().value()(j), t = q.scale().value()(j);
      row += std::log(t / s) + std::abs(a - c) / t + s / t * std::exp(-std::abs(a - c) / s) - 1;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-13));
  }
}
