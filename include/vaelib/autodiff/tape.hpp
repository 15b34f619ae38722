#pragma once
// Tape<T>: the reverse-mode autodiff record. Each op appends a node holding its value, its
// inputs and a backward closure; backward(root) runs the closures once, from the root down
// to the first node, in one loop (no recursion, so a million nodes are fine).
//
// Nodes and their buffers survive clear(): the next step with the same shapes reuses them,
// so a steady-state training step allocates nothing. Handles carry the tape's generation,
// bumped by clear(), so a stale handle is an error rather than a silent read of new data.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "vaelib/autodiff/detail/op_cache.hpp"
#include "vaelib/autodiff/shape.hpp"
#include "vaelib/autodiff/var.hpp"
#include "vaelib/detail/buffer.hpp"
#include "vaelib/detail/finite.hpp"
#include "vaelib/detail/inline_function.hpp"
#include "vaelib/detail/xtensor.hpp"
#include "vaelib/error.hpp"

namespace vaelib {

template <class T>
class Tape;

/// One recorded value: a node of the tape (BayesianNet's nodes are another thing). Op
/// authors read `value`, `grad`, `shape` and `inputs`; everything else is bookkeeping.
template <class T>
struct TapeRecord {
  /// Backward closures are called with the tape and the node they belong to.
  using Backward = detail::InlineFunction<void(Tape<T>&, TapeRecord&), 96>;

  const char* op = "";                // static name of the op, for messages
  Shape shape;                        // row-major, contiguous
  std::size_t size = 0;               // shape_size(shape)
  T* value = nullptr;                 // value_storage, another node's value (alias) or user memory
  T* grad = nullptr;                  // valid when grad_written; grad_storage or user memory
  std::vector<std::uint32_t> inputs;  // indices of the nodes this one was computed from
  Backward backward;                  // empty for leaves and nodes that need no gradient
  bool requires_grad = false;
  bool grad_written = false;  // the current backward sweep has written `grad`
  bool external_grad = false; // `grad` is user memory (a parameter): always accumulated into
  bool value_checked = false; // anomaly mode has found `value` finite
  std::uint32_t generation = 0;  // the tape generation this node was recorded in (handles must match)
  detail::Buffer<T> value_storage;
  detail::Buffer<T> grad_storage;
  detail::Buffer<T> scratch;  // per-op workspace kept across steps (`scratch.ensure(n)`)
  detail::OpCache cache;      // one object of the op's own type, kept across steps (op_cache())
};

/// The object of type U that `record`'s op keeps in it across steps: a workspace more
/// structured than `scratch` (linear() keeps its input's nonzeros there). Value-initialised
/// on the op's first use of the record and kept across clear(), so a step that records the
/// same ops again finds it in place and allocates nothing.
template <class U, class T>
U& op_cache(TapeRecord<T>& record) {
  return record.cache.template get<U>();
}

/// Where a backward closure writes an input's gradient: assign on the first write of a
/// sweep (`accumulate == false`), add afterwards.
template <class T>
struct GradTarget {
  T* data;
  bool accumulate;
};

template <class T>
class Tape {
 public:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "vaelib tapes hold float or double");
  using value_type = T;

  Tape() = default;
  Tape(const Tape&) = delete;  // handles point at the tape: it never moves
  Tape& operator=(const Tape&) = delete;

  // ---- leaves ---------------------------------------------------------------------------

  /// A copy of `e` that needs no gradient (data, targets, noise).
  template <class E>
  Var<T> constant(const E& e) {
    return leaf_copy("constant", e, false);
  }
  /// A rank-0 constant (written in place: no temporary array).
  Var<T> constant(T scalar) {
    TapeRecord<T>& n = push_node("constant");
    n.shape.clear();
    n.size = 1;
    n.value = n.value_storage.ensure(1);
    n.value[0] = scalar;
    return handle_of_last();
  }

