#pragma once
// gather: entries of x picked along one axis by an array of integer indices (NumPy's
// take(x, index, axis), PyTorch's index_select for a vector of indices): random effects
// looked up per observation (alpha[group[n]]), embeddings, a permutation. Its adjoint is
// scatter_add (scatter_add.hpp), which is also its backward.

#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "vaelib/autodiff/detail/axis_view.hpp"
#include "vaelib/autodiff/tape.hpp"

namespace vaelib {
namespace detail {

/// The indices a gather or scatter_add keeps in its tape record (op_cache) for its backward:
/// flat, checked, kept across steps (the next step's assign reuses the storage).
struct IndexCache {
  std::vector<std::size_t> index;
};

/// Refuses any entry of `index` outside [0, axis_size) with an ArgumentError naming the op, the
/// index, its flat position, the axis and its size.
template <class E>
void check_indices(const char* op, const E& index, std::ptrdiff_t axis, std::size_t axis_size) {
  std::size_t position = 0;
  for (const auto v : index) {
    bool negative = false;
    if constexpr (std::is_signed_v<std::decay_t<decltype(v)>>) negative = v < 0;
    if (negative || static_cast<std::size_t>(v) >= axis_size) {
      throw ArgumentError(std::string(op) + ": index " + std::to_string(v) + " (at flat position " +
                          std::to_string(position) + " of the index array) is out of range for axis " +
                          std::to_string(axis) + " of size " + std::to_string(axis_size) + " (expected 0 <= index < " +
                          std::to_string(axis_size) + ")");
    }
    ++position;
  }
}

/// Keeps `index` (checked) in the record's IndexCache, reusing its storage, and returns it.
template <class T, class E>
const std::vector<std::size_t>& keep_indices(TapeRecord<T>& record, const E& index) {
  std::vector<std::size_t>& kept = op_cache<IndexCache>(record).index;
  kept.resize(index.size());
  std::size_t position = 0;
  for (const auto v : index) kept[position++] = static_cast<std::size_t>(v);
  return kept;
}

/// `shape` with axes [axis, axis + replaced) replaced by `middle`.
inline Shape splice_shape(const Shape& shape, std::size_t axis, std::size_t replaced, const Shape& middle) {
  Shape out(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), middle.begin(), middle.end());
  out.insert(out.end(), shape.begin() + static_cast<std::ptrdiff_t>(axis + replaced), shape.end());
  return out;
}

}  // namespace detail

/// forward:  y[o..., j..., i...] = x[o..., index[j...], i...] for x [O..., n, I...] and an
///           integer array index [J...] (any rank, entries in [0, n)): y [O..., J..., I...].
///           An index outside [0, n) throws ArgumentError naming it, its position and n.
/// backward: dx[o..., index[j...], i...] += dy[o..., j..., i...]  (repeated indices add up)
template <class T, class E>
requires std::integral<typename E::value_type> Var<T> gather(const Var<T>& x, std::ptrdiff_t axis,
                                                             const xt::xexpression<E>& index) {
  Tape<T>& tape = x.tape();
  tape.check_handle("gather", x);
  const std::size_t ax = normalize_axis("gather", axis, x.rank());
  const auto& idx = index.derived_cast();
  const Shape index_shape(idx.shape().begin(), idx.shape().end());
  const detail::AxisView v = detail::axis_view(x.shape(), ax);
  detail::check_indices("gather", idx, axis, v.n);  // before the node exists: a refusal records nothing
  const Var<T> y = tape.make_node("gather", detail::splice_shape(x.shape(), ax, 1, index_shape), {x});
  const std::vector<std::size_t>& kept = detail::keep_indices(tape.node(y), idx);
  const std::size_t m = kept.size();
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t j = 0; j < m; ++j) {
      const T* src = in + (o * v.n + kept[j]) * v.inner;
      T* dst = out + (o * m + j) * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) dst[i] = src[i];
    }
  tape.set_backward(y, [x, ax](Tape<T>& t, TapeRecord<T>& self) {
    const std::vector<std::size_t>& at = op_cache<detail::IndexCache>(self).index;
    const detail::AxisView w = detail::axis_view(t.node(x).shape, ax);
    const std::size_t count = at.size();
    T* g = t.grad_target_zeroed(x);
    for (std::size_t o = 0; o < w.outer; ++o)
      for (std::size_t j = 0; j < count; ++j) {
        const T* dy = self.grad + (o * count + j) * w.inner;
        T* dst = g + (o * w.n + at[j]) * w.inner;
        for (std::size_t i = 0; i < w.inner; ++i) dst[i] += dy[i];
      }
  });
  return y;
}

}  // namespace vaelib
