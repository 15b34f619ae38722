#pragma once
// Checks shared by the tests of implicitly reparameterised samplers (Gamma, Beta,
// InverseGamma, StudentT): each draw's gradient against central differences of the Gamma
// quantile at the draw's CDF level, and the gradient of E[f(z)] estimated through the draws
// unbiased.

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "support/conjugate_models.hpp"
#include "support/incomplete_gamma.hpp"
#include "vaelib/vae.hpp"

namespace vaelib::testing {

/// The parameter pairs, each repeated `per_pair` times, as two arrays (one draw an element).
inline std::pair<xt::xarray<double>, xt::xarray<double>> repeated_parameter_pairs(
    const std::vector<std::pair<double, double>>& pairs, std::size_t per_pair) {
  std::pair<xt::xarray<double>, xt::xarray<double>> out{xt::empty<double>({pairs.size() * per_pair}),
                                                        xt::empty<double>({pairs.size() * per_pair})};
  for (std::size_t i = 0; i < pairs.size() * per_pair; ++i) {
    out.first(i) = pairs[i / per_pair].first;
    out.second(i) = pairs[i / per_pair].second;
  }
  return out;
}

/// d log G / d alpha for a Gamma(alpha, 1) draw G = exp(log_g) that stays at its CDF level:
/// central differences (step 1e-5 alpha) of the log of the quantile at that level, by
/// tests/support/incomplete_gamma.hpp (independent of the library's series). Resolved for
/// log_g above about -700.
inline double gamma_draw_log_slope_by_differences(double alpha, double log_g) {
  const IncompleteGamma level = incomplete_gamma(alpha, std::exp(log_g));
  const double h = 1e-5 * alpha;
  return (std::log(gamma_quantile(alpha + h, level)) - std::log(gamma_quantile(alpha - h, level))) / (2 * h);
}

/// psi'(x) for x > 0, for closed-form gradients: the recurrence psi'(x) = psi'(x + 1) + 1/x^2
/// up to x >= 10, then the asymptotic series 1/x + 1/(2x^2) + 1/(6x^3) - 1/(30x^5) + 1/(42x^7)
/// - 1/(30x^9).
inline double trigamma_by_series(double x) {
  double result = 0;
  for (; x < 10; x += 1) result += 1 / (x * x);
  const double inv = 1 / x, inv2 = inv * inv;
  return result + inv + inv2 / 2 + inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30)));
}

/// One test function f, the closed form of d E[f(z)] / d theta for each of the N parameters,
/// and the parameter sets to try it at.
template <std::size_t N>
struct ImplicitGradientCase {
  const char* name;
  std::function<Var<double>(const Var<double>&)> f;
  std::function<std::array<double, N>(const std::array<double, N>&)> gradient;
  std::vector<std::array<double, N>> parameters;
};

/// For each case and parameter set, `replicates` copies of every parameter (a batch of equal
/// variables, one draw each), so that one backward pass gives `replicates` independent
/// estimates of d E[f(z)] / d theta. `make(parameters)` builds the distribution from the N
/// variables, in `names`' order. The reparameterised estimates must average to the closed form
/// within 4 standard errors, with an error bar below `power` of it (the test could see a bias;
/// not asked where the gradient is 0); the score-function estimates f(z) d log p(z) / d theta
/// (z held fixed) must average to it too, and the two must agree with each other.
template <std::size_t N, class Make>
void require_implicit_gradients_unbiased(const std::vector<ImplicitGradientCase<N>>& cases,
                                         const std::array<const char*, N>& names, const Make& make,
                                         std::uint64_t seed, std::size_t replicates = 20000, double power = 0.05) {
  for (const ImplicitGradientCase<N>& c : cases) {
    for (const std::array<double, N>& values : c.parameters) {
      Tape<double> tape;
      Rng rng(seed++);
      std::array<Var<double>, N> parameters;
      for (std::size_t p = 0; p < N; ++p)
        parameters[p] = tape.variable(xt::xarray<double>(xt::ones<double>({replicates}) * values[p]));
      const auto d = make(parameters);
      const Var<double> z = d.sample(rng);
      tape.backward(sum(c.f(z)));
      std::array<std::vector<double>, N> implicit, score;
      for (std::size_t p = 0; p < N; ++p) implicit[p].assign(parameters[p].grad().begin(), parameters[p].grad().end());
      const Var<double> z_fixed = tape.constant(z.value());
      tape.backward(sum(c.f(z_fixed) * d.log_prob(z_fixed)));
      for (std::size_t p = 0; p < N; ++p) score[p].assign(parameters[p].grad().begin(), parameters[p].grad().end());
      const std::array<double, N> expected = c.gradient(values);
      std::string shown;
      for (std::size_t p = 0; p < N; ++p) shown += (p == 0 ? "" : ", ") + std::to_string(values[p]);
      for (std::size_t p = 0; p < N; ++p) {
        const MeanAndError e = mean_and_error(implicit[p]), s = mean_and_error(score[p]);
        INFO("parameters " << shown << "; f = " << c.name << ", d/d" << names[p] << ": implicit " << e.mean << " +- " << e.standard_error << ", score function " << s.mean
                           << " +- " << s.standard_error << ", closed form " << expected[p]);
        CHECK(std::abs(e.mean - expected[p]) <= 4 * e.standard_error + 1e-12);
        if (expected[p] != 0) CHECK(e.standard_error < power * std::abs(expected[p]));
        CHECK(std::abs(e.mean - s.mean) <= 4 * std::hypot(e.standard_error, s.standard_error));
        CHECK(std::abs(s.mean - expected[p]) <= 4 * s.standard_error + 1e-12);
      }
    }
  }
}

}  // namespace vaelib::testing
