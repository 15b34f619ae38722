#pragma once
// Activations for layers: the Activation enum (fusable into linear) applied as an op.

#include "vaelib/autodiff/ops/linear.hpp"
#include "vaelib/autodiff/ops/relu.hpp"
#include "vaelib/autodiff/ops/sigmoid.hpp"
#include "vaelib/autodiff/ops/tanh.hpp"

namespace vaelib {

/// y = act(x) for one of the fusable activations (none returns x itself).
template <class T>
Var<T> activate(const Var<T>& x, Activation activation) {
  switch (activation) {
    case Activation::relu: return relu(x);
    case Activation::tanh: return tanh(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::none: break;
  }
  return x;
}

inline const char* to_string(Activation activation) {
  switch (activation) {
    case Activation::relu: return "relu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
    case Activation::none: break;
  }
  return "none";
}

}  // namespace vaelib
