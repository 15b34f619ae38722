// A VAE with binary latents (seed 004, section 5.2): z ~ Bernoulli(1/2)^64, q(z | x) a
// Bernoulli whose logits come from the encoder, x | z Bernoulli. The samples of z are not
// differentiable, so the bound is trained with the score-function estimator,
// elbo(...).reinforce(), with a moving-average baseline and a learned baseline c(x) (seed
// 004, eq. 23), or with VIMCO on the importance-weighted bound (--objective vimco).
// Figures: a histogram of the latent means q(z_j = 1 | x) over test images, and samples as
// probabilities and as most-probable binary images.
//
//   bernoulli_latent_vae --epochs 10 --output results/bernoulli_latent_vae

#include "../common/vae_experiment.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/bernoulli_latent_vae";
  std::size_t z_dim = 64;
  std::string objective = "reinforce";
  CLI::App app{"VAE with Bernoulli latents (seed 004, section 5.2), trained with reinforce() and baselines, or VIMCO."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--latent", z_dim, "Binary latent dimensions")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--objective", objective, "reinforce (ELBO, moving-average and learned baselines) or vimco (IW bound)")
      ->capture_default_str()
      ->check(CLI::IsMember({"reinforce", "vimco"}));
  app.add_option("--particles", o.particles, "Particles per image (VIMCO needs at least 2)")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_particles));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("bernoulli_latent_vae", [&] {
    // VIMCO's default is 10 particles; an explicit --particles 1 is refused, not replaced
    if (objective == "vimco" && app.count("--particles") == 0) o.particles = 10;
    vaelib::examples::VaeExperiment run(
        o, {.x_dim = 784, .z_dim = z_dim, .latent = vaelib::models::LatentKind::bernoulli},
        vaelib::models::bernoulli_likelihood<float>(),
        objective == "vimco" ? vaelib::examples::Objective::vimco : vaelib::examples::Objective::elbo_reinforce,
        /*grey=*/false);
    run.train();
    run.report_test("bernoulli_latent_vae_" + objective);
    // histogram of the latent means over (up to) 1000 test images
    const auto& test = run.data().test;
    const std::size_t n = std::min<std::size_t>(1000, test.size());
    const xt::xarray<float> firsts = xt::view(test.images, xt::range(0, n), xt::all());
    const xt::xarray<float> means = run.encode(firsts);
    if (run.writes_files()) vaelib::io::plot_histogram(run.output() / "latent_means_histogram.png",
                               std::vector<double>(means.begin(), means.end()), 50, 0.0, 1.0,
                               {.title = "q(z_j = 1 | x) over " + std::to_string(n) + " test images",
                                .x_label = "latent mean",
                                .y_label = "count"});
    // samples: z from the prior, the decoder's probabilities, and the most probable image
    const xt::xarray<float> probabilities = run.sample_means(100);
    const xt::xarray<float> binary = xt::cast<float>(probabilities > 0.5f);
    run.save_grid("samples_probabilities.png", probabilities, 10, 10);
    run.save_grid("samples_binary.png", binary, 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve("Bernoulli-latent VAE (" + objective + ") on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
