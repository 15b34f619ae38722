#pragma once
// Shapes, NumPy broadcasting and axis arithmetic shared by every op.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>

#include "vaelib/detail/xtensor.hpp"
#include "vaelib/error.hpp"

namespace vaelib {

/// The shape of a tensor: xtensor's dynamic shape (up to four dimensions stored inline).
using Shape = xt::dynamic_shape<std::size_t>;

/// Number of elements of a shape (1 for a scalar of rank 0).
inline std::size_t shape_size(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

/// "[2, 3]"; a scalar is "[]".
inline std::string to_string(const Shape& shape);

/// shape_size(shape) for a shape a user gave `op`; throws ShapeError when the element count
/// does not fit in size_t (a wrapped product would size a buffer smaller than the shape).
inline std::size_t checked_shape_size(std::string_view op, const Shape& shape) {
  if (std::find(shape.begin(), shape.end(), std::size_t(0)) != shape.end()) return 0;
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (n > SIZE_MAX / d) {
      throw ShapeError(std::string(op) + ": shape " + to_string(shape) + " has more elements than fit in size_t");
    }
    n *= d;
  }
  return n;
}

/// "[2, 3]"; a scalar is "[]".
inline std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

template <class Container>
Shape make_shape(const Container& dims) {
  return Shape(dims.begin(), dims.end());
}

inline Shape make_shape(std::initializer_list<std::size_t> dims) { return Shape(dims.begin(), dims.end()); }

/// The NumPy broadcast of two shapes; throws ShapeError naming `op` and both shapes.
inline Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const std::size_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      throw ShapeError(std::string(op) + ": cannot broadcast shapes " + to_string(a) + " and " + to_string(b) +
                       " (axis -" + std::to_string(i + 1) + ": " + std::to_string(da) + " vs " + std::to_string(db) +
                       "; sizes must be equal or 1)");
    }
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

/// True when `from` broadcasts to exactly `to` (NumPy rules, `to` unchanged).
inline bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (std::size_t i = 0; i < from.size(); ++i) {
    const std::size_t f = from[from.size() - 1 - i];
    const std::size_t t = to[to.size() - 1 - i];
    if (f != t && f != 1) return false;
  }
  return true;
}

/// Turns a possibly negative axis into [0, rank); throws ArgumentError naming `op`.
inline std::size_t normalize_axis(std::string_view op, std::ptrdiff_t axis, std::size_t rank) {
  const auto r = static_cast<std::ptrdiff_t>(rank);
  if (axis < -r || axis >= r) {
    throw ArgumentError(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                        std::to_string(rank) + " (expected " + std::to_string(-r) + " <= axis < " + std::to_string(r) +
                        ")");
  }
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

/// A set of axes as a bit mask: trivially copyable, so backward closures can capture it.
class AxisSet {
 public:
  static constexpr std::size_t max_rank = 64;
  AxisSet() = default;
  void insert(std::size_t axis) { m_bits |= std::uint64_t{1} << axis; }
  bool contains(std::size_t axis) const { return (m_bits >> axis) & 1U; }
  bool empty() const { return m_bits == 0; }
  static AxisSet all(std::size_t rank) {
    AxisSet s;
    for (std::size_t i = 0; i < rank; ++i) s.insert(i);
    return s;
  }

 private:
  std::uint64_t m_bits = 0;
};

/// Normalises a list of axes for `op` (negative allowed, duplicates rejected); an empty list
/// means every axis.
template <class Axes>
AxisSet normalize_axes(std::string_view op, const Axes& axes, std::size_t rank) {
  if (rank > AxisSet::max_rank) throw ArgumentError(std::string(op) + ": rank " + std::to_string(rank) + " is above 64");
  if (std::begin(axes) == std::end(axes)) return AxisSet::all(rank);
  AxisSet set;
  for (auto a_in : axes) {
    const auto a = static_cast<std::ptrdiff_t>(a_in);
    const std::size_t n = normalize_axis(op, a, rank);
    if (set.contains(n)) throw ArgumentError(std::string(op) + ": axis " + std::to_string(a) + " is listed twice");
    set.insert(n);
  }
  return set;
}

/// The shape left after reducing `axes`: reduced axes become 1 with keep_dims, else vanish.
inline Shape reduced_shape(const Shape& shape, AxisSet axes, bool keep_dims) {
  Shape out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (!axes.contains(i))
      out.push_back(shape[i]);
    else if (keep_dims)
      out.push_back(1);
  }
  return out;
}

}  // namespace vaelib
