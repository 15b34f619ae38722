// A deterministic autoencoder with a 2-D code, and a Gaussian mixture on the codes as the
// generative model (seed 004, section 5.3): the autoencoder is trained on the Bernoulli
// reconstruction log-likelihood alone, a 30-component mixture (full 2x2 covariances) is
// fitted by EM to the codes of the training images, and new digits are decoded from
// mixture samples. For comparison (seed 004, section 5.1) a VAE with a 2-D Gaussian latent
// is trained on the same data; both latent spaces are drawn coloured by digit class.
//
//   autoencoder_gmm --epochs 10 --output results/autoencoder_gmm

#include <array>
#include <cmath>
#include <numbers>

#include "../common/vae_experiment.hpp"

namespace {

using vaelib::Var;

/// A mixture of K 2-D Gaussians with full covariances, fitted by EM.
struct GaussianMixture2D {
  struct Component {
    double weight = 0;
    std::array<double, 2> mean{};
    std::array<double, 3> cov{};  // xx, xy, yy
  };
  std::vector<Component> components;

  static double log_density(const Component& c, double x, double y) {
    const double det = c.cov[0] * c.cov[2] - c.cov[1] * c.cov[1];
    const double dx = x - c.mean[0], dy = y - c.mean[1];
    const double quad = (c.cov[2] * dx * dx - 2 * c.cov[1] * dx * dy + c.cov[0] * dy * dy) / det;
    return -std::log(2 * std::numbers::pi) - 0.5 * std::log(det) - 0.5 * quad;
  }

  /// EM from means at K distinct random points, shared initial covariance; returns the
  /// mean log-likelihood per point after each iteration (it never decreases).
  std::vector<double> fit(const std::vector<std::array<double, 2>>& points, std::size_t k, std::size_t iterations,
                          vaelib::Rng& rng) {
    const std::size_t n = points.size();
    if (n < k) throw vaelib::ArgumentError("GaussianMixture2D: " + std::to_string(n) + " points for " + std::to_string(k) + " components");
    std::array<double, 2> m{};
    for (const auto& p : points) m = {m[0] + p[0] / n, m[1] + p[1] / n};
    double vx = 0, vy = 0;
    for (const auto& p : points) vx += (p[0] - m[0]) * (p[0] - m[0]) / n, vy += (p[1] - m[1]) * (p[1] - m[1]) / n;
    components.assign(k, {});
    for (std::size_t j = 0; j < k; ++j) {
      components[j] = {1.0 / k, points[rng.next_u64() % n], {vx / k + 1e-3, 0.0, vy / k + 1e-3}};
    }
    std::vector<double> history, r(n * k);
    for (std::size_t it = 0; it < iterations; ++it) {
      double total = 0;
      for (std::size_t i = 0; i < n; ++i) {  // E step, with the maximum subtracted
        double mx = -INFINITY;
        for (std::size_t j = 0; j < k; ++j) {
          r[i * k + j] = std::log(components[j].weight) + log_density(components[j], points[i][0], points[i][1]);
          mx = std::max(mx, r[i * k + j]);
        }
        double s = 0;
        for (std::size_t j = 0; j < k; ++j) s += (r[i * k + j] = std::exp(r[i * k + j] - mx));
        for (std::size_t j = 0; j < k; ++j) r[i * k + j] /= s;
        total += mx + std::log(s);
      }
      history.push_back(total / n);
      for (std::size_t j = 0; j < k; ++j) {  // M step (a small ridge keeps covariances proper)
        double w = 0, mx = 0, my = 0;
        for (std::size_t i = 0; i < n; ++i) w += r[i * k + j], mx += r[i * k + j] * points[i][0], my += r[i * k + j] * points[i][1];
        if (w < 1e-8) continue;
        mx /= w, my /= w;
        double cxx = 0, cxy = 0, cyy = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double dx = points[i][0] - mx, dy = points[i][1] - my;
          cxx += r[i * k + j] * dx * dx, cxy += r[i * k + j] * dx * dy, cyy += r[i * k + j] * dy * dy;
        }
        components[j] = {w / n, {mx, my}, {cxx / w + 1e-6, cxy / w, cyy / w + 1e-6}};
      }
    }
    return history;
  }

