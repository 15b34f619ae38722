#pragma once
// event_log_density: scalar_log_density's counterpart for multivariate distributions. The
// log-density of one event (a count vector, a point of the simplex, a Cholesky factor) is
// written once as a kernel over the event's numbers in double, returning the value and its
// partial derivatives; the node runs it for every batch element. A float tape so gets the
// log-density rounded once, and values outside the support are handled in the kernel (-inf
// with zero partials) instead of through masks over several ops.
//
// The inputs must already have the node's batch shape in front of their own event shape
// (expand_to_batch does that with a differentiable broadcast_to); then the backward pass is
// a plain scaled copy of the kept partials. At most three inputs: the backward closure keeps
// their handles and event sizes inline.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "vaelib/autodiff/ops/broadcast_to.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/error.hpp"

namespace vaelib::detail {

/// `x` broadcast to `batch` + x's last `event_rank` axes (x itself when it has that shape).
template <class T>
Var<T> expand_to_batch(const Var<T>& x, const Shape& batch, std::size_t event_rank) {
  Shape target = batch;
  target.insert(target.end(), x.shape().end() - static_cast<std::ptrdiff_t>(event_rank), x.shape().end());
  return x.shape() == target ? x : broadcast_to(x, target);
}

/// The batch shape of `given` (its shape without the last `event_rank` axes) broadcast with
/// the distribution's `batch`: the shape of log_prob's result.
inline Shape event_output_batch(const char* name, const Shape& given, std::size_t event_rank, const Shape& batch) {
  return broadcast_shapes(name, Shape(given.begin(), given.end() - static_cast<std::ptrdiff_t>(event_rank)), batch);
}

/// forward:  y[b] = kernel(the events of every input at batch element b), in double
/// backward: d input_k[b, j] += partial_k[b, j] dy[b]  (0 where dy = 0, even if the partial
///           is NaN); the partials are kept from the forward pass in the node's scratch buffer
/// Every input must have shape batch_shape + (its event shape); the kernel is called as
/// kernel(events, partials) with std::array<std::span<const double>, N> events and
/// std::array<std::span<double>, N> partials (zero-filled) and returns the log-density.
template <class T, std::size_t N, class Kernel>
Var<T> event_log_density(const char* name, const std::array<Var<T>, N>& inputs, const Shape& batch_shape,
                         const Kernel& kernel) {
  static_assert(N >= 1 && N <= 3, "event_log_density: one to three inputs (the backward closure keeps them inline)");
  Tape<T>& tape = inputs[0].tape();
  const std::size_t batch = shape_size(batch_shape);
  std::array<std::size_t, N> event_size{};
  std::size_t total = 0;
  for (std::size_t k = 0; k < N; ++k) {
    tape.check_handle(name, inputs[k]);
    const Shape& s = inputs[k].shape();
    const bool prefix = s.size() >= batch_shape.size() && std::equal(batch_shape.begin(), batch_shape.end(), s.begin());
    if (!prefix) {
      throw ShapeError(std::string(name) + ": input " + std::to_string(k) + " has shape " + to_string(s) +
                       ", which does not start with the batch shape " + to_string(batch_shape));
    }
    event_size[k] = batch == 0 ? 0 : inputs[k].size() / batch;
    total += event_size[k];
  }
  const Var<T> y = tape.make_node(name, batch_shape, std::span<const Var<T>>(inputs.data(), N));
  TapeRecord<T>& node = tape.node(y);
  const bool keep_partials = node.requires_grad;
  T* kept = keep_partials ? node.scratch.ensure(total * batch) : nullptr;  // [N][batch][event_k]
  T* out = tape.value_ptr(y);
  std::vector<double> storage(2 * total);
  std::array<std::span<const double>, N> events{};
  std::array<std::span<double>, N> partials{};
  std::array<double*, N> event_data{};
  std::size_t offset = 0;
  for (std::size_t k = 0; k < N; ++k) {
    event_data[k] = storage.data() + offset;
    events[k] = std::span<const double>(storage.data() + offset, event_size[k]);
    partials[k] = std::span<double>(storage.data() + total + offset, event_size[k]);
    offset += event_size[k];
  }
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t k = 0; k < N; ++k) {
      const T* source = inputs[k].data() + b * event_size[k];
      for (std::size_t j = 0; j < event_size[k]; ++j) event_data[k][j] = static_cast<double>(source[j]);
    }
    std::fill(storage.begin() + static_cast<std::ptrdiff_t>(total), storage.end(), 0.0);
    out[b] = static_cast<T>(kernel(events, partials));
    if (keep_partials) {
      std::size_t row = 0;
      for (std::size_t k = 0; k < N; ++k) {
        T* dest = kept + row * batch + b * event_size[k];
        for (std::size_t j = 0; j < event_size[k]; ++j) dest[j] = static_cast<T>(partials[k][j]);
        row += event_size[k];
      }
    }
  }
  tape.set_backward(y, [inputs, event_size, total](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t n = self.size;
    const T* partial = self.scratch.ensure(total * n);
    std::size_t row = 0;
    for (std::size_t k = 0; k < N; ++k) {
      const std::size_t e = event_size[k];
      if (t.node(inputs[k]).requires_grad) {
        const GradTarget<T> g = t.grad_target(inputs[k]);
        for (std::size_t b = 0; b < n; ++b) {
          const T dy = self.grad[b];
          for (std::size_t j = 0; j < e; ++j) {
            const T c = dy == T(0) ? T(0) : partial[row * n + b * e + j] * dy;
            T& target = g.data[b * e + j];
            target = g.accumulate ? target + c : c;
          }
        }
      }
      row += e;
    }
  });
  return y;
}

/// The largest deviation from an exact constraint (a simplex's sum of 1, a unit row norm)
/// accepted as rounding: sqrt(epsilon) of T in float (3.4e-4), 1e-6 in double (so that a
/// point rounded to float and back still counts as on the constraint).
template <class T>
double constraint_tolerance() {
  return std::max(std::sqrt(static_cast<double>(std::numeric_limits<T>::epsilon())), 1e-6);
}

}  // namespace vaelib::detail
