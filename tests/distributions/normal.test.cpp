#include <cmath>
#include <limits>
#include <type_traits>

#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

TEST_CASE("normal: log_prob matches reference values (std and log-std forms)", "[distributions]") {
  Tape<double> tape;
  const auto x = tape.constant(xt::xarray<double>{0.3, 2.0, -1.0});
  const auto mean = tape.constant(xt::xarray<double>{-0.2, 0.0, 1.0});
  const xt::xarray<double> std_values = {1.5, 0.5, 2.0};
  // computed independently with Python's math module
  const xt::xarray<double> expected = {-1.3799591968683926, -8.225791352644727, -2.112085713764618};
  const auto by_std = Normal<double>::with_std(mean, tape.constant(std_values));
  const auto by_logstd = Normal<double>::with_logstd(mean, tape.constant(xt::xarray<double>(xt::log(std_values))));
  CHECK(xt::allclose(by_std.log_prob(x).value(), expected, 1e-6, 0));
  CHECK(xt::allclose(by_logstd.log_prob(x).value(), expected, 1e-6, 0));
  CHECK(by_std.is_reparameterized());
  CHECK(std::string(by_std.name()) == "Normal");
}

TEST_CASE("normal: sample mean and variance within 4 standard errors", "[distributions]") {
  Tape<double> tape;
  Rng rng(17);
  const auto d = Normal<double>::with_std(tape.constant(xt::xarray<double>{1.5, -3.0}),
                                          tape.constant(xt::xarray<double>{0.5, 2.0}));
  const std::size_t n = 20000;
  const Moments moments = moments_over_first_axis(d.sample(rng, n).value());
  const auto& m = moments.mean;
  const auto& v = moments.variance;
  const double means[2] = {1.5, -3.0}, stds[2] = {0.5, 2.0};
  for (std::size_t j = 0; j < 2; ++j) {
    const double var = stds[j] * stds[j];
    CHECK(std::abs(m(j) - means[j]) < 4 * stds[j] / std::sqrt(double(n)));
    CHECK(std::abs(v(j) - var) < 4 * var * std::sqrt(2.0 / double(n)));
  }
}

TEST_CASE("normal: reparameterised samples and log_prob have correct gradients", "[distributions]") {
  const auto mean = random_array({2, 3}, -1, 1, 1);
  const auto logstd = random_array({2, 3}, -0.5, 0.5, 2);
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(5);  // the same draw at every evaluation
        return Normal<double>::with_logstd(v[0], v[1]).sample(rng, 4);
      },
      {mean, logstd});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng rng(6);
        return Normal<double>::with_std(v[0], v[1]).sample(rng);
      },
      {mean, random_array({3}, 0.5, 2, 3)});
  const auto x = random_array({2, 3}, -2, 2, 4);
  require_gradient(
      [](Tape<double>&, const Vars& v) { return Normal<double>::with_logstd(v[1], v[2], {.group_ndims = 1}).log_prob(v[0]); },
      {x, mean, logstd});
  require_gradient([](Tape<double>&, const Vars& v) { return Normal<double>::with_std(v[1], v[2]).log_prob(v[0]); },
                   {x, mean, random_array({2, 3}, 0.5, 2, 5)});
}

TEST_CASE("normal: mean, std, entropy and parameters", "[distributions]") {
  Tape<double> tape;
  const auto d = Normal<double>::with_logstd(tape.constant(xt::xarray<double>{1.0, 2.0}), tape.constant(0.5), {.group_ndims = 1});
  require_close(d.mean().value(), xt::xarray<double>{1.0, 2.0});
  CHECK(d.std().item() == Approx(std::exp(0.5)));
  // 0.5 log(2 pi e) + log std, summed over the group of two
  CHECK(d.entropy().item() == Approx(2 * (0.5 * std::log(2 * M_PI * M_E) + 0.5)).epsilon(1e-12));
  CHECK(d.parameter("logstd").item() == 0.5);
  CHECK(d.parameter("std").item() == Approx(std::exp(0.5)));
}

