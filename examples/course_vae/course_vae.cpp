// The VAE of the PhD-course assignment (seed 001): the encoder of its equation (4), one tanh
// hidden layer with mean and log-variance heads (here log-std = log-variance / 2, the same
// family), a symmetric tanh decoder to Bernoulli logits (Exercise 1: binarised pixels are
// Bernoulli), the estimator of equation (6) (closed-form KL, sampled reconstruction term),
// early stopping on a validation bound, and on the test set the reconstruction and KL terms
// reported separately. Run it with --latent 3 and --latent 20 to compare.
//
//   course_vae --latent 3  --output results/course_vae_k3
//   course_vae --latent 20 --output results/course_vae_k20

#include "../common/vae_experiment.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/course_vae";
  o.epochs = 50;
  o.validation_n = 10000;
  o.patience = 3;
  std::size_t z_dim = 20, hidden = 500;
  CLI::App app{"The VAE of the PhD-course assignment (seed 001): tanh encoder (eq. 4), analytic-KL estimator (eq. 6), "
               "early stopping on the validation bound."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--latent", z_dim, "Latent dimensions k (the assignment compares 3 and 20)")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--hidden", hidden, "Units of the tanh hidden layer")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("course_vae", [&] {
    vaelib::examples::VaeExperiment run(
        o, {.x_dim = 784, .z_dim = z_dim, .encoder = {hidden}, .decoder = {hidden}, .activation = vaelib::Activation::tanh},
        vaelib::models::bernoulli_likelihood<float>(), vaelib::examples::Objective::elbo_analytic, /*grey=*/false);
    run.train();
    run.report_test("course_vae_k" + std::to_string(z_dim));
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    // encode-decode of randomly chosen test images
    const auto& test = run.data().test;
    vaelib::data::BatchSampler shuffle(test.size(), 1, false);
    vaelib::Rng pick_rng(o.seed + 3);
    shuffle.shuffle(pick_rng);
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < std::min<std::size_t>(20, test.size()); ++i) chosen.push_back(shuffle.batch(i)[0]);
    const vaelib::data::ImageSet random_test = vaelib::data::subset(test, chosen);
    const xt::xarray<float> recon = run.decode(run.encode(random_test.images));
    // rows: 10 originals, their reconstructions, the next 10, theirs
    const std::size_t d = test.pixels(), n = chosen.size();
    xt::xarray<float> both = xt::xarray<float>::from_shape({2 * n, d});
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = (i / 10) * 20 + i % 10;
      std::copy_n(random_test.images.data() + i * d, d, both.data() + row * d);
      std::copy_n(recon.data() + i * d, d, both.data() + (row + 10) * d);
    }
    run.save_grid("encode_decode.png", both, (2 * n + 9) / 10, 10);
    run.save_training_curve("Course VAE, k = " + std::to_string(z_dim));
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
