#pragma once
// The ZhuSuan VAE's training step (784-500-500-40, batch 128, float) as the example runs it,
// shared by bench_vae_step, bench_conv_vae_step (with vae_conv's networks) and vae_profile.

#include <cstdio>
#include <utility>
#include <functional>
#include <vector>

#include "vaelib/data.hpp"
#include "vaelib/vae.hpp"

namespace vaelib::bench {

inline constexpr std::size_t batch = 128, x_dim = 784, hidden = 500, z_dim = 40;

/// A step's sizes: the ZhuSuan VAE's (batch 128, 784-500-500-40, ReLU) by default; Burda et
/// al.'s Table 1 network at their batch of 20 (784-200-200-50, tanh) as burda_shape.
struct StepShape {
  std::size_t batch = vaelib::bench::batch, hidden = vaelib::bench::hidden, z_dim = vaelib::bench::z_dim;
  vaelib::Activation activation = vaelib::Activation::relu;
};
inline constexpr StepShape burda_shape{.batch = 20, .hidden = 200, .z_dim = 50, .activation = vaelib::Activation::tanh};

/// MNIST's training set as the example keeps it (bytes), or, where MNIST cannot be found, a
/// synthetic set of the same size (the timings hardly depend on the pixels; the message says
/// which was used).
inline const vaelib::data::ByteImageSet& training_images() {
  static const vaelib::data::ByteImageSet set = [] {
    try {
      return vaelib::data::load_mnist_bytes(vaelib::data::locate_dataset(vaelib::data::Dataset::mnist),
                                            vaelib::data::Split::train);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_vae_step: MNIST not found (%s); timing on synthetic images\n", e.what());
      vaelib::data::ByteImageSet synthetic;
      synthetic.rows = synthetic.cols = 28;
      synthetic.bytes.resize(60000 * x_dim);
      for (std::size_t i = 0; i < synthetic.bytes.size(); ++i)
        synthetic.bytes[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 24);
      return synthetic;
    }
  }();
  return set;
}

/// Sets every linear()'s sparse-input threshold on this thread while alive (the step's layers
/// are dense() calls inside models::VAE, which take the library's default), and puts the
/// previous setting back.
using SparseInputDensity = vaelib::detail::LinearSparseInputDensity;

/// The VAE step as the example runs it: the next shuffled batch gathered and binarised,
/// q(z | x), elbo(...).sgvb() (or the IWAE bound with `particles` > 1), backward, Adam. A
/// fresh batch each step, as in training: a benchmark that fits one fixed batch drives the
/// gradients towards denormal floats, which slow the GEMMs down several times over.
struct VaelibStep {
  StepShape shape;
  vaelib::Tape<float> tape;
  vaelib::Rng rng{1};
  vaelib::ParameterStore<float> params{2};
  vaelib::models::VAE<float> vae;
  vaelib::optim::Adam<float> adam;
  std::size_t particles;
  const vaelib::data::ByteImageSet& set = training_images();
  vaelib::data::BatchSampler sampler{set.size(), shape.batch};
  std::size_t next_batch = 0;
  std::vector<float> gathered = std::vector<float>(shape.batch * x_dim), binary = std::vector<float>(shape.batch * x_dim);

  /// `flow`: q(z | x) pushed through flows (vae_nf's posteriors); none by default.
  /// `networks`: an encoder and decoder of one's own (vae_conv's); the MLP's by default.
  /// `step_shape`: the batch and the MLP's sizes.
  explicit VaelibStep(std::size_t n_particles = 1, vaelib::models::PosteriorFlowConfig flow = {},
                      vaelib::models::VaeNetworks<float> networks = {}, StepShape step_shape = {})
      : shape(step_shape),
        vae(tape, rng, params.scope("vae"),
            {.x_dim = x_dim,
             .z_dim = shape.z_dim,
             .encoder = {shape.hidden, shape.hidden},
             .decoder = {shape.hidden, shape.hidden},
             .activation = shape.activation,
             .flow = flow},
            vaelib::models::bernoulli_likelihood<float>(), std::move(networks)),
        adam(params, {}),
        particles(n_particles) {
    sampler.shuffle(rng);
    run(true);  // builds the parameters, so Adam's state exists before timing
  }

  void prepare_batch() {
    if (next_batch == sampler.batches()) {
      sampler.shuffle(rng);
      next_batch = 0;
    }
    vaelib::data::gather(set, sampler.batch(next_batch++), gathered);
    vaelib::data::binarize(gathered, binary, rng);
  }

  /// linear()'s sparse-input threshold for this step's layers (the library's default; 0: the
  /// first layer runs as a dense GEMM, the step then does exactly the raw GEMMs' work).
  double sparse_input_density = vaelib::LinearOptions{}.sparse_input_density;

  /// If set, a training step calls it instead of adam.minimize (data-parallel training).
  std::function<void(vaelib::Tape<float>&, const vaelib::Var<float>&)> minimize_with;

  /// One step (forward only unless `train`); `fused`: Adam updates each parameter during
  /// the backward sweep (minimize), as the example does.
  float run(bool train, bool fused = true) {
    const SparseInputDensity density(sparse_input_density);
    prepare_batch();
    tape.clear();
    const auto x = tape.external(binary.data(), nullptr, {shape.batch, x_dim});
    const auto q = vae.variational(x, particles);
    vaelib::Var<float> cost;
    if (particles == 1) {
      auto lower_bound = vaelib::elbo(vae.model(shape.batch), {{"x", x}}, q, 0);
      cost = vaelib::mean(lower_bound.sgvb());
    } else {
      auto bound = vaelib::iw_objective(vae.model(shape.batch), {{"x", x}}, q, 0);
      cost = vaelib::mean(bound.sgvb());
    }
    if (train && minimize_with) {
      minimize_with(tape, cost);
    } else if (train && fused) {
      adam.minimize(tape, cost);
    } else if (train) {  // the sweep, then the update in a pass of its own
      tape.backward(cost);
      adam.step_and_zero_grad();
    }
    return cost.item();
  }

  /// The importance-sampled log-likelihood of the first n images with k particles drawn
  /// `chunk` at a time; returns the sum (so the work cannot be optimised away).
  double log_likelihood(std::size_t n, std::size_t k, std::size_t chunk) {
    tape.clear();
    const auto x = tape.external(binary.data(), nullptr, {n, x_dim});
    vaelib::models::VAE<float>::Encoding e;
    {
      const auto guard = tape.no_grad();
      e = vae.encode(x);
    }
    auto proposal = [&](std::size_t particles_now) { return vae.variational(e, particles_now); };
    const auto ll = vaelib::is_loglikelihood(vae.model(n), {{"x", x}}, proposal, 0, {.n_particles = k, .chunk_size = chunk});
    return xt::sum(ll.log_likelihood)();
  }
};

}  // namespace vaelib::bench
