#pragma once
// batch_norm: batch normalisation per channel of x [N, C, H, W] (over N, H, W) or [N, C]
// (over N), with PyTorch's conventions. The running statistics live in caller-owned arrays
// (the layer that owns them saves them in checkpoints); the op reads them in evaluation mode
// and updates them in training mode.

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "vaelib/autodiff/tape.hpp"

namespace vaelib {

/// batch_norm()'s options.
struct BatchNormOptions {
  bool training = true;   // batch statistics (and update the running ones), or the running ones
  double momentum = 0.1;  // running = (1 - momentum) running + momentum batch statistic
  double eps = 1e-5;      // added to the variance under the square root
};

namespace detail {

/// What batch_norm keeps in its node for the backward: the statistics it normalised with.
struct BatchNormCache {
  std::size_t batch = 0, channels = 0, plane = 0;
  bool training = true;
  std::vector<double> mean, invstd;  // per channel: the mean subtracted and 1 / sqrt(var + eps)
};

inline std::string batch_norm_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace detail

/// Batch normalisation: x [N, C, H, W] or [N, C], gamma [C], beta [C], running_mean [C],
/// running_var [C] (caller-owned, read in evaluation and updated in training):
///   y[n, c, ...] = (x[n, c, ...] - mu_c) / sqrt(var_c + eps) gamma_c + beta_c;
///   training: mu_c, var_c the mean and the biased variance over the M = N H W values of
///   channel c, then running_mean = (1 - momentum) running_mean + momentum mu_c and
///   running_var = (1 - momentum) running_var + momentum var_c M / (M - 1) (unbiased), as
///   PyTorch's BatchNorm2d; evaluation: mu_c = running_mean[c], var_c = running_var[c].
///   Statistics are accumulated in double for float too.
/// forward:  xhat = (x - mu) / sqrt(var + eps), y = gamma xhat + beta
/// backward: dbeta_c += sum dy, dgamma_c += sum dy xhat (sums over channel c's values);
///           training (through the batch statistics):
///             dx = gamma_c / sqrt(var_c + eps) (dy - sum dy / M - xhat sum(dy xhat) / M);
///           evaluation: dx = gamma_c / sqrt(var_c + eps) dy
template <class T>
Var<T> batch_norm(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, xt::xarray<T>& running_mean,
                  xt::xarray<T>& running_var, const BatchNormOptions& options = {}) {
  constexpr const char* op = "batch_norm";
  Tape<T>& tape = x.tape();
  tape.check_handle(op, x);
  tape.check_handle(op, gamma);
  tape.check_handle(op, beta);
  if (!(options.momentum >= 0 && options.momentum <= 1) || !(options.eps > 0)) {
    throw ArgumentError(std::string(op) + ": expected momentum in [0, 1] and eps > 0; got momentum " +
                        detail::batch_norm_number(options.momentum) + ", eps " +
                        detail::batch_norm_number(options.eps));
  }
  const Shape& sx = x.shape();
  if (sx.size() != 2 && sx.size() != 4) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(sx) + "; expected x [N, C] or [N, C, H, W]");
  }
  const std::size_t batch = sx[0], channels = sx[1], plane = sx.size() == 4 ? sx[2] * sx[3] : 1;
  const auto is_channel_vector = [&](const Shape& s) { return s.size() == 1 && s[0] == channels; };
  const Shape rm_shape(running_mean.shape().begin(), running_mean.shape().end());
  const Shape rv_shape(running_var.shape().begin(), running_var.shape().end());
  if (!is_channel_vector(gamma.shape()) || !is_channel_vector(beta.shape()) || !is_channel_vector(rm_shape) ||
      !is_channel_vector(rv_shape)) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(sx) + " (C = " + std::to_string(channels) +
                     "), gamma has shape " + to_string(gamma.shape()) + ", beta has shape " + to_string(beta.shape()) +
                     ", running_mean has shape " + to_string(rm_shape) + ", running_var has shape " +
                     to_string(rv_shape) + "; expected each of them [C] = [" + std::to_string(channels) + "]");
  }
  const std::size_t m = batch * plane;  // values per channel
  if (options.training && m < 2) {
    throw ShapeError(std::string(op) + ": x has shape " + to_string(sx) +
                     "; training needs more than one value per channel (N H W = " + std::to_string(m) + ")");
  }
  const Var<T> y = tape.make_node(op, sx, {x, gamma, beta});
  detail::BatchNormCache& c = op_cache<detail::BatchNormCache>(tape.node(y));
  c.batch = batch, c.channels = channels, c.plane = plane, c.training = options.training;
  c.mean.resize(channels);  // no allocation once a step has had this many channels
  c.invstd.resize(channels);
  const T* const xv = x.data();
  const T* const gv = gamma.data();
  const T* const bv = beta.data();
  T* const yv = tape.value_ptr(y);
  const std::size_t stride = channels * plane;  // from one image's channel c to the next's
  for (std::size_t ch = 0; ch < channels; ++ch) {
    const T* xc = xv + ch * plane;
    double mu = 0, var = 0;
    if (options.training) {
      for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t k = 0; k < plane; ++k) mu += xc[n * stride + k];
      mu /= static_cast<double>(m);
      for (std::size_t n = 0; n < batch; ++n)  // two passes: no cancellation for large means
        for (std::size_t k = 0; k < plane; ++k) {
          const double d = xc[n * stride + k] - mu;
          var += d * d;
        }
      var /= static_cast<double>(m);
      const double mom = options.momentum;
      running_mean(ch) = static_cast<T>((1 - mom) * running_mean(ch) + mom * mu);
      running_var(ch) =
          static_cast<T>((1 - mom) * running_var(ch) + mom * var * static_cast<double>(m) / static_cast<double>(m - 1));
    } else {
      mu = running_mean(ch);
      var = running_var(ch);
    }
    const double invstd = 1 / std::sqrt(var + options.eps);
    c.mean[ch] = mu;
    c.invstd[ch] = invstd;
    const double a = gv[ch] * invstd, b = bv[ch] - mu * a;  // y = a x + b
    for (std::size_t n = 0; n < batch; ++n) {
      T* yc = yv + n * stride + ch * plane;
      const T* xn = xc + n * stride;
      for (std::size_t k = 0; k < plane; ++k) yc[k] = static_cast<T>(a * xn[k] + b);
    }
  }
  tape.set_backward(y, [x, gamma, beta](Tape<T>& t, TapeRecord<T>& self) {
    const detail::BatchNormCache& c = op_cache<detail::BatchNormCache>(self);
    const bool need_x = t.node(x).requires_grad, need_g = t.node(gamma).requires_grad;
    const bool need_b = t.node(beta).requires_grad;
    const GradTarget<T> gx = need_x ? t.grad_target(x) : GradTarget<T>{nullptr, false};
    const GradTarget<T> gg = need_g ? t.grad_target(gamma) : GradTarget<T>{nullptr, false};
    const GradTarget<T> gb = need_b ? t.grad_target(beta) : GradTarget<T>{nullptr, false};
    const T* const xv = t.value_ptr(x);
    const T* const gv = t.value_ptr(gamma);
    const std::size_t stride = c.channels * c.plane;
    const double m = static_cast<double>(c.batch * c.plane);
    for (std::size_t ch = 0; ch < c.channels; ++ch) {
      const double mu = c.mean[ch], invstd = c.invstd[ch];
      double sdy = 0, sdyx = 0;  // sum dy, sum dy xhat
      for (std::size_t n = 0; n < c.batch; ++n) {
        const T* dy = self.grad + n * stride + ch * c.plane;
        const T* xn = xv + n * stride + ch * c.plane;
        for (std::size_t k = 0; k < c.plane; ++k) {
          sdy += dy[k];
          sdyx += dy[k] * (xn[k] - mu) * invstd;
        }
      }
      if (need_g) gg.data[ch] = static_cast<T>(gg.accumulate ? gg.data[ch] + sdyx : sdyx);
      if (need_b) gb.data[ch] = static_cast<T>(gb.accumulate ? gb.data[ch] + sdy : sdy);
      if (!need_x) continue;
      const double scale = gv[ch] * invstd;
      // training: the batch statistics depend on x, removing dy's mean and its xhat component
      const double mean_dy = c.training ? sdy / m : 0, mean_dyx = c.training ? sdyx / m : 0;
      for (std::size_t n = 0; n < c.batch; ++n) {
        const T* dy = self.grad + n * stride + ch * c.plane;
        const T* xn = xv + n * stride + ch * c.plane;
        T* dx = gx.data + n * stride + ch * c.plane;
        for (std::size_t k = 0; k < c.plane; ++k) {
          const double xhat = (xn[k] - mu) * invstd;
          const double v = scale * (dy[k] - mean_dy - xhat * mean_dyx);
          dx[k] = static_cast<T>(gx.accumulate ? dx[k] + v : v);
        }
      }
    }
  });
  return y;
}

}  // namespace vaelib
