#pragma once
// Dense: a fully connected layer act(x W + b), its parameters "weight" [in, units] and
// "bias" [units] got (or created) under the layer's scope.

#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/ops/linear.hpp"
#include "vaelib/autodiff/ops/matmul.hpp"
#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/parameters.hpp"

namespace vaelib {

template <class T>
struct DenseOptions {
  Activation activation = Activation::none;
  bool use_bias = true;
  Initializer<T> weight_init = {};  // empty: Glorot uniform
  Initializer<T> bias_init = {};    // empty: zeros
};

/// act(x W + b) for x [..., in]; W and b live at "<scope>/<name>/weight" and ".../bias" and
/// are created on first use (in from x's last axis). Uses the fused linear op.
template <class T>
Var<T> dense(const ParameterScope<T>& scope, std::string_view name, const Var<T>& x, std::size_t units,
             const DenseOptions<T>& options = {}) {
  if (x.rank() == 0) throw ShapeError("dense '" + std::string(name) + "': input must have rank >= 1, got shape []");
  const ParameterScope<T> layer = scope.scope(name);
  const std::size_t in = x.shape().back();
  Tape<T>& tape = x.tape();
  const Var<T> w =
      layer.get("weight", Shape{in, units}, options.weight_init ? options.weight_init : init::default_weight<T>()).on(tape);
  if (!options.use_bias) {
    if (x.rank() == 1) {  // matmul wants a matrix: view x as one row
      return activate(reshape(matmul(reshape(x, {std::ptrdiff_t{1}, static_cast<std::ptrdiff_t>(in)}), w),
                              {static_cast<std::ptrdiff_t>(units)}),
                      options.activation);
    }
    return activate(matmul(x, w), options.activation);
  }
  const Var<T> b = layer.get("bias", Shape{units}, options.bias_init).on(tape);
  return linear(x, w, b, options.activation);
}

/// The layer as an object: holds its scope, name, width and options; call it on inputs.
template <class T>
class Dense {
 public:
  Dense(ParameterScope<T> scope, std::string name, std::size_t units, DenseOptions<T> options = {})
      : m_scope(scope), m_name(std::move(name)), m_units(units), m_options(std::move(options)) {}

  Var<T> operator()(const Var<T>& x) const { return dense(m_scope, m_name, x, m_units, m_options); }
  std::size_t units() const noexcept { return m_units; }

 private:
  ParameterScope<T> m_scope;
  std::string m_name;
  std::size_t m_units;
  DenseOptions<T> m_options;
};

}  // namespace vaelib
