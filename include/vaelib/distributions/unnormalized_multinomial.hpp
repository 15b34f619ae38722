#pragma once
// UnnormalizedMultinomial (ZhuSuan's): counts x = (x_1, ..., x_k) over k categories of
// probabilities p = softmax(logits), scored without the multinomial coefficient and without a
// fixed total:  log p(x) = sum_i x_i log p_i. This is the likelihood of a bag of words (or of
// any weighted counts) up to a factor that does not depend on the logits, so that documents of
// different lengths can share one distribution. It is not a normalised distribution over x,
// and it cannot be sampled (the total count is not part of it): sample() throws; use
// Multinomial(total_count, logits) to draw.
//
// value_shape [k], batch_shape logits.shape[:-1]. log_prob is computed in double as one node,
// through log-softmax; any nonnegative finite counts are accepted (fractional weights too),
// a negative or infinite entry gives -inf, a NaN entry NaN.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/detail/event_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/multinomial.hpp"

namespace vaelib {

template <class T>
class UnnormalizedMultinomial final : public Distribution<T> {
 public:
  /// UnnormalizedMultinomial(softmax(logits)) with logits [..., k] (k >= 1) finite (checked).
  explicit UnnormalizedMultinomial(const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(logits.tape(), detail::categorical_batch_shape("UnnormalizedMultinomial", logits.shape()),
                        Shape{logits.shape().empty() ? 0 : logits.shape().back()}, options),
        m_logits(logits) {
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "UnnormalizedMultinomial"; }
  bool is_reparameterized() const override { return false; }

  std::size_t n_categories() const { return m_logits.shape().back(); }
  Var<T> logits() const { return m_logits; }
  /// softmax(logits), [..., k].
  Var<T> probs() const { return exp(detail::log_softmax_last_axis(m_logits)); }

  /// Vectors of counts, one event over the last axis (declared as nonnegative integers: an
  /// observed likelihood with no transform to the reals, although fractional weights score).
  Support<T> support() const override { return Support<T>::nonnegative_integer().independent(1); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = sum_i x_i log_softmax(l)_i;  d/dx_i = log_softmax(l)_i,
  /// d/dl_j = x_j - (sum_i x_i) softmax(l)_j
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Shape batch =
        detail::event_output_batch("UnnormalizedMultinomial.log_prob", given.shape(), 1, this->batch_shape());
    const std::array<Var<T>, 2> inputs{detail::expand_to_batch(given, batch, 1),
                                       detail::expand_to_batch(this->maybe_detached(m_logits, detach_parameters), batch, 1)};
    return detail::event_log_density(
        "UnnormalizedMultinomial.log_prob", inputs, batch, [](const auto& events, const auto& partials) {
          const std::span<const double> x = events[0], logits = events[1];
          double total = 0;
          for (const double v : x) {
            if (std::isnan(v)) return v;  // NaN in, NaN out (not "outside")
            total += v;
          }
          for (const double v : x)
            if (!(v >= 0) || std::isinf(v)) return -std::numeric_limits<double>::infinity();
          const double lse = detail::row_logsumexp(logits);
          double value = 0;
          for (std::size_t j = 0; j < x.size(); ++j) {
            const double log_p = logits[j] - lse;
            if (x[j] != 0) value += x[j] * log_p;
            partials[0][j] = log_p;
            partials[1][j] = x[j] - total * std::exp(log_p);
          }
          return value;
        });
  }

  /// Not defined: throws ArgumentError (the distribution has no total count to draw).
  Var<T> sample_impl(std::size_t, Rng&) const override {
    throw ArgumentError("UnnormalizedMultinomial.sample: cannot sample, the distribution has no total count (it scores "
                        "counts of any total); use Multinomial(total_count, logits) to draw counts");
  }

 private:
  Var<T> m_logits;
};

}  // namespace vaelib
