#pragma once
// check_gradient: compares the tape's gradients of a user function with central finite
// differences, in double precision. Use it on your own functions and ops.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/xtensor.hpp"

namespace vaelib {

struct GradCheckOptions {
  double step = 1e-6;              // finite-difference step h: (f(x + h) - f(x - h)) / 2h
  double absolute_tolerance = 1e-6;
  double relative_tolerance = 1e-5;  // an element passes if |a - n| <= atol + rtol * max(|a|, |n|)
  std::uint64_t seed = 0x5eed;       // for the projection weights of a non-scalar output
};

struct GradCheckResult {
  bool ok = true;
  double max_abs_error = 0;    // largest |analytic - numeric| over every element checked
  std::size_t worst_input = 0;  // where the worst relative violation was
  std::size_t worst_index = 0;  // flat index into that input
  double analytic = 0;          // the two gradients there
  double numeric = 0;
  std::size_t checked = 0;  // number of elements compared
  std::string message;      // a readable summary, naming the worst element
};

/// The function checked: builds its output on `tape` from `inputs` (one Var per input
/// array, each requiring a gradient) and returns it.
using GradCheckFunction = std::function<Var<double>(Tape<double>& tape, const std::vector<Var<double>>& inputs)>;

namespace detail {

/// Deterministic weights in [-1, -0.25] U [0.25, 1]: never near 0, so no gradient hides.
inline xt::xarray<double> projection_weights(const Shape& shape, std::uint64_t seed) {
  xt::xarray<double> w = xt::empty<double>(shape);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (double& v : w) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    const double u = static_cast<double>(s >> 11) * 0x1.0p-53;  // [0, 1)
    v = (u < 0.5 ? -1.0 : 1.0) * (0.25 + 1.5 * std::abs(u - 0.5));
  }
  return w;
}

}  // namespace detail

/// Checks d/dx sum(w * f(x)) (w fixed weights; w = 1 for a scalar f) against central
/// differences for every element of every input. Returns the comparison; `ok` says if all
/// elements are within tolerance.
inline GradCheckResult check_gradient(const GradCheckFunction& f, std::vector<xt::xarray<double>> inputs,
                                      const GradCheckOptions& options = {}) {
  Tape<double> tape;
  auto build = [&](bool differentiable) {
    tape.clear();
    std::vector<Var<double>> vars;
    for (const auto& x : inputs) vars.push_back(differentiable ? tape.variable(x) : tape.constant(x));
    Var<double> y = f(tape, vars);
    return std::make_pair(vars, y);
  };

  auto [vars, y] = build(true);
  const Shape out_shape = y.shape();
  const bool scalar = y.size() == 1;
  const xt::xarray<double> weights = scalar ? xt::xarray<double>(xt::ones<double>(out_shape))
                                            : detail::projection_weights(out_shape, options.seed);
  const Var<double> loss = scalar ? y : sum(y * tape.constant(weights));
  tape.backward(loss);
  std::vector<xt::xarray<double>> analytic;
  for (const auto& v : vars) analytic.emplace_back(v.grad());

  auto objective = [&] {
    auto [unused, out] = build(false);
    (void)unused;
    if (out.shape() != out_shape) {
      throw ShapeError("check_gradient: the function's output shape changed from " + to_string(out_shape) + " to " +
                       to_string(out.shape()) + " when an input was perturbed");
    }
    double s = 0;
    const double* o = out.data();
    for (std::size_t i = 0; i < out.size(); ++i) s += o[i] * weights.data()[i];
    return s;
  };

  GradCheckResult r;
  double worst_ratio = -1;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t j = 0; j < inputs[i].size(); ++j) {
      double& xj = inputs[i].data()[j];
      const double saved = xj;
      xj = saved + options.step;
      const double up = objective();
      xj = saved - options.step;
      const double down = objective();
      xj = saved;
      const double numeric = (up - down) / (2 * options.step);
      const double a = analytic[i].data()[j];
      const double err = std::abs(a - numeric);
      const double allowed = options.absolute_tolerance + options.relative_tolerance * std::max(std::abs(a), std::abs(numeric));
      const double ratio = std::isnan(err) ? INFINITY : err / allowed;
      r.max_abs_error = std::max(r.max_abs_error, std::isnan(err) ? INFINITY : err);
      ++r.checked;
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        r.worst_input = i;
        r.worst_index = j;
        r.analytic = a;
        r.numeric = numeric;
      }
      if (!(err <= allowed)) r.ok = false;
    }
  }
  std::ostringstream msg;
  msg << "check_gradient: " << (r.ok ? "passed" : "FAILED") << " on " << r.checked << " elements; max |analytic - numeric| = "
      << r.max_abs_error;
  if (r.checked > 0) {
    msg << "; worst at input " << r.worst_input << ", flat index " << r.worst_index << ": analytic " << r.analytic
        << ", numeric " << r.numeric;
  }
  r.message = msg.str();
  return r;
}

}  // namespace vaelib
