#pragma once
// Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm.

#include <algorithm>
#include <cmath>

#include "vaelib/optim/optimizer.hpp"

namespace vaelib::optim {

struct AdamaxOptions {
  double learning_rate = 2e-3;
  Schedule schedule = {};
  double weight_decay = 0;
  double clip_norm = 0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

/// g = clip_scale * grad + weight_decay * p
/// m = b1 m + (1 - b1) g;  u = max(b2 u, |g|)
/// p -= (lr / (1 - b1^t)) m / (u + eps)
template <class T>
class Adamax final : public Optimizer<T> {
 public:
  Adamax(ParameterStore<T>& params, AdamaxOptions options = {})
      : Optimizer<T>(params, {"m", "u"},
                     CommonOptions{options.learning_rate, options.schedule, options.weight_decay, options.clip_norm}),
        m_options(options) {
    if (!(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1)) {
      throw ArgumentError("Adamax: beta1 and beta2 must be in [0, 1)");
    }
    if (!(options.epsilon >= 0) || !std::isfinite(options.epsilon)) {
      throw ArgumentError("Adamax: epsilon must be finite and >= 0, got " + std::to_string(options.epsilon));
    }
  }
  std::string_view name() const override { return "adamax"; }

 protected:
  void begin_step(const UpdateContext<T>& c) override {
    m_step_size = static_cast<T>(c.learning_rate / (1.0 - std::pow(m_options.beta1, static_cast<double>(c.step))));
  }

  void update(T* p, const T* grad, T* const* slots, std::size_t n, const UpdateContext<T>& c) override {
    T* m = slots[0];
    T* u = slots[1];
    const T b1 = static_cast<T>(m_options.beta1), b2 = static_cast<T>(m_options.beta2);
    const T step_size = m_step_size;
    const T eps = static_cast<T>(m_options.epsilon);
    for (std::size_t i = 0; i < n; ++i) {
      const T g = c.gradient_scale * grad[i] + c.weight_decay * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      u[i] = std::max(b2 * u[i], std::abs(g));
      p[i] -= step_size * m[i] / (u[i] + eps);
    }
  }

 private:
  AdamaxOptions m_options;
  T m_step_size = 0;  // this step's bias-corrected learning rate
};

}  // namespace vaelib::optim
