#pragma once
// InverseAutoregressiveFlow: one step of Kingma et al.'s (2016) inverse autoregressive flow,
// on a MADE network (masked dense layers, flows/detail/made_masks.hpp) with an optional
// context input (the encoder's hidden layer h, added to the first hidden layer, unmasked):
//
//   [m, s] = MADE(z, h),   sigma = sigmoid(s + gate_bias),
//   y = sigma * z + (1 - sigma) * m,   log|det J| = sum_j log sigmoid(s_j + gate_bias)
//
// m_j and s_j read only the z_i before j in the order (1..D, or D..1 with `reversed`), so the
// Jacobian is triangular with diagonal sigma and the whole step is one network pass: what an
// IAF posterior wants, sampling and scoring its own samples together. This is the paper's
// "numerically stable" gated form (its eq. 14): sigma lies in (0, 1), so a step never blows
// up, and gate_bias (2 by default, sigma ~ 0.88 at the start) keeps the gate open early on.
// The last layer starts at zero, so every element starts as y = sigmoid(gate_bias) z: the
// same start at every initialisation.
//
// The inverse has no closed form in one pass, but it is exact in D: given y, z_j follows
// from y_j once the z_i before it are known, so D passes of z <- (y - (1 - sigma(z)) m(z)) /
// sigma(z), starting from z = y, fix one more element each. All D passes are on the tape, so
// the inverse is differentiable in y, the parameters and the context (the D-fold cost is
// paid where log q is wanted at a point not sampled by the flow, or with q's parameters
// detached: DReG, the path-derivative estimator).
//
// Batched over every leading axis: z [particles, batch, D] with a context h [batch, C] is
// one call (the context's leading axes broadcast with z's).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/log_sigmoid.hpp"
#include "vaelib/autodiff/ops/matmul.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/autodiff/ops/sigmoid.hpp"
#include "vaelib/autodiff/ops/slice.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/detail/conditioner.hpp"
#include "vaelib/flows/detail/made_masks.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

template <class T>
struct InverseAutoregressiveFlowOptions {
  std::vector<std::size_t> hidden = {};  // MADE's hidden widths, each >= D - 1; empty: one layer of 2D
  Activation activation = Activation::relu;
  std::size_t context_dim = 0;  // C: the width of the context h (0: no context)
  bool reversed = false;        // order D..1 instead of 1..D (alternate it along a stack)
  T gate_bias = T(2);           // sigma = sigmoid(s + gate_bias)
};