TEST_CASE("normal: a nonpositive std is refused", "[distributions]") {
  Tape<double> tape;
  REQUIRE_THROWS_AS(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0, 0.0}),
                                             tape.constant(xt::xarray<double>{1.0, -1.0})),
                    ArgumentError);
  REQUIRE_THROWS_WITH(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0, 0.0}),
                                               tape.constant(xt::xarray<double>{1.0, -1.0})),
                      "Normal: std must be positive and finite, got -1.000000 at flat index 1 of shape [2]");
}

TEST_CASE("normal: NaN parameters and values", "[distributions]") {
  // A NaN or infinite std is refused. A NaN mean, log-std or value gives a NaN log-prob where
  // it is and nowhere else (anomaly mode, Tape::detect_anomaly, names the first one); an
  // infinite value gives -inf.
  Tape<double> tape;
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const auto zero2 = [&] { return tape.constant(xt::xarray<double>{0.0, 0.0}); };
  CHECK_THROWS_WITH(Normal<double>::with_std(zero2(), tape.constant(nan)),
                    "Normal: std must be positive and finite, got nan at flat index 0 of shape []");
  CHECK_THROWS_WITH(Normal<double>::with_std(zero2(), tape.constant(inf)),
                    "Normal: std must be positive and finite, got inf at flat index 0 of shape []");
  const auto by_mean = Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0, nan}), tape.constant(1.0));
  const auto lp_mean = by_mean.log_prob(zero2());
  CHECK(lp_mean.value()(0) == Approx(-0.91893853320467274));
  CHECK(std::isnan(lp_mean.value()(1)));
  const auto by_logstd = Normal<double>::with_logstd(zero2(), tape.constant(xt::xarray<double>{nan, 0.0}));
  const auto lp_logstd = by_logstd.log_prob(zero2());
  CHECK(std::isnan(lp_logstd.value()(0)));
  CHECK(lp_logstd.value()(1) == Approx(-0.91893853320467274));
  const auto standard = Normal<double>::with_std(zero2(), tape.constant(1.0));
  const auto lp_value = standard.log_prob(tape.constant(xt::xarray<double>{nan, inf}));
  CHECK(std::isnan(lp_value.value()(0)));
  CHECK(lp_value.value()(1) == -inf);
}

TEMPLATE_TEST_CASE("normal: log-std far below -88 (float) or -709 (double): finite log_prob and gradients, never NaN",
                   "[distributions]", double, float) {
  // exp(-logstd) overflows there; the standardised value (x - mean) exp(-logstd) need not
  using T = TestType;
  Tape<T> tape;
  const auto mean = tape.variable(xt::xarray<T>{0, 0, 1, 0});
  const auto logstd = tape.variable(xt::xarray<T>{-100, -95, -1000, -2000});
  const auto x = tape.variable(xt::xarray<T>{0, T(1e-41), 1, 1});
  const auto lp = Normal<T>::with_logstd(mean, logstd).log_prob(x);
  const double half_log_2pi = 0.91893853320467274;
  CHECK(lp.value()(0) == Approx(100 - half_log_2pi).epsilon(1e-6));
  CHECK(std::isfinite(static_cast<double>(lp.value()(1))));
  CHECK(lp.value()(2) == Approx(1000 - half_log_2pi).epsilon(1e-6));
  CHECK(lp.value()(3) == -std::numeric_limits<T>::infinity());  // (1 / e^-2000)^2: beyond range, truly
  tape.backward(sum(slice(lp, 0, 0, 3)));
  for (int i : {0, 2}) {  // x = mean: z = 0
    CHECK(logstd.grad()(i) == -1);
    CHECK(mean.grad()(i) == 0);
    CHECK(x.grad()(i) == 0);
  }
  // z = 1e-41 e^95 = 1.81: d/dlogstd = z^2 - 1; d/dx = -z e^95 (3e41: inf in float, never NaN)
  const double z = static_cast<double>(T(1e-41)) * std::exp(95.0);
  CHECK(logstd.grad()(1) == Approx(z * z - 1).epsilon(1e-5));
  if constexpr (std::is_same_v<T, double>)
    CHECK(x.grad()(1) == Approx(-z * std::exp(95.0)).epsilon(1e-5));
  else
    CHECK(x.grad()(1) == -std::numeric_limits<float>::infinity());
  CHECK(mean.grad()(1) == -x.grad()(1));
}

