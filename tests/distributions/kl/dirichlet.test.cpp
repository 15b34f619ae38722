#include <cmath>

#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace klref = vaelib::testing::kl_reference;

TEMPLATE_TEST_CASE("kl dirichlet: Dirichlet-Dirichlet matches the mpmath reference, concentrations up to 1e6",
                   "[distributions][kl]", double, float) {
  using T = TestType;
  const auto concentration = [](klref::KLLeaves<T>& leaf, const double* a) {
    return leaf(xt::xarray<T>{T(a[0]), T(a[1]), T(a[2])});
  };
  klref::require_kl_reference<T>(klref::kDirichlet, [&](klref::KLLeaves<T>& leaf, const klref::KLCase& c) {
    return kl_divergence<T>(Dirichlet<T>(concentration(leaf, c.p)), Dirichlet<T>(concentration(leaf, c.q)));
  });
}

TEST_CASE("kl dirichlet: Monte Carlo, gradients, KL(p || p) = 0, Beta as k = 2, broadcasting", "[distributions][kl]") {
  Tape<double> tape;
  const Dirichlet<double> p(tape.constant(random_array({2, 4}, 0.5, 4, 1)));
  const Dirichlet<double> q(tape.constant(random_array({2, 4}, 0.5, 4, 2)));
  require_kl_matches_monte_carlo(p, q, 40000, 101);
  for (double v : kl_values_of(kl_divergence<double>(p, p))) CHECK(v == 0.0);

  const auto kl_of = [](Tape<double>&, const Vars& v) {
    return kl_divergence<double>(Dirichlet<double>(v[0]), Dirichlet<double>(v[1]));
  };
  require_gradient(kl_of, {random_array({2, 3}, 0.5, 4, 3), random_array({3}, 0.5, 4, 4)});
  require_gradient(kl_of, {random_array({3}, 25, 60, 5), random_array({3}, 25, 60, 6)}, {.step = 1e-4});

  // k = 2 is the Beta pair
  const xt::xarray<double> a{{1.5, 2.5}, {30.0, 0.4}}, b{{0.7, 3.0}, {20.0, 2.0}};
  const auto dirichlet =
      kl_divergence<double>(Dirichlet<double>(tape.constant(a)), Dirichlet<double>(tape.constant(b)));
  const auto beta = kl_divergence<double>(Beta<double>(tape.constant(xt::xarray<double>(xt::view(a, xt::all(), 0))),
                                                       tape.constant(xt::xarray<double>(xt::view(a, xt::all(), 1)))),
                                          Beta<double>(tape.constant(xt::xarray<double>(xt::view(b, xt::all(), 0))),
                                                       tape.constant(xt::xarray<double>(xt::view(b, xt::all(), 1)))));
  for (std::size_t i = 0; i < 2; ++i) CHECK(dirichlet.data()[i] == Approx(beta.data()[i]).epsilon(1e-13));

  // p: batch [2, 1], q: batch [3] -> [2, 3]; group_ndims 1 on p -> [2]
  const auto pa = tape.constant(random_array({2, 1, 3}, 0.5, 4, 7));
  const auto qa = tape.constant(random_array({3, 3}, 0.5, 4, 8));
  const auto kl = kl_divergence<double>(Dirichlet<double>(pa), Dirichlet<double>(qa));
  REQUIRE(kl.shape() == Shape{2, 3});
  const auto grouped = kl_divergence<double>(Dirichlet<double>(pa, {.group_ndims = 1}), Dirichlet<double>(qa));
  REQUIRE(grouped.shape() == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      Tape<double> t;
      const double one =
          kl_divergence<double>(Dirichlet<double>(t.constant(xt::xarray<double>(xt::view(pa.value(), i, 0)))),
                                Dirichlet<double>(t.constant(xt::xarray<double>(xt::view(qa.value(), j)))))
              .item();
      CHECK(kl.value()(i, j) == Approx(one).epsilon(1e-14));
      row += one;
    }
    CHECK(grouped.value()(i) == Approx(row).epsilon(1e-14));
  }
  CHECK_THROWS_AS(kl_divergence<double>(p, Dirichlet<double>(tape.constant(random_array({3}, 0.5, 4, 9)))), ShapeError);
}
