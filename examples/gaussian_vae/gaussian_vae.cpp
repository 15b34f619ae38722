// A VAE with a Gaussian likelihood on grey-level pixels (seed 000, section 4.2):
// x ~ N(mu_x(z), diag sigma_x(z)^2) with mean and log-std heads, z ~ N(0, I), the encoder
// and decoder of the ZhuSuan tutorial (500-500 ReLU, 40 latent dimensions). Built on the
// library's reusable models::VAE with models::normal_likelihood.
//
//   gaussian_vae --epochs 10 --output results/gaussian_vae

#include "../common/vae_experiment.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/gaussian_vae";
  std::size_t z_dim = 40;
  float min_logstd = -4.0f;
  CLI::App app{"VAE with a Gaussian likelihood (mean and log-std heads) on grey-level MNIST (seed 000, section 4.2)."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--latent", z_dim, "Latent dimensions")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--min-logstd", min_logstd, "Lower clamp of the pixels' log-std")->capture_default_str()->check(vaelib::examples::finite_number);
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("gaussian_vae", [&] {
    vaelib::examples::VaeExperiment run(o, {.x_dim = 784, .z_dim = z_dim},
                                        vaelib::models::normal_likelihood<float>(min_logstd),
                                        vaelib::examples::Objective::elbo_analytic, /*grey=*/true);
    run.train();
    run.report_test("gaussian_vae");
    // Samples: the likelihood's mean images mu_x(z), z ~ p(z) (sampling x would add
    // independent pixel noise of the learned variance).
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve("Gaussian-likelihood VAE on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
