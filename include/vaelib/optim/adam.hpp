#pragma once
// Adam (Kingma & Ba 2015) with bias correction; optional decoupled weight decay (AdamW).

#include <cmath>

#include "vaelib/optim/optimizer.hpp"

namespace vaelib::optim {

struct AdamOptions {
  double learning_rate = 1e-3;
  Schedule schedule = {};
  double weight_decay = 0;
  double clip_norm = 0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  bool decoupled_weight_decay = false;  // AdamW: p -= lr wd p, instead of adding wd p to g
};

/// g = clip_scale * grad (+ weight_decay * p unless decoupled)
/// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
/// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)     (t = step, from 1)
template <class T>
class Adam final : public Optimizer<T> {
 public:
  Adam(ParameterStore<T>& params, AdamOptions options = {})
      : Optimizer<T>(params, {"m", "v"},
                     CommonOptions{options.learning_rate, options.schedule,
                                   options.decoupled_weight_decay ? 0.0 : options.weight_decay, options.clip_norm}),
        m_options(options) {
    if (!(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1)) {
      throw ArgumentError("Adam: beta1 and beta2 must be in [0, 1)");
    }
    if (!(options.epsilon >= 0) || !std::isfinite(options.epsilon)) {
      throw ArgumentError("Adam: epsilon must be finite and >= 0, got " + std::to_string(options.epsilon));
    }
    // The base checks the L2 decay it is given; AdamW's decoupled decay bypasses it (0 there).
    if (!(options.weight_decay >= 0)) throw ArgumentError("optimizer: weight_decay must be >= 0");
    require_finite("optimizer", "weight_decay", options.weight_decay);
  }
  std::string_view name() const override { return "adam"; }

 protected:
  void begin_step(const UpdateContext<T>& c) override {
    const double t = static_cast<double>(c.step);
    m_inv_bc1 = static_cast<T>(1.0 / (1.0 - std::pow(m_options.beta1, t)));
    m_inv_bc2 = static_cast<T>(1.0 / (1.0 - std::pow(m_options.beta2, t)));
    m_decay = m_options.decoupled_weight_decay ? static_cast<T>(1.0 - c.learning_rate * m_options.weight_decay) : T(1);
  }

  void update(T* p, const T* grad, T* const* slots, std::size_t n, const UpdateContext<T>& c) override {
    T* m = slots[0];
    T* v = slots[1];
    const T b1 = static_cast<T>(m_options.beta1), b2 = static_cast<T>(m_options.beta2);
    const T inv_bc1 = m_inv_bc1, inv_bc2 = m_inv_bc2, decay = m_decay;
    const T eps = static_cast<T>(m_options.epsilon);
    const T lr = c.learning_rate;
    for (std::size_t i = 0; i < n; ++i) {
      const T g = c.gradient_scale * grad[i] + c.weight_decay * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      p[i] = decay * p[i] - lr * (m[i] * inv_bc1) / (std::sqrt(v[i] * inv_bc2) + eps);
    }
  }

 private:
  AdamOptions m_options;
  T m_inv_bc1 = 1, m_inv_bc2 = 1, m_decay = 1;  // this step's bias corrections and decoupled decay
};

}  // namespace vaelib::optim
