#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl normal: Normal-Normal matches the mpmath reference, log-stds far apart", "[distributions][kl]",
                   double, float) {
  using T = TestType;
  klref::require_kl_reference<T>(klref::kNormalNormal, [](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Normal<T>::with_logstd(leaf(c.p[0]), leaf(c.p[1])),
                            Normal<T>::with_logstd(leaf(c.q[0]), leaf(c.q[1])));
  });
}

TEST_CASE("kl normal: Monte Carlo, gradients, KL(p || p) = 0, broadcasting with group_ndims", "[distributions][kl]") {
  Tape<double> tape;
  const auto p = Normal<double>::with_std(tape.constant(xt::xarray<double>{0.5, -1.0, 2.0}),
                                          tape.constant(xt::xarray<double>{0.8, 1.5, 0.1}));
  const auto q = Normal<double>::with_logstd(tape.constant(xt::xarray<double>{0.0, 0.3, 1.9}),
                                             tape.constant(xt::xarray<double>{0.0, 0.5, -1.5}));
  require_kl_matches_monte_carlo(p, q, 40000, 81);
  for (double v : kl_values_of(kl_divergence<double>(q, q))) CHECK(v == 0.0);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Normal<double>::with_std(v[0], v[1]), Normal<double>::with_std(v[2], v[3]));
      },
      {random_array({3}, -1, 1, 1), random_array({3}, 0.5, 2, 2), random_array({3}, -1, 1, 3),
       random_array({3}, 0.5, 2, 4)});

  // p: batch [2, 3] (mean [2, 1], log-std [3]) with group_ndims 1; q: batch [] -> [2]
  const auto grouped = kl_divergence<double>(
      Normal<double>::with_logstd(tape.constant(kl_column({0.5, -0.5})),
                                  tape.constant(xt::xarray<double>{0.1, 0.2, 0.3}), {.group_ndims = 1}),
      Normal<double>::with_std(tape.constant(0.0), tape.constant(1.0)));
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (double s : {0.1, 0.2, 0.3}) row += -s + (std::exp(2 * s) + 0.25) / 2 - 0.5;
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-14));
  }
}