/// forward: y = sigma z + (1 - sigma) m; inverse: D passes; log|det J| = sum log sigma.
/// The flow reads its parameters in place: it must not outlive their ParameterStore.
template <class T>
class InverseAutoregressiveFlow final : public VectorFlow<T> {
 public:
  /// Gets (or creates) under "<scope>/<name>/": "made0" .. "made<L-1>" (the hidden layers),
  /// "made_out" (to 2D outputs: m, then s), and "context" ([C, hidden[0]]) with a context.
  InverseAutoregressiveFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
                            const InverseAutoregressiveFlowOptions<T>& options = {})
      : VectorFlow<T>("InverseAutoregressiveFlow", scope, name, dim), m_options(options) {
    if (m_options.hidden.empty()) m_options.hidden = {2 * dim};
    for (std::size_t width : m_options.hidden) {
      if (width == 0 || width + 1 < dim) {
        throw ArgumentError(this->m_name + ": a hidden layer of width " + std::to_string(width) +
                            " cannot carry all D - 1 = " + std::to_string(dim - 1) +
                            " orders of a D = " + std::to_string(dim) + " MADE (expected widths >= D - 1)");
      }
    }
    const ParameterScope<T> own = scope.scope(name);
    std::vector<xt::xarray<T>> masks = detail::made_masks<T>(dim, m_options.hidden, 2, m_options.reversed);
    std::size_t in = dim;
    for (std::size_t i = 0; i < m_options.hidden.size(); ++i) {
      // the first layer's activation comes after the context is added
      m_net.add_layer(own, "made" + std::to_string(i), in, m_options.hidden[i],
                      i == 0 ? Activation::none : m_options.activation, false, std::move(masks[i]));
      in = m_options.hidden[i];
    }
    m_net.add_layer(own, "made_out", in, 2 * dim, Activation::none, true, std::move(masks.back()));
    if (m_options.context_dim > 0) {
      m_context_weight =
          &own.get("context", Shape{m_options.context_dim, m_options.hidden[0]}, init::default_weight<T>());
    }
  }

  /// This flow (sharing its parameters) reading `context` [..., C]: what a flow built with a
  /// context_dim needs before it is used.
  std::shared_ptr<const InverseAutoregressiveFlow<T>> with_context(const Var<T>& context) const {
    if (m_options.context_dim == 0) {
      throw ArgumentError(this->m_name + ".with_context: the flow was built without a context (context_dim = 0)");
    }
    if (context.rank() == 0 || context.shape().back() != m_options.context_dim) {
      throw ShapeError(this->m_name + ".with_context: the context has shape " + to_string(context.shape()) +
                       ", expected [..., " + std::to_string(m_options.context_dim) + "] (context_dim)");
    }
    auto bound = std::make_shared<InverseAutoregressiveFlow<T>>(*this);
    bound->m_context = context;
    return bound;
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    const Gate g = gate(x);
    return {g.m + g.sigma * (x - g.m), sum(log_sigmoid(g.logit), {-1})};
  }

  const InverseAutoregressiveFlowOptions<T>& options() const noexcept { return m_options; }
  /// The MADE masks, one [in, out] array per layer (for tests and the curious).
  std::vector<xt::xarray<T>> masks() const {
    std::vector<xt::xarray<T>> out;
    for (std::size_t i = 0; i < m_net.size(); ++i) out.push_back(*m_net.at(i).mask);
    return out;
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    const Gate g = gate(x);
    return g.m + g.sigma * (x - g.m);
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    Var<T> z = y;
    for (std::size_t pass = 0; pass < this->m_dim; ++pass) {
      const Gate g = gate(z);
      z = g.m + (y - g.m) / g.sigma;
    }
    return z;
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    return sum(log_sigmoid(gate(x).logit), {-1});
  }

 private:
  struct Gate {
    Var<T> m, logit, sigma;
  };

  /// MADE's outputs at z: the shift m and the gate's logit s + gate_bias, and sigma.
  Gate gate(const Var<T>& z) const {
    const auto read = [this](const Parameter<T>& p, Tape<T>& tape) { return this->read(p, tape); };
    Var<T> h = m_net.layer(0, z, read);
    if (m_context_weight) {
      if (!m_context) {
        throw ArgumentError(this->m_name + ": the flow reads a context of width " +
                            std::to_string(m_options.context_dim) + "; bind one first with with_context(h)");
      }
      h = h + context_term(this->read(*m_context), this->read(*m_context_weight, z.tape()));
    }
    h = activate(h, m_options.activation);
    for (std::size_t i = 1; i < m_net.size(); ++i) h = m_net.layer(i, h, read);
    const auto d = static_cast<std::ptrdiff_t>(this->m_dim);
    const Var<T> logit = slice(h, -1, d, 2 * d) + m_options.gate_bias;
    return {slice(h, -1, 0, d), logit, sigmoid(logit)};
  }

  /// h W_c: [..., hidden[0]] for a context [..., C] (one context [C] as one row).
  static Var<T> context_term(const Var<T>& context, const Var<T>& weight) {
    if (context.rank() > 1) return matmul(context, weight);
    const auto c = static_cast<std::ptrdiff_t>(context.size());
    return reshape(matmul(reshape(context, {std::ptrdiff_t{1}, c}), weight), {static_cast<std::ptrdiff_t>(weight.shape()[1])});
  }

  InverseAutoregressiveFlowOptions<T> m_options;
  detail::FlowConditioner<T> m_net;
  Parameter<T>* m_context_weight = nullptr;
  std::optional<Var<T>> m_context;
};

}  // namespace vaelib
