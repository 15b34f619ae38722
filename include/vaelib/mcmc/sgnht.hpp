#pragma once
// SGNHT: the stochastic gradient Nose-Hoover thermostat (Ding et al. 2014, Algorithm 2 of
// their supplement), as zs.sgmcmc.SGNHT, with the second-order integrator of Chen et al.
// 2015 by default. SGHMC whose friction alpha is a variable of the dynamics: it grows while
// the momentum runs hotter than its equilibrium (mean v^2 > eta) and shrinks while colder,
// so it absorbs a gradient noise of unknown size. In ZhuSuan's units (eta = eps^2, v = eps p,
// a the variance_extra), g the gradient of the negative log joint:
//
//   first order:   v <- (1 - alpha) v - eta g + sqrt(2 a eta) xi;   theta <- theta + v;
//                  alpha <- alpha + tune_rate (v^2 - eta)
//   second order:  theta1 = theta + v/2;   alpha1 = alpha + tune_rate/2 (v^2 - eta);  d = exp(-alpha1/2)
//                  v <- d (d v - eta g(theta1) + sqrt(2 a eta) xi);   theta <- theta1 + v/2
//                  alpha <- alpha1 + tune_rate/2 (v^2 - eta)
//
// v^2 is elementwise with use_vector_alpha (one friction per element, ZhuSuan's default), else
// its mean over each parameter (one friction per parameter, as ZhuSuan has one per latent).
// alpha starts at a; v at N(0, eta), redrawn every n_iter_resample_v steps (0: never, the
// default). See MomentumSampler for where the second-order integrator's gradient is taken.

#include "vaelib/mcmc/sgmcmc.hpp"

namespace vaelib::mcmc {

struct SgnhtOptions {
  double learning_rate = 0;             // eta = eps^2: required (> 0) unless a schedule is given
  optim::Schedule schedule = {};        // eta at each step, overriding learning_rate
  double variance_extra = 0;            // a: injected noise, and the initial friction
  double tune_rate = 1;                 // how fast the friction follows the temperature
  std::uint64_t n_iter_resample_v = 0;  // redraw v every this many steps; 0: never
  bool second_order = true;
  bool use_vector_alpha = true;         // one friction per element (else one per parameter)
};

template <class T>
class SGNHT final : public MomentumSampler<T> {
 public:
  SGNHT(ParameterStore<T>& params, Rng rng, SgnhtOptions options = {})
      : MomentumSampler<T>(params, rng, "SGNHT", {"momentum", "friction"}, options.learning_rate,
                           std::move(options.schedule), options.n_iter_resample_v, options.second_order),
        m_options(options) {
    detail::sgmcmc_require(options.variance_extra >= 0 && std::isfinite(options.variance_extra), "SGNHT",
                           "variance_extra must be finite and >= 0", options.variance_extra);
    detail::sgmcmc_require(options.tune_rate >= 0 && std::isfinite(options.tune_rate), "SGNHT",
                           "tune_rate must be finite and >= 0", options.tune_rate);
  }
  std::string_view name() const override { return "sgnht"; }

  /// The mean friction over every element after the last step.
  double mean_friction() const noexcept { return m_mean_friction; }

 protected:
  void start_parameter(T* theta, T* const* slots, const T* normals, std::size_t n,
                       const SgmcmcStepContext<T>& c) override {
    MomentumSampler<T>::start_parameter(theta, slots, normals, n, c);
    std::fill_n(slots[1], n, static_cast<T>(m_options.variance_extra));
  }

  void begin_step(const SgmcmcStepContext<T>& c) override {
    MomentumSampler<T>::begin_step(c);
    m_friction_sum = 0;
    m_friction_count = 0;
  }

  void update(T* theta, const T* grad, T* const* slots, const T* xi, std::size_t n,
              const SgmcmcStepContext<T>& c) override {
    T* v = slots[0];
    T* alpha = slots[1];
    const T eta = c.learning_rate;
    const T noise_sd = static_cast<T>(std::sqrt(2 * m_options.variance_extra * static_cast<double>(eta)));
    const T tune = static_cast<T>(m_options.tune_rate);
    const bool vector = m_options.use_vector_alpha;
    if (!this->second_order()) {
      this->maybe_resample_before(v, xi, n, c);
      for (std::size_t i = 0; i < n; ++i) v[i] = (1 - alpha[i]) * v[i] - eta * grad[i] + noise_sd * xi[i];
      tune_friction(alpha, v, n, tune, eta);
    } else {
      const T half_tune = T(0.5) * tune;
      if (vector) {
        for (std::size_t i = 0; i < n; ++i) {
          const T alpha1 = alpha[i] + half_tune * (v[i] * v[i] - eta);
          const T d = std::exp(T(-0.5) * alpha1);
          v[i] = d * (d * v[i] - eta * grad[i] + noise_sd * xi[i]);
          alpha[i] = alpha1 + half_tune * (v[i] * v[i] - eta);
        }
      } else {
        tune_friction(alpha, v, n, half_tune, eta);
        const T d = std::exp(T(-0.5) * alpha[0]);
        for (std::size_t i = 0; i < n; ++i) v[i] = d * (d * v[i] - eta * grad[i] + noise_sd * xi[i]);
        tune_friction(alpha, v, n, half_tune, eta);
      }
    }
    for (std::size_t i = 0; i < n; ++i) m_friction_sum += alpha[i];
    m_friction_count += n;
    m_mean_friction = m_friction_sum / static_cast<double>(m_friction_count);
    this->drift(theta, v, xi, n, c);
  }

 private:
  /// alpha += rate (v^2 - eta), elementwise or with the mean of v^2 over the parameter.
  void tune_friction(T* alpha, const T* v, std::size_t n, T rate, T eta) const {
    if (m_options.use_vector_alpha) {
      for (std::size_t i = 0; i < n; ++i) alpha[i] += rate * (v[i] * v[i] - eta);
      return;
    }
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(v[i]) * v[i];
    const T shared = alpha[0] + rate * (static_cast<T>(sum / static_cast<double>(n)) - eta);
    std::fill_n(alpha, n, shared);
  }

  SgnhtOptions m_options;
  double m_friction_sum = 0;
  std::size_t m_friction_count = 0;
  double m_mean_friction = 0;
};

}  // namespace vaelib::mcmc