  /// A constant of `shape` with every element `value` (a prior's zero mean, say). Filled in
  /// the node's own buffer, so a step that asks for the same shape again allocates nothing.
  Var<T> full(const Shape& shape, T value) {
    const std::size_t size = checked_shape_size("full", shape);
    TapeRecord<T>& n = push_node("full");
    n.shape = shape;
    n.size = size;
    n.value = n.value_storage.ensure(size);
    std::fill_n(n.value, size, value);
    return handle_of_last();
  }
  /// full(shape, 0).
  Var<T> zeros(const Shape& shape) { return full(shape, T(0)); }

  /// A copy of `e` whose gradient is kept on the tape (read it with `grad()`).
  template <class E>
  Var<T> variable(const E& e) {
    return leaf_copy("variable", e, true);
  }

  /// A parameter living in user memory: no copy of the value, and backward *adds* into
  /// `grad` (zero it between steps, as an optimiser does). Shapes must match.
  Var<T> parameter(const xt::xarray<T>& value, xt::xarray<T>& grad) {
    const Shape vs(value.shape().begin(), value.shape().end());
    const Shape gs(grad.shape().begin(), grad.shape().end());
    if (vs != gs) {
      throw ShapeError("parameter: value shape " + to_string(vs) + " and gradient shape " + to_string(gs) +
                       " differ (expected equal shapes)");
    }
    return external(value.data(), grad.data(), vs);
  }

  /// A leaf over user memory (row-major, `shape_size(shape)` elements, alive until
  /// clear()). With `grad == nullptr` it is a constant; otherwise backward adds into `grad`.
  Var<T> external(const T* value, T* grad, const Shape& shape) {
    if (m_parameters_frozen) grad = nullptr;  // see freeze_parameters()
    TapeRecord<T>& n = push_node(grad != nullptr ? "parameter" : "constant");
    n.shape = shape;
    n.size = shape_size(shape);
    n.value = const_cast<T*>(value);  // never written: only op outputs are
    n.requires_grad = grad != nullptr;
    n.external_grad = grad != nullptr;
    n.grad = grad;
    return handle_of_last();
  }

  // ---- the sweep ------------------------------------------------------------------------

  /// Computes d root / d node for every node the root depends on, in one reverse sweep.
  void backward(const Var<T>& root) { backward(root, NoCallback{}); }

  /// backward(root), calling `on_final(grad, size)` once for each stretch of user gradient
  /// memory (parameters, see external()) as soon as the sweep has finished writing it: when
  /// it passes the lowest-numbered node recorded on that memory, every op that read the
  /// parameter has run its backward. An optimiser updates the parameter there, while its
  /// gradient is still in cache (Optimizer::minimize). Nodes recorded on overlapping memory
  /// count as one stretch. The parameter's value may change in the callback: no node the
  /// sweep has yet to visit reads it.
  template <class OnFinal>
  void backward(const Var<T>& root, OnFinal&& on_final) {
    check_handle("backward", root);
    TapeRecord<T>& r = at(root.index());
    if (r.size != 1) {
      throw TapeError("backward: the root must be a scalar (one element), got shape " + to_string(r.shape) +
                      " from op '" + r.op + "'; reduce it first, e.g. with sum() or mean()");
    }
    if (!r.requires_grad) {
      throw TapeError("backward: the root (op '" + std::string(r.op) +
                      "') does not depend on any variable or parameter that requires a gradient");
    }
    if (m_detect_anomaly) check_forward_values(root.index() + 1);
    for (std::size_t i = 0; i < m_size; ++i) at(i).grad_written = false;
    if constexpr (std::is_same_v<std::decay_t<OnFinal>, NoCallback>) {
      m_external_final.clear();  // nobody to call: skip the scan
    } else {
      find_external_gradients(root.index());
    }
    auto next_final = m_external_final.begin();  // ordered from the highest node down
    const GradTarget<T> seed = grad_target(root);
    seed.data[0] = seed.accumulate ? seed.data[0] + T(1) : T(1);
    for (std::size_t i = root.index() + 1; i-- > 0;) {
      TapeRecord<T>& n = at(i);
      if (n.grad_written && n.backward) {
        n.backward(*this, n);
        if (m_detect_anomaly) check_input_gradients(i);
      }
      for (; next_final != m_external_final.end() && next_final->first_node == i; ++next_final) {
        on_final(next_final->grad, next_final->size);
      }
    }
  }

