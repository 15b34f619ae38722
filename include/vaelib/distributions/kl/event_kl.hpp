#pragma once
// event_kl: a KL divergence between two multivariate distributions (categorical rows,
// Gaussian factors) computed event by event in double, as one tape node. The inputs must
// already have the node's batch shape in front of their own event shape (broadcast_to them
// first): input k of shape batch + event_k holds shape_size(event_k) numbers per batch
// element. The kernel sees one batch element's numbers of every input, in double, and
// returns the KL; given partial buffers it also writes dKL/d(each number) (they start at 0).
// A kernel that needs room for intermediate results asks for `workspace` doubles. The forward pass
// runs it without partials, the backward pass again with them (nothing is kept between the
// two: the kernels are cheap next to the rest of a step).

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib::detail {

/// The kernel's view of one batch element: in[k] points at input k's numbers (in double),
/// partial[k] at where dKL/d(those numbers) go (zeroed), or is null in the forward pass;
/// workspace at the doubles the kernel asked for.
template <std::size_t N>
struct EventKLArgs {
  std::array<const double*, N> in;
  std::array<double*, N> partial;
  double* workspace;
};

/// forward:  y[b] = kernel(inputs at batch element b), y of shape `batch`
/// backward: d input_k[b, ...] += dy[b] * kernel's partials (0 where dy[b] = 0)
/// The kernel: double(const EventKLArgs<N>&), trivially copyable (it lives in the closure).
template <class T, std::size_t N, class Kernel>
Var<T> event_kl(const char* name, const Shape& batch, const std::array<Var<T>, N>& inputs, const Kernel& kernel,
                std::size_t workspace = 0) {
  Tape<T>& tape = inputs[0].tape();
  const std::size_t batch_size = shape_size(batch);
  std::array<std::size_t, N> widths{};
  for (std::size_t k = 0; k < N; ++k) {
    tape.check_handle(name, inputs[k]);
    widths[k] = batch_size == 0 ? 0 : inputs[k].size() / batch_size;
  }
  const Var<T> y = tape.make_node(name, batch, std::span<const Var<T>>(inputs.data(), N));
  T* out = tape.value_ptr(y);
  std::vector<double> numbers;
  std::array<std::size_t, N> offsets{};
  std::size_t total = 0;
  for (std::size_t k = 0; k < N; ++k) {
    offsets[k] = total;
    total += widths[k];
  }
  numbers.resize(total + workspace);
  EventKLArgs<N> args{};
  for (std::size_t k = 0; k < N; ++k) args.in[k] = numbers.data() + offsets[k];
  args.workspace = numbers.data() + total;
  for (std::size_t b = 0; b < batch_size; ++b) {
    for (std::size_t k = 0; k < N; ++k) {
      const T* src = inputs[k].data() + b * widths[k];
      for (std::size_t j = 0; j < widths[k]; ++j) numbers[offsets[k] + j] = static_cast<double>(src[j]);
    }
    out[b] = static_cast<T>(kernel(args));
  }
  tape.set_backward(y, [inputs, kernel, workspace](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t size = self.size;
    std::array<std::size_t, N> width{};
    std::array<std::size_t, N> offset{};
    std::size_t count = 0;
    for (std::size_t k = 0; k < N; ++k) {
      width[k] = size == 0 ? 0 : t.node(inputs[k]).size / size;
      offset[k] = count;
      count += width[k];
    }
    std::vector<double> values(count + workspace), partials(count);
    EventKLArgs<N> a{};
    a.workspace = values.data() + count;
    for (std::size_t k = 0; k < N; ++k) {
      a.in[k] = values.data() + offset[k];
      a.partial[k] = partials.data() + offset[k];
    }
    std::array<GradTarget<T>, N> targets{};
    std::array<bool, N> wanted{};
    for (std::size_t k = 0; k < N; ++k) {
      wanted[k] = t.node(inputs[k]).requires_grad;
      if (wanted[k]) targets[k] = t.grad_target(inputs[k]);
    }
    for (std::size_t b = 0; b < size; ++b) {
      const double dy = static_cast<double>(self.grad[b]);
      if (dy != 0) {
        for (std::size_t k = 0; k < N; ++k) {
          const T* src = t.node(inputs[k]).value + b * width[k];
          for (std::size_t j = 0; j < width[k]; ++j) values[offset[k] + j] = static_cast<double>(src[j]);
        }
        std::fill(partials.begin(), partials.end(), 0.0);
        kernel(a);
      }
      for (std::size_t k = 0; k < N; ++k) {
        if (!wanted[k]) continue;
        T* g = targets[k].data + b * width[k];
        for (std::size_t j = 0; j < width[k]; ++j) {
          const T contribution = dy == 0 ? T(0) : static_cast<T>(dy * partials[offset[k] + j]);
          g[j] = targets[k].accumulate ? g[j] + contribution : contribution;
        }
      }
    }
  });
  return y;
}

}  // namespace vaelib::detail
