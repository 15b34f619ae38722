#pragma once
// VectorFlow: the base of the flows on R^D. It holds what every such flow shares: its name
// for messages ("PlanarFlow(q/flow0)", the kind and its parameters' scope), its dimension D,
// event ranks of 1 on both sides, the reals as codomain, and the check that an input is a
// batch of vectors of size D. A flow of one's own derives from it and writes its forward,
// inverse and log|det J| (docs/flows.md).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops/detach.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/detail/vector_event.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

template <class T>
class VectorFlow : public Transform<T> {
 public:
  std::string name() const override { return m_name; }
  std::size_t domain_event_rank() const override { return 1; }
  std::size_t codomain_event_rank() const override { return 1; }
  Support<T> codomain() const override { return Support<T>::real().independent(1); }
  Shape forward_shape(const Shape& x) const override {
    check_event("forward_shape", "x", x);
    return x;
  }
  Shape inverse_shape(const Shape& y) const override {
    check_event("inverse_shape", "y", y);
    return y;
  }

  /// D, the size of the vectors the flow acts on.
  std::size_t dim() const noexcept { return m_dim; }

  /// The same flow (sharing its parameters) reading them detached: what log q with q's
  /// parameters detached needs (DReG, the path-derivative estimator), through FlowDistribution.
  virtual std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const = 0;
  /// Whether this copy reads its parameters detached.
  bool parameters_detached() const noexcept { return m_detached; }

 protected:
  /// `kind`: the class's name ("PlanarFlow"); the flow is named after it and the scope its
  /// parameters live in (scope / name). D must be at least 1.
  VectorFlow(std::string_view kind, const ParameterScope<T>& scope, std::string_view name, std::size_t dim)
      : m_name(std::string(kind) + "(" + std::string(scope.scope(name).prefix()) + ")"), m_dim(dim) {
    if (dim == 0) throw ArgumentError(m_name + ": the dimension must be at least 1, got 0");
  }

  /// ShapeError unless `shape` is a batch of vectors of size D, naming the flow, `method` and
  /// `operand`.
  void check_event(const char* method, const char* operand, const Shape& shape) const {
    detail::check_flow_event(m_name, method, operand, shape, m_dim);
  }

  /// A parameter (or a tensor the flow reads, such as an encoder's context) as this flow
  /// reads it: live, or detached in a with_detached_parameters() copy.
  Var<T> read(const Parameter<T>& p, Tape<T>& tape) const { return read(p.on(tape)); }
  Var<T> read(const Var<T>& v) const { return m_detached ? detach(v) : v; }

  /// with_detached_parameters() of a flow class: a copy of `flow` that reads detached.
  template <class Flow>
  static std::shared_ptr<const VectorFlow<T>> detached_copy(const Flow& flow) {
    auto copy = std::make_shared<Flow>(flow);
    copy->m_detached = true;
    return copy;
  }

  std::string m_name;
  std::size_t m_dim;
  bool m_detached = false;
};

/// Flows are shared, like transforms: a stack, a FlowDistribution and the caller may all hold
/// the same one.
template <class T>
using FlowPtr = std::shared_ptr<const VectorFlow<T>>;

}  // namespace vaelib
