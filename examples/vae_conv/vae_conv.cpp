// ZhuSuan's vae_conv: a VAE whose encoder and decoder are convolutional, on 28x28 images
// (MNIST, or Fashion-MNIST with --dataset fashion-mnist), Bernoulli pixels with dynamic
// binarisation, elbo(...).sgvb(); or on CIFAR-10's 32x32 colour images (--dataset cifar10,
// when the user has its files) with a discretised logistic per 8-bit value, reported in bits
// per dimension. models::VAE takes the two networks (VaeNetworks) and keeps everything else:
// q's heads, the prior, the objectives, the evaluation (docs/convolutions.md).
//
//   encoder: x [n, c x s x s] as [n, c, s, s] -> conv 32 (3x3, stride 2) -> conv 64 (3x3,
//            stride 2) -> [n, 64 x s/4 x s/4] -> q's mean and log-std heads (dense, 40 each)
//   decoder: z -> dense 64 x s/4 x s/4 -> transposed conv 32 (4x4, stride 2) -> transposed
//            conv (4x4, stride 2) to c maps per likelihood head -> the heads;  ReLU between layers
//   (s = 28, c = 1 and one head, the logits, for MNIST; s = 32, c = 3 and two heads, the
//   logistics' means and log-scales, for CIFAR-10)
//
//   vae_conv --epochs 10 --output results/vae_conv
//   vae_conv --dataset cifar10 --data path/to/cifar-10-batches-bin --output results/vae_conv_cifar10

#include <chrono>

#include "../common/vae_experiment.hpp"
#include "conv_networks.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/vae_conv";
  std::size_t z_dim = 40;
  CLI::App app{"vae_conv: ZhuSuan's convolutional VAE (conv encoder, transposed-conv decoder) on 28x28 images "
               "(Bernoulli pixels) or CIFAR-10's 32x32 colour images (discretised logistic, bits per dimension)."};
  vaelib::examples::add_experiment_options(app, o, /*cifar10=*/true);
  app.add_option("--latent", z_dim, "Latent dimensions")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("vae_conv", [&] {
    using vaelib::data::cifar10_channels, vaelib::data::cifar10_side;
    const bool cifar10 = o.dataset == "cifar10";
    // CIFAR-10: 8-bit colour values, not binarised (grey), on the discretised logistic's grid
    vaelib::examples::VaeExperiment run(
        o, {.x_dim = cifar10 ? vaelib::data::cifar10_pixels : 784, .z_dim = z_dim},
        cifar10 ? vaelib::models::discretized_logistic_likelihood<float>() : vaelib::models::bernoulli_likelihood<float>(),
        vaelib::examples::Objective::elbo_sgvb, /*grey=*/cifar10,
        cifar10 ? vaelib::examples::conv_networks(cifar10_side, cifar10_channels, 2) : vaelib::examples::conv_networks(28, 1));
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
