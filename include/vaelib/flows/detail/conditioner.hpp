#pragma once
// FlowConditioner: the small network inside a coupling or autoregressive flow, mapping part of
// z (and an optional context, such as an encoder's hidden layer) to the flow's per-element
// parameters (shift and scale, spline knots). Its layers are dense, act(x W + b) on the last
// axis with the fused linear op, and their weights may carry a fixed 0/1 mask (MADE's
// autoregressive structure: W * M, so masked weights stay out of the output and get zero
// gradient). The parameters live under the flow's scope ("<flow>/<prefix>0/weight", ...)
// and are read through the flow, live or detached (VectorFlow::read).
//
// The last layer starts at zero weights and zero bias by default: the flow then starts at
// its identity (a coupling flow's shift 0 and scale 1), as Dinh et al. and Kingma et al.
// advise for deep stacks.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/linear.hpp"
#include "vaelib/autodiff/ops/matmul.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/parameters.hpp"

namespace vaelib::detail {

template <class T>
class FlowConditioner {
 public:
  /// One dense layer: in -> out, with an optional [in, out] 0/1 mask on its weight.
  struct Layer {
    Parameter<T>* weight = nullptr;
    Parameter<T>* bias = nullptr;
    std::shared_ptr<const xt::xarray<T>> mask;  // shared: a flow's copies (with_context) copy no mask
    Activation activation = Activation::none;
  };

  FlowConditioner() = default;

  /// Appends a layer "<scope>/<name>" of `in` -> `out` units. `mask` ([in, out], 0/1), when
  /// given, is applied to the weight at every use; `zero_init` starts weight and bias at 0.
  void add_layer(const ParameterScope<T>& scope, const std::string& name, std::size_t in, std::size_t out,
                 Activation activation, bool zero_init, std::optional<xt::xarray<T>> mask = std::nullopt) {
    const ParameterScope<T> layer = scope.scope(name);
    Layer l;
    l.weight = &layer.get("weight", Shape{in, out}, zero_init ? init::zeros<T>() : init::default_weight<T>());
    l.bias = &layer.get("bias", Shape{out}, init::zeros<T>());
    if (mask) l.mask = std::make_shared<const xt::xarray<T>>(std::move(*mask));
    l.activation = activation;
    m_layers.push_back(std::move(l));
  }

  /// act(x W + b) of layer i, W masked when the layer has a mask, the parameters read by
  /// `read` (the flow's live or detached reader).
  template <class Read>
  Var<T> layer(std::size_t i, const Var<T>& x, Read&& read) const {
    const Layer& l = m_layers[i];
    Tape<T>& tape = x.tape();
    Var<T> w = read(*l.weight, tape);
    if (l.mask) w = w * tape.constant(*l.mask);
    return linear(x, w, read(*l.bias, tape), l.activation);
  }

  /// Every layer in turn.
  template <class Read>
  Var<T> operator()(const Var<T>& x, Read&& read) const {
    Var<T> h = x;
    for (std::size_t i = 0; i < m_layers.size(); ++i) h = layer(i, h, read);
    return h;
  }

  std::size_t size() const noexcept { return m_layers.size(); }
  const Layer& at(std::size_t i) const { return m_layers.at(i); }

 private:
  std::vector<Layer> m_layers;
};

}  // namespace vaelib::detail
