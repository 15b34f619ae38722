#pragma once
// StickBreakingTransform: R^{K-1} onto the K-simplex {y : y_k > 0, sum_k y_k = 1}, on the last
// axis. Each x_k decides which fraction of the stick still left goes to y_k; the offsets
// log(K - 1 - k) make x = 0 the uniform point (1/K, ..., 1/K).

#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/log_sigmoid.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/neg.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// The offsets log(K - 1 - k), k = 0..K-2, as a constant of shape [K - 1].
template <class T>
Var<T> stick_breaking_offsets(Tape<T>& tape, std::size_t k_minus_1) {
  return filled_constant(tape, Shape{k_minus_1}, [k_minus_1](T* d, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) d[k] = static_cast<T>(std::log(static_cast<double>(k_minus_1 - k)));
  });
}

template <class T>
T stable_log_sigmoid(T u) {
  return std::min(u, T(0)) - std::log1p(std::exp(-std::abs(u)));
}

/// forward:  u_k = x_k - log(K-1-k);  y_k = exp(L_k + log sigmoid(u_k)) for k < K-1 and
///           y_{K-1} = exp(L_{K-1}), where L_k = sum_{j<k} log sigmoid(-u_j) is the log of
///           the stick left (kept in log space: no underflow to a negative remainder)
/// backward: dx_j += dy_j y_j sigmoid(-u_j) - sigmoid(u_j) sum_{k>j} dy_k y_k
template <class T>
Var<T> stick_breaking_forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("StickBreakingTransform.forward", x);
  const std::size_t km1 = last_axis_size(std::string("StickBreakingTransform.forward"), "x", x, 1);
  Shape out_shape = x.shape();
  out_shape.back() = km1 + 1;
  const Var<T> y = tape.make_node("stick_breaking", out_shape, {x});
  const std::size_t rows = x.size() / km1;
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = in + r * km1;
    T* yr = out + r * (km1 + 1);
    T left = 0;  // log of the stick left
    for (std::size_t k = 0; k < km1; ++k) {
      const T u = xr[k] - static_cast<T>(std::log(static_cast<double>(km1 - k)));
      yr[k] = std::exp(left + stable_log_sigmoid(u));
      left += stable_log_sigmoid(-u);
    }
    yr[km1] = std::exp(left);
  }
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& xn = t.node(x);
    const std::size_t km1 = xn.shape.back();
    const std::size_t rows = xn.size / km1;
    const GradTarget<T> g = t.grad_target(x);
    for (std::size_t r = 0; r < rows; ++r) {
      const T* xr = xn.value + r * km1;
      const T* yr = self.value + r * (km1 + 1);
      const T* dyr = self.grad + r * (km1 + 1);
      T later = dyr[km1] * yr[km1];  // sum_{k>j} dy_k y_k
      for (std::size_t j = km1; j-- > 0;) {
        const T u = xr[j] - static_cast<T>(std::log(static_cast<double>(km1 - j)));
        const T s = T(1) / (T(1) + std::exp(-u));
        put_grad(g, r * km1 + j, dyr[j] * yr[j] * (T(1) - s) - s * later);
        later += dyr[j] * yr[j];
      }
    }
  });
  return y;
}

/// forward:  x_k = log y_k - log S_{k+1} + log(K-1-k), S_{k+1} = sum_{j>k} y_j (the stick
///           left after y_k, summed from the end: accurate near the simplex's corners). Only
///           the ratios of y matter, so y need not sum to 1 exactly.
/// backward: dy_k += [k < K-1] dx_k / y_k - sum_{j<k} dx_j / S_{j+1}
template <class T>
Var<T> stick_breaking_inverse(const Var<T>& y) {
  Tape<T>& tape = y.tape();
  tape.check_handle("StickBreakingTransform.inverse", y);
  const std::size_t k = last_axis_size(std::string("StickBreakingTransform.inverse"), "y", y, 2);
  Shape out_shape = y.shape();
  out_shape.back() = k - 1;
  const Var<T> x = tape.make_node("stick_breaking_inverse", out_shape, {y});
  const std::size_t rows = y.size() / k;
  const T* in = y.data();
  T* out = tape.value_ptr(x);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* yr = in + r * k;
    T* xr = out + r * (k - 1);
    T after = yr[k - 1];
    for (std::size_t j = k - 1; j-- > 0;) {
      xr[j] = std::log(yr[j]) - std::log(after) + static_cast<T>(std::log(static_cast<double>(k - 1 - j)));
      after += yr[j];
    }
  }
  tape.set_backward(x, [y](Tape<T>& t, TapeRecord<T>& self) {
    const TapeRecord<T>& yn = t.node(y);
    const std::size_t k = yn.shape.back();
    const std::size_t rows = yn.size / k;
    T* after = self.scratch.ensure(k);  // after[j] = S_{j+1}
    const GradTarget<T> g = t.grad_target(y);
    for (std::size_t r = 0; r < rows; ++r) {
      const T* yr = yn.value + r * k;
      const T* dxr = self.grad + r * (k - 1);
      T s = yr[k - 1];
      for (std::size_t j = k - 1; j-- > 0;) {
        after[j] = s;
        s += yr[j];
      }
      T earlier = 0;  // sum_{j<i} dx_j / S_{j+1}
      for (std::size_t i = 0; i < k; ++i) {
        put_grad(g, r * k + i, (i + 1 < k ? dxr[i] / yr[i] : T(0)) - earlier);
        if (i + 1 < k) earlier += dxr[i] / after[i];
      }
    }
  });
  return x;
}

}  // namespace detail

/// forward: y = stick-breaking(x) (K-1 numbers onto K);  inverse: x_k = logit(y_k / (y_k +
/// ... + y_{K-1})) + log(K-1-k);  log|det J| (x onto y_0..y_{K-2}) =
/// sum_k [log sigmoid(u_k) + (K-1-k) log sigmoid(-u_k)], u_k = x_k - log(K-1-k).
template <class T>
class StickBreakingTransform final : public Transform<T> {
 public:
  std::string name() const override { return "StickBreakingTransform"; }
  std::size_t domain_event_rank() const override { return 1; }
  std::size_t codomain_event_rank() const override { return 1; }
  Support<T> codomain() const override { return Support<T>::simplex(); }
  Shape forward_shape(const Shape& x) const override {
    check_shape("forward_shape", x, 1);
    Shape y = x;
    ++y.back();
    return y;
  }
  Shape inverse_shape(const Shape& y) const override {
    check_shape("inverse_shape", y, 2);
    Shape x = y;
    --x.back();
    return x;
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return detail::stick_breaking_forward(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return detail::stick_breaking_inverse(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    Tape<T>& tape = x.tape();
    const std::size_t km1 = detail::last_axis_size(name() + ".log_abs_det_jacobian", "x", x, 1);
    const Var<T> u = x - detail::stick_breaking_offsets(tape, km1);
    // y_k's own fraction, and the stick left, which each later coordinate also carries.
    const Var<T> pieces_left = detail::filled_constant(tape, Shape{km1}, [km1](T* d, std::size_t n) {
      for (std::size_t k = 0; k < n; ++k) d[k] = static_cast<T>(km1 - k);
    });
    return sum(log_sigmoid(u) + log_sigmoid(-u) * pieces_left, {-1});
  }

 private:
  void check_shape(const char* method, const Shape& s, std::size_t at_least) const {
    if (s.empty() || s.back() < at_least) {
      throw ShapeError(name() + "." + method + ": shape " + to_string(s) +
                       " (expected a last axis of size >= " + std::to_string(at_least) + ")");
    }
  }
};

}  // namespace vaelib
