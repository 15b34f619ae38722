#pragma once
// models::VAE: a reusable variational auto-encoder. Encoder and decoder sizes, the latent
// size and kind (Normal latents with a N(0, I) prior, or Bernoulli latents with a
// Bernoulli(1/2) prior), and the likelihood p(x | z) are parameters; the likelihood is any
// Distribution, built from the decoder's output heads, so swapping it is one line:
//
//   models::VAE<float> vae(tape, rng, params.scope("vae"), {.x_dim = 784, .z_dim = 40},
//                          models::bernoulli_likelihood<float>());
//   auto q = vae.variational(x, /*n_particles=*/1);
//   auto cost = mean(elbo(vae.model(batch), {{"x", x}}, q, 0).sgvb());
//
// A flow posterior is one more config line: .flow = {.kind = models::FlowKind::iaf, .length = 2}
// pushes q's normal through a stack of flows (a FlowDistribution, docs/flows.md), and every
// objective and is_loglikelihood take it unchanged.
//
// The model is a MetaBayesianNet taking the batch size and the particle count (they size the
// prior when z is not observed) with nodes "z", "x" and the deterministic "x_mean" (the
// likelihood's mean, for pictures, computed when first read); q has the node "z".

#include <algorithm>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/bayesian_net/meta_bayesian_net.hpp"
#include "vaelib/distributions.hpp"
#include "vaelib/flows.hpp"
#include "vaelib/autodiff/ops/slice.hpp"
#include "vaelib/layers/dense.hpp"

