#pragma once
// PermuteFlow: a fixed permutation p of the coordinates of z,
//
//   y_i = z_{p(i)},   z_j = y_{p^{-1}(j)},   log|det J| = 0,
//
// on the last axis of its input (every leading axis a batch). Between coupling layers, which
// leave part of z unchanged, it hands the next layer coordinates the last one only conditioned
// on. J is a permutation matrix, so |det J| = 1.
//
// It has no parameters. It still takes a scope and a name, as every flow does, only to be named
// ("PermuteFlow(q/perm0)"): a stack's messages then say which of its layers refused what, and
// a flow is built the same way whatever its kind. It creates nothing in the store.
//
// The permutation is the reversal by default (the fixed permutation of RealNVP's and Glow's
// stacks: with a split at D / 2, the halves swap), one given (checked to hold each of 0..D-1
// once), or a uniformly random one drawn from a seed (Fisher-Yates on the library's Rng, which
// is counter based: the same seed gives the same permutation on every machine).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vaelib/autodiff/ops/gather.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows/vector_flow.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/random/rng.hpp"
#include "vaelib/transforms/transform.hpp"

namespace vaelib {

struct PermuteFlowOptions {
  std::vector<std::size_t> permutation = {};         // y_i = z_{permutation[i]}; empty: reversed, or drawn from `seed`
  std::optional<std::uint64_t> seed = std::nullopt;  // given: a uniformly random permutation drawn from it
};

/// forward: y_i = z_{p(i)};  inverse: z_j = y_{p^{-1}(j)};  log|det J| = 0, one per event.
template <class T>
class PermuteFlow final : public VectorFlow<T> {
 public:
  /// A permutation of vectors of size `dim`, named after "<scope>/<name>" (it has no parameters).
  PermuteFlow(const ParameterScope<T>& scope, std::string_view name, std::size_t dim,
              const PermuteFlowOptions& options = {})
      : VectorFlow<T>("PermuteFlow", scope, name, dim), m_permutation(permutation_from(options)) {
    m_inverse.resize(dim);
    for (std::size_t i = 0; i < dim; ++i) m_inverse[m_permutation[i]] = i;
    m_forward_index = xt::adapt(m_permutation, {dim});
    m_inverse_index = xt::adapt(m_inverse, {dim});
  }

  typename Transform<T>::ForwardResult forward_and_log_abs_det_jacobian(const Var<T>& x) const override {
    this->check_event("forward_and_log_abs_det_jacobian", "x", x.shape());
    return {gather(x, -1, m_forward_index), zero_log_det(x)};
  }

  std::shared_ptr<const VectorFlow<T>> with_detached_parameters() const override { return this->detached_copy(*this); }

  /// p: y_i = z_{p[i]}.
  const std::vector<std::size_t>& permutation() const noexcept { return m_permutation; }
  /// p^{-1}: z_j = y_{p^{-1}[j]}.
  const std::vector<std::size_t>& inverse_permutation() const noexcept { return m_inverse; }

 protected:
  Var<T> forward_impl(const Var<T>& x) const override {
    this->check_event("forward", "x", x.shape());
    return gather(x, -1, m_forward_index);
  }

  Var<T> inverse_impl(const Var<T>& y) const override {
    this->check_event("inverse", "y", y.shape());
    return gather(y, -1, m_inverse_index);
  }

  Var<T> log_abs_det_jacobian_impl(const Var<T>& x, const Var<T>&) const override {
    this->check_event("log_abs_det_jacobian", "x", x.shape());
    return zero_log_det(x);
  }

 private:
  /// The permutation the options ask for, checked.
  std::vector<std::size_t> permutation_from(const PermuteFlowOptions& options) const {
    const std::size_t dim = this->m_dim;
    if (!options.permutation.empty() && options.seed) {
      throw ArgumentError(this->m_name + ": both a permutation and a seed were given (expected one of them, or " +
                          "neither for the reversal)");
    }
    if (!options.permutation.empty()) {
      if (options.permutation.size() != dim) {
        throw ArgumentError(this->m_name + ": the permutation has " + std::to_string(options.permutation.size()) +
                            " entries for vectors of size " + std::to_string(dim) + " (expected " +
                            std::to_string(dim) + ": each of 0.." + std::to_string(dim - 1) + " once)");
      }
      std::vector<std::size_t> first_at(dim, dim);  // where each entry was first seen (dim: not yet)
      for (std::size_t i = 0; i < dim; ++i) {
        const std::size_t v = options.permutation[i];
        if (v >= dim) {
          throw ArgumentError(this->m_name + ": permutation entry " + std::to_string(v) + " (at position " +
                              std::to_string(i) + ") is out of range for vectors of size " + std::to_string(dim) +
                              " (expected each of 0.." + std::to_string(dim - 1) + " once)");
        }
        if (first_at[v] != dim) {
          throw ArgumentError(this->m_name + ": permutation entry " + std::to_string(v) + " (at position " +
                              std::to_string(i) + ") repeats the entry at position " + std::to_string(first_at[v]) +
                              " (expected each of 0.." + std::to_string(dim - 1) + " once)");
        }
        first_at[v] = i;
      }
      return options.permutation;
    }
    std::vector<std::size_t> p(dim);
    if (!options.seed) {
      for (std::size_t i = 0; i < dim; ++i) p[i] = dim - 1 - i;
      return p;
    }
    for (std::size_t i = 0; i < dim; ++i) p[i] = i;
    Rng rng(*options.seed);
    // Fisher-Yates. The modulo's bias is below D / 2^64: nothing a test could see.
    for (std::size_t i = dim; i > 1; --i) std::swap(p[i - 1], p[rng.next_u64() % i]);
    return p;
  }

  /// Zeros of x's batch shape (a constant: log|det J| depends on nothing).
  static Var<T> zero_log_det(const Var<T>& x) {
    const Shape& s = x.shape();
    return x.tape().zeros(Shape(s.begin(), s.end() - 1));
  }

  std::vector<std::size_t> m_permutation;
  std::vector<std::size_t> m_inverse;
  xt::xtensor<std::size_t, 1> m_forward_index;  // the same, as gather takes them
  xt::xtensor<std::size_t, 1> m_inverse_index;
};

}  // namespace vaelib
