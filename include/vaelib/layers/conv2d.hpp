#pragma once
// Conv2d and ConvTranspose2d: the convolution layers act(conv(x, W) + b) over NCHW images,
// their parameters "weight" and "bias" got (or created) under the layer's scope, as dense().
//
// Initialisation. The default is PyTorch's, so a model ported from PyTorch (or the LibTorch
// peer of the benchmarks) starts from the same distribution: weight and bias both
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with a = sqrt(5) for the weight).
// Fans count channels times the kernel's taps:
//   Conv2d          weight [C_out, C_in/G, kH, kW]: fan_in = C_in/G kH kW, fan_out = C_out kH kW
//   ConvTranspose2d weight [C_in, C_out/G, kH, kW]: fan_in = C_out/G kH kW, fan_out = C_in kH kW
// (the transposed layer counts its fans as PyTorch does: those of the convolution it transposes).
// init::fans() reads a shape as [receptive field..., fan_in, fan_out], so every weight
// initialiser (the default, init::glorot_uniform(), init::he_normal(), a user's) is called
// with the fan shape [kH, kW, fan_in channels, fan_out channels] while the values are stored
// in the weight's own layout; all of vaelib's initialisers draw independent values, for which
// the layout does not matter. A user initialiser that writes a pattern (an identity kernel)
// must index the weight's layout, not the shape it is given.

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/ops/conv2d.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/parameters.hpp"

namespace vaelib {

namespace init {

/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for convolution (and Linear)
/// weights, kaiming_uniform_ with a = sqrt(5): gain sqrt(2 / (1 + 5)) times sqrt(3 / fan_in).
template <class T>
Initializer<T> fan_in_uniform() {
  return [](std::span<T> v, const Shape& shape, Rng& rng) {
    const T limit = static_cast<T>(1.0 / std::sqrt(fans(shape).in));
    rng.fill_uniform(v, -limit, limit);
  };
}

}  // namespace init

/// Conv2d's options: the op's geometry, then bias, fused activation and initialisers.
template <class T>
struct Conv2dLayerOptions {
  Conv2dPair stride{1, 1};
  Conv2dPair padding{0, 0};
  Conv2dPair dilation{1, 1};
  std::size_t groups = 1;
  Activation activation = Activation::none;
  bool use_bias = true;
  Initializer<T> weight_init = {};  // empty: init::fan_in_uniform (PyTorch's default)
  Initializer<T> bias_init = {};    // empty: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default)
};

/// ConvTranspose2d's options: Conv2d's plus output_padding.
template <class T>
struct ConvTranspose2dLayerOptions {
  Conv2dPair stride{1, 1};
  Conv2dPair padding{0, 0};
  Conv2dPair output_padding{0, 0};
  Conv2dPair dilation{1, 1};
  std::size_t groups = 1;
  Activation activation = Activation::none;
  bool use_bias = true;
  Initializer<T> weight_init = {};  // empty: init::fan_in_uniform (PyTorch's default)
  Initializer<T> bias_init = {};    // empty: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default)
};

namespace detail {

/// Checks what the layer itself must know before it can shape its weight (the op checks the
/// rest); `layer` is e.g. "conv2d 'c1'".
inline void check_conv_layer(const std::string& layer, const Shape& sx, std::size_t out_channels, Conv2dPair kernel,
                             std::size_t groups) {
  if (sx.size() != 4) {
    throw ShapeError(layer + ": input must be [N, C_in, H, W], got shape " + to_string(sx));
  }
  if (out_channels == 0 || kernel.h == 0 || kernel.w == 0 || groups == 0) {
    throw ArgumentError(layer + ": expected out_channels, kernel and groups >= 1; got out_channels " +
                        std::to_string(out_channels) + ", kernel " + conv_pair(kernel) + ", groups " +
                        std::to_string(groups));
  }
  if (sx[1] % groups != 0 || out_channels % groups != 0) {
    throw ShapeError(layer + ": C_in (" + std::to_string(sx[1]) + ") and out_channels (" +
                     std::to_string(out_channels) + ") must be divisible by groups (" + std::to_string(groups) + ")");
  }
}

/// `init` called with the fan shape [kH, kW, fan_in channels, fan_out channels] (see the top).
template <class T>
Initializer<T> conv_weight_initializer(const Initializer<T>& init, std::size_t fan_in_channels,
                                       std::size_t fan_out_channels) {
  return [init, fan_in_channels, fan_out_channels](std::span<T> v, const Shape& shape, Rng& rng) {
    init(v, Shape{shape[2], shape[3], fan_in_channels, fan_out_channels}, rng);
  };
}

/// Gets (creating on first use) the layer's weight and optional bias, then returns
/// act(op(weight, bias)). `fan_in` channels and `fan_out` channels as at the top.
template <class T, class Options, class Op, class Validate>
Var<T> conv_layer(const ParameterScope<T>& layer, const Var<T>& x, const Shape& weight_shape, std::size_t out_channels,
                  std::size_t fan_in_channels, std::size_t fan_out_channels, const Options& options, const Op& op,
                  const Validate& validate) {
  const ParameterScope<T> weight_name = layer.scope("weight");
  if (layer.store().find(weight_name.prefix()) == nullptr) validate();  // a failing first call creates nothing
  const Initializer<T>& chosen = options.weight_init ? options.weight_init : init::fan_in_uniform<T>();
  Tape<T>& tape = x.tape();
  const Var<T> w =
      layer.get("weight", weight_shape, conv_weight_initializer(chosen, fan_in_channels, fan_out_channels)).on(tape);
  if (!options.use_bias) return activate(op(w, nullptr), options.activation);
  const double fan_in = static_cast<double>(fan_in_channels * weight_shape[2] * weight_shape[3]);
  const T bound = static_cast<T>(1.0 / std::sqrt(fan_in));
  const Var<T> b =
      layer.get("bias", Shape{out_channels}, options.bias_init ? options.bias_init : init::uniform<T>(-bound, bound))
          .on(tape);
  return activate(op(w, &b), options.activation);
}

}  // namespace detail

/// act(conv2d(x, W) + b) for x [N, C_in, H, W]: W [out_channels, C_in / groups, kH, kW] and
/// b [out_channels] live at "<scope>/<name>/weight" and ".../bias" and are created on first use
/// (C_in from x). The op is vaelib::conv2d(x, weight, bias, options); this overload takes the
/// scope first.
template <class T>
Var<T> conv2d(const ParameterScope<T>& scope, std::string_view name, const Var<T>& x, std::size_t out_channels,
              Conv2dPair kernel, const Conv2dLayerOptions<T>& options = {}) {
  const std::string layer_name = "conv2d '" + std::string(name) + "'";
  detail::check_conv_layer(layer_name, x.shape(), out_channels, kernel, options.groups);
  const ParameterScope<T> layer = scope.scope(name);
  const std::size_t c_in = x.shape()[1];
  const Conv2dOptions op_options{options.stride, options.padding, options.dilation, options.groups};
  const Shape weight_shape{out_channels, c_in / options.groups, kernel.h, kernel.w};
  const Shape bias_shape{out_channels};
  return detail::conv_layer<T>(
      layer, x, weight_shape, out_channels, c_in / options.groups, out_channels, options,
      [&](const Var<T>& w, const Var<T>* b) { return b != nullptr ? conv2d(x, w, *b, op_options) : conv2d(x, w, op_options); },
      [&] {
        Shape out;
        detail::plan_conv2d("conv2d", false, x.shape(), weight_shape, options.use_bias ? &bias_shape : nullptr,
                            options.stride, options.padding, options.dilation, options.groups, {0, 0}, out);
      });
}

/// act(conv_transpose2d(x, W) + b) for x [N, C_in, H, W]: W [C_in, out_channels / groups, kH,
/// kW] and b [out_channels] live at "<scope>/<name>/weight" and ".../bias", created on first use.
template <class T>
Var<T> conv_transpose2d(const ParameterScope<T>& scope, std::string_view name, const Var<T>& x,
                        std::size_t out_channels, Conv2dPair kernel, const ConvTranspose2dLayerOptions<T>& options = {}) {
  const std::string layer_name = "conv_transpose2d '" + std::string(name) + "'";
  detail::check_conv_layer(layer_name, x.shape(), out_channels, kernel, options.groups);
  const ParameterScope<T> layer = scope.scope(name);
  const std::size_t c_in = x.shape()[1];
  const ConvTranspose2dOptions op_options{options.stride, options.padding, options.output_padding, options.dilation,
                                          options.groups};
  const Shape weight_shape{c_in, out_channels / options.groups, kernel.h, kernel.w};
  const Shape bias_shape{out_channels};
  return detail::conv_layer<T>(
      layer, x, weight_shape, out_channels, out_channels / options.groups, c_in, options,
      [&](const Var<T>& w, const Var<T>* b) {
        return b != nullptr ? conv_transpose2d(x, w, *b, op_options) : conv_transpose2d(x, w, op_options);
      },
      [&] {
        Shape out;
        detail::plan_conv2d("conv_transpose2d", true, x.shape(), weight_shape, options.use_bias ? &bias_shape : nullptr,
                            options.stride, options.padding, options.dilation, options.groups, options.output_padding,
                            out);
      });
}

/// The layer as an object: holds its scope, name, out channels, kernel and options.
template <class T>
class Conv2d {
 public:
  Conv2d(ParameterScope<T> scope, std::string name, std::size_t out_channels, Conv2dPair kernel,
         Conv2dLayerOptions<T> options = {})
      : m_scope(scope), m_name(std::move(name)), m_out_channels(out_channels), m_kernel(kernel),
        m_options(std::move(options)) {}

