#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl beta: Beta-Beta matches the mpmath reference, parameters up to 1e6", "[distributions][kl]",
                   double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kBeta, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Beta<T>(leaf(c.p[0]), leaf(c.p[1])), Beta<T>(leaf(c.q[0]), leaf(c.q[1])));
  });
}

TEST_CASE("kl beta: Monte Carlo, gradients, KL(p || p) = 0, broadcasting", "[distributions][kl]") {
  Tape<double> tape;
  const Beta<double> p(tape.constant(xt::xarray<double>{0.6, 2.0, 30.0}),
                       tape.constant(xt::xarray<double>{1.5, 3.0, 20.0}));
  const Beta<double> q(tape.constant(xt::xarray<double>{1.0, 1.2, 25.0}),
                       tape.constant(xt::xarray<double>{1.0, 4.0, 28.0}));
  require_kl_matches_monte_carlo(p, q, 40000, 31);
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);

  const auto a1 = random_array({3}, 0.5, 4, 1), b1 = random_array({3}, 0.5, 3, 2);
  const auto a2 = random_array({3}, 0.5, 4, 3), b2 = random_array({3}, 0.5, 3, 4);
  const auto kl_of = [](Tape<double>&, const Vars& v) {
    return kl_divergence<double>(Beta<double>(v[0], v[1]), Beta<double>(v[2], v[3]));
  };
  require_gradient(kl_of, {a1, b1, a2, b2});
  require_gradient(kl_of, {a1 * 40.0, b1 * 40.0, a2 * 40.0, b2 * 40.0}, {.step = 1e-4});  // the Stirling route

  // p: batch [2, 1], q: batch [3] -> [2, 3]; group_ndims 1 on p -> [2]
  const xt::xarray<double> pa = kl_column({0.5, 3.0}), pb = kl_column({2.0, 0.7}), qa{1.0, 2.0, 4.0}, qb{0.5, 1.0, 1.5};
  const Beta<double> qq(tape.constant(qa), tape.constant(qb));
  const auto kl = kl_divergence<double>(Beta<double>(tape.constant(pa), tape.constant(pb)), qq);
  REQUIRE(kl.shape() == Shape{2, 3});
  const auto grouped =
      kl_divergence<double>(Beta<double>(tape.constant(pa), tape.constant(pb), {.group_ndims = 1}), qq);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      Tape<double> t;
      const double one = kl_divergence<double>(Beta<double>(t.constant(pa(i, 0)), t.constant(pb(i, 0))),
                                               Beta<double>(t.constant(qa(j)), t.constant(qb(j))))
                             .item();
      CHECK(kl.value()(i, j) == Approx(one).epsilon(1e-14));
      row += one;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-14));
  }
}
