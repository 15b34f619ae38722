#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl gamma: Gamma, Exponential and the mixed pairs match the mpmath reference", "[distributions][kl]",
                   double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kGamma, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Gamma<T>(leaf(c.p[0]), leaf(c.p[1])), Gamma<T>(leaf(c.q[0]), leaf(c.q[1])));
  });
  klref::require_kl_reference<T>(klref::kExponential, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Exponential<T>(leaf(c.p[0])), Exponential<T>(leaf(c.q[0])));
  });
  klref::require_kl_reference<T>(klref::kExponentialGamma, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Exponential<T>(leaf(c.p[0])), Gamma<T>(leaf(c.q[0]), leaf(c.q[1])));
  });
  klref::require_kl_reference<T>(klref::kGammaExponential, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Gamma<T>(leaf(c.p[0]), leaf(c.p[1])), Exponential<T>(leaf(c.q[0])));
  });
}

TEST_CASE("kl gamma: the analytic values match Monte Carlo estimates", "[distributions][kl]") {
  Tape<double> tape;
  const Gamma<double> p(tape.constant(xt::xarray<double>{0.7, 2.0, 8.0}),
                        tape.constant(xt::xarray<double>{1.0, 3.0, 0.5}));
  const Gamma<double> q(tape.constant(xt::xarray<double>{1.5, 1.0, 6.0}),
                        tape.constant(xt::xarray<double>{0.5, 2.0, 0.6}));
  require_kl_matches_monte_carlo(p, q, 40000, 11);
  const Exponential<double> e(tape.constant(xt::xarray<double>{0.5, 2.0, 4.0}));
  const Exponential<double> f(tape.constant(xt::xarray<double>{1.0, 0.7, 5.0}));
  require_kl_matches_monte_carlo(e, f, 40000, 12);
  require_kl_matches_monte_carlo(e, q, 40000, 13);
  require_kl_matches_monte_carlo(p, f, 40000, 14);
}

TEST_CASE("kl gamma: gradients in both distributions' parameters", "[distributions][kl]") {
  const auto a1 = random_array({3}, 0.5, 4, 1), b1 = random_array({3}, 0.5, 3, 2);
  const auto a2 = random_array({3}, 0.5, 4, 3), b2 = random_array({3}, 0.5, 3, 4);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Gamma<double>(v[0], v[1]), Gamma<double>(v[2], v[3]));
      },
      {a1, b1, a2, b2});
  // large shapes take the Stirling route of lgamma_bregman
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Gamma<double>(v[0], v[1]), Gamma<double>(v[2], v[3]));
      },
      {a1 * 40.0, b1, a2 * 40.0, b2}, {.step = 1e-4});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Exponential<double>(v[0]), Exponential<double>(v[1]));
      },
      {b1, b2});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Exponential<double>(v[0]), Gamma<double>(v[1], v[2]));
      },
      {b1, a2, b2});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Gamma<double>(v[0], v[1]), Exponential<double>(v[2]));
      },
      {a1, b1, b2});
}

TEST_CASE("kl gamma: KL(p || p) = 0, and batch shapes broadcast with p's group_ndims summed", "[distributions][kl]") {
  Tape<double> tape;
  const Gamma<double> p(tape.constant(kl_column({0.3, 2e5})), tape.constant(xt::xarray<double>{1e-3, 1.0, 1e4}));
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);
  const Exponential<double> e(tape.constant(xt::xarray<double>{1e-20, 1.0, 1e20}));
  for (double v : kl_values_of(kl_divergence<double>(e, e))) CHECK(v == 0.0);

  // p: batch [2, 1], q: batch [3] -> [2, 3]; with group_ndims 1 on p, [2]
  const xt::xarray<double> a1 = kl_column({0.5, 3.0}), b1 = kl_column({2.0, 0.7}), a2{1.0, 2.0, 4.0}, b2{0.5, 1.0, 1.5};
  const Gamma<double> q(tape.constant(a2), tape.constant(b2));
  const auto kl = kl_divergence<double>(Gamma<double>(tape.constant(a1), tape.constant(b1)), q);
  REQUIRE(kl.shape() == Shape{2, 3});
  const auto grouped =
      kl_divergence<double>(Gamma<double>(tape.constant(a1), tape.constant(b1), {.group_ndims = 1}), q);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      Tape<double> t;
      const double one = kl_divergence<double>(Gamma<double>(t.constant(a1(i, 0)), t.constant(b1(i, 0))),
                                               Gamma<double>(t.constant(a2(j)), t.constant(b2(j))))
                             .item();
      CHECK(kl.value()(i, j) == Approx(one).epsilon(1e-14));
      row += one;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-14));
  }
  // float: the same pairs agree with double to float rounding
  Tape<float> tf;
  const auto klf = kl_divergence<float>(
      Gamma<float>(tf.constant(kl_column<float>({0.5f, 3.0f})), tf.constant(kl_column<float>({2.0f, 0.7f}))),
      Gamma<float>(tf.constant(xt::xarray<float>{1.0f, 2.0f, 4.0f}), tf.constant(xt::xarray<float>{0.5f, 1.0f, 1.5f})));
  for (std::size_t k = 0; k < 6; ++k) CHECK(klf.data()[k] == Approx(kl.data()[k]).epsilon(1e-6));
}
