#pragma once
// OrderedTransform: R^K onto the increasing vectors y_0 < y_1 < ... < y_{K-1}, on the last
// axis: the first element is free, each next one adds a positive step exp(x_k).

#include <cmath>
#include <string>

#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {
namespace detail {

/// forward:  y_0 = x_0, y_k = y_{k-1} + exp(x_k)
/// backward: dx_0 += sum_k dy_k;  dx_j += exp(x_j) sum_{k>=j} dy_k
template <class T>
Var<T> ordered_forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check_handle("OrderedTransform.forward", x);
  const std::size_t k = last_axis_size(std::string("OrderedTransform.forward"), "x", x, 1);
  const Var<T> y = tape.make_node("ordered", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t r = 0, rows = x.size() / k; r < rows; ++r) {
    const T* xr = in + r * k;
    T* yr = out + r * k;
    yr[0] = xr[0];
    for (std::size_t j = 1; j < k; ++j) yr[j] = yr[j - 1] + std::exp(xr[j]);
  }
  tape.set_backward(y, [x](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t k = self.shape.back();
    const T* xv = t.node(x).value;
    const GradTarget<T> g = t.grad_target(x);
    for (std::size_t r = 0, rows = self.size / k; r < rows; ++r) {
      T later = 0;  // sum_{k>=j} dy_k
      for (std::size_t j = k; j-- > 0;) {
        later += self.grad[r * k + j];
        put_grad(g, r * k + j, j == 0 ? later : std::exp(xv[r * k + j]) * later);
      }
    }
  });
  return y;
}

/// forward:  x_0 = y_0, x_k = log(y_k - y_{k-1})
/// backward: dy_k += dx_k / (y_k - y_{k-1}), dy_{k-1} -= dx_k / (y_k - y_{k-1});  dy_0 += dx_0
template <class T>
Var<T> ordered_inverse(const Var<T>& y) {
  Tape<T>& tape = y.tape();
  tape.check_handle("OrderedTransform.inverse", y);
  const std::size_t k = last_axis_size(std::string("OrderedTransform.inverse"), "y", y, 1);
  const Var<T> x = tape.make_node("ordered_inverse", y.shape(), {y});
  const T* in = y.data();
  T* out = tape.value_ptr(x);
  for (std::size_t r = 0, rows = y.size() / k; r < rows; ++r) {
    const T* yr = in + r * k;
    T* xr = out + r * k;
    xr[0] = yr[0];
    for (std::size_t j = 1; j < k; ++j) xr[j] = std::log(yr[j] - yr[j - 1]);
  }
  tape.set_backward(x, [y](Tape<T>& t, TapeRecord<T>& self) {
    const std::size_t k = self.shape.back();
    const T* yv = t.node(y).value;
    const GradTarget<T> g = t.grad_target(y);
    for (std::size_t r = 0, rows = self.size / k; r < rows; ++r) {
      const T* yr = yv + r * k;
      const T* dxr = self.grad + r * k;
      for (std::size_t j = 0; j < k; ++j) {
        T v = j == 0 ? dxr[0] : dxr[j] / (yr[j] - yr[j - 1]);
        if (j + 1 < k) v -= dxr[j + 1] / (yr[j + 1] - yr[j]);
        put_grad(g, r * k + j, v);
      }
    }
  });
  return x;
}

}  // namespace detail

/// forward: y_0 = x_0, y_k = y_{k-1} + exp(x_k);  inverse: x_0 = y_0, x_k = log(y_k - y_{k-1});
/// log|det J| = sum_{k>=1} x_k (the Jacobian is triangular with diagonal 1, exp(x_1), ...).
template <class T>
class OrderedTransform final : public Transform<T> {
 public:
  std::string name() const override { return "OrderedTransform"; }
  std::size_t domain_event_rank() const override { return 1; }
  std::size_t codomain_event_rank() const override { return 1; }
  Support<T> codomain() const override { return Support<T>::ordered(); }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override { return detail::ordered_forward(x); }
  Var<T> inverse_impl(const Var<T>& y) const override { return detail::ordered_inverse(y); }
  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    const std::size_t k = detail::last_axis_size(name() + ".log_abs_det_jacobian", "x", x, 1);
    const Var<T> after_first = detail::filled_constant(x.tape(), Shape{k}, [](T* d, std::size_t size) {
      for (std::size_t j = 0; j < size; ++j) d[j] = j == 0 ? T(0) : T(1);
    });
    return sum(x * after_first, {-1});
  }
};

}  // namespace vaelib
