#pragma once
// Bernoulli: a binary variable with P(x = 1) = sigmoid(logits). Log-probabilities are
// computed from the logits in the softplus form, never through probabilities. Not
// reparameterised.
//
// Logits must be finite (checked; ArgumentError naming the first bad one): an infinite logit
// is a degenerate distribution whose log_prob (-inf for the impossible value) and KL
// (inf - inf) the softplus form cannot give; clamp the logits (e.g. to +-80) for nearly
// certain outcomes, which are exact to float rounding.

#include <algorithm>
#include <string>
#include <type_traits>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/detail/simd.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

struct BernoulliOptions {
  std::size_t group_ndims = 0;
  bool use_path_derivative = false;
  /// Accept targets anywhere in [0, 1] (grey-level pixels): log_prob is then the
  /// cross-entropy x l - softplus(l), which is not a normalised density for 0 < x < 1.
  bool allow_relaxed_targets = false;
};

template <class T>
class Bernoulli final : public Distribution<T> {
 public:
  explicit Bernoulli(const Var<T>& logits, BernoulliOptions options = {})
      : Distribution<T>(logits.tape(), logits.shape(), Shape{}, {options.group_ndims, options.use_path_derivative}),
        m_logits(logits),
        m_relaxed(options.allow_relaxed_targets) {
    this->check_values(logits, "logits", "finite (an infinite logit is a probability of exactly 0 or 1)",
                       [](const auto& v) { return (v - v) == (v - v); });  // NaN for inf and NaN; vectorises
  }

  std::string_view name() const override { return "Bernoulli"; }
  Support<T> support() const override { return Support<T>::boolean(); }
  bool is_reparameterized() const override { return false; }
  Var<T> logits() const { return m_logits; }
  Var<T> probs() const { return sigmoid(m_logits); }
  Var<T> mean() const override { return probs(); }
  /// Var[x] = p (1 - p) = sigmoid(logits) sigmoid(-logits), without forming 1 - p
  Var<T> variance() const override { return sigmoid(m_logits) * sigmoid(-m_logits); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x | l) = x l - softplus(l)  (= -(max(l, 0) - x l + log1p(exp(-|l|))))
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    if (!m_relaxed) {
      const T* x = given.data();
      const std::size_t n = given.size();
      const auto is_binary = [](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        return (v == V(0)) | (v == V(1));
      };
      if (!detail::simd::all_of(n, x, is_binary)) {
        const std::size_t i = static_cast<std::size_t>(std::find_if(x, x + n, [](T v) { return v != T(0) && v != T(1); }) - x);
        throw ArgumentError("Bernoulli.log_prob: given must be 0 or 1, got " + std::to_string(x[i]) +
                            " at flat index " + std::to_string(i) + " of shape " + to_string(given.shape()) +
                            " (pass allow_relaxed_targets = true for values in [0, 1])");
      }
    }
    return log_bernoulli(given, this->maybe_detached(m_logits, detach_parameters));
  }

  /// x = 1 if u < sigmoid(l), u ~ U(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const T* l = m_logits.data();
    const std::size_t batch = m_logits.size();
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const T p = T(1) / (T(1) + std::exp(-l[i % batch]));
        data[i] = rng.uniform<T>() < p ? T(1) : T(0);
      }
    });
  }

  /// softplus(l) - l sigmoid(l)
  Var<T> entropy_impl() const override { return softplus(m_logits) - m_logits * sigmoid(m_logits); }

 private:
  Var<T> m_logits;
  bool m_relaxed;
};

}  // namespace vaelib