  Var<T> operator()(const Var<T>& x) const { return conv2d(m_scope, m_name, x, m_out_channels, m_kernel, m_options); }
  std::size_t out_channels() const noexcept { return m_out_channels; }
  Conv2dPair kernel() const noexcept { return m_kernel; }
  const Conv2dLayerOptions<T>& options() const noexcept { return m_options; }

 private:
  ParameterScope<T> m_scope;
  std::string m_name;
  std::size_t m_out_channels;
  Conv2dPair m_kernel;
  Conv2dLayerOptions<T> m_options;
};

/// The transposed layer as an object.
template <class T>
class ConvTranspose2d {
 public:
  ConvTranspose2d(ParameterScope<T> scope, std::string name, std::size_t out_channels, Conv2dPair kernel,
                  ConvTranspose2dLayerOptions<T> options = {})
      : m_scope(scope), m_name(std::move(name)), m_out_channels(out_channels), m_kernel(kernel),
        m_options(std::move(options)) {}

  Var<T> operator()(const Var<T>& x) const {
    return conv_transpose2d(m_scope, m_name, x, m_out_channels, m_kernel, m_options);
  }
  std::size_t out_channels() const noexcept { return m_out_channels; }
  Conv2dPair kernel() const noexcept { return m_kernel; }
  const ConvTranspose2dLayerOptions<T>& options() const noexcept { return m_options; }

 private:
  ParameterScope<T> m_scope;
  std::string m_name;
  std::size_t m_out_channels;
  Conv2dPair m_kernel;
  ConvTranspose2dLayerOptions<T> m_options;
};

}  // namespace vaelib