namespace vaelib::models {

/// How x is distributed given the decoder: the number of x_dim-sized output heads it needs,
/// the distribution built from them (group_ndims = 1: one image is one event), and that
/// distribution's mean (the picture of a decoded z).
template <class T>
struct Likelihood {
  std::string name;
  std::size_t heads = 1;
  std::function<std::unique_ptr<Distribution<T>>(std::span<const Var<T>> heads, DistributionOptions options)> make;
  std::function<Var<T>(std::span<const Var<T>> heads)> mean;
};

/// x ~ Bernoulli(sigmoid(logits)): binary pixels (or grey levels as relaxed targets with
/// `relaxed_targets`, the usual cross-entropy VAE).
template <class T>
Likelihood<T> bernoulli_likelihood(bool relaxed_targets = false) {
  return {"Bernoulli", 1,
          [relaxed_targets](std::span<const Var<T>> h, DistributionOptions o) -> std::unique_ptr<Distribution<T>> {
            return std::make_unique<Bernoulli<T>>(h[0], BernoulliOptions{o.group_ndims, o.use_path_derivative,
                                                                        relaxed_targets});
          },
          [](std::span<const Var<T>> h) { return sigmoid(h[0]); }};
}

/// x ~ N(mean, exp(logstd)^2) per pixel, with mean and log-std heads; the log-std is
/// clamped below at `min_logstd` (a pixel that is always 0 would otherwise drive its
/// variance to zero and the likelihood to infinity).
template <class T>
Likelihood<T> normal_likelihood(T min_logstd = T(-4)) {
  return {"Normal", 2,
          [min_logstd](std::span<const Var<T>> h, DistributionOptions o) -> std::unique_ptr<Distribution<T>> {
            return std::make_unique<Normal<T>>(Normal<T>::with_logstd(h[0], clamp(h[1], min_logstd, T(10)), o));
          },
          [](std::span<const Var<T>> h) { return h[0]; }};
}

/// x ~ DiscretizedLogistic(mean, exp(log_scale)) per value, with mean and log-scale heads:
/// 8-bit images as values in [-1, 1] (an ImageSet's v as 2 v - 1; vae_conv on CIFAR-10). The
/// log-scale is clamped to [min_log_scale, 5] (PixelCNN++'s -7: a confident pixel cannot push
/// its bin's mass to 1 with ever-growing gradients); the mean picture is the location clamped
/// to [-1, 1].
template <class T>
Likelihood<T> discretized_logistic_likelihood(T min_log_scale = T(-7)) {
  return {"DiscretizedLogistic", 2,
          [min_log_scale](std::span<const Var<T>> h, DistributionOptions o) -> std::unique_ptr<Distribution<T>> {
            return std::make_unique<DiscretizedLogistic<T>>(h[0], clamp(h[1], min_log_scale, T(5)), o);
          },
          [](std::span<const Var<T>> h) { return clamp(h[0], T(-1), T(1)); }};
}

/// The flow a normal posterior q(z | x) is pushed through (docs/flows.md): none (the diagonal
/// Gaussian), planar or radial flows (Rezende & Mohamed 2015), Householder Sylvester flows
/// (van den Berg et al. 2018), or inverse autoregressive flows reading the encoder's last
/// hidden layer as their context (Kingma et al. 2016).
enum class FlowKind { none, planar, radial, sylvester, iaf };

struct PosteriorFlowConfig {
  FlowKind kind = FlowKind::none;
  std::size_t length = 0;             // K, the flows in the stack (at least 1 with a kind)
  std::vector<std::size_t> hidden{};  // each IAF's MADE widths (empty: one layer of 2 z_dim)
  bool context = true;                // IAF: read the encoder's last hidden layer (x without one)
};

/// The flow kind's name as the examples' options spell it ("none", "planar", "radial",
/// "sylvester", "iaf").
inline const char* flow_kind_name(FlowKind kind) {
  switch (kind) {
    case FlowKind::planar: return "planar";
    case FlowKind::radial: return "radial";
    case FlowKind::sylvester: return "sylvester";
    case FlowKind::iaf: return "iaf";
    case FlowKind::none: break;
  }
  return "none";
}

enum class LatentKind {
  normal,    // p(z) = N(0, I), q(z | x) = N(mean(x), exp(logstd(x))^2): reparameterised
  bernoulli  // p(z) = Bernoulli(1/2), q(z | x) = Bernoulli(sigmoid(logits(x))): score function
};

/// A second stochastic layer above z (Burda et al.'s two-layer models): p(z2) = N(0, I),
/// p(z | z2) and q(z2 | z) Gaussians whose mean and log-std come from `hidden` dense layers.
struct TopLayerConfig {
  std::size_t z_dim = 0;               // 0: no second layer
  std::vector<std::size_t> hidden = {};  // widths between z and z2, both ways
};

struct VaeConfig {
  std::size_t x_dim = 784;
  std::size_t z_dim = 40;
  std::vector<std::size_t> encoder = {500, 500};  // hidden layer widths
  std::vector<std::size_t> decoder = {500, 500};
  Activation activation = Activation::relu;
  LatentKind latent = LatentKind::normal;
  PosteriorFlowConfig flow = {};  // q(z | x) pushed through flows (normal latents only)
  TopLayerConfig top = {};        // a second stochastic layer "z2" above "z" (normal latents, no flow)
};

/// Networks of your own in place of the dense hidden layers (a convolutional encoder and
/// decoder, say). Each is called with the scope its parameters belong under ("<vae>/q" for
/// the encoder, "<vae>/gen" for the decoder) and its input: images [n, x_dim] for the
/// encoder, codes [..., z_dim] for the decoder (any leading axes: particles, batch). The
/// encoder returns features [n, width], from which q's heads are dense layers. The decoder
/// returns features [..., width] from which the likelihood's heads are dense layers; or,
/// with `decoder_gives_heads`, the heads themselves, [..., heads x x_dim] (a transposed
/// convolution's output flattened: the logits of every pixel), split in order.
template <class T>
struct VaeNetworks {
  std::function<Var<T>(const ParameterScope<T>& scope, const Var<T>& x)> encoder;
  std::function<Var<T>(const ParameterScope<T>& scope, const Var<T>& z)> decoder;
  bool decoder_gives_heads = false;
};

template <class T>
class VAE {
 public:
  /// q's parameters for a batch: mean and log-std (normal latents) or logits (bernoulli),
  /// and the encoder's last hidden layer (x itself without hidden layers): an IAF's context.
  struct Encoding {
    Var<T> mean, logstd, logits, hidden;
  };
  /// The generative model's type: its builder takes the batch size and the particle count.
  using Model = MetaBayesianNet<T, std::size_t, std::size_t>;

