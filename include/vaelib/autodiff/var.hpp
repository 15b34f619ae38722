#pragma once
// Var<T>: a cheap handle (tape pointer, node index, tape generation) to one node of a Tape.
// Copying a Var copies three words; the node's arrays stay on the tape. A handle outlives
// nothing: once its tape is cleared, using it throws TapeError.

#include <cstddef>
#include <cstdint>

#include "vaelib/autodiff/shape.hpp"
#include "vaelib/detail/xtensor.hpp"

namespace vaelib {

template <class T>
class Tape;

template <class T>
class Var {
 public:
  using value_type = T;

  /// An empty handle; any use of it throws TapeError.
  Var() = default;
  Var(Tape<T>* tape, std::uint32_t index, std::uint32_t generation)
      : m_tape(tape), m_index(index), m_generation(generation) {}

  /// The tape this handle points into; throws TapeError for an empty handle.
  Tape<T>& tape() const;
  bool empty() const noexcept { return m_tape == nullptr; }
  std::uint32_t index() const noexcept { return m_index; }
  std::uint32_t generation() const noexcept { return m_generation; }

  const Shape& shape() const;
  std::size_t size() const;
  std::size_t rank() const { return shape().size(); }
  /// Name of the op that produced this node ("constant", "variable", "add", ...).
  const char* op() const;
  bool requires_grad() const;

  /// Pointer to the node's contiguous row-major value; valid until the tape is cleared.
  const T* data() const;
  /// The value as a read-only xtensor adaptor of `shape()` (no copy).
  auto value() const { return xt::adapt(data(), size(), xt::no_ownership(), shape()); }
  /// The single element of a one-element tensor; throws ShapeError otherwise.
  T item() const;

  /// The gradient d root / d this from the last backward (zeros if this node did not
  /// contribute to the root). Throws TapeError if the node does not require a gradient.
  auto grad() const { return xt::adapt(static_cast<const T*>(grad_data()), size(), xt::no_ownership(), shape()); }
  const T* grad_data() const;

 private:
  Tape<T>* m_tape = nullptr;
  std::uint32_t m_index = 0;
  std::uint32_t m_generation = 0;
};

}  // namespace vaelib

#include "vaelib/autodiff/tape.hpp"
