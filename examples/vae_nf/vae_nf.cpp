// ZhuSuan's vae_nf: the tutorial VAE (784-500-500-40, Bernoulli pixels, dynamic
// binarisation) with a normalizing-flow posterior q(z | x): the encoder's diagonal Gaussian
// pushed through K planar flows (Rezende & Mohamed 2015), radial flows, Householder
// Sylvester flows (van den Berg et al. 2018), or inverse autoregressive flows reading the
// encoder's last hidden layer (Kingma et al. 2016). The
// test lower bound and the importance-sampled log-likelihood are the plain VAE's metrics, so
// the runs sit side by side (docs/examples.md); --flow none is the plain VAE on this harness.
//
//   vae_nf --flow planar --flow-length 10 --epochs 10 --output results/vae_nf_planar
//   vae_nf --flow iaf --flow-length 2 --iaf-hidden 320 --epochs 10 --output results/vae_nf_iaf

#include <chrono>

#include "../common/vae_experiment.hpp"

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/vae_nf";
  std::size_t z_dim = 40;
  std::string flow = "planar";
  std::size_t length = 10;
  std::vector<std::size_t> iaf_hidden;
  CLI::App app{"vae_nf: the ZhuSuan tutorial VAE with a normalizing-flow posterior (planar, radial or IAF)."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--flow", flow, "The posterior's flow: planar, radial, sylvester, iaf, or none (the plain VAE)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "planar", "radial", "sylvester", "iaf"}));
  app.add_option("--flow-length", length, "K, the flows in the stack")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--iaf-hidden", iaf_hidden, "Each IAF's MADE hidden widths, each >= latent - 1 (default: 2 x latent)")
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--particles", o.particles, "Particles per image in the training bound")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_particles));
  app.add_option("--latent", z_dim, "Latent dimensions")
      ->capture_default_str()
      ->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("vae_nf", [&] {
    const vaelib::models::FlowKind kind = flow == "planar"   ? vaelib::models::FlowKind::planar
                                          : flow == "radial" ? vaelib::models::FlowKind::radial
                                          : flow == "sylvester" ? vaelib::models::FlowKind::sylvester
                                          : flow == "iaf"    ? vaelib::models::FlowKind::iaf
                                                             : vaelib::models::FlowKind::none;
    vaelib::models::VaeConfig config{.x_dim = 784, .z_dim = z_dim};
    if (kind != vaelib::models::FlowKind::none) config.flow = {.kind = kind, .length = length, .hidden = iaf_hidden};
    vaelib::examples::VaeExperiment run(o, config, vaelib::models::bernoulli_likelihood<float>(),
                                        vaelib::examples::Objective::elbo_sgvb, /*grey=*/false);
    const auto start = std::chrono::steady_clock::now();
    run.train();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("Training took %.1f s (%s posterior, K = %zu)\n", seconds, flow.c_str(),
                kind == vaelib::models::FlowKind::none ? std::size_t{0} : length);
    run.report_test(kind == vaelib::models::FlowKind::none ? std::string("vae_nf_none")
                                                           : "vae_nf_" + flow + "_k" + std::to_string(length));
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve("VAE with a " + flow + " flow posterior on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
