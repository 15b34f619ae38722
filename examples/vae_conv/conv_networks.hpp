#pragma once
// vae_conv's networks (ZhuSuan's convolutional VAE), shared by the example and by
// benchmarks/conv_vae_step.bench.cpp, which times the same step.

#include <vaelib/vae.hpp>

namespace vaelib::examples {

/// The convolutional encoder and decoder for square images of `side` pixels (side divisible by
/// 4) with `channels` channels; the decoder's last layer gives `heads` maps per channel (the
/// likelihood's heads: 1 for Bernoulli logits, 2 for the discretised logistic's mean and log-scale).
inline vaelib::models::VaeNetworks<float> conv_networks(std::size_t side, std::size_t channels, std::size_t heads = 1) {
  const auto s = static_cast<std::ptrdiff_t>(side), c = static_cast<std::ptrdiff_t>(channels);
  models::VaeNetworks<float> n;
  n.encoder = [s, c](const ParameterScope<float>& scope, const Var<float>& x) {
    const Var<float> image = reshape(x, {-1, c, s, s});
    const Var<float> h1 = conv2d(scope, "conv1", image, 32, {3, 3},
                                 {.stride = {2, 2}, .padding = {1, 1}, .activation = Activation::relu});
    const Var<float> h2 = conv2d(scope, "conv2", h1, 64, {3, 3},
                                 {.stride = {2, 2}, .padding = {1, 1}, .activation = Activation::relu});
    return flatten(h2);
  };
  n.decoder = [s, c, heads](const ParameterScope<float>& scope, const Var<float>& z) {
    const std::size_t quarter = static_cast<std::size_t>(s / 4);
    Shape out(z.shape().begin(), z.shape().end() - 1);  // z's leading axes (particles, batch), then the heads
    out.push_back(heads * static_cast<std::size_t>(c * s * s));
    const auto z_dim = static_cast<std::ptrdiff_t>(z.shape().back());
    const Var<float> h = dense(scope, "h", reshape(z, {-1, z_dim}), 64 * quarter * quarter, {.activation = Activation::relu});
    const Var<float> up1 = conv_transpose2d(scope, "deconv1", unflatten(h, {64, quarter, quarter}), 32, {4, 4},
                                            {.stride = {2, 2}, .padding = {1, 1}, .activation = Activation::relu});
    const Var<float> last = conv_transpose2d(scope, "deconv2", up1, heads * static_cast<std::size_t>(c), {4, 4},
                                               {.stride = {2, 2}, .padding = {1, 1}});
    return reshape(last, out);
  };
  n.decoder_gives_heads = true;
  return n;
}

}  // namespace vaelib::examples