  // ---- anomaly detection ----------------------------------------------------------------

  /// Opt-in (like PyTorch's detect_anomaly): each op checks its inputs' values as it is
  /// recorded, backward() checks every forward value up to the root and then every
  /// gradient each backward closure writes, and they throw
  /// NumericalError at the first NaN or infinity, naming the op and node it appeared in,
  /// before any parameter gradient is handed to an optimiser. It costs a pass over every
  /// value and gradient, so it is off by default.
  void detect_anomaly(bool on) noexcept { m_detect_anomaly = on; }
  bool detecting_anomaly() const noexcept { return m_detect_anomaly; }

  /// Checks the forward values of every node recorded so far (for evaluation code that
  /// never calls backward); throws NumericalError as backward() does in anomaly mode.
  void check_finite() const { check_forward_values(m_size); }

  /// Forgets every node (handles become stale) but keeps their buffers for the next step.
  void clear() noexcept {
    m_size = 0;
    ++m_generation;
    ++m_clears;
  }

  /// The tape's length now, to rewind() to later.
  struct Mark {
    std::size_t size;
    std::uint64_t clears;
  };
  Mark mark() const noexcept { return {m_size, m_clears}; }

  /// Forgets the nodes recorded after `mark` (their handles become stale) and keeps the
  /// earlier ones valid: a loop that records a bounded piece of work per iteration (chunks of
  /// importance samples, say) reuses the same node buffers instead of growing the tape.
  void rewind(const Mark& mark) {
    if (mark.clears != m_clears || mark.size > m_size) {
      throw TapeError("rewind: the mark is not from the tape's current recording (it was cleared or rewound past it)");
    }
    m_size = mark.size;
    ++m_generation;  // nodes recorded from here on get handles that old ones cannot match
  }

  /// Number of nodes recorded since the last clear().
  std::size_t size() const noexcept { return m_size; }
  std::uint32_t generation() const noexcept { return m_generation; }

  // ---- no_grad --------------------------------------------------------------------------

  class NoGradGuard {
   public:
    explicit NoGradGuard(Tape& tape) : m_tape(tape), m_previous(tape.m_grad_enabled) { tape.m_grad_enabled = false; }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;
    ~NoGradGuard() { m_tape.m_grad_enabled = m_previous; }

   private:
    Tape& m_tape;
    bool m_previous;
  };

  /// While the returned guard lives, ops record no backward closures (evaluation, sampling).
  [[nodiscard]] NoGradGuard no_grad() { return NoGradGuard(*this); }
  bool grad_enabled() const noexcept { return m_grad_enabled; }

  class FrozenParametersGuard {
   public:
    explicit FrozenParametersGuard(Tape& tape)
        : m_tape(tape), m_previous_frozen(tape.m_parameters_frozen), m_previous_grad(tape.m_grad_enabled) {
      tape.m_parameters_frozen = true;
      tape.m_grad_enabled = true;
    }
    FrozenParametersGuard(const FrozenParametersGuard&) = delete;
    FrozenParametersGuard& operator=(const FrozenParametersGuard&) = delete;
    ~FrozenParametersGuard() {
      m_tape.m_parameters_frozen = m_previous_frozen;
      m_tape.m_grad_enabled = m_previous_grad;
    }

   private:
    Tape& m_tape;
    bool m_previous_frozen, m_previous_grad;
  };

  /// While the returned guard lives, parameters (external() leaves given gradient memory) are
  /// recorded as constants, and gradients are recorded (even inside no_grad()): backward then
  /// differentiates with respect to variables only. For samplers that move the inputs of a
  /// trained model (AIS's HMC on a decoder's latents): the weight-gradient GEMMs are skipped
  /// and the parameters' gradient memory is left untouched.
  [[nodiscard]] FrozenParametersGuard freeze_parameters() { return FrozenParametersGuard(*this); }
  bool parameters_frozen() const noexcept { return m_parameters_frozen; }

  // ---- for op authors -------------------------------------------------------------------

