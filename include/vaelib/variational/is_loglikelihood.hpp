#pragma once
// is_loglikelihood: the importance-sampled estimate of the marginal log-likelihood,
//
//   log p(x) ~= log (1/K) sum_k p(x, z_k) / q(z_k | x),   z_k ~ q(z | x)
//
// the standard test metric of a VAE (K = 1000 or 5000). It streams: particles are drawn in
// chunks, each chunk's tape nodes are rewound once its log-weights are folded into running
// per-example sums, so memory stays that of one chunk whatever K is.
//
//   auto proposal = [&](std::size_t n) {          // the encoder ran once, outside
//     vaelib::BayesianNet<float> q(tape, rng);
//     q.normal_logstd("z", z_mean, z_logstd, {.group_ndims = 1, .n_samples = n});
//     return q;
//   };
//   auto ll = vaelib::is_loglikelihood(model, {{"x", x}}, proposal, 0, {.n_particles = 1000});
//   // ll.log_likelihood[i], ll.standard_error[i] for each example

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "vaelib/autodiff/ops/logsumexp.hpp"
#include "vaelib/variational/detail/particles.hpp"
#include "vaelib/variational/latents.hpp"

namespace vaelib {

struct IsLoglikelihoodOptions {
  std::size_t n_particles = 1000;  // K
  std::size_t chunk_size = 100;    // particles drawn and evaluated at once
};

/// Per-example estimates (shape: the log-weights' shape without the particle axis).
struct ImportanceSampledLogLikelihood {
  xt::xarray<double> log_likelihood;
  /// The delta-method standard error of log_likelihood: sd(w) / (sqrt(K) mean(w)).
  xt::xarray<double> standard_error;
  std::size_t n_particles = 0;
};

/// The streaming estimate: `proposal(n)` returns a BayesianNet whose unobserved stochastic
/// nodes are the latents, with n particles on `axis` of their log-probabilities. Nothing is
/// differentiated; the tape is left as it was found.
template <class T, class Proposal>
  requires std::is_invocable_r_v<BayesianNet<T>, Proposal&, std::size_t>
ImportanceSampledLogLikelihood is_loglikelihood(const MetaBayesianNet<T>& model, const Observations<T>& observed,
                                                Proposal&& proposal, std::ptrdiff_t axis = 0,
                                                IsLoglikelihoodOptions options = {}) {
  if (options.n_particles == 0 || options.chunk_size == 0) {
    throw ArgumentError("is_loglikelihood: n_particles and chunk_size must be at least 1 (got " +
                        std::to_string(options.n_particles) + " and " + std::to_string(options.chunk_size) + ")");
  }
  Tape<T>& tape = model.tape();
  const auto no_grad = tape.no_grad();
  // Running, per example: the largest log-weight m, sum exp(lw - m) and sum exp(2 (lw - m)).
  std::vector<double> max_log_w, sum_w, sum_w2;
  Shape out_shape;
  std::size_t done = 0;
  while (done < options.n_particles) {
    const std::size_t n = std::min(options.chunk_size, options.n_particles - done);
    const auto mark = tape.mark();
    struct Rewind {
      Tape<T>& tape;
      typename Tape<T>::Mark mark;
      ~Rewind() { tape.rewind(mark); }
    } rewind{tape, mark};
    BayesianNet<T> q = proposal(n);
    const VariationalLatents<T> latents("is_loglikelihood", q);
    BayesianNet<T> bn = latents.observe_model(model, observed, latents.values());
    const Var<T> log_w = bn.log_joint() - latents.log_q_total(latents.values(), LogQ::as_scored);
    const std::size_t ax = detail::particle_axis("is_loglikelihood", axis, log_w.shape());
    if (log_w.shape()[ax] != n) {
      throw ShapeError("is_loglikelihood: asked the proposal for " + std::to_string(n) +
                       " particles, but the log-weights have shape " + to_string(log_w.shape()) + " with " +
                       std::to_string(log_w.shape()[ax]) + " on axis " + std::to_string(axis));
    }
    const Shape chunk_out = detail::without_axis(log_w.shape(), ax, false);
    const detail::AxisView v = detail::axis_view(log_w.shape(), ax);
    if (done == 0) {
      out_shape = chunk_out;
      max_log_w.assign(v.outer * v.inner, -std::numeric_limits<double>::infinity());
      sum_w.assign(v.outer * v.inner, 0.0);
      sum_w2.assign(v.outer * v.inner, 0.0);
    } else if (chunk_out != out_shape) {
      throw ShapeError("is_loglikelihood: the per-example shape changed between chunks: " + to_string(out_shape) +
                       " then " + to_string(chunk_out));
    }
    const T* lw = log_w.data();
    for (std::size_t o = 0; o < v.outer; ++o) {
      for (std::size_t i = 0; i < v.inner; ++i) {
        const std::size_t e = o * v.inner + i;
        const T* x = lw + o * v.n * v.inner + i;
        double m = max_log_w[e];
        for (std::size_t j = 0; j < v.n; ++j) m = std::max(m, static_cast<double>(x[j * v.inner]));
        if (std::isinf(m)) {
          max_log_w[e] = m;
          continue;
        }
        if (m > max_log_w[e]) {  // rescale the sums to the new maximum
          const double r = std::isinf(max_log_w[e]) ? 0.0 : std::exp(max_log_w[e] - m);
          sum_w[e] *= r;
          sum_w2[e] *= r * r;
          max_log_w[e] = m;
        }
        for (std::size_t j = 0; j < v.n; ++j) {
          const double w = std::exp(static_cast<double>(x[j * v.inner]) - m);
          sum_w[e] += w;
          sum_w2[e] += w * w;
        }
      }
    }
    done += n;
  }
  ImportanceSampledLogLikelihood result;
  result.n_particles = options.n_particles;
  result.log_likelihood = xt::xarray<double>::from_shape(out_shape);
  result.standard_error = xt::xarray<double>::from_shape(out_shape);
  const double k = static_cast<double>(options.n_particles);
  for (std::size_t e = 0; e < sum_w.size(); ++e) {
    const double mean_w = sum_w[e] / k;
    const double var_w = std::max(0.0, sum_w2[e] / k - mean_w * mean_w);
    result.log_likelihood.data()[e] = std::isinf(max_log_w[e]) ? max_log_w[e] : max_log_w[e] + std::log(mean_w);
    result.standard_error.data()[e] = std::isinf(max_log_w[e]) ? 0.0 : std::sqrt(var_w / k) / mean_w;
  }
  return result;
}

/// ZhuSuan's form: q already drew its particles on `axis`; returns the estimate per example
/// as a tape value (logsumexp(log w) - log k), for small K.
template <class T>
Var<T> is_loglikelihood(const MetaBayesianNet<T>& model, Observations<T> observed, const BayesianNet<T>& proposal,
                        std::ptrdiff_t axis) {
  const VariationalLatents<T> latents("is_loglikelihood", proposal);
  BayesianNet<T> bn = latents.observe_model(model, observed, latents.values());
  const Var<T> log_w = bn.log_joint() - latents.log_q_total(latents.values(), LogQ::as_scored);
  const std::size_t ax = detail::particle_axis("is_loglikelihood", axis, log_w.shape());
  const auto k = static_cast<double>(log_w.shape()[ax]);
  return logsumexp(log_w, static_cast<std::ptrdiff_t>(ax)) - static_cast<T>(std::log(k));
}

}  // namespace vaelib
