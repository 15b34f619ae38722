#pragma once
// ParameterStore: every trainable array of a model, by name, in contiguous blocks, and its
// state buffers (arrays saved with the model but not trained: batch norm's running statistics).
// ParameterScope: a named prefix ("gen/h1/") under which model code gets or creates its
// parameters, so calling a model-building function again (other inputs, batch sizes,
// observations) reuses the same parameters: ZhuSuan's reuse_variables, by construction.
//
// Values and gradients live in a few large blocks (a new block only when the current one is
// full), so the optimiser updates everything in one vectorised pass per block and a
// parameter never moves once created: tape nodes may point at it.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/buffer.hpp"
#include "vaelib/error.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib {

/// Fills a new parameter's values. `rng` is a stream private to the parameter (derived from
/// the store's seed and the parameter's full name), so initial values do not depend on the
/// order in which parameters are created.
template <class T>
using Initializer = std::function<void(std::span<T> values, const Shape& shape, Rng& rng)>;

/// One named parameter: its place in the store and views of its value and gradient.
template <class T>
struct Parameter {
  std::string name;  // full name, scopes joined by '/'
  Shape shape;
  std::size_t size = 0;
  std::size_t block = 0;   // which storage block
  std::size_t offset = 0;  // element offset inside the block
  T* value = nullptr;
  T* grad = nullptr;

  auto value_view() const { return xt::adapt(value, size, xt::no_ownership(), shape); }
  auto grad_view() const { return xt::adapt(grad, size, xt::no_ownership(), shape); }
  /// A leaf on `tape` reading this parameter in place; backward adds into its gradient.
  Var<T> on(Tape<T>& tape) const { return tape.external(value, grad, shape); }
};

/// A named array of model state that is not trained (batch norm's running statistics): saved in
/// checkpoints beside the parameters, but outside the blocks, so optimisers never see it (no
/// gradient, no weight decay). Its value never moves once created.
template <class T>
struct StateBuffer {
  std::string name;  // full name, scopes joined by '/'
  xt::xarray<T> value;

  Shape shape() const { return Shape(value.shape().begin(), value.shape().end()); }
};

/// A contiguous block of parameter storage: values[0, used) and grads[0, used), parameters
/// packed at 64-byte boundaries (padding is zero and stays zero under every optimiser).
template <class T>
struct ParameterBlock {
  detail::Buffer<T> values;
  detail::Buffer<T> grads;
  std::size_t used = 0;
  std::size_t capacity = 0;
};

template <class T>
class ParameterScope;

template <class T>
class ParameterStore {
 public:
  static constexpr std::size_t default_block_elements = std::size_t{1} << 20;  // 4 MiB of float
  static constexpr std::size_t alignment_elements = 64 / sizeof(T);

  /// `block_elements`: the capacity of each storage block (parameters are packed into few
  /// blocks so optimisers update them in long passes); smaller suits tiny models.
  explicit ParameterStore(std::uint64_t seed = 0, std::size_t block_elements = default_block_elements)
      : m_rng(seed), m_block_elements(std::max<std::size_t>(block_elements, alignment_elements)) {}
  ParameterStore(const ParameterStore&) = delete;  // tape nodes and optimisers point into it
  ParameterStore& operator=(const ParameterStore&) = delete;

  /// The parameter called `name`, created with `shape` and `init` if it does not exist yet;
  /// if it exists, its shape must equal `shape` (ShapeError naming both otherwise).
  Parameter<T>& get_or_create(std::string_view name, const Shape& shape, const Initializer<T>& init) {
    if (Parameter<T>* p = find(name)) {
      if (p->shape != shape) {
        throw ShapeError("parameter '" + std::string(name) + "': requested with shape " + to_string(shape) +
                         " but it exists with shape " + to_string(p->shape) +
                         " (a reused parameter must keep its shape)");
      }
      return *p;
    }
    check_name(name);
    Parameter<T>& p = allocate(name, shape);
    if (init) {
      Rng stream = m_rng.stream(name);
      init(std::span<T>(p.value, p.size), p.shape, stream);
    } else {
      std::fill_n(p.value, p.size, T(0));
    }
    return p;
  }

  /// Creates `name` holding a copy of `values` (used when loading checkpoints).
  Parameter<T>& create_from(std::string_view name, const Shape& shape, std::span<const T> values) {
    if (find(name) != nullptr) throw ArgumentError("parameter '" + std::string(name) + "' already exists");
    check_name(name);
    if (values.size() != shape_size(shape)) {
      throw ShapeError("parameter '" + std::string(name) + "': " + std::to_string(values.size()) +
                       " values given for shape " + to_string(shape));
    }
    Parameter<T>& p = allocate(name, shape);
    std::copy(values.begin(), values.end(), p.value);
    return p;
  }

