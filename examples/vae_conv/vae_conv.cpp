// ZhuSuan's vae_conv: a VAE whose encoder and decoder are convolutional, on 28x28 images
// (MNIST, or Fashion-MNIST with --dataset fashion-mnist), Bernoulli pixels with dynamic
// binarisation, elbo(...).sgvb(). models::VAE takes the two networks (VaeNetworks) and keeps
// everything else: q's heads, the prior, the objectives, the evaluation (docs/convolutions.md).
//
//   encoder: x [n, 784] as [n, 1, 28, 28] -> conv 32 (3x3, stride 2) -> conv 64 (3x3, stride 2)
//            -> [n, 64 x 7 x 7] -> q's mean and log-std heads (dense, 40 each)
//   decoder: z -> dense 64 x 7 x 7 -> transposed conv 32 (4x4, stride 2) -> transposed conv 1
//            (4x4, stride 2) -> the 784 pixels' logits;  ReLU between layers
//
//   vae_conv --epochs 10 --output results/vae_conv

#include <chrono>

#include "../common/vae_experiment.hpp"
#include "conv_networks.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/vae_conv";
  std::size_t z_dim = 40;
  CLI::App app{"vae_conv: ZhuSuan's convolutional VAE (conv encoder, transposed-conv decoder) on 28x28 images."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--latent", z_dim, "Latent dimensions")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("vae_conv", [&] {
    vaelib::examples::VaeExperiment run(o, {.x_dim = 784, .z_dim = z_dim}, vaelib::models::bernoulli_likelihood<float>(),
                                        vaelib::examples::Objective::elbo_sgvb, /*grey=*/false,
                                        vaelib::examples::conv_networks(28, 1));
    const auto start = std::chrono::steady_clock::now();
    run.train();
    std::printf("Training took %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    run.report_test("vae_conv");
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve("Convolutional VAE on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
