#pragma once
// AffineCouplingFlow: the affine coupling layer of RealNVP (Dinh, Sohl-Dickstein & Bengio,
// 2017), a learnable bijection of R^D that leaves one part a of z as it is and scales and
// shifts the other part b by amounts a network computes from a,
//
//   y_a = z_a,   y_b = z_b * exp(s(z_a)) + t(z_a),   log|det J| = sum_i s_i(z_a),
//
// on the last axis of its input (every leading axis a batch). a is the first `split`
// coordinates and b the rest; with `flip`, b is the first `split` and a the rest, so that a
// flipped layer moves what an unflipped one kept. The Jacobian is block triangular, the
// identity on a and diag(exp(s)) on b, whatever the network computes: the network needs no
// constraint to keep f one-to-one, and the inverse is closed form,
//
//   z_a = y_a,   z_b = (y_b - t(y_a)) * exp(-s(y_a)).
//
// (s_raw, t) = net(z_a) is a dense network (flows/detail/conditioner.hpp) whose parameters
// are "<scope>/<name>/layer_0/weight", ".../layer_0/bias", ..., one layer per hidden width and
// a last, linear one giving the 2 |b| outputs (s_raw first, then t). The last layer starts at
// zero: s = t = 0, and the flow starts at the identity (Dinh et al.'s advice for deep stacks).
// The hidden layers are tanh by default: f, its inverse and log|det J| are then smooth
// everywhere (ReLU's kinks would make the pushed-forward density's gradient jump).
//
// The log-scale is bounded softly: s = B tanh(s_raw / B), B = scale_bound (2 by default). With
// a raw exp(s_raw), one large step of training can scale a coordinate by e^20 (and the inverse
// divide by it), overflowing or wrecking the loss; here each layer scales by at most e^B either
// way (a stack of K layers by e^{K B}). Near s_raw = 0, where the flow starts, s = s_raw -
// s_raw^3 / (3 B^2) + ...: the start is the plain form's, scale 1 with slope 1 (a sigmoid form,
// as Glow's sigmoid(s_raw + 2), starts away from scale 1 or needs an offset to reach it).

#include <cmath>
#include <cstddef>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/ops/add.hpp"
#include "vaelib/autodiff/ops/concat.hpp"
#include "vaelib/autodiff/ops/div.hpp"
#include "vaelib/autodiff/ops/exp.hpp"
#include "vaelib/autodiff/ops/mul.hpp"
#include "vaelib/autodiff/ops/neg.hpp"
#include "vaelib/autodiff/ops/slice.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/ops/tanh.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/detail/conditioner.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

struct AffineCouplingFlowOptions {
  std::vector<std::size_t> hidden = {64, 64};  // the network's hidden widths ({}: s_raw and t affine in z_a)
  Activation activation = Activation::tanh;    // of the hidden layers (the last layer is linear)
  std::size_t split = 0;                       // the size of the first part, 1 <= split < D; 0: D / 2
  bool flip = false;                           // condition on the second part and transform the first
  double scale_bound = 2;                      // B in s = B tanh(s_raw / B): |s| < B
};

