// A likelihood written in user code and plugged into the library's reusable VAE: the
// continuous Bernoulli (Loaiza-Ganem & Cunningham, 2019), the properly normalised density
// on [0, 1] behind the "cross-entropy on grey pixels" VAE. Everything vaelib needs from a
// new likelihood is the Distribution interface: log_prob_impl and sample_impl (and mean()
// for pictures); models::Likelihood then makes it one line of the model.
//
//   continuous_bernoulli_vae --epochs 10 --output results/continuous_bernoulli_vae

#include <cmath>

#include "../common/vae_experiment.hpp"

namespace {

using vaelib::Var;

/// p(x | l) = C(l) sigmoid(l)^x sigmoid(-l)^(1 - x) on x in [0, 1], with logits l and the
/// normaliser C(l) = l / tanh(l / 2) (-> 2 as l -> 0).
template <class T>
class ContinuousBernoulli final : public vaelib::Distribution<T> {
 public:
  ContinuousBernoulli(const Var<T>& logits, vaelib::DistributionOptions options = {})
      : vaelib::Distribution<T>(logits.tape(), logits.shape(), vaelib::Shape{}, options), m_logits(logits) {}

  std::string_view name() const override { return "ContinuousBernoulli"; }
  bool is_reparameterized() const override { return false; }
  Var<T> parameter(std::string_view p) const override {
    if (p == "logits") return m_logits;
    return vaelib::Distribution<T>::parameter(p);
  }
  /// E[x] = sigmoid(l) / tanh(l / 2) - 1 / l  (-> 1/2 + l / 12 near 0)
  Var<T> mean() const override {
    const Var<T>& l = m_logits;
    const Var<T> safe = safe_logits(l);
    return where(near_zero(l), T(0.5) + l * T(1.0 / 12), sigmoid(safe) / tanh(safe * T(0.5)) - T(1) / safe);
  }

 protected:
  Var<T> log_prob_impl(const Var<T>& x, bool detach) const override {
    const Var<T> l = this->maybe_detached(m_logits, detach);
    return x * log_sigmoid(l) + (T(1) - x) * log_sigmoid(-l) + log_normalizer(l);
  }
  // inverse CDF: x = log(1 + u (e^l - 1)) / l
  Var<T> sample_impl(std::size_t n, vaelib::Rng& rng) const override {
    const Var<T> out = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      const T* l = m_logits.data();
      const std::size_t batch = m_logits.size();
      for (std::size_t i = 0; i < size; ++i) {
        const double li = static_cast<double>(l[i % batch]), u = rng.template uniform<double>();
        data[i] = static_cast<T>(std::abs(li) < 1e-4 ? u : std::log1p(u * std::expm1(li)) / li);
      }
    });
    return out;
  }

 private:
  /// 1 where |l| < 1e-3 (there the closed forms cancel catastrophically), else 0.
  static Var<T> near_zero(const Var<T>& l) {
    xt::xarray<T> mask = xt::xarray<T>::from_shape(l.shape());
    for (std::size_t i = 0; i < l.size(); ++i) mask.data()[i] = std::abs(l.data()[i]) < T(1e-3) ? T(1) : T(0);
    return l.tape().constant(mask);
  }
  static Var<T> safe_logits(const Var<T>& l) { return where(near_zero(l), l * T(0) + T(1), l); }
  /// log C(l) = log(l / tanh(l / 2)), = log 2 + l^2 / 12 + O(l^4) near 0
  static Var<T> log_normalizer(const Var<T>& l) {
    const Var<T> safe = safe_logits(l);
    return where(near_zero(l), T(std::log(2.0)) + square(l) * T(1.0 / 12),
                 log(abs(safe)) - log(abs(tanh(safe * T(0.5)))));
  }

  Var<T> m_logits;
};

/// Checks that the density integrates to 1 (trapezoid rule) for a few logits: the first
/// thing to test in a new likelihood.
void check_normalised() {
  vaelib::Tape<double> tape;
  const std::size_t points = 20001;
  for (double l : {-8.0, -1.0, 1e-5, 0.7, 5.0}) {
    xt::xarray<double> x = xt::linspace<double>(0.0, 1.0, points);
    const ContinuousBernoulli<double> cb(tape.constant(xt::xarray<double>(xt::ones<double>({points}) * l)));
    const xt::xarray<double> p = cb.prob(tape.constant(x)).value();
    double integral = 0;
    for (std::size_t i = 1; i < points; ++i) integral += 0.5 * (p(i) + p(i - 1)) / static_cast<double>(points - 1);
    if (std::abs(integral - 1.0) > 1e-6) {
      throw vaelib::ArgumentError("ContinuousBernoulli: the density integrates to " + std::to_string(integral) +
                                  " for logits " + std::to_string(l));
    }
  }
  std::printf("ContinuousBernoulli: the density integrates to 1 (checked for 5 logits)\n");
}

}  // namespace

int main(int argc, char** argv) {
  vaelib::examples::ExperimentOptions o;
  o.output = "results/continuous_bernoulli_vae";
  std::size_t z_dim = 40;
  CLI::App app{"A VAE whose likelihood, the continuous Bernoulli on grey-level pixels, is written in user code and "
               "plugged into models::VAE through the Distribution interface."};
  vaelib::examples::add_experiment_options(app, o);
  app.add_option("--latent", z_dim, "Latent dimensions")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("continuous_bernoulli_vae", [&] {
    check_normalised();
    // The one line that swaps the likelihood: a name, one head (the logits), how to build
    // the distribution from the heads, and its mean for pictures.
    const vaelib::models::Likelihood<float> continuous_bernoulli{
        "ContinuousBernoulli", 1,
        [](std::span<const Var<float>> h, vaelib::DistributionOptions opt) -> std::unique_ptr<vaelib::Distribution<float>> {
          return std::make_unique<ContinuousBernoulli<float>>(h[0], opt);
        },
        [](std::span<const Var<float>> h) { return ContinuousBernoulli<float>(h[0]).mean(); }};
    vaelib::examples::VaeExperiment run(o, {.x_dim = 784, .z_dim = z_dim}, continuous_bernoulli,
                                        vaelib::examples::Objective::elbo_analytic, /*grey=*/true);
    run.train();
    run.report_test("continuous_bernoulli_vae");
    run.save_grid("samples.png", run.sample_means(100), 10, 10);
    run.save_reconstructions("reconstructions.png", 50);
    run.save_training_curve("Continuous-Bernoulli VAE on " + o.dataset);
    std::printf("Images and metrics are in %s\n", std::filesystem::absolute(run.output()).string().c_str());
    return 0;
  });
}
