#pragma once
// PSGLD: preconditioned SGLD (Li et al. 2016) with the RMSprop preconditioner, as
// zs.sgmcmc.PSGLD. With g the gradient of the negative log joint:
//
//   V <- decay V + (1 - decay) g^2                 (elementwise; V starts at 0)
//   G  = 1 / (epsilon + sqrt(V))
//   theta <- theta - eta/2 G g + sqrt(eta G) xi
//
// As in ZhuSuan (and the paper's practical algorithm) the drift term of a position-dependent
// preconditioner, sum_j d G_ij / d theta_j, is left out: V changes slowly with a decay near 1,
// and the bias that leaves is of the order of that change.

#include "vaelib/mcmc/sgmcmc.hpp"

namespace vaelib::mcmc {

struct PsgldOptions {
  double learning_rate = 0;       // eta: required (> 0) unless a schedule is given
  optim::Schedule schedule = {};  // eta at each step, overriding learning_rate
  double decay = 0.9;             // RMSprop's average of g^2 (ZhuSuan's default)
  double epsilon = 1e-3;          // added to sqrt(V) (ZhuSuan's default)
};

template <class T>
class PSGLD final : public StochasticGradientSampler<T> {
 public:
  PSGLD(ParameterStore<T>& params, Rng rng, PsgldOptions options = {})
      : StochasticGradientSampler<T>(params, rng, "PSGLD", {"mean_square"}, options.learning_rate,
                                     std::move(options.schedule)),
        m_decay(static_cast<T>(options.decay)),
        m_epsilon(static_cast<T>(options.epsilon)) {
    detail::sgmcmc_require(options.decay >= 0 && options.decay < 1, "PSGLD", "decay must be in [0, 1)", options.decay);
    detail::sgmcmc_require(options.epsilon > 0 && std::isfinite(options.epsilon), "PSGLD",
                           "epsilon must be finite and > 0", options.epsilon);
  }
  std::string_view name() const override { return "psgld"; }

 protected:
  void update(T* theta, const T* grad, T* const* slots, const T* xi, std::size_t n,
              const SgmcmcStepContext<T>& c) override {
    T* mean_square = slots[0];
    const T decay = m_decay, eps = m_epsilon, eta = c.learning_rate;
    for (std::size_t i = 0; i < n; ++i) {
      mean_square[i] = decay * mean_square[i] + (1 - decay) * grad[i] * grad[i];
      const T g = 1 / (eps + std::sqrt(mean_square[i]));
      theta[i] += std::sqrt(eta * g) * xi[i] - T(0.5) * eta * g * grad[i];
    }
  }

 private:
  T m_decay, m_epsilon;
};

}  // namespace vaelib::mcmc
