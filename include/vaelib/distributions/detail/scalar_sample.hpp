#pragma once
// scalar_sample: a reparameterised draw computed element by element in double, with the
// partial derivatives of each drawn value with respect to the distribution's parameters, as
// one tape node. For samplers whose draw is not a closed-form function of the parameters and
// noise (Gamma and Beta by rejection sampling, differentiated by implicit reparameterisation):
// the kernel draws a value and, when the node needs a gradient, its partials, which backward
// then applies. A draw on a tape that needs no gradient costs no more than the sampler.

#include <array>
#include <cstddef>
#include <span>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/detail/strided.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib::detail {

/// A kernel's answer for one element: the drawn value (in the tape's type) and the partial
/// derivatives of the draw with respect to each parameter (in the order given; read only
/// when the kernel was asked for them).
template <class T, std::size_t N>
struct ScalarDraw {
  T value;
  std::array<double, N> partials;
};

/// forward:  y[i] = draw(parameters at i, want_partials).value for i = 0, 1, ... over `shape`
///           ([n] + batch shape: the parameters broadcast to it), in order, so that a seed
///           fixes the draw; the partials are kept in the node's scratch buffer when the node
///           needs a gradient (want_partials is then true)
/// backward: d parameter_k += partials[k] dy (summed over the axes parameter_k was broadcast
///           along; 0 where dy = 0)
template <class T, std::size_t N, class Draw>
Var<T> scalar_sample(const char* name, const Shape& shape, const std::array<Var<T>, N>& parameters, Draw&& draw) {
  Tape<T>& tape = parameters[0].tape();
  const Var<T> y = tape.make_node(name, shape, std::span<const Var<T>>(parameters.data(), N));
  TapeRecord<T>& node = tape.node(y);
  const std::size_t n = node.size;
  const bool want_partials = node.requires_grad;
  T* partials = want_partials ? node.scratch.ensure(N * n) : nullptr;  // [N][n]
  T* out = tape.value_ptr(y);
  std::array<const T*, N> data{};
  for (std::size_t k = 0; k < N; ++k) data[k] = parameters[k].data();
  std::array<double, N> args{};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < N; ++k)
      args[k] = static_cast<double>(data[k][broadcast_source_index(i, shape, parameters[k].shape())]);
    const ScalarDraw<T, N> r = draw(args, want_partials);
    out[i] = r.value;
    if (want_partials)
      for (std::size_t k = 0; k < N; ++k) partials[k * n + i] = static_cast<T>(r.partials[k]);
  }
  tape.set_backward(y, [parameters](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t size = self.size;
    T* kept = self.scratch.ensure(N * size);
    for (std::size_t k = 0; k < N; ++k) {
      if (!t.node(parameters[k]).requires_grad) continue;
      T* contribution = kept + k * size;  // each row is read once: overwrite it with partial * dy
      for (std::size_t i = 0; i < size; ++i)
        contribution[i] = self.grad[i] == T(0) ? T(0) : contribution[i] * self.grad[i];
      const Shape& target_shape = t.node(parameters[k]).shape;
      const GradTarget<T> g = t.grad_target(parameters[k]);
      if (target_shape == self.shape) {
        for (std::size_t i = 0; i < size; ++i) g.data[i] = g.accumulate ? g.data[i] + contribution[i] : contribution[i];
      } else {
        reduce_sum_into(g.data, target_shape, static_cast<const T*>(contribution), self.shape, g.accumulate);
      }
    }
  });
  return y;
}

}  // namespace vaelib::detail
