#pragma once
// SGLD: stochastic gradient Langevin dynamics (Welling & Teh 2011), as zs.sgmcmc.SGLD.
// With g the gradient of the negative log joint (on a minibatch, the likelihood scaled by
// N/|B|) and eta the learning rate:
//
//   theta <- theta - eta/2 g + sqrt(eta) xi,   xi ~ N(0, I)
//
// Its stationary law tends to the posterior as eta -> 0; at a fixed eta it is off by O(eta)
// (on a Gaussian with precision P: covariance (P - eta P^2 / 4)^-1) plus the minibatch
// gradient's noise, (eta/2)^2 Var[g] per step against the eta injected. Welling & Teh let eta
// decay as a (b + t)^-gamma, gamma in (0.5, 1]: a schedule.

#include "vaelib/mcmc/sgmcmc.hpp"

namespace vaelib::mcmc {

struct SgldOptions {
  double learning_rate = 0;       // eta: required (> 0) unless a schedule is given
  optim::Schedule schedule = {};  // eta at each step, overriding learning_rate
};

template <class T>
class SGLD final : public StochasticGradientSampler<T> {
 public:
  SGLD(ParameterStore<T>& params, Rng rng, SgldOptions options = {})
      : StochasticGradientSampler<T>(params, rng, "SGLD", {}, options.learning_rate, std::move(options.schedule)) {}
  std::string_view name() const override { return "sgld"; }

 protected:
  void begin_step(const SgmcmcStepContext<T>& c) override { m_noise_std = std::sqrt(c.learning_rate); }

  void update(T* theta, const T* grad, T* const*, const T* xi, std::size_t n, const SgmcmcStepContext<T>& c) override {
    const T half_eta = T(0.5) * c.learning_rate, noise_std = m_noise_std;
    for (std::size_t i = 0; i < n; ++i) theta[i] += noise_std * xi[i] - half_eta * grad[i];
  }

 private:
  T m_noise_std = 0;
};

}  // namespace vaelib::mcmc