  /// Appends the output node of `op` with a fresh (uninitialised) value buffer of `shape`.
  /// It requires a gradient when any input does and grad mode is on.
  Var<T> make_node(const char* op, const Shape& shape, std::initializer_list<Var<T>> inputs) {
    return make_node(op, shape, std::span<const Var<T>>(inputs.begin(), inputs.size()));
  }

  Var<T> make_node(const char* op, const Shape& shape, std::span<const Var<T>> inputs) {
    bool requires_grad = false;
    for (const Var<T>& in : inputs) {
      check_handle(op, in);
      requires_grad = requires_grad || at(in.index()).requires_grad;
      if (m_detect_anomaly) check_forward_value(in.index());  // complete once an op consumes it
    }
    TapeRecord<T>& n = push_node(op);
    n.shape = shape;
    n.size = shape_size(shape);
    n.value = n.value_storage.ensure(n.size);
    n.requires_grad = requires_grad && m_grad_enabled;
    for (const Var<T>& in : inputs) n.inputs.push_back(in.index());
    return handle_of_last();
  }

  /// Appends a node whose value *is* `source`'s value seen with `shape` (same size): no copy.
  Var<T> make_alias(const char* op, const Var<T>& source, const Shape& shape, bool differentiable) {
    check_handle(op, source);
    if (m_detect_anomaly) check_forward_value(source.index());
    TapeRecord<T>& src = at(source.index());
    T* value = src.value;
    const bool requires_grad = differentiable && src.requires_grad && m_grad_enabled;
    TapeRecord<T>& n = push_node(op);
    n.shape = shape;
    n.size = shape_size(shape);
    n.value = value;
    n.requires_grad = requires_grad;
    n.inputs.push_back(source.index());
    return handle_of_last();
  }

  /// Stores the backward closure of `out` (only if it requires a gradient). The closure is
  /// called as f(tape, out_node) and must capture handles and scalars only.
  template <class F>
  void set_backward(const Var<T>& out, const F& f) {
    TapeRecord<T>& n = at(out.index());
    if (n.requires_grad) n.backward.assign(f);
  }

  /// The node behind a handle, after checking that the handle is current and ours.
  TapeRecord<T>& node(const Var<T>& v) {
    check_handle("tape", v);
    return at(v.index());
  }
  const TapeRecord<T>& node(const Var<T>& v) const {
    check_handle("tape", v);
    return at(v.index());
  }

  T* value_ptr(const Var<T>& v) { return at(v.index()).value; }

  /// The handle of the recorded node at `index` (for backward closures walking `inputs`).
  Var<T> handle(std::uint32_t index) const { return Var<T>(const_cast<Tape*>(this), index, at(index).generation); }

  /// Where backward writes `x`'s gradient this sweep (see GradTarget).
  GradTarget<T> grad_target(const Var<T>& x) {
    TapeRecord<T>& n = at(x.index());
    if (n.external_grad) {
      n.grad_written = true;
      return {n.grad, true};
    }
    if (!n.grad_written) {
      n.grad = n.grad_storage.ensure(n.size);
      n.grad_written = true;
      return {n.grad, false};
    }
    return {n.grad, true};
  }

  /// Like grad_target, but zero-filled on the first write: for ops whose backward touches
  /// only part of the input (slice, max).
  T* grad_target_zeroed(const Var<T>& x) {
    const GradTarget<T> g = grad_target(x);
    if (!g.accumulate) std::fill_n(g.data, at(x.index()).size, T(0));
    return g.data;
  }

