#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl poisson: Poisson-Poisson matches the mpmath reference with rates and with log-rates",
                   "[distributions][kl]", double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kPoisson, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Poisson<T>(leaf(c.p[0])), Poisson<T>(leaf(c.q[0])));
  });
  klref::require_kl_reference<T>(klref::kPoissonLogRate, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Poisson<T>::with_log_rate(leaf(c.p[0])), Poisson<T>::with_log_rate(leaf(c.q[0])));
  });
}

TEST_CASE("kl poisson: mixed parameterisations, Monte Carlo, gradients, KL(p || p) = 0, broadcasting",
          "[distributions][kl]") {
  Tape<double> tape;
  const xt::xarray<double> r1{0.4, 3.0, 20.0}, r2{1.0, 2.0, 26.0};
  const Poisson<double> p(tape.constant(r1)), q(tape.constant(r2));
  const auto kl = kl_divergence<double>(p, q);
  const auto p_log = Poisson<double>::with_log_rate(tape.constant(xt::xarray<double>(xt::log(r1))));
  const auto q_log = Poisson<double>::with_log_rate(tape.constant(xt::xarray<double>(xt::log(r2))));
  for (const auto& other :
       {kl_divergence<double>(p_log, q), kl_divergence<double>(p, q_log), kl_divergence<double>(p_log, q_log)})
    for (std::size_t i = 0; i < 3; ++i) CHECK(other.data()[i] == Approx(kl.data()[i]).epsilon(1e-13));
  require_kl_matches_monte_carlo(p, q, 40000, 41);
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);
  for (double v : kl_values_of(kl_divergence<double>(p_log, p_log))) CHECK(v == 0.0);

  const auto x1 = random_array({3}, 0.3, 5, 1), x2 = random_array({3}, 0.3, 5, 2);
  const auto l1 = random_array({3}, -2, 2, 3), l2 = random_array({3}, -2, 2, 4);
  require_gradient(
      [](Tape<double>&, const Vars& v) { return kl_divergence<double>(Poisson<double>(v[0]), Poisson<double>(v[1])); },
      {x1, x2});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Poisson<double>::with_log_rate(v[0]), Poisson<double>::with_log_rate(v[1]));
      },
      {l1, l2});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Poisson<double>::with_log_rate(v[0]), Poisson<double>(v[1]));
      },
      {l1, x2});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Poisson<double>(v[0]), Poisson<double>::with_log_rate(v[1]));
      },
      {x1, l2});

  const Poisson<double> column(tape.constant(kl_column({0.5, 7.0})), {.group_ndims = 1});
  const auto grouped = kl_divergence<double>(column, q);
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      const double a = i == 0 ? 0.5 : 7.0, b = r2(j);
      row += a * std::log(a / b) - a + b;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-13));
  }
}
