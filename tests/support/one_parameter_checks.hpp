#pragma once
// The checks shared by the tests of distributions with one positive parameter on x >= 0
// (Exponential(rate), HalfNormal(std), HalfCauchy(scale)): finite-difference gradients of
// log_prob and of reparameterised samples, and the shapes for group_ndims 0/1/2 and
// n_samples none/1/k.

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>

#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "vaelib/vae.hpp"

namespace vaelib::testing {

struct OneParameterRanges {
  double parameter_low = 0.5, parameter_high = 2;  // the parameter, uniform in this range
  double value_low = 0.1, value_high = 3;          // the values given to log_prob
};

/// D<double>(parameter, options): gradients by finite differences of log_prob (elementwise,
/// and with group_ndims 1 against a parameter broadcast over a leading axis of values) and of
/// three reparameterised draws (the same seed for every evaluation); then the shapes, with
/// mean() and finite log-probabilities of the draws. `seed` and the next few seed the inputs.
template <template <class> class D>
void require_one_parameter_gradients_and_shapes(std::uint32_t seed, OneParameterRanges ranges = {}) {
  using Vars = std::vector<Var<double>>;
  const auto parameter = random_array({2, 3}, ranges.parameter_low, ranges.parameter_high, seed);
  require_gradient([](Tape<double>&, const Vars& v) { return D<double>(v[0]).log_prob(v[1]); },
                   {parameter, random_array({2, 3}, ranges.value_low, ranges.value_high, seed + 1)});
  require_gradient([](Tape<double>&, const Vars& v) { return D<double>(v[0], {.group_ndims = 1}).log_prob(v[1]); },
                   {random_array({3}, ranges.parameter_low, ranges.parameter_high, seed + 2),
                    random_array({4, 3}, ranges.value_low, ranges.value_high, seed + 3)});
  require_gradient(
      [seed](Tape<double>&, const Vars& v) {
        Rng rng(seed + 4);
        return D<double>(v[0]).sample(rng, 3);
      },
      {parameter});
  Tape<double> tape;
  const auto shared = tape.variable(random_array({2, 3}, ranges.parameter_low, ranges.parameter_high, seed + 10));
  check_distribution_shapes([&](std::size_t g) { return D<double>(shared, {.group_ndims = g}); }, {2, 3}, {},
                            {.mean = true, .finite_log_prob = true});
}

}  // namespace vaelib::testing
