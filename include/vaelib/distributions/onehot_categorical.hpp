#pragma once
// OnehotCategorical: a categorical variable over k classes represented as a one-hot vector of
// length k (value_shape [k]), with P(x = e_j) = softmax(logits)_j. Not reparameterised (see
// Concrete for a relaxation that is).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class OnehotCategorical final : public Distribution<T> {
 public:
  /// OnehotCategorical(softmax(logits)) with logits [..., k] (k >= 1, every logit finite:
  /// mask a class with a large negative logit such as -1e30, not -inf).
  /// batch_shape = logits.shape[:-1], value_shape = [k].
  explicit OnehotCategorical(const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(logits.tape(), detail::categorical_batch_shape("OnehotCategorical", logits.shape()),
                        Shape{logits.shape().empty() ? 0 : logits.shape().back()}, options),
        m_logits(logits) {
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "OnehotCategorical"; }
  Support<T> support() const override { return Support<T>::one_hot(); }
  bool is_reparameterized() const override { return false; }

  std::size_t n_categories() const { return m_logits.shape().back(); }
  Var<T> logits() const { return m_logits; }
  /// log softmax(logits), [..., k].
  Var<T> log_probs() const { return detail::log_softmax_last_axis(m_logits); }
  /// softmax(logits), [..., k].
  Var<T> probs() const { return exp(log_probs()); }
  /// E[x] = softmax(logits).
  Var<T> mean() const override { return probs(); }
  /// Var[x_i] = p_i (1 - p_i) per category.
  Var<T> variance() const override {
    const Var<T> p = probs();
    return p * (T(1) - p);
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x | l) = sum_j x_j log_softmax(l)_j  for one-hot x (checked)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::size_t k = n_categories();
    const T* x = given.data();
    for (std::size_t start = 0; start < given.size(); start += k) {
      std::size_t ones = 0;
      for (std::size_t i = start; i < start + k; ++i) {
        if (!(x[i] == T(0) || x[i] == T(1))) {
          throw ArgumentError("OnehotCategorical.log_prob: given must be one-hot along its last axis (0s and a single "
                              "1), got " + std::to_string(x[i]) + " at flat index " + std::to_string(i) +
                              " of shape " + to_string(given.shape()));
        }
        ones += x[i] == T(1);
      }
      if (ones != 1) {
        throw ArgumentError("OnehotCategorical.log_prob: given must be one-hot along its last axis (0s and a single "
                            "1), got " + std::to_string(ones) + " ones in the vector at flat index " +
                            std::to_string(start) + " of shape " + to_string(given.shape()));
      }
    }
    const Var<T> l = this->maybe_detached(m_logits, detach_parameters);
    return sum(given * detail::log_softmax_last_axis(l), {-1});
  }

  /// x = e_j, j = the first index with u < sum_{i <= j} softmax(l)_i, u ~ U(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const std::size_t k = n_categories();
    const std::size_t batch = m_logits.size() / k;
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      std::fill_n(data, size, T(0));
      detail::draw_categories(m_logits.data(), batch, k, n, rng, [&](std::size_t d, std::size_t b, std::size_t j) {
        data[(d * batch + b) * k + j] = T(1);
      });
    });
  }

  /// H = -sum_j p_j log p_j,  p = softmax(l)
  Var<T> entropy_impl() const override {
    const Var<T> log_p = log_probs();
    return -sum(exp(log_p) * log_p, {-1});
  }

 private:
  Var<T> m_logits;
};

}  // namespace vaelib
