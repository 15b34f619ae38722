// The importance-weighted auto-encoder (Burda et al., 2016) on the ZhuSuan tutorial's
// network: importance_weighted_objective(...).sgvb() with k = 50 particles (or .dreg(),
// the doubly reparameterised gradients), then the same test metrics as the plain VAE so the
// two can be put side by side (docs/examples.md).
//
// --protocol burda is the paper's setting for its Table 1 (burda_protocol.hpp): the
// 784-200-200-50 tanh network with one stochastic layer, minibatches of 20, Adam with
// epsilon 1e-4, 3^i epochs at 0.001 * 10^(-i/7) for i = 0 .. 7 (3280 epochs), the test
// log-likelihood with k = 5000 on the whole test set and the active units, on one BLAS
// thread. --particles 1 is the VAE. --objective vae trains the same network on the ELBO
// averaged over the k particles instead (the paper's VAE rows with k = 5 and 50). Options given
// on the command line win over the preset's (a short run: --epochs).
//
//   iwae --particles 50 --epochs 10 --output results/iwae
//   OPENBLAS_NUM_THREADS=1 iwae --protocol burda --particles 5 --output results/burda_iwae_k5   (then --resume)
//   (two such runs at once on 2 cores: without OPENBLAS_NUM_THREADS=1 OpenBLAS's idle workers
//   of both programs take the cores, docs/examples.md)

#include "../common/vae_experiment.hpp"
#include "burda_protocol.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/iwae";
  o.particles = 50;
  std::size_t z_dim = 40;
  std::string estimator = "sgvb", protocol = "none", objective = "iwae";
  CLI::App app{"IWAE: the importance-weighted bound with k particles on the ZhuSuan VAE's network."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--particles", o.particles, "k, the particles per image in the bound")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_particles));
  app.add_option("--estimator", estimator, "sgvb (IWAE) or dreg (doubly reparameterised)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgvb", "dreg"}));
  app.add_option("--objective", objective,
                 "iwae: the importance-weighted bound over the k particles; vae: the ELBO averaged over them "
                 "(Burda et al.'s VAE with k samples; with k = 1 the two are the same)")
      ->capture_default_str()
      ->check(CLI::IsMember({"iwae", "vae"}));
  app.add_option("--latent", z_dim, "Latent dimensions")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  std::size_t stochastic_layers = 1;
  app.add_option("--stochastic-layers", stochastic_layers,
                 "With --protocol burda: 1 (784-200-200-50) or 2 (784-200-200-100-100-100-50: z of 100, then z2 of 50 "
                 "through two tanh layers of 100 each way)")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(2));
  app.add_option("--protocol", protocol,
                 "none, or burda: Burda et al.'s Table 1 setting (784-200-200-50 tanh, batch 20, Adam epsilon 1e-4, "
                 "3280 epochs on their schedule, k = 5000 on the whole test set); options given here win")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "burda"}));
  CLI11_PARSE(app, argc, argv);
  vaelib::models::VaeConfig config{.x_dim = 784, .z_dim = z_dim};
  if (protocol == "burda") {
    namespace burda = vaelib::examples::burda;
    auto given = [&](const char* option) { return app.count(option) > 0; };
    if (!given("--latent")) config.z_dim = stochastic_layers == 2 ? 100 : 50;
    config.encoder = config.decoder = {200, 200};
    if (stochastic_layers == 2) config.top = {.z_dim = 50, .hidden = {100, 100}};
    config.activation = vaelib::Activation::tanh;
    if (!given("--batch-size")) o.batch_size = burda::batch_size;
    if (!given("--epochs")) o.epochs = burda::total_epochs;
    if (!given("--ll-particles")) o.ll_particles = 5000;
    if (!given("--ll-test-n")) o.ll_test_n = 0;
    if (!given("--lr")) o.epoch_learning_rate = burda::epoch_learning_rate;
    // at batch 20 the GEMMs are too small to split: one thread is faster than two (1.16 ms
    // against 1.97 ms a step, bench_vae_step's burda_step), and a 2-core machine runs two models
    if (!given("--threads")) o.threads = 1;
    o.adam_epsilon = burda::adam_epsilon;
    o.epoch_note = burda::describe_epoch;
  }
  if (objective == "vae" && estimator == "dreg") {
    std::fprintf(stderr, "iwae: --estimator dreg is a gradient of the importance-weighted bound: --objective vae takes sgvb\n");
    return 1;
  }
  if (stochastic_layers == 2 && protocol != "burda") {
    std::fprintf(stderr, "iwae: --stochastic-layers 2 is Burda et al.'s two-layer model: give --protocol burda too\n");
    return 1;
  }
  return vaelib::examples::report_errors("iwae", [&] {
    vaelib::examples::VaeExperiment run(
        o, config, vaelib::models::bernoulli_likelihood<float>(),
        objective == "vae"    ? vaelib::examples::Objective::elbo_sgvb
        : estimator == "dreg" ? vaelib::examples::Objective::iwae_dreg
                              : vaelib::examples::Objective::iwae,
        /*grey=*/false);
    run.train();
    run.report_test(objective + "_k" + std::to_string(o.particles) + "_" + estimator +
                    (protocol == "burda" ? "_burda" + std::string(stochastic_layers == 2 ? "_2layers" : "") : ""));
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve((objective == "vae" ? "VAE" : "IWAE") + std::string(" (k = ") + std::to_string(o.particles) +
                            ") on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
