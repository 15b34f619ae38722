#pragma once
// Multinomial: the counts x = (x_1, ..., x_k) of n = total_count independent draws from k
// categories with probabilities p = softmax(logits) over the last axis:
//   P(x) = n! / (x_1! ... x_k!) p_1^x_1 ... p_k^x_k,  x_i whole numbers >= 0 summing to n.
// value_shape [k]; batch_shape the broadcast of total_count's shape and logits.shape[:-1].
// Counts are stored as T values. Not reparameterised; total_count gets no gradient (it is a
// count). Log-probabilities go through log-softmax, never through probabilities.
//
// log_prob is computed in double (also on a float tape) as one node, in a form where the
// terms of size n log n cancel exactly (Stirling's saddle-point form for counts >= 20, see
// detail::multinomial_log_probability): double keeps ~1e-15 and float its rounding of the
// result up to n = 1e6 and beyond. A count vector with a negative, fractional or infinite
// entry or a sum other than n gives -inf; a NaN entry NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/binomial.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/detail/event_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {
namespace detail {

/// logsumexp of a row of logits, in double (max-shifted).
inline double row_logsumexp(std::span<const double> logits) {
  const double m = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (const double l : logits) total += std::exp(l - m);
  return m + std::log(total);
}

/// log n! - sum_i log x_i! + sum_i x_i log p_i for whole x_i >= 0 summing to n, with
/// log p_i = logits_i - lse given. Written as
///   [lgamma(n + 1) - n log n + n] + sum_i [x_i log(n p_i) - n p_i - lgamma(x_i + 1)]
/// (equal, as sum x_i = n and sum p_i = 1); for n >= 20 the first bracket is
/// (log 2 pi n) / 2 + c(n), and for x_i >= 20 the i-th is -deviance(x_i, n p_i) -
/// (log 2 pi x_i) / 2 - c(x_i), so nothing of size n log n is formed (Stirling's form).
inline double multinomial_log_probability(double n, std::span<const double> x, std::span<const double> logits,
                                          double lse) {
  constexpr double log_2pi = 1.83787706640934548356;
  double value = 0;
  if (n < 20) {
    value = std::lgamma(n + 1);
    for (std::size_t i = 0; i < x.size(); ++i) {
      value -= std::lgamma(x[i] + 1);
      if (x[i] != 0) value += x[i] * (logits[i] - lse);
    }
    return value;
  }
  const double log_n = std::log(n);
  value = 0.5 * (log_2pi + log_n) + stirling_correction(n);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double log_p = logits[i] - lse;
    const double mean = n * std::exp(log_p);
    if (x[i] >= 20) {
      const double log_x = std::log(x[i]);
      value -= count_deviance(x[i], mean, log_x - log_n - log_p) + 0.5 * (log_2pi + log_x) + stirling_correction(x[i]);
    } else {
      value += (x[i] == 0 ? 0.0 : x[i] * (log_n + log_p)) - mean - std::lgamma(x[i] + 1);
    }
  }
  return value;
}

}  // namespace detail

