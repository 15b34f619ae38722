#pragma once
// Categorical: a class index in {0, ..., k-1} with P(x = j) = softmax(logits)_j, the logits
// along the last axis. Indices are stored as T values 0, 1, ..., k-1. Log-probabilities go
// through log_softmax, never through probabilities. Not reparameterised.
//
// Also the helpers shared with OnehotCategorical and Concrete (logits of shape [..., k]).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {
namespace detail {

/// The batch shape of a distribution over k categories with logits [..., k]: logits.shape[:-1].
/// Throws ShapeError for logits of rank 0 or with an empty last axis.
inline Shape categorical_batch_shape(std::string_view distribution, const Shape& logits_shape) {
  if (logits_shape.empty() || logits_shape.back() == 0) {
    throw ShapeError(std::string(distribution) + ": logits must have shape [..., k] with k >= 1 categories on the " +
                     "last axis, got shape " + to_string(logits_shape));
  }
  return Shape(logits_shape.begin(), logits_shape.end() - 1);
}

/// log softmax along the last axis (the classes), the public op: one node, accurate where
/// l - logsumexp(l) would cancel (logits of 1000 in double, 200 in float).
template <class T>
Var<T> log_softmax_last_axis(const Var<T>& logits) {
  return log_softmax(logits, -1);
}

/// Draws class indices by inverse CDF: for each of the `batch` rows of `logits` ([batch, k],
/// row-major), `n` indices j with P(j) = exp(l_j - logsumexp(l)), passed to
/// `emit(draw, row, j)` for draw = 0..n-1. The rows are normalised once (max-shifted);
/// each draw takes one uniform u and returns the first j with u * sum_i exp(l_i - m) <
/// sum_{i <= j} exp(l_i - m) (the last class of positive probability if rounding leaves none).
/// The Rng is read row by row, then draw by draw.
template <class T, class Emit>
void draw_categories(const T* logits, std::size_t batch, std::size_t k, std::size_t n, Rng& rng, Emit&& emit) {
  for (std::size_t b = 0; b < batch; ++b) {
    const T* row = logits + b * k;
    const T m = *std::max_element(row, row + k);
    T total = 0;
    for (std::size_t j = 0; j < k; ++j) total += std::exp(row[j] - m);
    for (std::size_t d = 0; d < n; ++d) {
      const T target = rng.uniform<T>() * total;
      T cumulative = 0;
      std::size_t chosen = k;
      std::size_t last_positive = 0;
      for (std::size_t j = 0; j < k; ++j) {
        const T p = std::exp(row[j] - m);
        if (p > T(0)) last_positive = j;
        cumulative += p;
        if (target < cumulative) {
          chosen = j;
          break;
        }
      }
      emit(d, b, chosen == k ? last_positive : chosen);
    }
  }
}

}  // namespace detail

template <class T>
class Categorical final : public Distribution<T> {
 public:
  /// Categorical(softmax(logits)) over the last axis of `logits` ([..., k], k >= 1, every
  /// logit finite: mask a class with a large negative logit such as -1e30, not -inf).
  /// batch_shape = logits.shape[:-1], value_shape = [].
  explicit Categorical(const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(logits.tape(), detail::categorical_batch_shape("Categorical", logits.shape()), Shape{},
                        options),
        m_logits(logits) {
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "Categorical"; }
  Support<T> support() const override { return Support<T>::integer_interval(T(0), static_cast<T>(m_logits.shape().back() - 1)); }
  bool is_reparameterized() const override { return false; }

  std::size_t n_categories() const { return m_logits.shape().back(); }
  Var<T> logits() const { return m_logits; }
  /// log softmax(logits): the normalised log-probabilities, [..., k].
  Var<T> log_probs() const { return detail::log_softmax_last_axis(m_logits); }
  /// softmax(logits), [..., k].
  Var<T> probs() const { return exp(log_probs()); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x = j | l) = l_j - logsumexp_i(l_i) = sum_i onehot(x)_i log_softmax(l)_i
  /// (the one-hot of `given` is a constant: a class index carries no gradient)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::size_t k = n_categories();
    const T* x = given.data();
    for (std::size_t i = 0; i < given.size(); ++i) {
      if (!(x[i] >= T(0) && x[i] < static_cast<T>(k) && x[i] == std::floor(x[i]))) {
        throw ArgumentError("Categorical.log_prob: given must hold class indices 0, ..., " + std::to_string(k - 1) +
                            " (integers, k = " + std::to_string(k) + "), got " + std::to_string(x[i]) +
                            " at flat index " + std::to_string(i) + " of shape " + to_string(given.shape()));
      }
    }
    Shape onehot_shape = given.shape();
    onehot_shape.push_back(k);
    const Var<T> onehot = this->noise(onehot_shape, [&](T* data, std::size_t size) {
      std::fill_n(data, size, T(0));
      for (std::size_t i = 0; i < given.size(); ++i) data[i * k + static_cast<std::size_t>(x[i])] = T(1);
    });
    const Var<T> l = this->maybe_detached(m_logits, detach_parameters);
    return sum(onehot * detail::log_softmax_last_axis(l), {-1});
  }

  /// x = the first j with u < sum_{i <= j} softmax(l)_i, u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const std::size_t k = n_categories();
    const std::size_t batch = m_logits.size() / k;
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t) {
      detail::draw_categories(m_logits.data(), batch, k, n, rng,
                              [&](std::size_t d, std::size_t b, std::size_t j) { data[d * batch + b] = static_cast<T>(j); });
    });
  }

  /// H = -sum_j p_j log p_j,  p = softmax(l), log p = log_softmax(l)
  Var<T> entropy_impl() const override {
    const Var<T> log_p = log_probs();
    return -sum(exp(log_p) * log_p, {-1});
  }

 private:
  Var<T> m_logits;
};

}  // namespace vaelib