  /// The state buffer called `name`, created with `shape` and `init` (zeros when empty) if it
  /// does not exist yet; if it exists, its shape must equal `shape`. Buffers have names of their
  /// own: a buffer and a parameter may share one.
  StateBuffer<T>& get_or_create_buffer(std::string_view name, const Shape& shape, const Initializer<T>& init) {
    if (StateBuffer<T>* b = find_buffer(name)) {
      if (b->shape() != shape) {
        throw ShapeError("state buffer '" + std::string(name) + "': requested with shape " + to_string(shape) +
                         " but it exists with shape " + to_string(b->shape()) + " (a reused buffer must keep its shape)");
      }
      return *b;
    }
    check_name(name);
    StateBuffer<T>& b = allocate_buffer(name, shape);
    if (init) {
      Rng stream = m_rng.stream(name);
      init(std::span<T>(b.value.data(), b.value.size()), shape, stream);
    }
    return b;
  }

  /// Creates the buffer `name` holding a copy of `values` (used when loading checkpoints).
  StateBuffer<T>& create_buffer_from(std::string_view name, const Shape& shape, std::span<const T> values) {
    if (find_buffer(name) != nullptr) throw ArgumentError("state buffer '" + std::string(name) + "' already exists");
    check_name(name);
    if (values.size() != shape_size(shape)) {
      throw ShapeError("state buffer '" + std::string(name) + "': " + std::to_string(values.size()) +
                       " values given for shape " + to_string(shape));
    }
    StateBuffer<T>& b = allocate_buffer(name, shape);
    std::copy(values.begin(), values.end(), b.value.data());
    return b;
  }

  StateBuffer<T>* find_buffer(std::string_view name) {
    auto it = m_buffer_index.find(name);
    return it == m_buffer_index.end() ? nullptr : m_buffers[it->second].get();
  }
  const StateBuffer<T>* find_buffer(std::string_view name) const {
    auto it = m_buffer_index.find(name);
    return it == m_buffer_index.end() ? nullptr : m_buffers[it->second].get();
  }

  /// State buffers in creation order.
  std::span<const std::unique_ptr<StateBuffer<T>>> buffers() const noexcept { return m_buffers; }

  Parameter<T>* find(std::string_view name) {
    auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : m_parameters[it->second].get();
  }
  const Parameter<T>* find(std::string_view name) const {
    auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : m_parameters[it->second].get();
  }

  /// The parameter called `name`; throws ArgumentError naming it (and the known ones) if absent.
  Parameter<T>& at(std::string_view name) {
    if (Parameter<T>* p = find(name)) return *p;
    std::string known;
    for (const auto& q : m_parameters) known += (known.empty() ? "" : ", ") + q->name;
    throw ArgumentError("parameter '" + std::string(name) + "' does not exist (parameters: " +
                        (known.empty() ? std::string("none") : known) + ")");
  }

  /// A scope: parameters got through it are named "<name>/<parameter>".
  ParameterScope<T> scope(std::string_view name);

  /// Parameters in creation order.
  auto begin() const { return m_parameters.begin(); }
  auto end() const { return m_parameters.end(); }
  std::size_t size() const noexcept { return m_parameters.size(); }
  /// Total number of scalars over all parameters.
  std::size_t count() const noexcept {
    std::size_t n = 0;
    for (const auto& p : m_parameters) n += p->size;
    return n;
  }

  /// Zeroes every gradient (one pass per block, split over the BLAS's threads).
  void zero_grad() {
    for (auto& b : m_blocks) {
      T* grads = b->grads.data();
      detail::parallel_for(b->used, detail::parallel_grain,
                           [grads](std::size_t begin, std::size_t end) { std::fill(grads + begin, grads + end, T(0)); });
    }
  }

  std::span<const std::unique_ptr<ParameterBlock<T>>> blocks() const { return m_blocks; }

  /// The generator the store derives initialisation streams from.
  Rng& rng() noexcept { return m_rng; }

  /// Whether `name` can name a parameter: non-empty scope parts joined by '/'.
  static bool is_valid_name(std::string_view name) noexcept {
    return !name.empty() && name.front() != '/' && name.back() != '/' && name.find("//") == std::string_view::npos;
  }

