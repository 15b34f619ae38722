#pragma once
// Distribution<T>: the interface every distribution implements, and the extension point for
// custom likelihoods. Shapes follow ZhuSuan:
//
//   batch_shape   the shape of independent parameter sets (broadcast of the parameters)
//   value_shape   the shape of one draw ([] for univariate, [k] for Categorical one-hot, ...)
//   sample(n)     [n] + batch_shape + value_shape; without n: batch_shape + value_shape
//   log_prob(x)   x's shape ends in value_shape and broadcasts with batch_shape (extra leading
//                 axes such as n_samples are fine); the result has the broadcast batch shape,
//                 with its last `group_ndims` axes summed (they form one event)
//
// The public functions check shapes and apply group_ndims once; a subclass implements
// log_prob_impl (elementwise over the batch) and sample_impl.

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/ops/detach.hpp"
#include "vaelib/autodiff/ops/exp.hpp"
#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/autodiff/ops/sum.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/detail/simd.hpp"
#include "vaelib/error.hpp"
#include "vaelib/random/rng.hpp"
#include "vaelib/transforms/support.hpp"

namespace vaelib {

struct DistributionOptions {
  std::size_t group_ndims = 0;       // trailing batch axes summed in log_prob (one event)
  bool use_path_derivative = false;  // log_prob sees the parameters detached ("sticking the landing")
};

template <class T>
class Distribution {
 public:
  virtual ~Distribution() = default;

  /// The distribution's name, for messages ("Normal", "Bernoulli", ...).
  virtual std::string_view name() const = 0;
  /// Whether samples are differentiable functions of the parameters.
  virtual bool is_reparameterized() const = 0;

  const Shape& batch_shape() const noexcept { return m_batch_shape; }
  const Shape& value_shape() const noexcept { return m_value_shape; }
  std::size_t group_ndims() const noexcept { return m_options.group_ndims; }
  bool use_path_derivative() const noexcept { return m_options.use_path_derivative; }
  Tape<T>& tape() const { return *m_tape; }

  /// log p(given), summed over the last group_ndims batch axes.
  Var<T> log_prob(const Var<T>& given) const {
    return log_prob(given, m_options.use_path_derivative);
  }

  /// log p(given) with the parameters detached (`true`) or live (`false`), whatever the
  /// distribution's use_path_derivative option says: the variational estimators choose.
  Var<T> log_prob(const Var<T>& given, bool detach_parameters) const {
    check_given(given);
    return reduce_group(log_prob_impl(given, detach_parameters));
  }

  /// Whether log_prob accepts a value of shape `x`: it ends in value_shape and the rest
  /// broadcasts with batch_shape (extra leading axes, such as n_samples, are fine). The one
  /// check of "does this value fit the distribution", used by log_prob and by BayesianNet's
  /// observe().
  bool accepts_shape(const Shape& x) const noexcept {
    const std::size_t value_rank = m_value_shape.size();
    if (x.size() < value_rank) return false;
    const std::size_t lead = x.size() - value_rank;
    for (std::size_t i = 0; i < value_rank; ++i)
      if (x[lead + i] != m_value_shape[i]) return false;
    const std::size_t batch_rank = m_batch_shape.size();
    for (std::size_t i = 0; i < std::min(lead, batch_rank); ++i) {
      const std::size_t a = x[lead - 1 - i], b = m_batch_shape[batch_rank - 1 - i];
      if (a != b && a != 1 && b != 1) return false;
    }
    return true;
  }

  /// exp(log_prob(given)).
  Var<T> prob(const Var<T>& given) const { return exp(log_prob(given)); }

  /// A draw of shape [n_samples] + batch_shape + value_shape (no leading axis without
  /// n_samples). Reparameterised distributions return a differentiable function of the
  /// parameters; the others return a constant.
  Var<T> sample(Rng& rng, std::optional<std::size_t> n_samples = std::nullopt) const {
    if (n_samples && *n_samples == 0) throw ArgumentError(std::string(name()) + ".sample: n_samples must be at least 1");
    const Var<T> s = sample_impl(n_samples.value_or(1), rng);
    if (n_samples) return s;
    const Var<T> dropped = drop_leading_axis(s);
    sampled_without_leading_axis(s, dropped);
    return dropped;
  }

  /// The set the values live in (vaelib/transforms/support.hpp); bijector_to(support()) is the
  /// transform from the unconstrained reals onto it. The default is the reals, every element
  /// of a value free (event rank: the value's rank); a distribution on a smaller set (positive,
  /// an interval, the simplex, the integers, ...) overrides it.
  virtual Support<T> support() const { return Support<T>::real().independent(m_value_shape.size()); }

  /// E[x], where a closed form exists (ArgumentError otherwise).
  virtual Var<T> mean() const { throw ArgumentError(std::string(name()) + ": no closed-form mean"); }
  /// Var[x] elementwise (per element of a value: the diagonal of the covariance for a vector
  /// or matrix value), with mean()'s shape batch_shape + value_shape, where a closed form
  /// exists (ArgumentError otherwise); +inf where the second moment diverges.
  virtual Var<T> variance() const { throw ArgumentError(std::string(name()) + ": no closed-form variance"); }
  /// Entropy, summed over group_ndims like log_prob, where a closed form exists.
  Var<T> entropy() const { return reduce_group(entropy_impl()); }

  /// A named parameter ("mean", "logits", ...), or ArgumentError listing what exists.
  virtual Var<T> parameter(std::string_view parameter_name) const {
    throw ArgumentError(std::string(name()) + ": no parameter '" + std::string(parameter_name) + "'");
  }