/// forward: y_a = z_a, y_b = z_b * exp(s) + t;  inverse: z_b = (y_b - t) * exp(-s);
/// log|det J| = sum(s), one per event, with (s_raw, t) = net(z_a) and s = B tanh(s_raw / B).
/// The flow reads its parameters in place: it must not outlive their ParameterStore.
template <class T>
class AffineCouplingFlow final : public VectorFlow<T> {
 public:
  /// Gets (or creates) the network's layers "<scope>/<name>/layer_<i>/weight" and ".../bias"
  /// for vectors of size `dim` (at least 2: one part to condition on, one to transform). Made
  /// again with the same scope and name, a flow shares the first one's parameters.
  AffineCouplingFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
                     const AffineCouplingFlowOptions& options = {})
      : VectorFlow<T>("AffineCouplingFlow", scope, name, dim),
        m_split(options.split == 0 ? dim / 2 : options.split),
        m_flip(options.flip),
        m_scale_bound(static_cast<T>(options.scale_bound)) {
    // Every check before the first parameter is made: a refused flow leaves the store as it was.
    if (dim < 2) {
      throw ArgumentError(this->m_name + ": a coupling needs D >= 2 (a part to condition on and a part to " +
                          "transform), got D = " + std::to_string(dim));
    }
    if (m_split >= dim) {
      throw ArgumentError(this->m_name + ": split = " + std::to_string(m_split) + " leaves no coordinate to " +
                          (m_flip ? "condition on" : "transform") + " in D = " + std::to_string(dim) +
                          " (expected 1 <= split < " + std::to_string(dim) + ", or 0 for D / 2)");
    }
    // Checked as T: a double bound may not fit a float.
    if (!(m_scale_bound > 0) || !std::isfinite(m_scale_bound)) {
      std::ostringstream bound;  // 1e+300, not std::to_string's digits
      bound << options.scale_bound;
      throw ArgumentError(this->m_name + ": scale_bound must be finite and > 0 (it bounds |s|), got " + bound.str());
    }
    for (std::size_t i = 0; i < options.hidden.size(); ++i) {
      if (options.hidden[i] == 0) {
        throw ArgumentError(this->m_name + ": hidden layer " + std::to_string(i) +
                            " has width 0 (expected widths >= 1)");
      }
    }
    const ParameterScope<T> own = scope.scope(name);
    std::size_t in = conditioning_size();
    for (std::size_t i = 0; i < options.hidden.size(); ++i) {
      m_net.add_layer(own, "layer_" + std::to_string(i), in, options.hidden[i], options.activation, false);
      in = options.hidden[i];
    }
    m_net.add_layer(own, "layer_" + std::to_string(options.hidden.size()), in, 2 * transformed_size(), Activation::none,
                    true);
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    const Parts z = parts(x);
    const ScaleShift st = scale_shift(z.kept);
    return {join(z.kept, z.moved * exp(st.s) + st.t), sum(st.s, {-1})};
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  /// The size of the first part (the conditioning one unless flipped).
  std::size_t split() const noexcept { return m_split; }
  /// Whether the first part is the one transformed.
  bool flip() const noexcept { return m_flip; }
  /// B, the bound on |s|.
  T scale_bound() const noexcept { return m_scale_bound; }
  /// The network's layers: one per hidden width, and the last.
  std::size_t layers() const noexcept { return m_net.size(); }

  /// The log-scale and shift of part b.
  struct ScaleShift {
    Var<T> s, t;  // [..., |b|]
  };

  /// s = B tanh(s_raw / B) and t at z [..., D] (read from its part a), on z's tape.
  ScaleShift scale_and_shift(const Var<T>& z) const {
    this->check_event("scale_and_shift", "z", z.shape());
    return scale_shift(parts(z).kept);
  }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    const Parts z = parts(x);
    const ScaleShift st = scale_shift(z.kept);
    return join(z.kept, z.moved * exp(st.s) + st.t);
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    const Parts v = parts(y);
    const ScaleShift st = scale_shift(v.kept);  // y_a = z_a: the same s and t as forward
    return join(v.kept, (v.moved - st.t) * exp(-st.s));
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    return sum(scale_shift(parts(x).kept).s, {-1});
  }

 private:
  struct Parts {
    Var<T> kept, moved;  // a [..., D - |b|] and b [..., |b|]
  };

  std::size_t transformed_size() const noexcept { return m_flip ? m_split : this->m_dim - m_split; }
  std::size_t conditioning_size() const noexcept { return this->m_dim - transformed_size(); }

  Parts parts(const Var<T>& v) const {
    const auto split = static_cast<std::ptrdiff_t>(m_split);
    const auto dim = static_cast<std::ptrdiff_t>(this->m_dim);
    const Var<T> first = slice(v, -1, 0, split);
    const Var<T> second = slice(v, -1, split, dim);
    return m_flip ? Parts{second, first} : Parts{first, second};
  }

  Var<T> join(const Var<T>& kept, const Var<T>& moved) const {
    return m_flip ? concat({moved, kept}, -1) : concat({kept, moved}, -1);
  }

  ScaleShift scale_shift(const Var<T>& kept) const {
    const Var<T> h = m_net(kept, [this](const Parameter<T>& p, Tape<T>& tape) { return this->read(p, tape); });
    const auto m = static_cast<std::ptrdiff_t>(transformed_size());
    const Var<T> s = tanh(slice(h, -1, 0, m) / m_scale_bound) * m_scale_bound;
    return {s, slice(h, -1, m, 2 * m)};
  }

  std::size_t m_split;
  bool m_flip;
  T m_scale_bound;
  detail::FlowConditioner<T> m_net;
};

}  // namespace vaelib