  /// `networks`: an encoder and a decoder of your own (either may be empty: the dense
  /// hidden layers of config.encoder / config.decoder then). An IAF posterior reading a
  /// context needs the dense encoder: a network's output width is not known up front.
  VAE(Tape<T>& tape, Rng& rng, ParameterScope<T> scope, VaeConfig config, Likelihood<T> likelihood,
      VaeNetworks<T> networks = {})
      : m_tape(&tape), m_rng(&rng), m_scope(std::move(scope)), m_config(std::move(config)),
        m_likelihood(std::move(likelihood)), m_networks(std::move(networks)),
        m_model(tape, rng, m_scope.scope("gen"),
                [this](BayesianNet<T>& bn, std::size_t n, std::size_t n_particles) { build_model(bn, n, n_particles); }) {
    if (m_config.x_dim == 0 || m_config.z_dim == 0) throw ArgumentError("models::VAE: x_dim and z_dim must be positive");
    if (m_likelihood.heads == 0 || !m_likelihood.make || !m_likelihood.mean) {
      throw ArgumentError("models::VAE: the likelihood '" + m_likelihood.name + "' needs heads, make and mean");
    }
    if (has_top_layer() && (m_config.latent != LatentKind::normal || m_config.flow.kind != FlowKind::none)) {
      throw ArgumentError("models::VAE: a second stochastic layer (config.top) needs normal latents without a flow");
    }
    make_flows();
  }
  VAE(const VAE&) = delete;  // the model's builder refers to this object
  VAE& operator=(const VAE&) = delete;

  /// p(z) p(x | z) with nodes "z", "x" and "x_mean" (with config.top, p(z2) p(z | z2) p(x | z)
  /// and a node "z2"), built for a batch size and a particle count:
  /// model().observe(observed, n, n_particles).
  const Model& model() const noexcept { return m_model; }
  Model& model() noexcept { return m_model; }
  /// The model bound to a batch of n (and n_particles draws of z when z is not observed), as
  /// the objectives take it: elbo(vae.model(n), {{"x", x}}, q, 0).
  MetaBayesianNet<T> model(std::size_t n, std::size_t n_particles = 1) const { return m_model(n, n_particles); }

  Encoding encode(const Var<T>& x) const {
    // checked here: on a fresh model a wrong width would silently build a wrong-sized encoder
    check_width("encode", "x", x, m_config.x_dim, "x_dim");
    const ParameterScope<T> q = m_scope.scope("q");
    Var<T> h = x;
    if (m_networks.encoder) {
      h = m_networks.encoder(q, x);
      if (h.rank() != 2 || h.shape()[0] != x.shape()[0]) {
        throw ShapeError("models::VAE.encode: the encoder network returned shape " + to_string(h.shape()) +
                         " for x of shape " + to_string(x.shape()) + ", expected [" + std::to_string(x.shape()[0]) +
                         ", width]");
      }
    }
    for (std::size_t i = 0; !m_networks.encoder && i < m_config.encoder.size(); ++i)
      h = dense(q, "h" + std::to_string(i + 1), h, m_config.encoder[i], {.activation = m_config.activation});
    if (m_config.latent == LatentKind::bernoulli) return {{}, {}, dense(q, "z_logits", h, m_config.z_dim), h};
    return {dense(q, "z_mean", h, m_config.z_dim), dense(q, "z_logstd", h, m_config.z_dim), {}, h};
  }

  /// q(z | x) as a BayesianNet with n_particles draws of "z" (leading axis): the normal (or
  /// Bernoulli) posterior, pushed through config.flow's stack when there is one. With
  /// config.top, q(z | x) q(z2 | z): "z2" drawn given each draw of z.
  BayesianNet<T> variational(const Encoding& e, std::size_t n_particles) const {
    BayesianNet<T> q(*m_tape, *m_rng);
    if (has_top_layer()) {
      const Var<T> z = q.normal_logstd("z", e.mean, e.logstd, {.group_ndims = 1, .n_samples = n_particles});
      const auto [mean, logstd] = gaussian_heads(m_scope.scope("q").scope("z2"), z, m_config.top.z_dim);
      q.normal_logstd("z2", mean, logstd, {.group_ndims = 1});
    } else if (m_config.latent == LatentKind::bernoulli) {
      q.bernoulli("z", e.logits, {.group_ndims = 1, .n_samples = n_particles});
    } else if (m_flows.empty()) {
      q.normal_logstd("z", e.mean, e.logstd, {.group_ndims = 1, .n_samples = n_particles});
    } else {
      auto base = std::make_unique<Normal<T>>(Normal<T>::with_logstd(e.mean, e.logstd, {.group_ndims = 1}));
      q.stochastic("z", std::make_unique<FlowDistribution<T>>(std::move(base), flows_for(e)), n_particles);
    }
    return q;
  }
  BayesianNet<T> variational(const Var<T>& x, std::size_t n_particles) const {
    return variational(encode(x), n_particles);
  }

