#pragma once
// FlowDistribution<T>: a base distribution on R^D pushed through a stack of flows, z_K =
// f_K(... f_1(z_0)), as one distribution: what a normalizing-flow posterior q(z | x) is.
//
//   log q(z_K) = log q_0(z_0) - sum_k log|det J_k|(z_{k-1})
//
// A draw computes that sum on the way (each flow's forward_and_log_abs_det_jacobian), and
// the distribution keeps it: log_prob of its own last draw returns it without inverting
// anything, so an IAF posterior costs one network pass per step for both the sample and its
// log q (as BayesianNet scores a node: log_prob(value) of the value it drew). Any other value
// goes back through the flows' inverses; so does log_prob with the parameters detached (DReG,
// the path-derivative estimator): each flow then reads its parameters detached
// (VectorFlow::with_detached_parameters), and the base its own.
//
//   auto q0 = std::make_unique<Normal<float>>(Normal<float>::with_logstd(mean, logstd, {.group_ndims = 1}));
//   q.stochastic("z", std::make_unique<FlowDistribution<float>>(std::move(q0), flows), n_particles);
//
// The base's event must be the last axis (a Normal of [n, D] with group_ndims = 1, or a
// multivariate normal of value [D]); this distribution's value is [D] and its batch the rest.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/autodiff/ops/sub.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/vector_flow.hpp"

namespace vaelib {

template <class T>
class FlowDistribution final : public Distribution<T> {
 public:
  /// A draw with its log-density (summed over group_ndims, like log_prob).
  struct Draw {
    Var<T> value;
    Var<T> log_prob;
  };

  /// `flows` in the order they apply to the base's draws (an empty stack is the base itself).
  FlowDistribution(std::unique_ptr<Distribution<T>> base, std::vector<FlowPtr<T>> flows,
                   DistributionOptions options = {})
      : FlowDistribution(Layout::of(base.get(), flows), std::move(base), std::move(flows), options) {}

  std::string_view name() const override { return "FlowDistribution"; }
  bool is_reparameterized() const override { return m_base->is_reparameterized(); }

  const Distribution<T>& base() const noexcept { return *m_base; }
  const std::vector<FlowPtr<T>>& flows() const noexcept { return m_flows; }

  /// sample() and the log-density of that draw, in one pass (with q's parameters live).
  Draw sample_with_log_prob(Rng& rng, std::optional<std::size_t> n_samples = std::nullopt) const {
    const Var<T> value = this->sample(rng, n_samples);
    return {value, this->log_prob(value, false)};
  }

 protected:
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    if (!detach_parameters) {
      if (m_drawn && same_node(given, *m_drawn)) return m_drawn_log_prob;
      if (m_dropped && same_node(given, *m_dropped)) return drop_leading(m_drawn_log_prob);
    }
    const std::vector<FlowPtr<T>>& flows = detach_parameters ? detached_flows() : m_flows;
    Var<T> z = given;
    std::optional<Var<T>> log_det;
    for (std::size_t k = flows.size(); k-- > 0;) {
      const Var<T> before = flows[k]->inverse(z);
      const Var<T> ld = flows[k]->log_abs_det_jacobian(before, z);
      log_det = log_det ? *log_det + ld : ld;
      z = before;
    }
    const Var<T> base_lp = m_base->log_prob(z, detach_parameters);
    return log_det ? base_lp - *log_det : base_lp;
  }

  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    Var<T> z = m_base->sample(rng, n);
    Var<T> lp = m_base->log_prob(z, false);
    for (const FlowPtr<T>& f : m_flows) {
      auto [y, log_det] = f->forward_and_log_abs_det_jacobian(z);
      lp = lp - log_det;
      z = y;
    }
    m_drawn = z;
    m_drawn_log_prob = lp;
    m_dropped.reset();
    return z;
  }

  void sampled_without_leading_axis(const Var<T>& drawn, const Var<T>& dropped) const override {
    if (m_drawn && same_node(drawn, *m_drawn)) m_dropped = dropped;
  }

 private:
  struct Layout {
    Tape<T>* tape = nullptr;
    Shape batch_shape;
    std::size_t dim = 0;

    static Layout of(const Distribution<T>* base, const std::vector<FlowPtr<T>>& flows) {
      if (!base) throw ArgumentError("FlowDistribution: the base distribution is null");
      Shape full = base->batch_shape();
      full.insert(full.end(), base->value_shape().begin(), base->value_shape().end());
      const std::size_t event = base->value_shape().size() + base->group_ndims();
      if (event != 1 || full.empty()) {
        throw ShapeError("FlowDistribution: the base " + std::string(base->name()) +
                         " has batch_shape + value_shape " + to_string(full) + " and an event of its last " +
                         std::to_string(event) + " axes (value_shape " + to_string(base->value_shape()) +
                         ", group_ndims " + std::to_string(base->group_ndims()) +
                         "); flows on R^D need an event of exactly the last axis (a Normal of [n, D] with "
                         "group_ndims = 1)");
      }
      Layout l;
      l.tape = &base->tape();
      l.dim = full.back();
      l.batch_shape.assign(full.begin(), full.end() - 1);
      for (std::size_t k = 0; k < flows.size(); ++k) {
        if (!flows[k]) throw ArgumentError("FlowDistribution: flow " + std::to_string(k) + " is null");
        if (flows[k]->dim() != l.dim) {
          throw ShapeError("FlowDistribution: flow " + std::to_string(k) + ", " + flows[k]->name() +
                           ", acts on vectors of size " + std::to_string(flows[k]->dim()) + ", but the base " +
                           std::string(base->name()) + "'s events have size " + std::to_string(l.dim));
        }
      }
      return l;
    }
  };

  FlowDistribution(const Layout& layout, std::unique_ptr<Distribution<T>>&& base, std::vector<FlowPtr<T>>&& flows,
                   DistributionOptions options)
      : Distribution<T>(*layout.tape, layout.batch_shape, Shape{layout.dim}, options),
        m_base(std::move(base)),
        m_flows(std::move(flows)) {}

  static bool same_node(const Var<T>& a, const Var<T>& b) {
    return !a.empty() && !b.empty() && &a.tape() == &b.tape() && a.index() == b.index() &&
           a.generation() == b.generation();
  }

  static Var<T> drop_leading(const Var<T>& v) {
    const Shape& s = v.shape();
    return reshape(v, Shape(s.begin() + 1, s.end()));
  }

  /// The flows reading their parameters detached, made when first needed.
  const std::vector<FlowPtr<T>>& detached_flows() const {
    if (m_detached_flows.size() != m_flows.size()) {
      m_detached_flows.clear();
      for (const FlowPtr<T>& f : m_flows) m_detached_flows.push_back(f->with_detached_parameters());
    }
    return m_detached_flows;
  }

  std::unique_ptr<Distribution<T>> m_base;
  std::vector<FlowPtr<T>> m_flows;
  mutable std::vector<FlowPtr<T>> m_detached_flows;
  // The last draw and its log-density ([n] + batch), and its view without the leading axis.
  mutable std::optional<Var<T>> m_drawn;
  mutable Var<T> m_drawn_log_prob;
  mutable std::optional<Var<T>> m_dropped;
};

}  // namespace vaelib