  /// Sums the last group_ndims axes of an elementwise (per batch element) quantity.
  Var<T> reduce_group(const Var<T>& elementwise) const {
    if (m_options.group_ndims == 0) return elementwise;
    const std::size_t rank = elementwise.rank();
    if (m_options.group_ndims > rank || m_options.group_ndims > AxisSet::max_rank) {
      throw ShapeError(std::string(name()) + ": group_ndims " + std::to_string(m_options.group_ndims) +
                       " is larger than the rank of " + to_string(elementwise.shape()));
    }
    std::array<std::ptrdiff_t, AxisSet::max_rank> axes{};  // no heap: this runs every step
    for (std::size_t i = 0; i < m_options.group_ndims; ++i) axes[i] = static_cast<std::ptrdiff_t>(rank - 1 - i);
    return sum(elementwise, std::span<const std::ptrdiff_t>(axes.data(), m_options.group_ndims));
  }

 protected:
  /// `parameters` fix the tape; `batch_shape` and `value_shape` as computed by the subclass.
  Distribution(Tape<T>& tape, Shape batch_shape, Shape value_shape, DistributionOptions options)
      : m_tape(&tape), m_batch_shape(std::move(batch_shape)), m_value_shape(std::move(value_shape)), m_options(options) {
    if (m_options.group_ndims > m_batch_shape.size()) {
      throw ShapeError(std::string("distribution: group_ndims ") + std::to_string(m_options.group_ndims) +
                       " is larger than the rank of batch_shape " + to_string(m_batch_shape));
    }
  }

  /// log p elementwise over the batch: given has shape [...] + value_shape broadcasting with
  /// batch_shape + value_shape; return the broadcast batch shape. With detach_parameters,
  /// use detach() of every parameter (the path-derivative estimator).
  virtual Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const = 0;
  /// n draws: [n] + batch_shape + value_shape.
  virtual Var<T> sample_impl(std::size_t n, Rng& rng) const = 0;
  /// Told, after sample() without n_samples, that the draw sample_impl made (`drawn`, with its
  /// leading axis of 1) is returned as `dropped`: a distribution that remembers its own
  /// draws (FlowDistribution keeps their log-density) remembers this view too.
  virtual void sampled_without_leading_axis(const Var<T>& /*drawn*/, const Var<T>& /*dropped*/) const {}
  /// Entropy per batch element (no group reduction), where a closed form exists.
  virtual Var<T> entropy_impl() const { throw ArgumentError(std::string(name()) + ": no closed-form entropy"); }

  /// Helper for subclasses: p itself, or detach(p) for the path-derivative estimator.
  static Var<T> maybe_detached(const Var<T>& p, bool detach_parameters) { return detach_parameters ? detach(p) : p; }

  /// [n] + batch_shape + value_shape.
  Shape sample_shape(std::size_t n) const {
    Shape s{n};
    s.insert(s.end(), m_batch_shape.begin(), m_batch_shape.end());
    s.insert(s.end(), m_value_shape.begin(), m_value_shape.end());
    return s;
  }

  /// A constant node of `shape` filled by `fill(T* data, std::size_t size)`: noise for
  /// sampling, written in place (no temporary array).
  template <class Fill>
  Var<T> noise(const Shape& shape, Fill&& fill) const {
    const Var<T> v = m_tape->make_node("noise", shape, std::span<const Var<T>>{});
    fill(m_tape->value_ptr(v), shape_size(shape));
    return v;
  }

  /// A constant of v's shape: 1 where `ok(v)` holds, 0 elsewhere. The condition of a where()
  /// that takes a closed form only where it is finite (a mean or variance that diverges).
  template <class Predicate>
  Var<T> mask(const Var<T>& v, Predicate ok) const {
    return noise(v.shape(), [&](T* data, std::size_t size) {
      const T* values = v.data();
      for (std::size_t i = 0; i < size; ++i) data[i] = ok(values[i]) ? T(1) : T(0);
    });
  }

  /// Throws DomainError (an ArgumentError) unless every value of `v` satisfies `ok`; names
  /// the distribution, the parameter and the first bad value.
  template <class Predicate>
  void check_values(const Var<T>& v, std::string_view parameter_name, std::string_view expected, Predicate ok) const {
    const T* data = v.data();
    const std::size_t n = v.size();
    if (detail::simd::all_of(n, data, ok)) return;
    for (std::size_t i = 0; i < n; ++i) {
      if (!static_cast<bool>(ok(data[i]))) {
        throw DomainError(std::string(name()) + ": " + std::string(parameter_name) + " must be " +
                            std::string(expected) + ", got " + std::to_string(data[i]) + " at flat index " +
                            std::to_string(i) + " of shape " + to_string(v.shape()));
      }
    }
  }

 private:
  void check_given(const Var<T>& given) const {
    if (!accepts_shape(given.shape())) {
      throw ShapeError(std::string(name()) + ".log_prob: given has shape " + to_string(given.shape()) +
                       ", which does not broadcast with batch_shape " + to_string(m_batch_shape) + " + value_shape " +
                       to_string(m_value_shape) + " (expected [...] + value_shape, the rest broadcasting)");
    }
  }

  Var<T> drop_leading_axis(const Var<T>& s) const {
    const Shape& shape = s.shape();
    return reshape(s, std::span<const std::size_t>(shape.data() + 1, shape.size() - 1));
  }

  Tape<T>* m_tape;
  Shape m_batch_shape;
  Shape m_value_shape;
  DistributionOptions m_options;
};

/// The broadcast of several parameter shapes (a distribution's batch shape), with the
/// distribution's name in the error.
inline Shape broadcast_parameter_shapes(std::string_view distribution, std::initializer_list<Shape> shapes) {
  Shape out;
  for (const Shape& s : shapes) out = broadcast_shapes(std::string(distribution) + " parameters", out, s);
  return out;
}

}  // namespace vaelib