TEMPLATE_TEST_CASE("normal: log_prob matches the mpmath reference, std and log-std, ordinary and extreme", "[distributions]",
                   double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kNormal, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Normal<T>::with_std(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
  dist_reference::require_reference_values<T>(dist_reference::kNormalLogstd, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return Normal<T>::with_logstd(tape.constant(T(c.p[0])), tape.constant(T(c.p[1]))).log_prob(tape.constant(T(c.x))).item();
  });
}

TEMPLATE_TEST_CASE("normal: one std for every value (the regression case) gives what a std per value gives",
                   "[distributions]", double, float) {
  // One std takes a vectorised pass over x and mean (each of the output's shape or a single
  // value); a std per value takes the element-by-element kernel. Both must agree, values and
  // gradients, also where an infinite value sends the one-std node back to the kernel.
  using T = TestType;
  const double tolerance = std::is_same_v<T, float> ? 2e-6 : 1e-13;
  const xt::xarray<double> xs = random_array({2, 7}, -3, 3, 5), means = random_array({2, 7}, -1, 1, 6);
  for (const bool infinite_value : {false, true}) {
    for (const auto& [x_shape, mean_shape] : std::vector<std::pair<Shape, Shape>>{
             {{2, 7}, {2, 7}}, {{2, 7}, {}}, {{}, {2, 7}}, {{2, 7}, {1}}}) {
      INFO("x " << to_string(x_shape) << ", mean " << to_string(mean_shape) << (infinite_value ? ", x[1] = inf" : ""));
      xt::xarray<T> x = x_shape.empty() ? xt::xarray<T>(T(0.4)) : xt::xarray<T>(xt::cast<T>(xs));
      if (infinite_value && x.size() > 1) x.flat(1) = std::numeric_limits<T>::infinity();
      const xt::xarray<T> mean = mean_shape.empty()     ? xt::xarray<T>(T(-0.3))
                                 : mean_shape.size() == 1 ? xt::xarray<T>{T(0.2)}
                                                          : xt::xarray<T>(xt::cast<T>(means));
      xt::xarray<T> x_grad[2], mean_grad[2], std_grad[2];
      xt::xarray<T> values[2];
      for (int per_value = 0; per_value < 2; ++per_value) {
        Tape<T> tape;
        x_grad[per_value] = xt::zeros_like(x);
        mean_grad[per_value] = xt::zeros_like(mean);
        const xt::xarray<T> std_value = per_value ? xt::xarray<T>(xt::full_like(xt::xarray<T>::from_shape({2, 7}), T(1.7)))
                                                  : xt::xarray<T>(T(1.7));
        std_grad[per_value] = xt::zeros_like(std_value);
        const auto d = Normal<T>::with_std(tape.parameter(mean, mean_grad[per_value]),
                                           tape.parameter(std_value, std_grad[per_value]));
        const auto lp = d.log_prob(tape.parameter(x, x_grad[per_value]));
        values[per_value] = lp.value();
        tape.backward(sum(lp));  // an infinite value's element has partials 0: no NaN in the gradients
      }
      CHECK(xt::all(xt::equal(xt::isinf(values[0]), xt::isinf(values[1]))));
      const auto finite_part = [](const xt::xarray<T>& a) { return xt::xarray<double>(xt::where(xt::isinf(a), 0.0, a)); };
      CHECK(xt::allclose(finite_part(values[0]), finite_part(values[1]), tolerance, tolerance));
      CHECK(xt::allclose(xt::cast<double>(x_grad[0]), xt::cast<double>(x_grad[1]), tolerance, tolerance));
      CHECK(xt::allclose(xt::cast<double>(mean_grad[0]), xt::cast<double>(mean_grad[1]), tolerance, tolerance));
      CHECK(static_cast<double>(std_grad[0]()) == Approx(static_cast<double>(xt::sum(std_grad[1])())).epsilon(tolerance));
    }
  }
}