  /// Throws TapeError unless `v` is a current handle of this tape.
  // Every op and every Var accessor checks its handles: the test is inlined, the message is
  // built out of line (a cold path kept out of the callers' frames).
  void check_handle(const char* op, const Var<T>& v) const {
    if (!v.empty() && &v.tape() == this && v.index() < m_size && at(v.index()).generation == v.generation()) [[likely]]
      return;
    throw_bad_handle(op, v);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void throw_bad_handle(const char* op, const Var<T>& v) const {
    if (v.empty()) throw TapeError(std::string(op) + ": an operand is an empty Var handle (default-constructed)");
    if (&v.tape() != this) {
      throw TapeError(std::string(op) + ": operands belong to different tapes; every operand must come from the tape "
                                        "the op records on");
    }
    if (v.index() >= m_size || at(v.index()).generation != v.generation()) {
      throw TapeError(std::string(op) + ": an operand is a stale handle (node " + std::to_string(v.index()) +
                      " of tape generation " + std::to_string(v.generation()) +
                      "; the tape was cleared or rewound and is at generation " + std::to_string(m_generation) + ")");
    }
    throw TapeError(std::string(op) + ": an operand is an invalid Var handle");  // unreachable: one test above failed
  }

  /// Gradient of a node after backward; zero-filled if the sweep did not reach it.
  const T* grad_of(const Var<T>& v) {
    check_handle("grad", v);
    TapeRecord<T>& n = at(v.index());
    if (!n.requires_grad) {
      throw TapeError(std::string("grad: node ") + std::to_string(v.index()) + " (op '" + n.op + "', shape " +
                      to_string(n.shape) + ") does not require a gradient");
    }
    if (!n.grad_written && !n.external_grad) {
      n.grad = n.grad_storage.ensure(n.size);
      std::fill_n(n.grad, n.size, T(0));
    }
    return n.grad;
  }

 private:
  static constexpr std::size_t chunk_bits = 10;
  static constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;

  TapeRecord<T>& at(std::size_t i) { return m_chunks[i >> chunk_bits][i & (chunk_size - 1)]; }
  const TapeRecord<T>& at(std::size_t i) const { return m_chunks[i >> chunk_bits][i & (chunk_size - 1)]; }

  TapeRecord<T>& push_node(const char* op) {
    if (m_size == std::size_t{UINT32_MAX}) throw TapeError("tape: more than 2^32 - 1 nodes recorded without clear()");
    if (m_size == m_chunks.size() * chunk_size) m_chunks.push_back(std::make_unique<TapeRecord<T>[]>(chunk_size));
    TapeRecord<T>& n = at(m_size++);
    n.op = op;
    n.grad = nullptr;
    n.inputs.clear();
    n.backward.reset();
    n.requires_grad = false;
    n.grad_written = false;
    n.external_grad = false;
    n.value_checked = false;
    n.generation = m_generation;
    return n;
  }

  /// backward(root)'s callback: none.
  struct NoCallback {
    void operator()(T*, std::size_t) const noexcept {}
  };

  /// A stretch of user gradient memory and the lowest node recorded on it.
  struct ExternalGradient {
    T* grad;
    std::size_t size;
    std::size_t first_node;
  };

  /// Fills m_external_final with the user gradient memory of nodes 0..root, overlapping
  /// stretches merged, ordered by first node from the highest down (the sweep's order).
  void find_external_gradients(std::size_t root) {
    m_external_final.clear();
    for (std::size_t i = 0; i <= root; ++i) {
      const TapeRecord<T>& n = at(i);
      if (n.external_grad && n.size > 0) m_external_final.push_back({n.grad, n.size, i});
    }
    const std::less<const T*> before;
    std::sort(m_external_final.begin(), m_external_final.end(),
              [&](const ExternalGradient& a, const ExternalGradient& b) { return before(a.grad, b.grad); });
    std::size_t merged = 0;
    for (const ExternalGradient& e : m_external_final) {
      ExternalGradient* last = merged > 0 ? &m_external_final[merged - 1] : nullptr;
      if (last != nullptr && before(e.grad, last->grad + last->size)) {  // overlaps: one stretch
        const T* end = std::max(last->grad + last->size, e.grad + e.size, before);
        last->size = static_cast<std::size_t>(end - last->grad);
        last->first_node = std::min(last->first_node, e.first_node);
      } else {
        m_external_final[merged++] = e;
      }
    }
    m_external_final.resize(merged);
    std::sort(m_external_final.begin(), m_external_final.end(),
              [](const ExternalGradient& a, const ExternalGradient& b) { return a.first_node > b.first_node; });
  }

  Var<T> handle_of_last() { return Var<T>(this, static_cast<std::uint32_t>(m_size - 1), m_generation); }

  std::string describe(std::size_t i) const {
    const TapeRecord<T>& n = at(i);
    return "node " + std::to_string(i) + " (op '" + n.op + "', shape " + to_string(n.shape) + ")";
  }

  // A node's inputs are checked before it is recorded (and all nodes in recording order
  // before backward), so the first one reported is where the value first appeared: its
  // inputs were finite (a leaf: the data put on the tape).
  void check_forward_value(std::size_t i) const {
    const TapeRecord<T>& n = at(i);
    if (n.value_checked) return;
    const std::size_t k = detail::first_non_finite(n.value, n.size);
    if (k == n.size) {
      const_cast<TapeRecord<T>&>(n).value_checked = true;  // a cache: the value itself is untouched
      return;
    }
    const bool leaf = n.inputs.empty();
    throw NumericalError("anomaly: " + detail::describe_non_finite(n.value[k]) + " in the forward value of " + describe(i) +
                         " at element " + std::to_string(k) +
                         (leaf ? std::string("; it is a leaf: the data or parameters given to the tape hold it")
                               : std::string("; its inputs are finite, so op '") + n.op + "' produced it"));
  }
  void check_forward_values(std::size_t end) const {
    for (std::size_t i = 0; i < end; ++i) check_forward_value(i);
  }
  void check_input_gradients(std::size_t i) const {
    const TapeRecord<T>& n = at(i);
    for (const std::uint32_t j : n.inputs) {
      const TapeRecord<T>& in = at(j);
      if (!in.grad_written || in.grad == nullptr) continue;
      const std::size_t k = detail::first_non_finite(in.grad, in.size);
      if (k == in.size) continue;
      throw NumericalError("anomaly: " + detail::describe_non_finite(in.grad[k]) + " in the gradient of " + describe(j) +
                           " at element " + std::to_string(k) + ", written by the backward of " + describe(i) +
                           (detail::first_non_finite(n.grad, n.size) == n.size ? std::string(" from a finite output gradient")
                                                                        : std::string(" (its output gradient is not finite)")));
    }
  }

  template <class E>
  Var<T> leaf_copy(const char* op, const E& e, bool requires_grad) {
    const auto& expr = e;
    Shape shape(expr.shape().begin(), expr.shape().end());
    TapeRecord<T>& n = push_node(op);
    n.shape = shape;
    n.size = shape_size(shape);
    n.value = n.value_storage.ensure(n.size);
    n.requires_grad = requires_grad;
    auto dst = xt::adapt(n.value, n.size, xt::no_ownership(), n.shape);
    xt::noalias(dst) = expr;
    return handle_of_last();
  }

  std::vector<std::unique_ptr<TapeRecord<T>[]>> m_chunks;
  std::vector<ExternalGradient> m_external_final;  // backward's workspace, kept across steps
  std::size_t m_size = 0;
  std::uint32_t m_generation = 0;
  std::uint64_t m_clears = 0;  // clear() calls, so a mark from before a clear is refused
  bool m_grad_enabled = true;
  bool m_parameters_frozen = false;
  bool m_detect_anomaly = false;
};

// ---- Var members that need the tape -----------------------------------------------------

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_empty_var_handle() {
  throw TapeError("Var: empty handle (default-constructed) used");
}

template <class T>
Tape<T>& Var<T>::tape() const {
  if (m_tape == nullptr) [[unlikely]]
    throw_empty_var_handle();
  return *m_tape;
}
template <class T>
const Shape& Var<T>::shape() const {
  return tape().node(*this).shape;
}
template <class T>
std::size_t Var<T>::size() const {
  return tape().node(*this).size;
}
template <class T>
const char* Var<T>::op() const {
  return tape().node(*this).op;
}
template <class T>
bool Var<T>::requires_grad() const {
  return tape().node(*this).requires_grad;
}
template <class T>
const T* Var<T>::data() const {
  return tape().node(*this).value;
}
template <class T>
T Var<T>::item() const {
  const TapeRecord<T>& n = tape().node(*this);
  if (n.size != 1) {
    throw ShapeError(std::string("item: expected a one-element tensor, got shape ") + to_string(n.shape) + " from op '" +
                     n.op + "'");
  }
  return n.value[0];
}
template <class T>
const T* Var<T>::grad_data() const {
  return tape().grad_of(*this);
}

}  // namespace vaelib
