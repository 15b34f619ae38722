// ZhuSuan's toy SGNHT example (examples/toy_examples/mixture_sgnht.py), in vaelib: many chains
// side by side sample the 1-D mixture 0.5 N(-1, 0.5^2) + 0.5 N(3, 0.5^2), written as a
// BayesianNet, from stochastic gradients: the exact gradient plus N(0, s^2) noise per element
// (--gradient-noise s; 0 gives ZhuSuan's exact gradients), the noise a minibatch would bring.
// SGNHT with ZhuSuan's settings, and SGLD, PSGLD and SGHMC beside it. The printout compares
// each sampler's draws with the mixture: mean (1), standard deviation (sqrt(4.25)), the share
// in the right-hand mode (0.5) and the spread within it (0.5); a histogram of each sampler's
// draws and their density beside the target's are written as PNGs.
//   sgmcmc_mixture --sampler all --gradient-noise 1

#include <vaelib/io.hpp>
#include <vaelib/mcmc.hpp>
#include <vaelib/vae.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "../common/experiment_parts.hpp"

namespace {

using namespace vaelib;

// the mixture: equal weights, means -1 and 3, standard deviation 0.5 (ZhuSuan's toy)
constexpr double mode_left = -1, mode_right = 3, mode_sd = 0.5;
constexpr double barrier = 0.5 * (mode_left + mode_right);  // where the two modes' densities meet

struct Options {
  std::string sampler = "all";
  std::size_t chains = 1000, iterations = 30000, burn_in = 20000, thin = 100;
  double gradient_noise = 1;
  std::uint64_t seed = 1;
  std::string output = "results/sgmcmc_mixture";
};

double mixture_mean() { return 0.5 * (mode_left + mode_right); }
double mixture_sd() {
  const double second = mode_sd * mode_sd + 0.5 * (mode_left * mode_left + mode_right * mode_right);
  return std::sqrt(second - mixture_mean() * mixture_mean());
}
double mixture_density(double x) {
  const auto normal = [](double z) { return std::exp(-0.5 * z * z) / (mode_sd * std::sqrt(2 * std::numbers::pi)); };
  return 0.5 * normal((x - mode_left) / mode_sd) + 0.5 * normal((x - mode_right) / mode_sd);
}

/// A sampler in ZhuSuan's toy settings where it has them (SGNHT: learning rate 0.2,
/// variance_extra 0.1, tune_rate 0.01, first-order integrator, one friction for the
/// parameter); the others at step sizes whose discretisation bias on a mode of sd 0.5 is
/// about 1%. PSGLD's RMS average decays slowly (0.999, not ZhuSuan's 0.9): averaged over ten
/// steps it follows g^2, which here depends on where in the mode the chain is, and the drift
/// term PSGLD leaves out then matters (the mode's sd came out 0.64 instead of 0.5).
std::unique_ptr<mcmc::StochasticGradientSampler<double>> make_sampler(const std::string& name,
                                                                      ParameterStore<double>& store, Rng rng) {
  if (name == "sgnht") {
    return std::make_unique<mcmc::SGNHT<double>>(store, rng,
                                                 mcmc::SgnhtOptions{.learning_rate = 0.2, .variance_extra = 0.1,
                                                                    .tune_rate = 0.01, .second_order = false,
                                                                    .use_vector_alpha = false});
  }
  if (name == "sgld") return std::make_unique<mcmc::SGLD<double>>(store, rng, mcmc::SgldOptions{.learning_rate = 0.01});
  if (name == "psgld") {
    return std::make_unique<mcmc::PSGLD<double>>(store, rng, mcmc::PsgldOptions{.learning_rate = 0.01, .decay = 0.999});
  }
  return std::make_unique<mcmc::SGHMC<double>>(store, rng, mcmc::SghmcOptions{.learning_rate = 0.01, .friction = 0.1});
}

struct Result {
  std::string sampler;
  std::vector<double> draws;
  double mean = 0, sd = 0, right_share = 0, right_sd = 0, switches_per_chain = 0, seconds = 0;
  std::string note;  // the momentum methods' last temperature (and SGNHT's friction)
};

Result run_sampler(const Options& o, const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  const Rng root(o.seed);
  // ZhuSuan starts its chains at random uniform on [-5, 5]; the barrier at 1 would then leave
  // 60% of them in the left mode, and at these step sizes few chains ever cross it (the
  // switches column). Here they start evenly spread over [-3, 5], symmetric about the
  // barrier: each mode gets its half, and the mean measures the sampler, not the start.
  std::vector<double> start_values(o.chains);
  for (std::size_t c = 0; c < o.chains; ++c) {
    start_values[c] = barrier - 4 + 8 * (static_cast<double>(c) + 0.5) / static_cast<double>(o.chains);
  }
  ParameterStore<double> store(o.seed);
  Parameter<double>& x = store.create_from("x", Shape{o.chains, 1}, start_values);
  auto sampler = make_sampler(name, store, root.stream(name));
  Rng noise = root.stream("gradient noise"), model_rng = root.stream("model");

  Tape<double> tape;
  std::vector<double> side(o.chains);  // which mode each chain was last in
  for (std::size_t c = 0; c < o.chains; ++c) side[c] = x.value[c] > barrier;
  std::size_t switches = 0;
  Result r;
  r.sampler = name;
  xt::xarray<double> means = xt::xarray<double>::from_shape({2, 1}), sds = xt::xarray<double>::from_shape({2, 1});
  means(0, 0) = mode_left;
  means(1, 0) = mode_right;
  sds.fill(mode_sd);
  for (std::size_t t = 0; t < o.iterations; ++t) {
    tape.clear();
    const Var<double> value = x.on(tape);
    BayesianNet<double> bn(tape, model_rng, {{"x", value}});
    bn.mixture_normal("x", tape.zeros({2}), tape.constant(means), tape.constant(sds));
    tape.backward(-sum(bn.log_joint()));
    if (o.gradient_noise > 0) {  // the stochastic gradient: exact plus N(0, s^2)
      for (std::size_t c = 0; c < o.chains; ++c) x.grad[c] += o.gradient_noise * noise.normal<double>();
    }
    sampler->step_and_zero_grad();
    for (std::size_t c = 0; c < o.chains; ++c) {
      const double now = x.value[c] > barrier;
      switches += now != side[c];
      side[c] = now;
    }
    if (t >= o.burn_in && (t - o.burn_in) % o.thin == 0) r.draws.insert(r.draws.end(), x.value, x.value + o.chains);
    if (!std::isfinite(x.value[0])) {
      throw NumericalError(name + ": the chains diverged at iteration " + std::to_string(t));
    }
  }

  double sum = 0, square = 0, right = 0, right_sum = 0, right_square = 0;
  for (double v : r.draws) {
    sum += v;
    square += v * v;
    if (v > barrier) {
      right += 1;
      right_sum += v;
      right_square += v * v;
    }
  }
  const double n = static_cast<double>(r.draws.size());
  r.mean = sum / n;
  r.sd = std::sqrt(std::max(0.0, square / n - r.mean * r.mean));
  r.right_share = right / n;
  const double right_mean = right > 0 ? right_sum / right : 0;
  r.right_sd = right > 1 ? std::sqrt(std::max(0.0, right_square / right - right_mean * right_mean)) : 0;
  r.switches_per_chain = static_cast<double>(switches) / static_cast<double>(o.chains);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (const auto* sgnht = dynamic_cast<const mcmc::SGNHT<double>*>(sampler.get())) {
    r.note = "friction " + std::to_string(sgnht->mean_friction()) + ", temperature " +
             std::to_string(sgnht->temperature());
  } else if (const auto* sghmc = dynamic_cast<const mcmc::SGHMC<double>*>(sampler.get())) {
    r.note = "temperature " + std::to_string(sghmc->temperature());
  }
  return r;
}

int run(const Options& o) {
  namespace fs = std::filesystem;
  if (o.burn_in >= o.iterations) {
    throw ArgumentError("--burn-in " + std::to_string(o.burn_in) + " leaves no iteration to keep draws from (--iterations " +
                        std::to_string(o.iterations) + ")");
  }
  fs::create_directories(o.output);
  const std::vector<std::string> names =
      o.sampler == "all" ? std::vector<std::string>{"sgnht", "sgld", "psgld", "sghmc"} : std::vector<std::string>{o.sampler};
  std::printf("0.5 N(%g, %g^2) + 0.5 N(%g, %g^2): %zu chains x %zu iterations, a draw every %zu after %zu; gradient "
              "noise sd %g\n",
              mode_left, mode_sd, mode_right, mode_sd, o.chains, o.iterations, o.thin, o.burn_in, o.gradient_noise);
  std::printf("%-8s %9s %9s %12s %10s %16s %8s\n", "sampler", "mean", "sd", "right share", "right sd",
              "switches/chain", "seconds");
  std::printf("%-8s %9.4f %9.4f %12.4f %10.4f %16s %8s\n", "target", mixture_mean(), mixture_sd(), 0.5, mode_sd, "", "");
  std::vector<io::Series> densities;
  constexpr std::size_t bins = 100;
  constexpr double low = -5, high = 7, width = (high - low) / bins;
  io::Series target{"target", {}, {}};
  for (std::size_t b = 0; b < bins; ++b) {
    const double centre = low + (static_cast<double>(b) + 0.5) * width;
    target.x.push_back(centre);
    target.y.push_back(mixture_density(centre));
  }
  densities.push_back(target);
  for (const std::string& name : names) {
    const Result r = run_sampler(o, name);
    std::printf("%-8s %9.4f %9.4f %12.4f %10.4f %16.2f %8.1f  %s\n", name.c_str(), r.mean, r.sd, r.right_share,
                r.right_sd, r.switches_per_chain, r.seconds, r.note.c_str());
    std::fflush(stdout);
    io::plot_histogram(fs::path(o.output) / (name + "_histogram.png"), r.draws, bins, low, high,
                       {.title = name + " on 0.5 N(-1, 0.5^2) + 0.5 N(3, 0.5^2)", .x_label = "x", .y_label = "draws"});
    io::Series density{name, {}, std::vector<double>(bins, 0.0)};
    for (double v : r.draws) {
      const double at = std::floor((v - low) / width);
      if (at >= 0 && at < bins) density.y[static_cast<std::size_t>(at)] += 1 / (width * r.draws.size());
    }
    density.x = target.x;
    densities.push_back(density);
  }
  io::plot_lines(fs::path(o.output) / "density.png", densities,
                 {.title = "Draws (histogram densities) beside the mixture", .x_label = "x", .y_label = "density"});
  std::printf("Histograms and density.png are in %s\n", fs::absolute(o.output).string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  using namespace vaelib::examples;
  CLI::App app{"ZhuSuan's toy SGNHT example: stochastic-gradient MCMC on 0.5 N(-1, 0.5^2) + 0.5 N(3, 0.5^2)."};
  app.add_option("--sampler", o.sampler, "sgnht, sgld, psgld, sghmc, or all")
      ->capture_default_str()->check(CLI::IsMember({"sgnht", "sgld", "psgld", "sghmc", "all"}));
  app.add_option("--chains", o.chains, "Chains side by side (one parameter)")->capture_default_str()
      ->check(at_least_one_up_to(max_width));
  app.add_option("--iterations", o.iterations, "Steps per chain")->capture_default_str()
      ->check(at_least_one_up_to(100'000'000));
  app.add_option("--burn-in", o.burn_in, "Steps before draws are kept")->capture_default_str()
      ->check(zero_or_more_up_to(100'000'000));
  app.add_option("--thin", o.thin, "Keep a draw every this many steps")->capture_default_str()
      ->check(at_least_one_up_to(100'000'000));
  app.add_option("--gradient-noise", o.gradient_noise, "Standard deviation of the noise added to each gradient (0: exact)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e6));
  app.add_option("--seed", o.seed, "Seed of the starting points and the noise")->capture_default_str()
      ->check(any_whole_number);
  app.add_option("--output", o.output, "Folder for the histograms and density.png")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return report_errors("sgmcmc_mixture", [&] { return run(o); });
}
