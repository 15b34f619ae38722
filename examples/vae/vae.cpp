// The VAE of ZhuSuan's tutorial (examples/variational_autoencoders/vae.py), in vaelib:
// binarised MNIST, z ~ N(0, I) of 40 dimensions, a 784-500-500 ReLU decoder to Bernoulli
// logits, a 500-500 ReLU encoder to the mean and log-std of q(z | x), trained with
// elbo(...).sgvb() and Adam (1e-3, batch 128). Walkthrough: docs/tutorial-vae.md. The model,
// q and the training loop are here; the rest comes from examples/common/.   vae --epochs 10

#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>

#include "../common/dataset_folder.hpp"
#include "../common/experiment_parts.hpp"
#include "../common/training_run.hpp"

namespace {

using namespace vaelib;

struct Options : examples::CommonOptions {
  std::size_t z_dim = 40, hidden = 500, save_freq = 1;
  std::string checkpoint;
  bool distributed = false;
};

/// build_gen: p(z) p(x | z), for a batch of n and n_particles draws of z when z is not observed.
auto build_gen(Tape<float>& tape, Rng& rng, ParameterStore<float>& params, std::size_t x_dim, const Options& o) {
  return meta_bayesian_net(tape, rng, params.scope("gen"),
                           [&tape, x_dim, z_dim = o.z_dim, hidden = o.hidden](BayesianNet<float>& bn, std::size_t n,
                                                                              std::size_t n_particles) {
    const auto z = bn.normal("z", tape.zeros({n, z_dim}), 1.0f, {.group_ndims = 1, .n_samples = n_particles});
    auto h = dense(bn.scope(), "h1", z, hidden, {.activation = Activation::relu});
    h = dense(bn.scope(), "h2", h, hidden, {.activation = Activation::relu});
    const auto x_logits = dense(bn.scope(), "x_logits", h, x_dim);
    bn.bernoulli("x", x_logits, {.group_ndims = 1});
    bn.deterministic("x_mean", [x_logits] { return sigmoid(x_logits); });  // computed only when read (pictures)
  });
}

/// build_q_net: q(z | x) = N(mean(x), exp(logstd(x))^2), the encoder run once per batch.
struct Encoder {
  Var<float> mean, logstd;
};
Encoder encode(const ParameterScope<float>& q, const Var<float>& x, const Options& o) {
  auto h = dense(q, "h1", x, o.hidden, {.activation = Activation::relu});
  h = dense(q, "h2", h, o.hidden, {.activation = Activation::relu});
  return {dense(q, "z_mean", h, o.z_dim), dense(q, "z_logstd", h, o.z_dim)};
}
BayesianNet<float> q_net(Tape<float>& tape, Rng& rng, const Encoder& e, std::size_t n_particles) {
  BayesianNet<float> q(tape, rng);
  q.normal_logstd("z", e.mean, e.logstd, {.group_ndims = 1, .n_samples = n_particles});
  return q;
}

int run(const Options& o, examples::Ranks& ranks) {
  namespace fs = std::filesystem;
  const examples::ComputeSettings compute(o);  // --threads, denormals flushed
  const fs::path out = o.output;
  if (ranks.is_root()) fs::create_directories(out);
  ranks.check_batch_size(o.batch_size);
  const fs::path checkpoint = o.checkpoint.empty() ? out / "checkpoint.npz" : fs::path(o.checkpoint);
  // The training set stays bytes (each batch gathered, then binarised dynamically); the test
  // set is binarised once with a fixed seed.
  const auto folder = examples::dataset_folder(o.dataset, o.data_folder);
  const auto train = data::head(data::load_mnist_bytes(folder, data::Split::train), o.train_n);
  const auto test = data::binarize_static(examples::load_test_images(folder, o.test_n, train.rows, train.cols), o.seed + 1);
  const std::size_t x_dim = train.pixels(), rows = train.rows, cols = train.cols;
  std::printf("%s: %zu training images, %zu test images (binarised once, seed %llu)\n", o.dataset.c_str(), train.size(),
              test.size(), static_cast<unsigned long long>(o.seed + 1));

  Tape<float> tape;
  tape.detect_anomaly(o.detect_anomaly);
  Rng rng(o.seed);                   // shuffling; on one rank also the noise
  Rng& noise = ranks.noise(rng);  // binarisation and sampling: with --distributed a stream per rank and epoch
  ParameterStore<float> params(o.seed);
  optim::Adam<float> adam(params, {.learning_rate = o.learning_rate});
  std::uint64_t step = 0;
  const auto model = build_gen(tape, noise, params, x_dim, o);
  const ParameterScope<float> q_scope = params.scope("q");

  data::BatchSampler sampler(train.size(), o.batch_size);
  examples::TrainingRun run(o, checkpoint, {&params, &adam, &rng, &step},
                            {.program = "vae", .batch_size = o.batch_size, .train_size = train.size()}, sampler.batches(),
                            &ranks);
  const auto [share_begin, share_end] = ranks.share(o.batch_size);  // this rank's rows of each batch
  const std::size_t share = share_end - share_begin;

  // ---- training: the tutorial's loop -------------------------------------------------------
  std::vector<float> batch(share * x_dim), binary(share * x_dim);
  for (std::size_t epoch = run.first_epoch(); epoch <= o.epochs; ++epoch) {
    run.begin_epoch(epoch);
    sampler.shuffle(rng);
    ranks.begin_epoch(rng, epoch);
    for (std::size_t t = 0; t < sampler.batches(); ++t) {
      tape.clear();
      data::gather(train, sampler.batch(t).subspan(share_begin, share), batch);
      data::binarize(batch, binary, noise);  // dynamic binarisation
      const auto x = tape.external(binary.data(), nullptr, {share, x_dim});
      const auto q = q_net(tape, noise, encode(q_scope, x, o), 1);
      auto lower_bound = elbo(model(share, 1), {{"x", x}}, q, 0);
      // backward, each parameter updated once its gradient is final (with --distributed, once
      // its bucket's sum over the ranks has arrived)
      ranks.minimize(adam, tape, mean(lower_bound.sgvb()), share, o.batch_size);
      ++step;
      run.after_step(mean(lower_bound.value()).item());  // progress bar; SIGINT/SIGTERM end the run here
    }
    run.end_epoch();  // "Epoch 3 (4.2s): Lower bound = ...", metrics.jsonl, the checkpoint
    if (ranks.is_root() && o.save_freq > 0 && epoch % o.save_freq == 0) {
      const auto guard = tape.no_grad();
      const auto generated = model.observe({}, 100, 1);  // z ~ p(z), x ~ p(x | z): nothing observed
      examples::save_grid(out / ("vae.epoch." + std::to_string(epoch) + ".png"), generated["x_mean"].value().value(),
                          rows, cols, 10, 10);
    }
  }

  // ---- evaluation: the test bound (1 particle) and the importance-sampled log-likelihood ----
  ranks.begin_epoch(rng, o.epochs + 1);
  examples::report_test_bounds(run.metrics(), "vae", o, tape, test,
      [&](const Var<float>& x, std::size_t n) {
        const auto q = q_net(tape, noise, encode(q_scope, x, o), 1);
        return sum(elbo(model(n, 1), {{"x", x}}, q, 0).value()).item();
      },
      [&](const Var<float>& x, std::size_t n) {  // the encoder once; the decoder over chunks of particles
        if (o.ll_method == "ais") {  // AIS from the prior, k chains per image, batched HMC on the decoder
          return xt::sum(ais_loglikelihood(model, {{"x", x}}, "z",
                                           {.n_chains = o.ais_chains, .n_temperatures = o.ais_temperatures,
                                            .image_chunk = n, .seed = o.seed + 3}).log_likelihood)();
        }
        const Encoder e = encode(q_scope, x, o);
        const auto proposal = [&](std::size_t k) { return q_net(tape, noise, e, k); };
        return xt::sum(is_loglikelihood(model(n, 1), {{"x", x}}, proposal, 0,
                                        {.n_particles = o.ll_particles, .chunk_size = 100}).log_likelihood)();
      },
      ranks);
  if (!ranks.is_root()) return 0;

  // ---- pictures: reconstructions, interpolations, 25 samples, the training curve -------------
  const auto guard = tape.no_grad();
  const auto decode_means = [&](const xt::xarray<float>& z) {  // the x_mean node at given codes
    tape.clear();
    return xt::xarray<float>(model.observe({{"z", tape.constant(z)}}, z.shape()[0], 1)["x_mean"].value().value());
  };
  const auto encode_means = [&](const xt::xarray<float>& x) {
    tape.clear();
    return xt::xarray<float>(encode(q_scope, tape.constant(x), o).mean.value());
  };
  examples::save_test_figures(out, test, encode_means, decode_means);
  tape.clear();
  examples::save_grid(out / "samples_25.png", model.observe({}, 25, 1)["x_mean"].value().value(), rows, cols, 5, 5);
  examples::save_training_curve(out, "VAE on " + o.dataset);
  std::printf("Images, metrics and checkpoint are in %s\n", fs::absolute(out).string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.epochs = 3;
  o.output = "results/vae";
  CLI::App app{"The VAE of ZhuSuan's tutorial on binarised MNIST (or Fashion-MNIST), trained with elbo().sgvb()."};
  examples::add_common_options(app, o);
  app.add_option("--latent", o.z_dim, "Latent dimensions (z_dim)")->capture_default_str()->check(examples::at_least_one_up_to(examples::max_width));
  app.add_option("--hidden", o.hidden, "Units of each hidden layer")->capture_default_str()->check(examples::at_least_one_up_to(examples::max_width));
  app.add_option("--checkpoint", o.checkpoint, "Checkpoint file (default: <output>/checkpoint.npz), written each epoch");
  app.add_option("--save-freq", o.save_freq, "Save 100 generated images every this many epochs (0: never)")
      ->capture_default_str()->check(examples::zero_or_more_up_to(examples::max_epochs));
  examples::add_distributed_option(app, o.distributed);
  CLI11_PARSE(app, argc, argv);
  return examples::report_errors("vae", [&] {
    examples::Ranks ranks(o.distributed);
    return run(o, ranks);
  });
}