  /// y ~ Categorical(weights), then z ~ N(mean_y, cov_y) (seed 004, steps 3 and 4); returns z and y.
  std::pair<std::array<double, 2>, std::size_t> sample_with_component(vaelib::Rng& rng) const {
    double u = rng.uniform<double>();
    std::size_t j = 0;
    while (j + 1 < components.size() && u > components[j].weight) u -= components[j++].weight;
    const Component& c = components[j];
    const double l00 = std::sqrt(c.cov[0]), l10 = c.cov[1] / l00, l11 = std::sqrt(c.cov[2] - l10 * l10);
    const double e0 = rng.normal<double>(), e1 = rng.normal<double>();
    return {{c.mean[0] + l00 * e0, c.mean[1] + l10 * e0 + l11 * e1}, j};
  }
  std::array<double, 2> sample(vaelib::Rng& rng) const { return sample_with_component(rng).first; }
};

}  // namespace

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/autoencoder_gmm";
  std::size_t components = 30, em_iterations = 100, vae_epochs = 0;
  CLI::App app{"Deterministic autoencoder with a 2-D code and a 30-component Gaussian mixture fitted by EM on the "
               "codes (seed 004, section 5.3), beside a 2-D Gaussian VAE (section 5.1)."};
  vaelib::examples::add_experiment_options(app, o, /*cifar10=*/false, /*distributed=*/false);  // writes its own files
  app.add_option("--components", components, "Mixture components")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--em-iterations", em_iterations, "EM iterations")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_epochs));
  app.add_option("--vae-epochs", vae_epochs, "Epochs of the 2-D VAE for comparison (0: as --epochs)")
      ->capture_default_str()
      ->check(vaelib::examples::zero_or_more_up_to(vaelib::examples::max_epochs));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("autoencoder_gmm", [&] {
    // every part is trained from scratch: ignoring the flag would silently start over
    if (o.resume) throw vaelib::ArgumentError("--resume is not supported: autoencoder_gmm keeps no checkpoint to resume");
    const vaelib::examples::ComputeSettings compute(o);  // --threads, denormals flushed
    std::filesystem::create_directories(o.output);
    const std::filesystem::path out = o.output;
    const vaelib::examples::Datasets data = vaelib::examples::load_datasets(o, /*grey=*/false);
    const std::size_t d = data.train.pixels();
    vaelib::Tape<float> tape;
    tape.detect_anomaly(o.detect_anomaly);
    vaelib::Rng rng(o.seed);
    vaelib::ParameterStore<float> params(o.seed);
    vaelib::optim::Adam<float> adam(params, {.learning_rate = o.learning_rate});
    const auto ae = params.scope("autoencoder");
    auto encode = [&](const Var<float>& x) {
      auto h = vaelib::dense(ae.scope("enc"), "h1", x, 500, {.activation = vaelib::Activation::relu});
      h = vaelib::dense(ae.scope("enc"), "h2", h, 500, {.activation = vaelib::Activation::relu});
      return vaelib::dense(ae.scope("enc"), "code", h, 2);
    };
    auto decode_logits = [&](const Var<float>& code) {
      auto h = vaelib::dense(ae.scope("dec"), "h1", code, 500, {.activation = vaelib::Activation::relu});
      h = vaelib::dense(ae.scope("dec"), "h2", h, 500, {.activation = vaelib::Activation::relu});
      return vaelib::dense(ae.scope("dec"), "logits", h, d);
    };
    // reconstruction log-likelihood log p(x | code(x)) per image: the autoencoder's objective
    auto reconstruction = [&](const Var<float>& x) {
      return vaelib::Bernoulli<float>(decode_logits(encode(x)), {.group_ndims = 1}).log_prob(x);
    };

    vaelib::io::MetricsLog metrics(out / "metrics.jsonl", /*append=*/false);
    vaelib::data::BatchSampler sampler(data.train.size(), o.batch_size);
    std::vector<float> batch(o.batch_size * d), binary(o.batch_size * d);
    for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      sampler.shuffle(rng);
      vaelib::examples::ProgressBar bar(sampler.batches(), "log p(x | code)", o.progress);
      double sum = 0;
      for (std::size_t t = 0; t < sampler.batches(); ++t) {
        tape.clear();
        vaelib::data::gather(data.train, sampler.batch(t), batch);
        vaelib::data::binarize(batch, binary, rng);
        const auto x = tape.external(binary.data(), nullptr, {o.batch_size, d});
        const auto objective = vaelib::mean(reconstruction(x));
        adam.minimize(tape, -objective);  // backward, each parameter updated once its gradient is final
        sum += objective.item();
        bar.update(t + 1, sum / static_cast<double>(t + 1));
      }
      bar.finish();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double value = sum / static_cast<double>(sampler.batches());
      std::printf("Epoch %zu (%.1fs): reconstruction log-likelihood = %.4f\n", epoch, seconds, value);
      std::fflush(stdout);
      metrics.write({{"epoch", static_cast<double>(epoch)}, {"seconds", seconds}, {"train_reconstruction", value}});
    }

    // codes of the training images, test reconstruction, and the mixture
    auto codes_of = [&](const vaelib::data::ImageSet& set) {
      const auto guard = tape.no_grad();
      std::vector<std::array<double, 2>> codes;
      for (std::size_t begin = 0; begin < set.size(); begin += 1000) {
        tape.clear();
        const std::size_t n = std::min<std::size_t>(1000, set.size() - begin);
        const auto c = encode(tape.external(set.images.data() + begin * d, nullptr, {n, d}));
        for (std::size_t i = 0; i < n; ++i) codes.push_back({c.data()[2 * i], c.data()[2 * i + 1]});
      }
      return codes;
    };
    double test_reconstruction = 0;
    {
      const auto guard = tape.no_grad();
      for (std::size_t begin = 0; begin < data.test.size(); begin += 1000) {
        tape.clear();
        const std::size_t n = std::min<std::size_t>(1000, data.test.size() - begin);
        test_reconstruction += vaelib::sum(reconstruction(tape.external(data.test.images.data() + begin * d, nullptr, {n, d}))).item();
      }
      test_reconstruction /= static_cast<double>(data.test.size());
    }
    const auto train_codes = codes_of(data.train);
    GaussianMixture2D gmm;
    const std::vector<double> em = gmm.fit(train_codes, components, em_iterations, rng);
    double mixture_test = 0;
    const auto test_codes = codes_of(data.test);
    for (const auto& c : test_codes) {
      double mx = -INFINITY;
      std::vector<double> terms;
      for (const auto& comp : gmm.components) terms.push_back(std::log(comp.weight) + GaussianMixture2D::log_density(comp, c[0], c[1]));
      for (double t : terms) mx = std::max(mx, t);
      double s = 0;
      for (double t : terms) s += std::exp(t - mx);
      mixture_test += (mx + std::log(s)) / static_cast<double>(test_codes.size());
    }
    std::printf("Test reconstruction log-likelihood = %.4f; EM: mean log-likelihood of the codes %.4f -> %.4f over %zu "
                "iterations; test codes under the mixture: %.4f\n",
                test_reconstruction, em.front(), em.back(), em.size(), mixture_test);
    metrics.write({{"summary", std::string("autoencoder_gmm")},
                   {"test_reconstruction", test_reconstruction},
                   {"em_first", em.front()},
                   {"em_last", em.back()},
                   {"test_code_log_likelihood", mixture_test}});

    // samples: codes from the mixture, decoded to mean images
    {
      const auto guard = tape.no_grad();
      tape.clear();
      xt::xarray<float> z = xt::zeros<float>({std::size_t{100}, std::size_t{2}});
      for (std::size_t i = 0; i < 100; ++i) {
        const auto s = gmm.sample(rng);
        z(i, 0) = static_cast<float>(s[0]);
        z(i, 1) = static_cast<float>(s[1]);
      }
      const xt::xarray<float> images = vaelib::sigmoid(decode_logits(tape.constant(z))).value();
      const xt::xarray<float> binary_images = xt::cast<float>(images > 0.5f);  // the most probable image
      const vaelib::io::ImageGridOptions grid{.grid_rows = 10, .grid_cols = 10, .zoom = 2};
      vaelib::io::save_image_grid(out / "gmm_samples.png", std::span<const float>(images.data(), images.size()), 28, 28, grid);
      vaelib::io::save_image_grid(out / "gmm_samples_binary.png",
                                  std::span<const float>(binary_images.data(), binary_images.size()), 28, 28, grid);
    }
    auto scatter = [&](const std::filesystem::path& file, const std::vector<std::array<double, 2>>& codes,
                       const std::string& title) {
      std::vector<double> xs, ys;
      std::vector<int> classes;
      for (std::size_t i = 0; i < codes.size(); ++i) {
        xs.push_back(codes[i][0]);
        ys.push_back(codes[i][1]);
        classes.push_back(data.test.labels[i]);
      }
      vaelib::io::plot_scatter(file, xs, ys, classes, {.title = title, .x_label = "z1", .y_label = "z2", .width = 800, .height = 700});
    };
    scatter(out / "autoencoder_latent_scatter.png", test_codes, "Autoencoder codes of the test digits");
    {  // the fitted mixture: draws from it, coloured by component
      std::vector<double> xs, ys;
      std::vector<int> component_of;
      for (std::size_t i = 0; i < 10000; ++i) {
        const auto [s, j] = gmm.sample_with_component(rng);
        xs.push_back(s[0]);
        ys.push_back(s[1]);
        component_of.push_back(static_cast<int>(j));
      }
      vaelib::io::plot_scatter(out / "gmm_scatter.png", xs, ys, component_of,
                               {.title = "10000 draws of the " + std::to_string(components) + "-component mixture",
                                .x_label = "z1", .y_label = "z2", .width = 800, .height = 700, .legend = false});
    }

    // the 2-D Gaussian VAE of section 5.1, for its latent space
    vaelib::examples::ExperimentOptions vo = o;
    vo.epochs = vae_epochs == 0 ? o.epochs : vae_epochs;
    vo.output = (out / "vae_2d").string();
    vo.resume = false;
    vaelib::examples::VaeExperiment vae(vo, {.x_dim = d, .z_dim = 2}, vaelib::models::bernoulli_likelihood<float>(),
                                        vaelib::examples::Objective::elbo_analytic, /*grey=*/false);
    vae.train();
    vae.report_test("vae_2d");
    const xt::xarray<float> means = vae.encode(vae.data().test.images);
    std::vector<std::array<double, 2>> vae_codes;
    for (std::size_t i = 0; i < means.shape()[0]; ++i) vae_codes.push_back({means(i, 0), means(i, 1)});
    scatter(out / "vae_2d_latent_scatter.png", vae_codes, "2-D Gaussian VAE: means of q(z | x) of the test digits");
    const xt::xarray<float> vae_samples = vae.sample_means(100);
    vae.save_grid("samples.png", vae_samples, 10, 10);
    vae.save_grid("samples_binary.png", xt::cast<float>(vae_samples > 0.5f), 10, 10);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(out).string().c_str());
    return 0;
  });
}