  /// The likelihood's mean for latent codes z [..., z_dim] (no sampling of x is kept).
  Var<T> decode_mean(const Var<T>& z) const {
    check_width("decode_mean", "z", z, m_config.z_dim, "z_dim");
    const std::vector<Var<T>> heads = decoder_heads(z);
    return m_likelihood.mean(heads);
  }

  const VaeConfig& config() const noexcept { return m_config; }
  bool has_top_layer() const noexcept { return m_config.top.z_dim > 0; }
  /// q's flows (empty without config.flow), in the order they apply; an IAF stack's flows
  /// are bound to each batch's context by variational().
  const std::vector<FlowPtr<T>>& flows() const noexcept { return m_flows; }
  const Likelihood<T>& likelihood() const noexcept { return m_likelihood; }
  const ParameterScope<T>& scope() const noexcept { return m_scope; }

 private:
  static void check_width(const char* method, const char* what, const Var<T>& v, std::size_t width, const char* field) {
    if (v.rank() == 0 || v.shape().back() != width) {
      throw ShapeError("models::VAE." + std::string(method) + ": " + what + " has shape " + to_string(v.shape()) +
                       ", expected [..., " + std::to_string(width) + "] (config." + field + ")");
    }
  }

  /// The mean and log-std of a Gaussian of `width` from `input` through config.top.hidden's
  /// dense layers, under `scope` (the top layer's p(z | z2) and q(z2 | z)).
  std::pair<Var<T>, Var<T>> gaussian_heads(const ParameterScope<T>& scope, const Var<T>& input, std::size_t width) const {
    Var<T> h = input;
    for (std::size_t i = 0; i < m_config.top.hidden.size(); ++i)
      h = dense(scope, "h" + std::to_string(i + 1), h, m_config.top.hidden[i], {.activation = m_config.activation});
    return {dense(scope, "mean", h, width), dense(scope, "logstd", h, width)};
  }

  /// The stack config.flow asks for, its parameters under "<scope>/q/flow<k>/".
  void make_flows() {
    const PosteriorFlowConfig& f = m_config.flow;
    if (f.kind == FlowKind::none) return;
    if (m_config.latent != LatentKind::normal) {
      throw ArgumentError(std::string("models::VAE: a flow posterior (config.flow.kind = ") + flow_kind_name(f.kind) +
                          ") needs normal latents (config.latent), not Bernoulli ones");
    }
    if (f.length == 0) {
      throw ArgumentError(std::string("models::VAE: config.flow.length must be at least 1 for a flow posterior "
                                      "(config.flow.kind = ") + flow_kind_name(f.kind) + ")");
    }
    const ParameterScope<T> q = m_scope.scope("q");
    if (f.kind == FlowKind::iaf && f.context && m_networks.encoder) {
      throw ArgumentError("models::VAE: an IAF posterior reading the encoder's hidden layer (config.flow.context) "
                          "needs its width, which an encoder network of your own does not declare; set "
                          "config.flow.context = false");
    }
    const std::size_t context_dim = m_config.encoder.empty() ? m_config.x_dim : m_config.encoder.back();
    for (std::size_t k = 0; k < f.length; ++k) {
      const std::string name = "flow" + std::to_string(k);
      switch (f.kind) {
        case FlowKind::planar: m_flows.push_back(std::make_shared<PlanarFlow<T>>(q, name, m_config.z_dim)); break;
        case FlowKind::radial: m_flows.push_back(std::make_shared<RadialFlow<T>>(q, name, m_config.z_dim)); break;
        case FlowKind::sylvester: m_flows.push_back(std::make_shared<SylvesterFlow<T>>(q, name, m_config.z_dim)); break;
        case FlowKind::iaf:
          // the order reversed at every other step, so each element is read by all the others
          m_flows.push_back(std::make_shared<InverseAutoregressiveFlow<T>>(
              q, name, m_config.z_dim,
              InverseAutoregressiveFlowOptions<T>{.hidden = f.hidden,
                                                  .activation = m_config.activation,
                                                  .context_dim = f.context ? context_dim : 0,
                                                  .reversed = k % 2 == 1}));
          break;
        case FlowKind::none: break;
      }
    }
  }