 private:
  static void check_name(std::string_view name) {
    if (!is_valid_name(name)) {
      throw ArgumentError("parameter name '" + std::string(name) +
                          "' is invalid (expected non-empty scope parts joined by '/')");
    }
  }

  Parameter<T>& allocate(std::string_view name, const Shape& shape) {
    const std::size_t size = shape_size(shape);
    const std::size_t padded = (size + alignment_elements - 1) / alignment_elements * alignment_elements;
    if (m_blocks.empty() || m_blocks.back()->capacity - m_blocks.back()->used < padded) {
      auto block = std::make_unique<ParameterBlock<T>>();
      block->capacity = std::max(m_block_elements, padded);
      block->values.ensure(block->capacity);
      block->grads.ensure(block->capacity);
      m_blocks.push_back(std::move(block));
    }
    ParameterBlock<T>& b = *m_blocks.back();
    auto p = std::make_unique<Parameter<T>>();
    p->name = std::string(name);
    p->shape = shape;
    p->size = size;
    p->block = m_blocks.size() - 1;
    p->offset = b.used;
    p->value = b.values.data() + b.used;
    p->grad = b.grads.data() + b.used;
    std::fill_n(p->value, padded, T(0));
    std::fill_n(p->grad, padded, T(0));
    b.used += padded;
    m_index.emplace(p->name, m_parameters.size());
    m_parameters.push_back(std::move(p));
    return *m_parameters.back();
  }

  StateBuffer<T>& allocate_buffer(std::string_view name, const Shape& shape) {
    auto b = std::make_unique<StateBuffer<T>>();
    b->name = std::string(name);
    b->value = xt::zeros<T>(shape);
    m_buffer_index.emplace(b->name, m_buffers.size());
    m_buffers.push_back(std::move(b));
    return *m_buffers.back();
  }

  std::vector<std::unique_ptr<Parameter<T>>> m_parameters;
  std::map<std::string, std::size_t, std::less<>> m_index;
  std::vector<std::unique_ptr<StateBuffer<T>>> m_buffers;
  std::map<std::string, std::size_t, std::less<>> m_buffer_index;
  std::vector<std::unique_ptr<ParameterBlock<T>>> m_blocks;
  Rng m_rng;
  std::size_t m_block_elements;
};

/// A named prefix into a ParameterStore. Cheap to create and copy (the prefix is stored
/// inline), so model code may open scopes on every step without allocating.
template <class T>
class ParameterScope {
 public:
  static constexpr std::size_t max_name = 255;

  ParameterScope(ParameterStore<T>& store, std::string_view prefix) : m_store(&store) { append(prefix); }

  /// A nested scope: "<this prefix>/<name>".
  ParameterScope scope(std::string_view name) const {
    ParameterScope child = *this;
    child.append(name);
    return child;
  }

  /// get_or_create of "<prefix>/<name>".
  Parameter<T>& get(std::string_view name, const Shape& shape, const Initializer<T>& init) const {
    ParameterScope full = scope(name);
    return m_store->get_or_create(full.prefix(), shape, init);
  }

  /// get_or_create_buffer of "<prefix>/<name>".
  StateBuffer<T>& buffer(std::string_view name, const Shape& shape, const Initializer<T>& init = {}) const {
    ParameterScope full = scope(name);
    return m_store->get_or_create_buffer(full.prefix(), shape, init);
  }

  std::string_view prefix() const { return std::string_view(m_name.data(), m_length); }
  ParameterStore<T>& store() const { return *m_store; }

 private:
  void append(std::string_view part) {
    if (part.empty()) throw ArgumentError("parameter scope: an empty scope name under '" + std::string(prefix()) + "'");
    const std::size_t extra = part.size() + (m_length > 0 ? 1 : 0);
    if (m_length + extra > max_name) {
      throw ArgumentError("parameter scope: the name '" + std::string(prefix()) + (m_length > 0 ? "/" : "") +
                          std::string(part) + "' is longer than 255 characters");
    }
    if (m_length > 0) m_name[m_length++] = '/';
    std::copy(part.begin(), part.end(), m_name.data() + m_length);
    m_length += part.size();
  }

  ParameterStore<T>* m_store;
  std::array<char, max_name> m_name{};
  std::size_t m_length = 0;
};

template <class T>
ParameterScope<T> ParameterStore<T>::scope(std::string_view name) {
  return ParameterScope<T>(*this, name);
}

}  // namespace vaelib
