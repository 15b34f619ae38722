#pragma once
// SGHMC: stochastic gradient Hamiltonian Monte Carlo (Chen et al. 2014, their eq. 15), as
// zs.sgmcmc.SGHMC, with the second-order integrator of Chen et al. 2015 by default. In
// ZhuSuan's units (eta = eps^2 the learning rate, v = eps * p, alpha = eps * C the friction,
// beta = eps * B-hat the estimated gradient noise), g the gradient of the negative log joint:
//
//   first order:   v <- (1 - alpha) v - eta g + sqrt(2 (alpha - beta) eta) xi;   theta <- theta + v
//   second order:  theta1 = theta + v/2;   d = exp(-alpha/2)
//                  v <- d (d v - eta g(theta1) + sqrt(2 (alpha - beta) eta) xi);   theta <- theta1 + v/2
//
// The momentum starts from N(0, eta) and is redrawn every n_iter_resample_v steps. A
// minibatch gradient's noise adds eta^2 Var[g] to v each step: the friction must dominate it
// (2 alpha eta >> eta^2 Var[g]), or beta must estimate it (beta = eta Var[g] / 2), for the
// stationary law to be the posterior. See MomentumSampler for where the second-order
// integrator's gradient is taken.

#include "vaelib/mcmc/sgmcmc.hpp"

namespace vaelib::mcmc {

struct SghmcOptions {
  double learning_rate = 0;             // eta = eps^2: required (> 0) unless a schedule is given
  optim::Schedule schedule = {};        // eta at each step, overriding learning_rate
  double friction = 0.25;               // alpha
  double variance_estimate = 0;         // beta, in [0, friction)
  std::uint64_t n_iter_resample_v = 20; // redraw v every this many steps; 0: never
  bool second_order = true;
};

template <class T>
class SGHMC final : public MomentumSampler<T> {
 public:
  SGHMC(ParameterStore<T>& params, Rng rng, SghmcOptions options = {})
      : MomentumSampler<T>(params, rng, "SGHMC", {"momentum"}, options.learning_rate, std::move(options.schedule),
                           options.n_iter_resample_v, options.second_order),
        m_friction(options.friction),
        m_variance_estimate(options.variance_estimate) {
    detail::sgmcmc_require(options.friction > 0 && std::isfinite(options.friction), "SGHMC",
                           "friction must be finite and > 0", options.friction);
    detail::sgmcmc_require(options.second_order || options.friction <= 1, "SGHMC",
                           "friction must be at most 1 with the first-order integrator (v is scaled by 1 - friction)",
                           options.friction);
    detail::sgmcmc_require(options.variance_estimate >= 0 && options.variance_estimate < options.friction, "SGHMC",
                           "variance_estimate must be in [0, friction = " + detail::sgmcmc_number(options.friction) + ")",
                           options.variance_estimate);
  }
  std::string_view name() const override { return "sghmc"; }

 protected:
  void update(T* theta, const T* grad, T* const* slots, const T* xi, std::size_t n,
              const SgmcmcStepContext<T>& c) override {
    T* v = slots[0];
    const T eta = c.learning_rate;
    const T noise_sd = static_cast<T>(std::sqrt(2 * (m_friction - m_variance_estimate) * static_cast<double>(eta)));
    if (!this->second_order()) {
      this->maybe_resample_before(v, xi, n, c);
      const T keep = static_cast<T>(1 - m_friction);
      for (std::size_t i = 0; i < n; ++i) v[i] = keep * v[i] - eta * grad[i] + noise_sd * xi[i];
    } else {
      const T d = static_cast<T>(std::exp(-0.5 * m_friction));
      for (std::size_t i = 0; i < n; ++i) v[i] = d * (d * v[i] - eta * grad[i] + noise_sd * xi[i]);
    }
    this->drift(theta, v, xi, n, c);
  }

 private:
  double m_friction, m_variance_estimate;
};

}  // namespace vaelib::mcmc
