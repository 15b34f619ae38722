#pragma once
// SGD with optional momentum and Nesterov momentum.

#include "vaelib/optim/optimizer.hpp"

namespace vaelib::optim {

struct SgdOptions {
  double learning_rate = 1e-2;
  Schedule schedule = {};
  double weight_decay = 0;
  double clip_norm = 0;
  double momentum = 0;    // 0: plain SGD
  bool nesterov = false;  // needs momentum > 0
};

/// g = clip_scale * grad + weight_decay * p
/// plain:    p -= lr g
/// momentum: b = momentum b + g;  p -= lr b            (b starts at 0)
/// nesterov: b = momentum b + g;  p -= lr (g + momentum b)
template <class T>
class SGD final : public Optimizer<T> {
 public:
  SGD(ParameterStore<T>& params, SgdOptions options = {})
      : Optimizer<T>(params, {"momentum"},
                     CommonOptions{options.learning_rate, options.schedule, options.weight_decay, options.clip_norm}),
        m_momentum(static_cast<T>(options.momentum)),
        m_nesterov(options.nesterov) {
    if (!(options.momentum >= 0 && options.momentum < 1)) throw ArgumentError("SGD: momentum must be in [0, 1)");
    if (m_nesterov && options.momentum == 0) throw ArgumentError("SGD: Nesterov momentum needs momentum > 0");
  }
  std::string_view name() const override { return "sgd"; }

 protected:
  void update(T* p, const T* grad, T* const* slots, std::size_t n, const UpdateContext<T>& c) override {
    T* buf = slots[0];
    const T mu = m_momentum;
    for (std::size_t i = 0; i < n; ++i) {
      const T g = c.gradient_scale * grad[i] + c.weight_decay * p[i];
      if (mu == T(0)) {
        p[i] -= c.learning_rate * g;
        continue;
      }
      buf[i] = mu * buf[i] + g;
      p[i] -= c.learning_rate * (m_nesterov ? g + mu * buf[i] : buf[i]);
    }
  }

 private:
  T m_momentum;
  bool m_nesterov;
};

}  // namespace vaelib::optim
