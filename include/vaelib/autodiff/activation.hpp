#pragma once
// Activation: the nonlinearities linear() fuses and layers apply, as one concept. For each
// one this header holds its name, its forward formula and its derivative written from the
// output y (so a fused op never stores its pre-activation), once, as generic kernels that run
// on scalars and on SIMD batches alike (detail/simd.hpp). linear() runs them in place on its
// GEMM's output, dense() and MLP apply them through activate(), and the tests check every one
// against finite differences by iterating over them.
//
// Adding an activation touches this header only: a value in the enum and in all_activations,
// a kernel struct in detail::activations (name, forward, backward), and a case in
// detail::visit_activation (-Wswitch names it if it is missing). The tests go through
// all_activations, so they check the new one too.

#include <cstddef>
#include <string>
#include <type_traits>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/simd.hpp"

namespace vaelib {

/// The activations linear() can fuse (and dense() / MLP take). Each derivative is a function
/// of the output y.
enum class Activation { none, relu, tanh, sigmoid };

/// Every activation, for code (and tests) that go through all of them.
inline constexpr Activation all_activations[] = {Activation::none, Activation::relu, Activation::tanh,
                                                 Activation::sigmoid};

namespace detail::activations {

// One struct per activation: `name`, `forward(x)` and `backward(y, dy)` = dy * act'(x) written
// from the output y = act(x). V is a float, a double or an xsimd batch of either.

struct None {
  static constexpr const char* name = "none";
  template <class V>
  static V forward(const V& x) {
    return x;
  }
  template <class V>
  static V backward(const V& y, const V& dy) {
    (void)y;
    return dy;
  }
};

/// max(x, 0); derivative 1 where y > 0, else 0 (a zero gradient there, even for an infinite dy).
struct Relu {
  static constexpr const char* name = "relu";
  template <class V>
  static V forward(const V& x) {
    return simd::max(x, V(0));
  }
  template <class V>
  static V backward(const V& y, const V& dy) {
    return simd::select(y > V(0), dy, V(0));
  }
};

/// tanh(x); derivative 1 - y^2.
struct Tanh {
  static constexpr const char* name = "tanh";
  template <class V>
  static V forward(const V& x) {
    return simd::tanh(x);
  }
  template <class V>
  static V backward(const V& y, const V& dy) {
    return (V(1) - y * y) * dy;
  }
};

/// 1 / (1 + exp(-x)), saturating to exactly 0 or 1; derivative y (1 - y).
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  template <class V>
  static V forward(const V& x) {
    return simd::sigmoid(x);
  }
  template <class V>
  static V backward(const V& y, const V& dy) {
    return y * (V(1) - y) * dy;
  }
};

}  // namespace detail::activations

namespace detail {

/// f(kernel) with the kernel struct of `activation` (a value of one of the structs above): the
/// one switch over the enum, so every use of an activation dispatches here.
template <class F>
decltype(auto) visit_activation(Activation activation, F&& f) {
  switch (activation) {
    case Activation::relu: return f(activations::Relu{});
    case Activation::tanh: return f(activations::Tanh{});
    case Activation::sigmoid: return f(activations::Sigmoid{});
    case Activation::none: break;
  }
  return f(activations::None{});
}

/// y[i] = act(x[i]) for i < n (y may be x: linear() applies it in place), vectorised and split
/// over the BLAS's threads when n is large.
template <class T>
void activation_forward(Activation activation, std::size_t n, const T* x, T* y) {
  visit_activation(activation, [&](auto kernel) {
    using K = decltype(kernel);
    simd::map(n, y, [](const auto& v) { return K::forward(v); }, x);
  });
}

/// dx[i] = dy[i] * act'(x[i]), written from the output y[i] (dx may be dy); with `accumulate`
/// added into dx instead.
template <class T>
void activation_backward(Activation activation, std::size_t n, const T* y, const T* dy, bool accumulate, T* dx) {
  visit_activation(activation, [&](auto kernel) {
    using K = decltype(kernel);
    simd::map_into(accumulate, n, dx, [](const auto& yv, const auto& g) { return K::backward(yv, g); }, y, dy);
  });
}

}  // namespace detail

/// The activation's name ("relu"), for messages and as the op name of activate().
inline const char* to_string(Activation activation) {
  return detail::visit_activation(activation, [](auto kernel) { return decltype(kernel)::name; });
}

/// act(x) for a scalar.
template <class T>
T activation_value(Activation activation, T x) {
  static_assert(std::is_floating_point_v<T>, "activation_value takes a float or a double");
  return detail::visit_activation(activation, [x](auto kernel) { return decltype(kernel)::forward(x); });
}

/// act'(x) for a scalar, from the output y = act(x).
template <class T>
T activation_derivative(Activation activation, T y) {
  static_assert(std::is_floating_point_v<T>, "activation_derivative takes a float or a double");
  return detail::visit_activation(activation, [y](auto kernel) { return decltype(kernel)::backward(y, T(1)); });
}

/// forward:  y = act(x), elementwise (none: x itself, no node recorded)
/// backward: dx += dy * act'(x), written from y (relu: y > 0; tanh: 1 - y^2; sigmoid: y (1 - y))
/// The op is named after the activation ("relu"); linear() fuses the same kernels.
template <class T>
Var<T> activate(const Var<T>& x, Activation activation) {
  if (activation == Activation::none) return x;
  const char* name = to_string(activation);
  Tape<T>& tape = x.tape();
  tape.check_handle(name, x);
  const Var<T> y = tape.make_node(name, x.shape(), {x});
  detail::activation_forward(activation, tape.node(y).size, x.data(), tape.value_ptr(y));
  tape.set_backward(y, [x, activation](Tape<T>& t, TapeRecord<T>& self) {
    const GradTarget<T> g = t.grad_target(x);
    detail::activation_backward(activation, self.size, static_cast<const T*>(self.value),
                                static_cast<const T*>(self.grad), g.accumulate, g.data);
  });
  return y;
}

}  // namespace vaelib
