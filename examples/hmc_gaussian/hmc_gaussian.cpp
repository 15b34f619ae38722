// ZhuSuan's toy HMC example (examples/toy_examples/gaussian.py), in vaelib: HMC (or NUTS)
// with step-size and mass adaptation on a Gaussian whose standard deviations span an order of
// magnitude, x ~ N(0, diag(s^2)), s_i = 1 / (i + 1). The sampler sees only the model's log
// density; the printout compares each dimension's sample standard deviation with s_i.
//   hmc_gaussian --dims 10 --kernel hmc --leapfrog 10

#include <vaelib/io.hpp>
#include <vaelib/mcmc.hpp>
#include <vaelib/vae.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "../common/experiment_parts.hpp"
#include "../common/progress_bar.hpp"

namespace {

using namespace vaelib;

struct Options {
  std::size_t dims = 10, chains = 4, warmup = 1000, draws = 1000, leapfrog = 10, max_tree_depth = 10;
  std::string kernel = "hmc";
  double target_accept = 0.8, jitter = 0.5;
  bool dense = false;
  std::uint64_t seed = 1;
  std::string output = "results/hmc_gaussian";
};

template <class Kernel>
mcmc::Samples run_sampler(const Options& o, const Kernel& kernel) {
  const auto model = [dims = o.dims](BayesianNet<double>& bn) {
    xt::xarray<double> sd = xt::empty<double>({dims});
    for (std::size_t i = 0; i < dims; ++i) sd(i) = 1.0 / static_cast<double>(i + 1);
    bn.normal("x", bn.tape().zeros({dims}), bn.tape().constant(sd));
  };
  mcmc::SampleOptions s;
  s.chains = o.chains;
  s.warmup = o.warmup;
  s.draws = o.draws;
  s.seed = o.seed;
  s.adaptation.dual_averaging.target_accept = o.target_accept;
  examples::ChainsProgress bar(o.chains, o.warmup + o.draws);
  s.progress = bar.callback();
  mcmc::Samples samples = mcmc::sample([&] { return mcmc::ModelDensity<double>(model, {}); }, kernel, s);
  bar.finish();
  return samples;
}

int run(const Options& o) {
  namespace fs = std::filesystem;
  fs::create_directories(o.output);
  mcmc::Metric metric = o.dense ? mcmc::Metric::dense_unit(o.dims) : mcmc::Metric::unit(o.dims);
  const mcmc::Samples samples =
      o.kernel == "nuts"
          ? run_sampler(o, mcmc::Nuts({.max_tree_depth = static_cast<int>(o.max_tree_depth), .metric = metric}))
          : run_sampler(o, mcmc::Hmc({.n_leapfrog = static_cast<int>(o.leapfrog), .step_size_jitter = o.jitter,
                                      .metric = metric}));

  const mcmc::Summary summary = samples.summary();
  std::printf("%s, %zu chains x %zu draws after %zu warm-up iterations; step sizes:", o.kernel.c_str(), o.chains,
              o.draws, o.warmup);
  for (double eps : samples.step_sizes) std::printf(" %.3g", eps);
  std::printf("\n%s\n", mcmc::format_summary(summary).c_str());
  std::printf("%-8s %10s %10s %10s %8s\n", "dim", "true sd", "sample sd", "sd error", "mean z");
  double worst_sd_error = 0, worst_z = 0;
  for (std::size_t i = 0; i < o.dims; ++i) {
    const mcmc::SummaryRow& row = summary.rows[i];
    const double truth = 1.0 / static_cast<double>(i + 1), sd_error = row.sd / truth - 1, z = row.mean / row.mcse_mean;
    worst_sd_error = std::max(worst_sd_error, std::abs(sd_error));
    worst_z = std::max(worst_z, std::abs(z));
    std::printf("%-8s %10.4f %10.4f %9.1f%% %8.2f\n", row.name.c_str(), truth, row.sd, 100 * sd_error, z);
  }
  double max_rhat = 0;
  for (const auto& row : summary.rows) max_rhat = std::max(max_rhat, row.rhat);
  std::printf("largest |sd error| %.1f%%, largest |mean z| %.2f, largest R-hat %.4f, %zu divergences\n",
              100 * worst_sd_error, worst_z, max_rhat, samples.divergences());

  io::write_draws_csv(fs::path(o.output) / "draws.csv", samples);
  std::vector<double> first;  // x[1] of every chain, beside its N(0, 1) density in the docs
  for (std::size_t c = 0; c < samples.n_chains; ++c)
    for (std::size_t d = 0; d < samples.n_draws; ++d) first.push_back(samples(c, d, 0));
  io::plot_histogram(fs::path(o.output) / "x1_histogram.png", first, 40, -4.0, 4.0,
                     {.title = "x[1] (true sd 1), " + o.kernel, .x_label = "x[1]", .y_label = "draws"});
  std::printf("Draws and the histogram of x[1] are in %s\n", fs::absolute(o.output).string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"ZhuSuan's toy HMC example: HMC or NUTS with adaptation on N(0, diag(s^2)), s_i = 1/(i+1)."};
  using namespace vaelib::examples;
  app.add_option("--dims", o.dims, "Dimensions of x")->capture_default_str()->check(at_least_one_up_to(max_width));
  app.add_option("--kernel", o.kernel, "Transition kernel")->capture_default_str()->check(CLI::IsMember({"hmc", "nuts"}));
  app.add_option("--leapfrog", o.leapfrog, "Leapfrog steps per HMC transition")
      ->capture_default_str()->check(at_least_one_up_to(10'000));
  // Without jitter, 10 leapfrog steps of the adapted step (about 0.65) make a trajectory of
  // nearly 2 pi, a whole period of a unit Gaussian: each transition returns near its start and
  // some dimensions hardly move (R-hat 1.5). Varying the step breaks the resonance.
  app.add_option("--jitter", o.jitter, "HMC: each transition's step is the adapted one times 1 + jitter * U(-1, 1)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.99));
  app.add_option("--max-tree-depth", o.max_tree_depth, "NUTS's largest tree depth")
      ->capture_default_str()->check(at_least_one_up_to(30));
  app.add_option("--chains", o.chains, "Chains, each on its own thread")->capture_default_str()->check(at_least_one_up_to(1000));
  app.add_option("--warmup", o.warmup, "Warm-up (adaptation) iterations per chain")
      ->capture_default_str()->check(zero_or_more_up_to(max_epochs));
  app.add_option("--draws", o.draws, "Draws kept per chain")->capture_default_str()->check(at_least_one_up_to(max_epochs));
  app.add_option("--target-accept", o.target_accept, "Acceptance rate the step size adapts toward, in (0, 1)")
      ->capture_default_str()->check(CLI::Range(0.01, 0.99));
  app.add_flag("--dense", o.dense, "Adapt a dense metric (mass matrix) instead of a diagonal one");
  app.add_option("--seed", o.seed, "Random seed (chain c uses the stream 'chain c' of it)")
      ->capture_default_str()->check(any_whole_number);
  app.add_option("--output", o.output, "Folder for draws.csv and x1_histogram.png")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return report_errors("hmc_gaussian", [&] { return run(o); });
}
