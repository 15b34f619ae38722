// The importance-weighted auto-encoder (Burda et al., 2016) on the ZhuSuan tutorial's
// network: importance_weighted_objective(...).sgvb() with k = 50 particles (or .dreg(),
// the doubly reparameterised gradients), then the same test metrics as the plain VAE so the
// two can be put side by side (docs/examples.md).
//
//   iwae --particles 50 --epochs 10 --output results/iwae

#include "../common/vae_experiment.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/iwae";
  o.particles = 50;
  std::size_t z_dim = 40;
  std::string estimator = "sgvb";
  CLI::App app{"IWAE: the importance-weighted bound with k particles on the ZhuSuan VAE's network."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--particles", o.particles, "k, the particles per image in the bound")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_particles));
  app.add_option("--estimator", estimator, "sgvb (IWAE) or dreg (doubly reparameterised)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgvb", "dreg"}));
  app.add_option("--latent", z_dim, "Latent dimensions")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("iwae", [&] {
    vaelib::examples::VaeExperiment run(
        o, {.x_dim = 784, .z_dim = z_dim}, vaelib::models::bernoulli_likelihood<float>(),
        estimator == "dreg" ? vaelib::examples::Objective::iwae_dreg : vaelib::examples::Objective::iwae, /*grey=*/false);
    run.train();
    run.report_test("iwae_k" + std::to_string(o.particles) + "_" + estimator);
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve("IWAE (k = " + std::to_string(o.particles) + ") on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
