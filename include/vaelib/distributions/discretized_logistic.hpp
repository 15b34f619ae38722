#pragma once
// DiscretizedLogistic: the likelihood of 8-bit images of PixelCNN++ and the IAF paper (one
// logistic per value, not their mixture). A pixel byte b is the value x = 2 b / 255 - 1 in
// [-1, 1] (an ImageSet's v = b / 255 as 2 v - 1), on a grid of 256 points 2/255 apart; a
// logistic with location `mean` and scale s = exp(log_scale) gives each point the mass of its
// bin [x - 1/255, x + 1/255], the edge bins taking the tails:
//
//   P(x = -1) = sigmoid((-1 + 1/255 - mean) / s)
//   P(x =  1) = 1 - sigmoid((1 - 1/255 - mean) / s)
//   P(x)      = sigmoid((x + 1/255 - mean) / s) - sigmoid((x - 1/255 - mean) / s)   otherwise
//
// The difference of sigmoids is never formed (it cancels to 0 far from the mean and where s
// is large): with a and b the bin's edges in standard units, w = a - b = (2/255) / s,
//
//   sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(-w))
//   log P(x) = log_sigmoid(a) + log_sigmoid(-b) + log_diff_exp(0, -w)
//
// exact in every tail. Where w itself is tiny (below 1e-8: s above 8e5, the bin a sliver of
// the logistic) the last term is its expansion log w - w / 2, with log w = log(2/255) -
// log_scale: w may underflow, log w never does, and the sum becomes the midpoint density
// times the bin width (the approximation PixelCNN++ takes where its difference underflows).
// Bits per dimension: -log_prob / (dimensions ln 2). In float the grid points and bin edges
// are exact to ~1e-7 only, so a scale below ~1e-5 (log_scale < -11) resolves the bins more
// finely than float can: bound log_scale in a model (see the constructor).
//
// Sampling: inverse CDF (mean + s logit(u)), rounded to the nearest grid point and clamped to
// [-1, 1]; the draws are discrete, so not reparameterised.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class DiscretizedLogistic final : public Distribution<T> {
 public:
  /// The number of grid points (8-bit values).
  static constexpr int bins = 256;

  /// DiscretizedLogistic(mean, log_scale): both finite (checked); batch_shape is the
  /// broadcast of both shapes. A model usually bounds log_scale from below (PixelCNN++
  /// clamps it at -7) so that a confident pixel cannot drive its bin's mass to 1 with
  /// ever-growing gradients; the distribution itself takes any finite value.
  DiscretizedLogistic(const Var<T>& mean, const Var<T>& log_scale, DistributionOptions options = {})
      : Distribution<T>(mean.tape(), broadcast_parameter_shapes("DiscretizedLogistic", {mean.shape(), log_scale.shape()}),
                        Shape{}, options),
        m_mean(mean),
        m_log_scale(log_scale) {
    mean.tape().check_handle("DiscretizedLogistic", log_scale);
    this->check_values(mean, "mean", "finite", [](T v) { return std::isfinite(v); });
    this->check_values(log_scale, "log_scale", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "DiscretizedLogistic"; }
  bool is_reparameterized() const override { return false; }

  /// The logistic's location (the "mean" parameter) and log scale.
  Var<T> loc() const { return m_mean; }
  Var<T> log_scale() const { return m_log_scale; }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "mean") return m_mean;
    if (parameter_name == "log_scale") return m_log_scale;
    return Distribution<T>::parameter(parameter_name);
  }

  /// The grid's hull: Support has no kind for a finite grid of reals, and the values are
  /// observed data (a latent here would need a discrete sampler, not a transform).
  Support<T> support() const override { return Support<T>::interval(T(-1), T(1)); }

  /// The grid point of a pixel byte: (2 b - 255) / 255, one rounding (2 b / 255 - 1 in float
  /// is off by up to 6e-8, a visible shift of the bin edges when s is below ~1e-5).
  static T value_of_byte(int byte) { return static_cast<T>(2 * byte - 255) / T(255); }

 protected:
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    this->check_values(given, "given", "in [-1, 1] (8-bit values as 2 b / 255 - 1)",
                       [](T v) { return v >= T(-1) && v <= T(1); });
    Tape<T>& tape = this->tape();
    const T half_bin = T(1) / T(255);
    const Var<T> mu = this->maybe_detached(m_mean, detach_parameters);
    const Var<T> ls = this->maybe_detached(m_log_scale, detach_parameters);
    const Var<T> inv_s = exp(-ls);
    const Var<T> centered = given - mu;
    const Var<T> a = (centered + half_bin) * inv_s;  // the bin's upper edge, standard units
    const Var<T> b = (centered - half_bin) * inv_s;  // its lower edge
    const Var<T> log_below_upper = log_sigmoid(a);   // log P(X < upper edge): bin 0
    const Var<T> log_above_lower = log_sigmoid(-b);  // log P(X > lower edge): bin 255
    const Var<T> width = inv_s * (T(2) * half_bin);  // a - b
    // log(1 - exp(-w)); the branch where() drops gets a harmless input, so that its gradient
    // (0 times 1 / expm1(0) at w = 0) is not NaN
    const Var<T> tiny = this->mask(width, [](T w) { return w < T(1e-8); });
    const Var<T> one = tape.constant(T(1));
    const Var<T> exact = log_diff_exp(tape.constant(T(0)), -where(tiny, one, width));
    const Var<T> expansion = (T(std::log(2.0 / 255.0)) - ls) - width * T(0.5);
    const Var<T> interior = log_below_upper + log_above_lower + where(tiny, expansion, exact);
    const Var<T> left = this->mask(given, [&](T x) { return x < T(-1) + half_bin; });
    const Var<T> right = this->mask(given, [&](T x) { return x > T(1) - half_bin; });
    return where(left, log_below_upper, where(right, log_above_lower, interior));
  }

  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const Var<T> mu = broadcast_to(m_mean, batch);
    const Var<T> ls = broadcast_to(m_log_scale, batch);
    const std::size_t per_draw = shape_size(batch);
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t j = i % per_draw;
        // in double: the rounding to a bin must not depend on T's precision
        const double x = static_cast<double>(mu.data()[j]) +
                         std::exp(static_cast<double>(ls.data()[j])) * detail::standard_logistic<double>(rng);
        const double k = std::clamp(std::floor((x + 1.0) * 127.5 + 0.5), 0.0, 255.0);
        data[i] = value_of_byte(static_cast<int>(k));
      }
    });
  }

 private:
  Var<T> m_mean;
  Var<T> m_log_scale;
};

}  // namespace vaelib
