#pragma once
// ImproperUniform: the flat "density" 1 on a support (the reals, the positive reals, an interval,
// the ordered vectors, the simplex, ...): what a Stan parameter without a prior statement has,
// and Pyro's ImproperUniform. It is not a probability distribution (its integral is infinite),
// so it cannot be sampled; it is there to be a latent whose value a sampler sets (mcmc::
// ModelDensity maps the reals onto the support and adds the transform's log-Jacobian, as Stan
// does), or a node that is observed.
//
//   // real<lower=0, upper=(1 - alpha1)> beta1;   (a bound that depends on another parameter)
//   bn.add<ImproperUniform<double>>("beta1", {}, tape, Support<double>::interval(0.0, 1.0 - alpha1), Shape{});
//   // vector[9] beta;
//   bn.add<ImproperUniform<double>>("beta", {}, tape, Support<double>::real(), Shape{9});
//
// `shape` is the shape of a value of the node: its last support.event_rank() axes form one
// element of the support (value_shape: [K] for ordered[K] or a K-simplex), the axes before are
// the batch. log_prob is 0 on the support, as in Stan (no normalisation: there is none), -inf
// outside it and NaN for a NaN value; it carries no gradient (the density is constant). Bounds
// given as tensors broadcast with `shape`.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/ops/broadcast_to.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class ImproperUniform final : public Distribution<T> {
 public:
  /// The flat density on `support` for values of `shape` (batch axes, then the support's
  /// event axes). ShapeError if `shape` has fewer axes than the support's event rank or a bound
  /// does not broadcast with it; ArgumentError for a bound on another tape.
  ImproperUniform(Tape<T>& tape, Support<T> support, const Shape& shape, DistributionOptions options = {})
      : Distribution<T>(tape, batch_part(support, shape), value_part(support, shape), options),
        m_support(std::move(support)) {
    for (const ScalarOrVar<T>* bound : bounds()) {
      if (!bound->is_var()) continue;
      tape.check_handle("ImproperUniform", bound->var());
      broadcast_shapes("ImproperUniform: the support " + m_support.describe() + "'s bound with the value shape",
                       bound->shape(), shape);
    }
  }

  std::string_view name() const override { return "ImproperUniform"; }
  Support<T> support() const override { return m_support; }
  bool is_reparameterized() const override { return false; }

 protected:
  /// 0 where the value is in the support, -inf where it is not, NaN where it holds a NaN; a
  /// constant (no gradient to the value or the bounds).
  Var<T> log_prob_impl(const Var<T>& given, bool /*detach_parameters*/) const override {
    const Shape& given_shape = given.shape();
    const std::size_t value_rank = this->value_shape().size();
    const Shape leading(given_shape.begin(), given_shape.end() - static_cast<std::ptrdiff_t>(value_rank));
    const Shape out_shape = broadcast_shapes("ImproperUniform.log_prob", leading, this->batch_shape());
    const std::vector<T> per_value = log_prob_per_value(given);  // one per element of `leading`
    const Var<T> lp = this->noise(leading, [&](T* data, std::size_t size) {
      std::copy(per_value.begin(), per_value.begin() + static_cast<std::ptrdiff_t>(size), data);
    });
    return leading == out_shape ? lp : broadcast_to(lp, out_shape);
  }

  Var<T> sample_impl(std::size_t /*n*/, Rng& /*rng*/) const override {
    throw ArgumentError("ImproperUniform.sample: the flat density on " + m_support.describe() +
                        " is improper (its integral is infinite) and cannot be sampled; give the node a value: "
                        "observe it, or let an MCMC sampler (mcmc::ModelDensity) set it");
  }

 private:
  static Shape batch_part(const Support<T>& support, const Shape& shape) {
    check_rank(support, shape);
    return Shape(shape.begin(), shape.end() - static_cast<std::ptrdiff_t>(support.event_rank()));
  }
  static Shape value_part(const Support<T>& support, const Shape& shape) {
    check_rank(support, shape);
    return Shape(shape.end() - static_cast<std::ptrdiff_t>(support.event_rank()), shape.end());
  }
  static void check_rank(const Support<T>& support, const Shape& shape) {
    if (shape.size() < support.event_rank()) {
      throw ShapeError("ImproperUniform: the shape " + to_string(shape) + " has fewer axes than the support " +
                       support.describe() + "'s event rank " + std::to_string(support.event_rank()));
    }
  }

  std::vector<const ScalarOrVar<T>*> bounds() const {
    std::vector<const ScalarOrVar<T>*> out;
    if (m_support.has_lower()) out.push_back(&m_support.lower());
    if (m_support.has_upper()) out.push_back(&m_support.upper());
    return out;
  }

  // A bound's values broadcast to `shape` (a fixed number repeated).
  static xt::xarray<T> bound_values(const ScalarOrVar<T>& bound, const Shape& shape) {
    if (!bound.is_var()) return xt::xarray<T>(xt::broadcast(xt::xarray<T>(bound.scalar()), shape));
    return xt::xarray<T>(xt::broadcast(xt::xarray<T>(bound.var().value()), shape));
  }

  // Whether one value (its `size` numbers at `x`, rows of `row_length` for the vector and
  // matrix sets; `lower`/`upper` its bounds, elementwise) is in the support.
  bool in_support(const T* x, std::size_t size, std::size_t row_length, const T* lower, const T* upper) const {
    const T tolerance = std::sqrt(std::numeric_limits<T>::epsilon());
    const auto each = [&](auto&& ok) {
      for (std::size_t i = 0; i < size; ++i)
        if (!ok(i)) return false;
      return true;
    };
    const auto is_integer = [&](std::size_t i) { return std::isfinite(x[i]) && x[i] == std::round(x[i]); };
    switch (m_support.kind()) {
      case SupportKind::real:
        return each([&](std::size_t i) { return std::isfinite(x[i]); });
      case SupportKind::positive:
        return each([&](std::size_t i) { return x[i] > T(0) && std::isfinite(x[i]); });
      case SupportKind::greater_than:
        return each([&](std::size_t i) { return x[i] > lower[i] && std::isfinite(x[i]); });
      case SupportKind::less_than:
        return each([&](std::size_t i) { return x[i] < upper[i] && std::isfinite(x[i]); });
      case SupportKind::unit_interval:
        return each([&](std::size_t i) { return x[i] > T(0) && x[i] < T(1); });
      case SupportKind::interval:
        return each([&](std::size_t i) { return x[i] > lower[i] && x[i] < upper[i]; });
      case SupportKind::boolean:
        return each([&](std::size_t i) { return x[i] == T(0) || x[i] == T(1); });
      case SupportKind::integer:
        return each(is_integer);
      case SupportKind::nonnegative_integer:
        return each([&](std::size_t i) { return is_integer(i) && x[i] >= T(0); });
      case SupportKind::integer_interval:
        return each([&](std::size_t i) { return is_integer(i) && x[i] >= lower[i] && x[i] <= upper[i]; });
      case SupportKind::ordered:
        return each([&](std::size_t i) { return std::isfinite(x[i]) && (i % row_length == 0 || x[i - 1] < x[i]); });
      case SupportKind::simplex:
      case SupportKind::one_hot: {
        const bool one_hot = m_support.kind() == SupportKind::one_hot;
        for (std::size_t r = 0; r < size; r += row_length) {
          T total = 0;
          for (std::size_t i = r; i < r + row_length; ++i) {
            if (one_hot ? !(x[i] == T(0) || x[i] == T(1)) : !(x[i] >= T(0))) return false;
            total += x[i];
          }
          if (one_hot ? total != T(1) : !(std::abs(total - T(1)) <= tolerance)) return false;
        }
        return true;
      }
      case SupportKind::lower_cholesky:
      case SupportKind::correlation_cholesky: {
        const std::size_t n = row_length;
        for (std::size_t m = 0; m < size; m += n * n) {
          for (std::size_t i = 0; i < n; ++i) {
            T norm = 0;
            for (std::size_t j = 0; j < n; ++j) {
              const T v = x[m + i * n + j];
              if (!std::isfinite(v) || (j > i && v != T(0)) || (j == i && !(v > T(0)))) return false;
              norm += v * v;
            }
            if (m_support.kind() == SupportKind::correlation_cholesky && !(std::abs(norm - T(1)) <= tolerance)) {
              return false;
            }
          }
        }
        return true;
      }
    }
    return false;
  }

  // log_prob for each value of `given` (one per element of its leading axes), before the
  // broadcast with the batch shape.
  std::vector<T> log_prob_per_value(const Var<T>& given) const {
    const Shape& shape = given.shape();
    const std::size_t value_size = shape_size(this->value_shape());
    const std::size_t count =
        shape_size(Shape(shape.begin(), shape.end() - static_cast<std::ptrdiff_t>(this->value_shape().size())));
    if (value_size == 0) return std::vector<T>(count, T(0));  // empty values: nothing can be outside
    const std::size_t own_rank = Support<T>::natural_event_rank(m_support.kind());
    const std::size_t row_length =
        own_rank == 0 ? 1 : shape[shape.size() - own_rank];  // a vector's length, a matrix's rows
    xt::xarray<T> lower, upper;
    if (m_support.has_lower()) lower = bound_values(m_support.lower(), shape);
    if (m_support.has_upper()) upper = bound_values(m_support.upper(), shape);
    std::vector<T> out(count);
    const T* x = given.data();
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t at = k * value_size;
      if (std::any_of(x + at, x + at + value_size, [](T v) { return std::isnan(v); })) {
        out[k] = std::numeric_limits<T>::quiet_NaN();
        continue;
      }
      const bool inside =
          in_support(x + at, value_size, row_length, m_support.has_lower() ? lower.data() + at : nullptr,
                     m_support.has_upper() ? upper.data() + at : nullptr);
      out[k] = inside ? T(0) : -std::numeric_limits<T>::infinity();
    }
    return out;
  }

  Support<T> m_support;
};

}  // namespace vaelib
