#include "vaelib/distributions/lkj_cholesky.hpp"

#include <cmath>
#include <limits>

#include "reference/more_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace more_reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
LKJCholesky<T> lkj_cholesky_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return LKJCholesky<T>(static_cast<std::size_t>(c.p[0]), tape.constant(T(c.p[1])));
}

/// The fourth central moment of 2B - 1, B ~ Beta(b, b) (the marginal of an LKJ correlation).
double lkj_correlation_fourth_moment(double b) {
  double raw[5] = {1, 0, 0, 0, 0};
  for (int r = 1; r <= 4; ++r) raw[r] = raw[r - 1] * (b + r - 1) / (2 * b + r - 1);
  const double m = raw[1];
  return 16 * (raw[4] - 4 * m * raw[3] + 6 * m * m * raw[2] - 3 * m * m * m * m);
}
}  // namespace

TEST_CASE("LKJCholesky: log_prob matches mpmath (LKJ's normalising constant), double and float", "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kLKJCholesky, lkj_cholesky_of_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kLKJCholesky, lkj_cholesky_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto eta = tape.variable(xt::xarray<double>{2.0});
  const LKJCholesky<double> d(2, eta);
  CHECK(d.name() == "LKJCholesky");
  CHECK(d.support().kind() == SupportKind::correlation_cholesky);
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{1});
  CHECK(d.value_shape() == Shape{2, 2});
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{{{1.0, 0.0}, {0.6, -0.8}},
                                                              {{1.0, 0.0}, {inf, 0.0}},
                                                              {{1.0, 0.0}, {0.6, 0.7}},
                                                              {{1.0, 0.0}, {std::nan(""), 0.8}},
                                                              {{1.0, 0.0}, {0.6, 0.8}}}));
  for (std::size_t i = 0; i < 3; ++i) CHECK(lp.value()(i) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  CHECK(std::isfinite(lp.value()(4)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(eta.grad()(0) == 0.0);
}

TEST_CASE("LKJCholesky: samples are Cholesky factors with LKJ's correlation marginals", "[distributions]") {
  Tape<double> tape;
  Rng rng(5001);
  for (const auto& [d, eta] : {std::pair{std::size_t{4}, 1.0}, std::pair{std::size_t{3}, 0.5}, std::pair{std::size_t{5}, 6.0}}) {
    INFO("d " << d << ", eta " << eta);
    const std::size_t n = 20000;
    const auto s = LKJCholesky<double>(d, tape.constant(eta)).sample(rng, n);
    REQUIRE(s.shape() == Shape{n, d, d});
    // each off-diagonal correlation R_ij is 2B - 1, B ~ Beta(b, b), b = eta - 1 + d/2
    const double b = eta - 1 + 0.5 * double(d);
    std::vector<double> r10, r_last;
    for (std::size_t m = 0; m < n; ++m) {
      for (std::size_t i = 0; i < d; ++i) {
        double norm2 = 0;
        for (std::size_t j = 0; j < d; ++j) norm2 += s.value()(m, i, j) * s.value()(m, i, j);
        REQUIRE(norm2 == Approx(1.0).epsilon(1e-12));
      }
      r10.push_back(s.value()(m, 1, 0));  // R_10 = L_10 L_00
      double r = 0;
      for (std::size_t j = 0; j < d; ++j) r += s.value()(m, d - 1, j) * s.value()(m, d - 2, j);
      r_last.push_back(r);
    }
    const double var = 1 / (2 * b + 1), mu4 = lkj_correlation_fourth_moment(b);
    require_sample_moments(r10, 0.0, var, mu4);
    require_sample_moments(r_last, 0.0, var, mu4);
  }
  // float draws score finitely
  Tape<float> tf;
  const LKJCholesky<float> f(6, tf.constant(xt::xarray<float>{0.3f, 50.0f}));
  const auto lp = f.log_prob(f.sample(rng, 500));
  for (const float v : lp.value()) REQUIRE(std::isfinite(v));
}

TEST_CASE("LKJCholesky: gradients of log_prob by finite differences", "[distributions]") {
  Tape<double> tape;
  Rng rng(5011);
  const xt::xarray<double> l = LKJCholesky<double>(4, tape.constant(1.5)).sample(rng, 2).value();
  // a step of 1e-7 keeps every row within the 1e-6 tolerance of unit norm; the factor is the
  // input's lower triangle (the zeros above the diagonal stay zero whatever the step)
  xt::xarray<double> lower = xt::zeros<double>({4, 4});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j <= i; ++j) lower(i, j) = 1.0;
  require_gradient(
      [lower](Tape<double>& tape, const Vars& v) {
        return LKJCholesky<double>(4, v[0]).log_prob(v[1] * tape.constant(lower));
      },
      {random_array({2}, 0.3, 5, 5012), l}, {.step = 1e-7, .absolute_tolerance = 1e-5});
  require_gradient(
      [l](Tape<double>& tape, const Vars& v) { return LKJCholesky<double>(4, v[0]).log_prob(tape.constant(l)); },
      {xt::xarray<double>{30.0, 2e3}});
}

TEST_CASE("LKJCholesky: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto eta = tape.variable(random_array({2, 3}, 0.5, 3, 5021));
  check_distribution_shapes([&](std::size_t g) { return LKJCholesky<double>(3, eta, {.group_ndims = g}); }, {2, 3},
                            {3, 3}, {.finite_log_prob = true, .broadcast_given = xt::eval(xt::eye<double>(3))});
}

TEST_CASE("LKJCholesky: parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto eta = tape.constant(2.0);
  const LKJCholesky<double> d(3, eta);
  CHECK(d.dimension() == 3);
  CHECK(d.parameter("concentration").index() == eta.index());
  REQUIRE_THROWS_MATCHES(d.parameter("eta"), ArgumentError, Message("LKJCholesky: no parameter 'eta'"));
  REQUIRE_THROWS_MATCHES(LKJCholesky<double>(0, eta), ArgumentError,
                         Message("LKJCholesky: dimension must be at least 1, got 0"));
  REQUIRE_THROWS_MATCHES(LKJCholesky<double>(3, tape.constant(xt::xarray<double>{1.0, -1.0})), ArgumentError,
                         Message("LKJCholesky: concentration must be positive and finite, got -1.000000 at flat index 1 "
                                 "of shape [2]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::eye<double>(2))), ShapeError,
                         Message("LKJCholesky.log_prob: given has shape [2, 2], which does not broadcast with "
                                 "batch_shape [] + value_shape [3, 3] (expected [...] + value_shape, the rest "
                                 "broadcasting)"));
}