  /// The flows for one batch: IAFs with a context bound to its encoder's hidden layer.
  std::vector<FlowPtr<T>> flows_for(const Encoding& e) const {
    if (m_config.flow.kind != FlowKind::iaf || !m_config.flow.context) return m_flows;
    std::vector<FlowPtr<T>> bound;
    bound.reserve(m_flows.size());
    for (const FlowPtr<T>& f : m_flows) bound.push_back(static_cast<const InverseAutoregressiveFlow<T>&>(*f).with_context(e.hidden));
    return bound;
  }

  std::vector<Var<T>> decoder_heads(const Var<T>& z) const {
    const ParameterScope<T> gen = m_scope.scope("gen");
    Var<T> h = z;
    if (m_networks.decoder) {
      h = m_networks.decoder(gen, z);
      const Shape& sz = z.shape();
      const std::size_t width = m_networks.decoder_gives_heads ? m_likelihood.heads * m_config.x_dim : 0;
      if (h.rank() != sz.size() || !std::equal(sz.begin(), sz.end() - 1, h.shape().begin()) ||
          (width != 0 && h.shape().back() != width)) {
        throw ShapeError("models::VAE: the decoder network returned shape " + to_string(h.shape()) + " for z of shape " +
                         to_string(sz) + ", expected z's leading axes and a last axis of " +
                         (width != 0 ? std::to_string(width) + " (heads x x_dim)" : std::string("any width")));
      }
      if (m_networks.decoder_gives_heads) {
        std::vector<Var<T>> heads;
        const auto d = static_cast<std::ptrdiff_t>(m_config.x_dim);
        for (std::size_t i = 0; i < m_likelihood.heads; ++i) {
          const auto at = static_cast<std::ptrdiff_t>(i) * d;
          heads.push_back(m_likelihood.heads == 1 ? h : slice(h, -1, at, at + d));
        }
        return heads;
      }
    }
    for (std::size_t i = 0; !m_networks.decoder && i < m_config.decoder.size(); ++i)
      h = dense(gen, "h" + std::to_string(i + 1), h, m_config.decoder[i], {.activation = m_config.activation});
    std::vector<Var<T>> heads;
    for (std::size_t i = 0; i < m_likelihood.heads; ++i)
      heads.push_back(dense(gen, i == 0 ? std::string("x") : "x_" + std::to_string(i), h, m_config.x_dim));
    return heads;
  }

  void build_model(BayesianNet<T>& bn, std::size_t n, std::size_t n_particles) const {
    const Var<T> zeros = m_tape->zeros({n, has_top_layer() ? m_config.top.z_dim : m_config.z_dim});
    Var<T> z;
    if (has_top_layer()) {
      const Var<T> z2 = bn.normal("z2", zeros, T(1), {.group_ndims = 1, .n_samples = n_particles});
      const auto [mean, logstd] = gaussian_heads(m_scope.scope("gen").scope("z"), z2, m_config.z_dim);
      z = bn.normal_logstd("z", mean, logstd, {.group_ndims = 1});
    } else if (m_config.latent == LatentKind::bernoulli) {
      z = bn.bernoulli("z", zeros, {.group_ndims = 1, .n_samples = n_particles});  // logits 0: p = 1/2
    } else {
      z = bn.normal("z", zeros, T(1), {.group_ndims = 1, .n_samples = n_particles});
    }
    const std::vector<Var<T>> heads = decoder_heads(z);
    bn.stochastic("x", m_likelihood.make(heads, {.group_ndims = 1}));
    // computed only when read (pictures): a training step never needs it
    bn.deterministic("x_mean", [mean = m_likelihood.mean, heads] { return mean(heads); });
  }

  Tape<T>* m_tape;
  Rng* m_rng;
  ParameterScope<T> m_scope;
  VaeConfig m_config;
  Likelihood<T> m_likelihood;
  VaeNetworks<T> m_networks;
  std::vector<FlowPtr<T>> m_flows;
  Model m_model;
};

}  // namespace vaelib::models
