#include "vaelib/distributions/von_mises.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "reference/more_distributions_reference.hpp"
#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;
namespace more_reference = vaelib::testing::more_distributions_reference;

namespace {
template <class T>
VonMises<T> von_mises_of_case(Tape<T>& tape, const more_reference::Case& c) {
  return VonMises<T>(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
}
}  // namespace

TEST_CASE("VonMises: log_prob matches mpmath, ordinary and extreme parameters, double and float", "[distributions]") {
  more_reference::require_reference_log_probs<double>(more_reference::kVonMises, von_mises_of_case<double>, 1e-12);
  more_reference::require_reference_log_probs<float>(more_reference::kVonMises, von_mises_of_case<float>, 1e-6);
  Tape<double> tape;
  const auto loc = tape.variable(xt::xarray<double>{0.5});
  const auto kappa = tape.variable(xt::xarray<double>{2.0});
  const VonMises<double> d(loc, kappa);
  CHECK(d.name() == "VonMises");
  CHECK(d.support().kind() == SupportKind::interval);
  CHECK_FALSE(d.is_reparameterized());
  const double inf = std::numeric_limits<double>::infinity();
  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{inf, -3.5, 4.0, std::nan("")}));
  CHECK(lp.value()(0) == -inf);
  CHECK(lp.value()(1) == -inf);
  CHECK(lp.value()(2) == -inf);
  CHECK(std::isnan(lp.value()(3)));
  tape.backward(sum(slice(lp, 0, 0, 3)));
  CHECK(loc.grad()(0) == 0.0);
  CHECK(kappa.grad()(0) == 0.0);
}

TEST_CASE("VonMises: the density integrates to 1 over [-pi, pi], small to huge concentrations", "[distributions]") {
  for (const double kappa : {1e-6, 0.3, 4.0, 29.9, 30.1, 500.0, 1e5}) {
    INFO("kappa " << kappa);
    Tape<double> tape;
    const std::size_t n = 200001;
    xt::xarray<double> x = xt::linspace<double>(-std::numbers::pi, std::numbers::pi, n);
    const auto lp = VonMises<double>(tape.constant(0.3), tape.constant(kappa)).log_prob(tape.constant(x));
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) total += std::exp(lp.value()(i)) * ((i == 0 || i == n - 1) ? 0.5 : 1.0);
    CHECK(total * (2 * std::numbers::pi / double(n - 1)) == Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("VonMises: samples in [-pi, pi] with the moments of cos and sin of x - loc", "[distributions]") {
  Tape<double> tape;
  Rng rng(4801);
  const std::size_t n = 40000;
  for (const auto& [loc, kappa] : {std::pair{0.5, 2.0}, std::pair{3.0, 40.0}, std::pair{-1.0, 1e-8}, std::pair{2.0, 1e4}}) {
    INFO("loc " << loc << ", kappa " << kappa);
    const auto s = VonMises<double>(tape.constant(loc), tape.constant(kappa)).sample(rng, n);
    // E cos(x - loc) = I1/I0 = A, E sin = 0; var cos = (1 + I2/I0)/2 - A^2, var sin = (1 - I2/I0)/2
    const double i0 = std::cyl_bessel_i(0.0, std::min(kappa, 700.0)), i1 = std::cyl_bessel_i(1.0, std::min(kappa, 700.0));
    const double a = kappa > 700 ? 1 - 0.5 / kappa - 0.125 / (kappa * kappa) : i1 / i0;
    const double i2_ratio = 1 - 2 * a / kappa;  // I2 = I0 - (2 / kappa) I1
    double mean_cos = 0, mean_sin = 0;
    for (const double x : values(s)) {
      REQUIRE(std::abs(x) <= std::numbers::pi);
      mean_cos += std::cos(x - loc) / double(n);
      mean_sin += std::sin(x - loc) / double(n);
    }
    const double var_cos = std::max((1 + i2_ratio) / 2 - a * a, 1e-300), var_sin = (1 - i2_ratio) / 2;
    CHECK(std::abs(mean_cos - a) <= 4 * std::sqrt(var_cos / double(n)));
    CHECK(std::abs(mean_sin) <= 4 * std::sqrt(var_sin / double(n)));
  }
}

TEST_CASE("VonMises: gradients of log_prob by finite differences", "[distributions]") {
  require_gradient([](Tape<double>&, const Vars& v) { return VonMises<double>(v[0], v[1]).log_prob(v[2]); },
                   {random_array({2, 3}, -2, 2, 4811), random_array({2, 3}, 0.1, 60, 4812),
                    random_array({2, 3}, -3, 3, 4813)});
  require_gradient(
      [](Tape<double>& tape, const Vars& v) {
        return VonMises<double>(v[0], v[1], {.group_ndims = 1}).log_prob(tape.constant(xt::xarray<double>{0.1, -0.5, 2.0}));
      },
      {random_array({2, 1}, -1, 1, 4814), xt::xarray<double>{1e-3, 29.0, 3e3}});
}

TEST_CASE("VonMises: float gradients agree with double", "[distributions]") {
  Tape<float> tf;
  const auto lf = tf.variable(xt::xarray<float>{0.5f, -1.0f});
  const auto kf = tf.variable(xt::xarray<float>{2.0f, 5e3f});
  tf.backward(sum(VonMises<float>(lf, kf).log_prob(tf.constant(xt::xarray<float>{1.0f, -1.01f}))));
  Tape<double> td;
  const auto ld = td.variable(xt::xarray<double>{0.5f, -1.0f});
  const auto kd = td.variable(xt::xarray<double>{2.0f, 5e3f});
  td.backward(sum(VonMises<double>(ld, kd).log_prob(td.constant(xt::xarray<double>{1.0f, -1.01f}))));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(lf.grad()(i) == Approx(ld.grad()(i)).epsilon(1e-5));
    CHECK(kf.grad()(i) == Approx(kd.grad()(i)).epsilon(1e-4).margin(1e-7));
  }
}

TEST_CASE("VonMises: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.variable(random_array({2, 1}, -2, 2, 4821));
  const auto kappa = tape.variable(random_array({3}, 0.5, 5, 4822));
  check_distribution_shapes([&](std::size_t g) { return VonMises<double>(loc, kappa, {.group_ndims = g}); }, {2, 3}, {},
                            {.finite_log_prob = true, .broadcast_given = xt::xarray<double>{0.0, 1.0, 2.0}});
}

TEST_CASE("VonMises: parameters and clear errors", "[distributions]") {
  Tape<double> tape;
  const auto loc = tape.constant(0.5);
  const auto kappa = tape.constant(2.0);
  const VonMises<double> d(loc, kappa);
  CHECK(d.parameter("loc").index() == loc.index());
  CHECK(d.parameter("concentration").index() == kappa.index());
  REQUIRE_THROWS_MATCHES(d.parameter("kappa"), ArgumentError, Message("VonMises: no parameter 'kappa'"));
  REQUIRE_THROWS_MATCHES(d.mean(), ArgumentError, Message("VonMises: no closed-form mean"));
  REQUIRE_THROWS_MATCHES(VonMises<double>(tape.constant(std::nan("")), kappa), ArgumentError,
                         Message("VonMises: loc must be finite, got nan at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(VonMises<double>(loc, tape.constant(xt::xarray<double>{1.0, 0.0})), ArgumentError,
                         Message("VonMises: concentration must be positive and finite, got 0.000000 at flat index 1 of "
                                 "shape [2]"));
}
