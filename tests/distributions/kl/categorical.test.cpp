#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE(
    "kl categorical: Categorical and OnehotCategorical pairs match the mpmath reference, masked and "
    "huge logits",
    "[distributions][kl]", double, float) {
  using T = TestType;
  const auto logits = [](klref::KLLeaves<T>& leaf, const double* l) {
    return leaf(xt::xarray<T>{T(l[0]), T(l[1]), T(l[2])});
  };
  klref::require_kl_reference<T>(klref::kCategorical, [&](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Categorical<T>(logits(leaf, c.p)), Categorical<T>(logits(leaf, c.q)));
  });
  klref::require_kl_reference<T>(klref::kCategorical, [&](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(OnehotCategorical<T>(logits(leaf, c.p)), OnehotCategorical<T>(logits(leaf, c.q)));
  });
}

TEST_CASE("kl categorical: Monte Carlo, gradients, KL(p || p) = 0, broadcasting, errors", "[distributions][kl]") {
  Tape<double> tape;
  const auto lp = tape.constant(random_array({2, 4}, -2, 2, 1));
  const auto lq = tape.constant(random_array({2, 4}, -2, 2, 2));
  require_kl_matches_monte_carlo(Categorical<double>(lp), Categorical<double>(lq), 40000, 71);
  require_kl_matches_monte_carlo(OnehotCategorical<double>(lp), OnehotCategorical<double>(lq), 40000, 72);
  for (double v : kl_values_of(kl_divergence<double>(Categorical<double>(lp), Categorical<double>(lp))))
    CHECK(v == Approx(0.0).margin(1e-16));

  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(OnehotCategorical<double>(v[0]), OnehotCategorical<double>(v[1]));
      },
      {random_array({2, 3, 4}, -2, 2, 3), random_array({3, 4}, -2, 2, 4)});
  // a masked class of p: no gradient through it, and the rest still right
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return kl_divergence<double>(Categorical<double>(v[0] + t.constant(xt::xarray<double>{0.0, -1e30, 0.0})),
                                     Categorical<double>(v[1]));
      },
      {random_array({3}, -2, 2, 5), random_array({3}, -2, 2, 6)});

  // p: batch [2, 1], q: batch [3] -> [2, 3]; p with group_ndims 1 -> [2]
  const auto pl = tape.constant(random_array({2, 1, 4}, -2, 2, 7));
  const auto ql = tape.constant(random_array({3, 4}, -2, 2, 8));
  const auto kl = kl_divergence<double>(OnehotCategorical<double>(pl), OnehotCategorical<double>(ql));
  REQUIRE(kl.shape() == Shape{2, 3});
  const auto grouped =
      kl_divergence<double>(OnehotCategorical<double>(pl, {.group_ndims = 1}), OnehotCategorical<double>(ql));
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      double lse_p = 0, lse_q = 0;
      for (std::size_t k = 0; k < 4; ++k) {
        lse_p += std::exp(pl.value()(i, 0, k));
        lse_q += std::exp(ql.value()(j, k));
      }
      double direct = 0;
      for (std::size_t k = 0; k < 4; ++k) {
        const double a = pl.value()(i, 0, k) - std::log(lse_p), b = ql.value()(j, k) - std::log(lse_q);
        direct += std::exp(a) * (a - b);
      }
      CHECK(kl.value()(i, j) == Approx(direct).epsilon(1e-13));
      row += direct;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-13));
  }
  CHECK_THROWS_AS(kl_divergence<double>(OnehotCategorical<double>(pl),
                                        OnehotCategorical<double>(tape.constant(random_array({5}, -1, 1, 9)))),
                  ShapeError);
}
