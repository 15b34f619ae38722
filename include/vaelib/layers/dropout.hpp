#pragma once
// Dropout: the dropout op as a layer with a training/evaluation mode and the caller's Rng
// (no parameters: the layer holds the drop probability, the generator and the mode).

#include <sstream>
#include <string>

#include "vaelib/autodiff/ops/dropout.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib {

/// Inverted dropout with drop probability p in [0, 1) while training, the identity in
/// evaluation (see the dropout op). Masks are drawn from `rng`, which must outlive the
/// layer: a model's one generator (saved in checkpoints) keeps runs reproducible.
class Dropout {
 public:
  Dropout(double p, Rng& rng, bool training = true) : m_p(p), m_rng(&rng), m_training(training) {
    if (!(p >= 0 && p < 1)) {  // at construction, not at the first call
      std::ostringstream s;
      s << p;
      throw ArgumentError("Dropout: expected a drop probability p in [0, 1); got " + s.str());
    }
  }

  template <class T>
  Var<T> operator()(const Var<T>& x) const {
    return dropout(x, m_p, *m_rng, m_training);
  }

  /// Training mode (elements dropped) when `on`, else evaluation mode (the identity).
  void train(bool on = true) noexcept { m_training = on; }
  void eval() noexcept { m_training = false; }
  bool training() const noexcept { return m_training; }
  double p() const noexcept { return m_p; }

 private:
  double m_p;
  Rng* m_rng;
  bool m_training;
};

}  // namespace vaelib
