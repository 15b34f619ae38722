#pragma once
// Flatten and Unflatten: between a convolutional stack's images [N, C, H, W] and the dense
// layers' rows [N, C H W]. Both are reshape() views (no copy); these name the step and
// keep the batch axis free, so one model serves every batch size.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/reshape.hpp"

namespace vaelib {

/// [N, d1, d2, ...] -> [N, d1 d2 ...] (row-major, as reshape).
template <class T>
Var<T> flatten(const Var<T>& x) {
  if (x.rank() < 2) throw ShapeError("flatten: input must be [N, ...] with rank >= 2, got shape " + to_string(x.shape()));
  std::size_t features = 1;
  for (std::size_t i = 1; i < x.rank(); ++i) features *= x.shape()[i];
  return reshape(x, {static_cast<std::ptrdiff_t>(x.shape()[0]), static_cast<std::ptrdiff_t>(features)});
}

/// [N, F] -> [N, item...] with F = the product of `item` (e.g. {C, H, W}): flatten's inverse.
template <class T>
Var<T> unflatten(const Var<T>& x, const Shape& item) {
  std::size_t features = 1;
  for (const std::size_t d : item) features *= d;
  if (x.rank() != 2 || item.empty() || x.shape()[1] != features) {
    throw ShapeError("unflatten: input has shape " + to_string(x.shape()) + "; expected [N, F] with F = " +
                     std::to_string(features) + ", the size of " + to_string(item));
  }
  std::vector<std::ptrdiff_t> dims{static_cast<std::ptrdiff_t>(x.shape()[0])};
  for (const std::size_t d : item) dims.push_back(static_cast<std::ptrdiff_t>(d));
  return reshape(x, dims);
}

/// flatten() as a layer object.
class Flatten {
 public:
  template <class T>
  Var<T> operator()(const Var<T>& x) const {
    return flatten(x);
  }
};

/// unflatten() as a layer object holding the item shape.
class Unflatten {
 public:
  explicit Unflatten(Shape item) : m_item(std::move(item)) {}
  template <class T>
  Var<T> operator()(const Var<T>& x) const {
    return unflatten(x, m_item);
  }
  const Shape& item() const noexcept { return m_item; }

 private:
  Shape m_item;
};

}  // namespace vaelib
