// The posteriordb posteriors of tests/posteriordb (their Stan programs written with BayesianNet
// in models.hpp) sampled by NUTS, several chains at once, and the draws checked against the
// posterior's reference (reference_check.hpp: posteriordb's criterion, every |z| < 4 and every
// |sd / ref_sd - 1| < 10%). Writes draws.csv (CmdStan's columns, a chain column, Stan's names:
// posteriordb's check_draws.py reads it) and summary.txt.  Exit status: 0 PASS, 1 FAIL,
// 2 bad input or an error.
//
//   posteriordb --list
//   posteriordb --posterior eight_schools-eight_schools_noncentered

#include <cblas.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vaelib/io/draws.hpp>
#include <vaelib/mcmc.hpp>  // (nuts.hpp alone misses hmc.hpp's detail::check_max_energy_error)
#include <vaelib/mcmc/sample.hpp>
#include <vector>

#include "../common/cli_checks.hpp"
#include "../common/progress_bar.hpp"
#include "models.hpp"
#include "reference_check.hpp"

#ifndef VAELIB_POSTERIORDB_DIR
#define VAELIB_POSTERIORDB_DIR "tests/posteriordb"
#endif

namespace {

using namespace vaelib;
namespace pdb = vaelib::examples::posteriordb;

struct Options {
  std::string posterior;
  std::size_t chains = 4, warmup = 1000, draws = 1000, threads = 0;
  std::uint64_t seed = 1;
  int max_tree_depth = 10;
  double target_accept = 0.8;
  bool dense_metric = false, list = false, quiet = false;
  std::string output;  // default results/posteriordb/<posterior>
  std::string folder = VAELIB_POSTERIORDB_DIR;
};

int list_posteriors(const Options& o) {
  std::printf("posteriors in %s:\n", o.folder.c_str());
  for (const pdb::PosteriorEntry& e : pdb::posteriors())
    std::printf("  %-42s %s\n", e.name.c_str(), e.description.c_str());
  return 0;
}

int run(const Options& o) {
  namespace fs = std::filesystem;
  if (o.list) return list_posteriors(o);
  if (o.posterior.empty()) throw ArgumentError("--posterior NAME is required (--list shows the names)");
  const pdb::PosteriorEntry& entry = pdb::find_posterior(o.posterior);
  const fs::path folder = fs::path(o.folder) / entry.name;
  if (!fs::is_directory(folder)) {
    throw ArgumentError("--posteriordb: no folder " + folder.string() + " (expected <posteriordb>/" + entry.name +
                        "/data.json and reference.json)");
  }
  const pdb::StanData data = pdb::read_stan_data(folder / "data.json");
  const pdb::Reference reference = pdb::read_reference(folder / "reference.json");
  const pdb::PosteriorModel model = entry.make(data);
  const fs::path out = o.output.empty() ? fs::path("results/posteriordb") / entry.name : fs::path(o.output);
  fs::create_directories(out);

  // The chains run on threads of their own: OpenBLAS's threads would only oversubscribe the cores.
  openblas_set_num_threads(1);
  const std::size_t dimension = pdb::make_density(model).dimension();
  mcmc::NutsOptions nuts{.max_tree_depth = o.max_tree_depth};
  if (o.dense_metric) nuts.metric = mcmc::Metric::dense_unit(dimension);
  mcmc::SampleOptions options{
      .chains = o.chains, .warmup = o.warmup, .draws = o.draws, .seed = o.seed, .threads = o.threads};
  options.adaptation.dual_averaging.target_accept = o.target_accept;
  examples::ChainsProgress bar(o.chains, o.warmup + o.draws, !o.quiet);
  options.progress = bar.callback();
  std::printf(
      "%s: %zu dimensions; NUTS (max tree depth %d, target acceptance %.2f, %s metric), %zu chains x %zu "
      "draws after %zu warm-up, seed %llu\n",
      entry.name.c_str(), dimension, o.max_tree_depth, o.target_accept, o.dense_metric ? "dense" : "diagonal", o.chains,
      o.draws, o.warmup, static_cast<unsigned long long>(o.seed));

  const auto start = std::chrono::steady_clock::now();
  const mcmc::Samples samples =
      mcmc::sample([&] { return pdb::make_density(model, o.seed); }, mcmc::Nuts(nuts), options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bar.finish();

  io::write_draws_csv(out / "draws.csv", samples);
  const std::string summary = mcmc::format_summary(samples.summary());
  std::size_t leapfrogs = 0, max_depth_hits = 0;
  for (const auto& chain : samples.info) {
    for (const mcmc::TransitionInfo& t : chain) {
      leapfrogs += static_cast<std::size_t>(t.n_leapfrog);
      max_depth_hits += t.tree_depth >= o.max_tree_depth ? 1 : 0;
    }
  }
  char stats[512];
  std::snprintf(stats, sizeof stats,
                "%.1f s (sampling and warm-up, %zu chains); %zu divergences after warm-up; %zu draws at the maximum "
                "tree depth; %.1f leapfrog steps per draw; step sizes",
                seconds, o.chains, samples.divergences(), max_depth_hits,
                static_cast<double>(leapfrogs) / static_cast<double>(o.chains * samples.n_draws));
  std::string report = summary + "\n" + stats;
  for (double eps : samples.step_sizes) report += " " + std::to_string(eps);
  report += "; E-BFMI";
  for (double e : samples.ebfmi_per_chain()) report += " " + std::to_string(e);
  report += "\n";

  const pdb::ReferenceCheck check = pdb::check_against_reference(samples.view(), samples.names, reference);
  report += "\nAgainst the reference (" + reference.source + "):\n" + pdb::format_reference_check(check);
  std::ofstream(out / "summary.txt") << report;
  std::fputs(report.c_str(), stdout);
  std::printf("Draws and summary are in %s\n", fs::absolute(out).string().c_str());
  return check.pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "NUTS on the posteriordb posteriors (Stan programs written with BayesianNet), checked against "
      "posteriordb's reference draws: every |z| < 4 for the means (both MCSEs) and every sd within 10%. "
      "Exit status 0 PASS, 1 FAIL, 2 error."};
  app.add_option("--posterior", o.posterior,
                 "Posterior name (see --list), e.g. eight_schools-eight_schools_noncentered");
  app.add_flag("--list", o.list, "List the posteriors and exit");
  app.add_option("--chains", o.chains, "Chains (each on its own thread and Rng stream)")
      ->capture_default_str()
      ->check(examples::at_least_one_up_to(1000));
  app.add_option("--warmup", o.warmup, "Warm-up iterations per chain (Stan's adaptation windows)")
      ->capture_default_str()
      ->check(examples::zero_or_more_up_to(10'000'000));
  app.add_option("--draws", o.draws, "Draws per chain after warm-up")
      ->capture_default_str()
      ->check(examples::whole_number(8, 10'000'000, "COUNT"));
  app.add_option("--seed", o.seed, "Seed (chain c uses the stream \"chain c\" of it)")
      ->capture_default_str()
      ->check(examples::any_whole_number);
  app.add_option("--max-tree-depth", o.max_tree_depth, "NUTS maximum tree depth (at most 2^depth - 1 leapfrog steps)")
      ->capture_default_str()
      ->check(examples::whole_number(1, 30, "DEPTH"));
  app.add_option("--target-accept", o.target_accept,
                 "Mean acceptance statistic the step size adapts to (Stan's adapt_delta)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !(v > 0 && v < 1))
              return "expected a number in (0, 1), got '" + text + "'";
            return {};
          },
          "PROBABILITY"));
  app.add_flag("--dense-metric", o.dense_metric, "Adapt a dense metric (default: diagonal, as Stan's default)");
  app.add_option("--threads", o.threads, "Chains run at once (0: all, at most the hardware's threads)")
      ->capture_default_str()
      ->check(examples::threads_count());
  app.add_option("--output", o.output,
                 "Folder for draws.csv and summary.txt (default results/posteriordb/<posterior>)");
  app.add_option("--posteriordb", o.folder, "Folder of the posteriors (<name>/data.json, reference.json)")
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "No progress bar");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "posteriordb: %s\n", e.what());
    return 2;
  }
}