template <class T>
class Multinomial final : public Distribution<T> {
 public:
  /// Multinomial(total_count, softmax(logits)): total_count whole numbers >= 0, logits
  /// [..., k] (k >= 1) finite (all checked).
  Multinomial(const Var<T>& total_count, const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(total_count.tape(), batch_shape_of(total_count, logits),
                        Shape{logits.shape().empty() ? 0 : logits.shape().back()}, options),
        m_total_count(total_count),
        m_logits(logits) {
    this->check_values(total_count, "total_count", "a whole number >= 0",
                       [](T v) { return v >= T(0) && v < std::numeric_limits<T>::infinity() && v == std::floor(v); });
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "Multinomial"; }
  bool is_reparameterized() const override { return false; }

  std::size_t n_categories() const { return m_logits.shape().back(); }
  Var<T> total_count() const { return m_total_count; }
  Var<T> logits() const { return m_logits; }
  /// softmax(logits), [..., k].
  Var<T> probs() const { return exp(detail::log_softmax_last_axis(m_logits)); }
  /// E[x] = n softmax(logits), batch_shape + [k].
  Var<T> mean() const override {
    Shape count_shape = m_total_count.shape();
    count_shape.push_back(1);
    Shape shape = this->batch_shape();
    shape.push_back(n_categories());
    const std::vector<std::ptrdiff_t> dims(count_shape.begin(), count_shape.end());
    return broadcast_to(reshape(m_total_count, dims) * probs(), shape);
  }
  /// Var[x_i] = n p_i (1 - p_i) per category, batch_shape + [k].
  Var<T> variance() const override {
    const Var<T> p = probs();
    Shape count_shape = m_total_count.shape();
    count_shape.push_back(1);
    Shape shape = this->batch_shape();
    shape.push_back(n_categories());
    const std::vector<std::ptrdiff_t> dims(count_shape.begin(), count_shape.end());
    return broadcast_to(reshape(m_total_count, dims) * (p * (T(1) - p)), shape);
  }

  /// Vectors of nonnegative counts (summing to total_count), one event over the last axis.
  Support<T> support() const override { return Support<T>::nonnegative_integer().independent(1); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "total_count") return m_total_count;
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log P(x) = log n! - sum_i log x_i! + sum_i x_i log_softmax(l)_i
  /// (detail::multinomial_log_probability);  d/dl_j = x_j - n softmax(l)_j
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Shape batch = detail::event_output_batch("Multinomial.log_prob", given.shape(), 1, this->batch_shape());
    const std::array<Var<T>, 3> inputs{detail::expand_to_batch(given, batch, 1),
                                       detail::expand_to_batch(m_total_count, batch, 0),
                                       detail::expand_to_batch(this->maybe_detached(m_logits, detach_parameters), batch, 1)};
    return detail::event_log_density("Multinomial.log_prob", inputs, batch, [](const auto& events, const auto& partials) {
      const std::span<const double> x = events[0], logits = events[2];
      const double n = events[1][0];
      double total = 0;
      for (const double v : x) {
        if (std::isnan(v)) return v;  // NaN in, NaN out (not "outside")
        total += v;
      }
      for (const double v : x)
        if (!(v >= 0) || std::isinf(v) || v != std::floor(v)) return -std::numeric_limits<double>::infinity();
      if (total != n) return -std::numeric_limits<double>::infinity();
      const double lse = detail::row_logsumexp(logits);
      for (std::size_t j = 0; j < x.size(); ++j) partials[2][j] = x[j] - n * std::exp(logits[j] - lse);
      return detail::multinomial_log_probability(n, x, logits, lse);
    });
  }

  /// x_j ~ Binomial(n - x_1 - ... - x_{j-1}, p_j / (p_j + ... + p_k)) in turn, the last
  /// category taking what remains (detail::sample_binomial; the tail sums of p are formed
  /// from the end, so small probabilities keep their digits)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const std::size_t batch_size = shape_size(batch);
    const std::size_t k = n_categories();
    const Shape logits_batch(m_logits.shape().begin(), m_logits.shape().end() - 1);
    std::vector<double> p(k), tail(k + 1);
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t row = 0; row < size / k; ++row) {
        const std::size_t b = row % batch_size;
        const T* l = m_logits.data() + detail::broadcast_source_index(b, batch, logits_batch) * k;
        double remaining =
            static_cast<double>(m_total_count.data()[detail::broadcast_source_index(b, batch, m_total_count.shape())]);
        const double m = static_cast<double>(*std::max_element(l, l + k));
        for (std::size_t j = 0; j < k; ++j) p[j] = std::exp(static_cast<double>(l[j]) - m);
        tail[k] = 0;
        for (std::size_t j = k; j-- > 0;) tail[j] = tail[j + 1] + p[j];
        for (std::size_t j = 0; j + 1 < k; ++j) {
          const double draw = remaining == 0 ? 0.0 : detail::sample_binomial(remaining, p[j] / tail[j], tail[j + 1] / tail[j], rng);
          data[row * k + j] = static_cast<T>(draw);
          remaining -= draw;
        }
        data[row * k + k - 1] = static_cast<T>(remaining);
      }
    });
  }

 private:
  static Shape batch_shape_of(const Var<T>& total_count, const Var<T>& logits) {
    total_count.tape().check_handle("Multinomial", logits);
    return broadcast_parameter_shapes(
        "Multinomial", {total_count.shape(), detail::categorical_batch_shape("Multinomial", logits.shape())});
  }

  Var<T> m_total_count;
  Var<T> m_logits;
};

}  // namespace vaelib
