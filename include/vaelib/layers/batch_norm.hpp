#pragma once
// BatchNorm: batch normalisation over the channels of x [N, C] or [N, C, H, W] (PyTorch's
// BatchNorm1d/2d). Its scale and shift are parameters "gamma" [C] (ones) and "beta" [C]
// (zeros); its running mean and variance are the state buffers "running_mean" [C] (zeros)
// and "running_var" [C] (ones): saved in checkpoints with the parameters, updated by the
// forward in training mode, never by an optimiser (see ParameterStore's state buffers).

#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops/batch_norm.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/parameters.hpp"

namespace vaelib {

/// batch_norm(x) normalised per channel (C = x's axis 1) by gamma and beta at
/// "<scope>/<name>/gamma" and ".../beta" and the buffers ".../running_mean" and
/// ".../running_var", all created on first use. options.training: normalise with the batch's
/// statistics and update the running ones (momentum as PyTorch's), else with the running
/// ones. The op is vaelib::batch_norm(x, gamma, beta, running_mean, running_var, options);
/// this overload takes the scope first.
template <class T>
Var<T> batch_norm(const ParameterScope<T>& scope, std::string_view name, const Var<T>& x,
                  const BatchNormOptions& options = {}) {
  const std::string layer_name = "batch_norm '" + std::string(name) + "'";
  if (x.rank() != 2 && x.rank() != 4) {
    throw ShapeError(layer_name + ": input must be [N, C] or [N, C, H, W], got shape " + to_string(x.shape()));
  }
  if (!(options.momentum >= 0 && options.momentum <= 1) || !(options.eps > 0)) {  // before creating anything
    throw ArgumentError(layer_name + ": expected momentum in [0, 1] and eps > 0; got momentum " +
                        detail::batch_norm_number(options.momentum) + ", eps " + detail::batch_norm_number(options.eps));
  }
  const ParameterScope<T> layer = scope.scope(name);
  const Shape channels{x.shape()[1]};
  Tape<T>& tape = x.tape();
  const Var<T> gamma = layer.get("gamma", channels, init::constant(T(1))).on(tape);
  const Var<T> beta = layer.get("beta", channels, init::zeros<T>()).on(tape);
  StateBuffer<T>& mean = layer.buffer("running_mean", channels, init::zeros<T>());
  StateBuffer<T>& var = layer.buffer("running_var", channels, init::constant(T(1)));
  return batch_norm(x, gamma, beta, mean.value, var.value, options);
}

/// The layer as an object, with a training/evaluation mode (training on construction, as
/// PyTorch's modules): call it on inputs.
template <class T>
class BatchNorm {
 public:
  /// options.training sets the initial mode.
  BatchNorm(ParameterScope<T> scope, std::string name, BatchNormOptions options = {})
      : m_scope(scope), m_name(std::move(name)), m_options(options) {}

  Var<T> operator()(const Var<T>& x) const { return batch_norm(m_scope, m_name, x, m_options); }

  /// Training mode (batch statistics, running ones updated) when `on`, else evaluation mode.
  void train(bool on = true) noexcept { m_options.training = on; }
  /// Evaluation mode: normalise with the running statistics, leave them as they are.
  void eval() noexcept { m_options.training = false; }
  bool training() const noexcept { return m_options.training; }
  const BatchNormOptions& options() const noexcept { return m_options; }

 private:
  ParameterScope<T> m_scope;
  std::string m_name;
  BatchNormOptions m_options;
};

}  // namespace vaelib
