// What a user pays for letting the tape differentiate a posterior instead of writing its
// gradient (issue 22): the log density and gradient of posteriordb posteriors through
// mcmc::ModelDensity (the model rebuilt on a tape at every evaluation) against the same
// density and gradient written by hand in C++, on the same unconstrained coordinates.
// Before timing, the two are compared at 16 random points (values, gradients, reported
// quantities) and the program stops if they disagree.
//
//   bench_mcmc_gradient                          # ns per gradient, RATIO lines (alternating rounds),
//                                                # PER-NODE lines (the tape's nodes a gradient, its extra ns a node)
//   bench_mcmc_gradient --nuts=eight_schools-eight_schools_noncentered,kidiq-kidscore_interaction
//                                                # NUTS end to end: gradients/s and bulk-ESS/s
//
// Flags (before Google Benchmark's own): --alternating-rounds=N (21; 0 skips them),
// --nuts=P1,P2,... (runs NUTS on these posteriors instead of the gradient benchmarks; the
// posteriors with a hand-written gradient also run NUTS on it), --chains=4, --threads=2,
// --warmup=1000, --draws=1000, --seed=1, --posteriordb=DIR.

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <vaelib/mcmc.hpp>
#include <vaelib/mcmc/sample.hpp>

#include "posteriordb/models.hpp"
#include "ratio_reporter.hpp"

#ifndef VAELIB_POSTERIORDB_DIR
#define VAELIB_POSTERIORDB_DIR "tests/posteriordb"
#endif

namespace {

using namespace vaelib;
namespace pdb = vaelib::examples::posteriordb;

constexpr double half_log_2pi = 0.91893853320467274178;  // log(2 pi) / 2

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "bench_mcmc_gradient: %s\n", message.c_str());
  std::exit(2);
}

// ---- the densities by hand ----------------------------------------------------------------------

/// eight_schools_noncentered on u = (theta_trans[J], mu, log tau), the order the model adds its
/// latents in: theta_trans ~ N(0, 1), mu ~ N(0, 5), tau ~ HalfCauchy(5) (+ log tau, the
/// log-Jacobian of exp), y ~ N(theta_trans tau + mu, sigma).
class EightSchoolsByHand {
 public:
  EightSchoolsByHand(const pdb::StanData& data, std::vector<std::string> names) : m_names(std::move(names)) {
    const xt::xarray<double>& y = data.at("y");
    const xt::xarray<double>& sigma = data.at("sigma");
    m_y.assign(y.begin(), y.end());
    for (double s : sigma) m_precision.push_back(1 / (s * s));
    m_constant = -static_cast<double>(2 * m_y.size() + 1) * half_log_2pi - std::log(5.0) +
                 std::log(2 / (std::numbers::pi * 5));
    for (double s : sigma) m_constant -= std::log(s);
  }

  std::size_t dimension() const noexcept { return m_y.size() + 2; }

  double log_density_and_gradient(std::span<const double> u, std::span<double> grad) const {
    const std::size_t j = m_y.size();
    const double mu = u[j], log_tau = u[j + 1], tau = std::exp(log_tau);
    double lp = m_constant - 0.5 * (mu / 5) * (mu / 5) - std::log1p((tau / 5) * (tau / 5)) + log_tau;
    double d_mu = -mu / 25, d_tau = 0;
    for (std::size_t i = 0; i < j; ++i) {
      const double z = u[i], r = m_y[i] - (z * tau + mu);
      lp -= 0.5 * (z * z + r * r * m_precision[i]);
      const double w = r * m_precision[i];  // d lp / d theta_i
      grad[i] = w * tau - z;
      d_mu += w;
      d_tau += w * z;
    }
    grad[j] = d_mu;
    // d/d log tau = tau d/d tau + 1 (the Jacobian term); the prior's d/d tau = -2 tau / (25 + tau^2).
    grad[j + 1] = tau * (d_tau - 2 * tau / (25 + tau * tau)) + 1;
    return lp;
  }

  const std::vector<std::string>& quantity_names() const { return m_names; }
  /// theta_trans, mu, tau, then theta (ModelDensity's order).
  std::vector<double> quantities(std::span<const double> u) const {
    const std::size_t j = m_y.size();
    const double tau = std::exp(u[j + 1]);
    std::vector<double> out(u.begin(), u.end());
    out[j + 1] = tau;
    for (std::size_t i = 0; i < j; ++i) out.push_back(u[i] * tau + u[j]);
    return out;
  }

 private:
  std::vector<double> m_y, m_precision;
  std::vector<std::string> m_names;
  double m_constant = 0;
};

/// A linear regression y ~ N(X beta, sigma) on u = (beta[K], log sigma), beta flat, sigma flat or
/// HalfCauchy(2.5) on (0, inf), + log sigma for the exp: kidscore_interaction, logearn_height.
class RegressionByHand {
 public:
  RegressionByHand(std::vector<double> y, std::vector<double> x_rows, std::size_t k, bool half_cauchy_sigma,
                   std::vector<std::string> names)
      : m_y(std::move(y)), m_x(std::move(x_rows)), m_k(k), m_half_cauchy(half_cauchy_sigma), m_names(std::move(names)) {
    m_constant = -static_cast<double>(m_y.size()) * half_log_2pi +
                 (m_half_cauchy ? std::log(2 / (std::numbers::pi * 2.5)) : 0.0);
  }

  std::size_t dimension() const noexcept { return m_k + 1; }

  double log_density_and_gradient(std::span<const double> u, std::span<double> grad) const {
    const std::size_t n = m_y.size();
    const double log_sigma = u[m_k], sigma = std::exp(log_sigma), precision = 1 / (sigma * sigma);
    std::fill(grad.begin(), grad.begin() + static_cast<std::ptrdiff_t>(m_k), 0.0);
    double squares = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double* row = m_x.data() + i * m_k;
      double mean = 0;
      for (std::size_t c = 0; c < m_k; ++c) mean += row[c] * u[c];
      const double r = m_y[i] - mean;
      squares += r * r;
      for (std::size_t c = 0; c < m_k; ++c) grad[c] += r * row[c];
    }
    for (std::size_t c = 0; c < m_k; ++c) grad[c] *= precision;
    double lp = m_constant - 0.5 * squares * precision - static_cast<double>(n) * log_sigma + log_sigma;
    // d/d log sigma = sigma d/d sigma + 1: the likelihood's sigma d/d sigma is squares / sigma^2 - N.
    double d_log_sigma = squares * precision - static_cast<double>(n) + 1;
    if (m_half_cauchy) {
      const double z = sigma / 2.5;
      lp -= std::log1p(z * z);
      d_log_sigma -= 2 * z * z / (1 + z * z);
    }
    grad[m_k] = d_log_sigma;
    return lp;
  }

  const std::vector<std::string>& quantity_names() const { return m_names; }
  /// beta, then sigma.
  std::vector<double> quantities(std::span<const double> u) const {
    std::vector<double> out(u.begin(), u.end());
    out[m_k] = std::exp(u[m_k]);
    return out;
  }

 private:
  std::vector<double> m_y, m_x;  // X row-major [N, K]
  std::size_t m_k;
  bool m_half_cauchy;
  std::vector<std::string> m_names;
  double m_constant = 0;
};

/// Either hand-written density, behind one type for the benchmarks and the sampler.
class HandDensity {
 public:
  template <class D>
  explicit HandDensity(std::shared_ptr<const D> d)
      : m_dimension(d->dimension()),
        m_gradient([d](std::span<const double> u, std::span<double> g) { return d->log_density_and_gradient(u, g); }),
        m_quantities([d](std::span<const double> u) { return d->quantities(u); }),
        m_names(d->quantity_names()) {}

  std::size_t dimension() const noexcept { return m_dimension; }
  double log_density_and_gradient(std::span<const double> u, std::span<double> g) const { return m_gradient(u, g); }
  std::vector<double> quantities(std::span<const double> u) const { return m_quantities(u); }
  const std::vector<std::string>& quantity_names() const { return m_names; }

 private:
  std::size_t m_dimension;
  std::function<double(std::span<const double>, std::span<double>)> m_gradient;
  std::function<std::vector<double>(std::span<const double>)> m_quantities;
  std::vector<std::string> m_names;
};

/// The hand-written density of a posterior, or none.
std::optional<HandDensity> hand_density(const std::string& posterior, const pdb::StanData& data,
                                        const std::vector<std::string>& names) {
  const auto vector_of = [&](const char* name) {
    const xt::xarray<double>& a = data.at(name);
    return std::vector<double>(a.begin(), a.end());
  };
  if (posterior == "eight_schools-eight_schools_noncentered") {
    return HandDensity(std::make_shared<const EightSchoolsByHand>(data, names));
  }
  if (posterior == "kidiq-kidscore_interaction") {
    const std::vector<double> hs = vector_of("mom_hs"), iq = vector_of("mom_iq");
    std::vector<double> x;
    for (std::size_t i = 0; i < hs.size(); ++i) x.insert(x.end(), {1.0, hs[i], iq[i], hs[i] * iq[i]});
    return HandDensity(
        std::make_shared<const RegressionByHand>(vector_of("kid_score"), std::move(x), 4, /*half_cauchy=*/true, names));
  }
  if (posterior == "earnings-logearn_height") {
    std::vector<double> y = vector_of("earn");
    for (double& v : y) v = std::log(v);
    std::vector<double> x;
    for (double h : vector_of("height")) x.insert(x.end(), {1.0, h});
    return HandDensity(std::make_shared<const RegressionByHand>(std::move(y), std::move(x), 2, /*half_cauchy=*/false, names));
  }
  return std::nullopt;
}

// ---- the cases: a posterior's tape density, its hand density, and points to evaluate at ---------

struct GradientCase {
  std::string posterior;
  pdb::StanData data;
  pdb::PosteriorModel model;
  std::unique_ptr<mcmc::ModelDensity<double>> tape;
  std::optional<HandDensity> hand;
  std::vector<std::vector<double>> points;
};

std::string posteriordb_dir = VAELIB_POSTERIORDB_DIR;

std::unique_ptr<GradientCase> load_case(const std::string& posterior) {
  auto c = std::make_unique<GradientCase>();
  c->posterior = posterior;
  const pdb::PosteriorEntry& entry = pdb::find_posterior(posterior);
  c->data = pdb::read_stan_data(std::filesystem::path(posteriordb_dir) / entry.name / "data.json");
  c->model = entry.make(c->data);
  c->tape = std::make_unique<mcmc::ModelDensity<double>>(c->model.model, c->model.observed,
                                                         mcmc::ModelDensityOptions{.quantities = c->model.quantities});
  c->hand = hand_density(posterior, c->data, c->tape->quantity_names());
  Rng rng(7);
  for (int i = 0; i < 16; ++i) c->points.push_back(c->tape->initial_point(rng));
  return c;
}

// The tape and the hand agree at every point (values to 1e-10 relative, gradients to 1e-8 of
// their scale, quantities to 1e-12 relative), or the program stops.
void check_agreement(GradientCase& c) {
  if (!c.hand) return;
  const std::size_t d = c.tape->dimension();
  if (c.hand->dimension() != d) fail(c.posterior + ": the hand-written density has another dimension");
  std::vector<double> g_tape(d), g_hand(d);
  for (const std::vector<double>& u : c.points) {
    const double lp_tape = c.tape->log_density_and_gradient(u, g_tape);
    const double lp_hand = c.hand->log_density_and_gradient(u, g_hand);
    if (!(std::abs(lp_tape - lp_hand) <= 1e-10 * (1 + std::abs(lp_tape)))) {
      fail(c.posterior + ": log density by tape " + std::to_string(lp_tape) + ", by hand " + std::to_string(lp_hand));
    }
    double scale = 1;
    for (double g : g_tape) scale = std::max(scale, std::abs(g));
    for (std::size_t i = 0; i < d; ++i) {
      if (!(std::abs(g_tape[i] - g_hand[i]) <= 1e-8 * scale)) {
        fail(c.posterior + ": gradient[" + std::to_string(i) + "] by tape " + std::to_string(g_tape[i]) + ", by hand " +
             std::to_string(g_hand[i]));
      }
    }
    const std::vector<double> q_tape = c.tape->quantities(u), q_hand = c.hand->quantities(u);
    for (std::size_t i = 0; i < q_tape.size(); ++i) {
      if (q_hand.size() != q_tape.size() || !(std::abs(q_tape[i] - q_hand[i]) <= 1e-12 * (1 + std::abs(q_tape[i])))) {
        fail(c.posterior + ": the reported quantities differ (" + c.tape->quantity_names()[i] + ")");
      }
    }
  }
}

std::string short_name(const std::string& posterior) { return posterior.substr(posterior.find('-') + 1); }

// ---- NUTS end to end -------------------------------------------------------------------------------

/// A density that counts its gradient evaluations (into a total when the chain ends).
template <class D>
struct Counting {
  D density;
  std::atomic<std::size_t>* total;
  std::size_t count = 0;

  // The density is built in place (a ModelDensity can be neither copied nor moved: its data live
  // on its tape), and sample() keeps what make_density() returns in place: each count reaches
  // the total once.
  template <class Make>
  Counting(Make&& make, std::atomic<std::size_t>* t) : density(make()), total(t) {}
  Counting(const Counting&) = delete;
  Counting& operator=(const Counting&) = delete;
  ~Counting() { *total += count; }
  std::size_t dimension() const { return density.dimension(); }
  double log_density_and_gradient(std::span<const double> u, std::span<double> g) {
    ++count;
    return density.log_density_and_gradient(u, g);
  }
  std::vector<std::string> quantity_names() { return density.quantity_names(); }
  std::vector<double> quantities(std::span<const double> u) { return density.quantities(u); }
};

struct NutsSettings {
  std::size_t chains = 4, threads = 2, warmup = 1000, draws = 1000;
  std::uint64_t seed = 1;
};

/// `nodes`: the tape nodes one gradient records (0 for a density written by hand).
template <class Factory>
void run_nuts(const std::string& label, std::size_t dimension, std::size_t nodes, Factory&& make,
              const NutsSettings& s) {
  std::atomic<std::size_t> gradients{0};
  mcmc::SampleOptions options{
      .chains = s.chains, .warmup = s.warmup, .draws = s.draws, .seed = s.seed, .threads = s.threads};
  const auto start = std::chrono::steady_clock::now();
  const mcmc::Samples samples = mcmc::sample([&] { return make(&gradients); }, mcmc::Nuts(), options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const mcmc::Summary summary = samples.summary();
  double min_ess = std::numeric_limits<double>::infinity();
  std::string worst;
  for (const mcmc::SummaryRow& row : summary.rows) {
    if (row.ess_bulk < min_ess) {
      min_ess = row.ess_bulk;
      worst = row.name;
    }
  }
  const double n = static_cast<double>(gradients.load());
  const std::string node_column = nodes ? std::to_string(nodes) : "-";
  std::printf("NUTS %-42s dim %2zu  nodes %5s  %7.2f s  %9.0f gradients  %9.0f gradients/s  min bulk-ESS %6.0f (%s)  %8.1f ESS/s  "
              "%zu divergences\n",
              label.c_str(), dimension, node_column.c_str(), seconds, n, n / seconds, min_ess, worst.c_str(), min_ess / seconds,
              samples.divergences());
  std::fflush(stdout);
}

void run_nuts_on(const std::string& posterior, const NutsSettings& s) {
  const std::unique_ptr<GradientCase> c = load_case(posterior);
  check_agreement(*c);
  const std::size_t d = c->tape->dimension();
  std::vector<double> g(d);
  c->tape->log_density_and_gradient(c->points.front(), g);
  run_nuts(posterior + " (tape)", d, c->tape->recorded_nodes(), [&](std::atomic<std::size_t>* total) {
    return Counting<mcmc::ModelDensity<double>>([&] { return pdb::make_density(c->model, s.seed); }, total);
  }, s);
  if (c->hand) {
    run_nuts(posterior + " (by hand)", d, 0, [&](std::atomic<std::size_t>* total) {
      return Counting<HandDensity>([&] { return *c->hand; }, total);
    }, s);
  }
}

// ---- the gradient benchmarks ------------------------------------------------------------------

/// "gradient/<posterior>/<side>": one log density and gradient a iteration, cycling through the points.
template <class Density>
void register_gradient(const std::string& posterior, const char* side, Density& density,
                       const std::vector<std::vector<double>>& points) {
  benchmark::RegisterBenchmark(("gradient/" + short_name(posterior) + "/" + side).c_str(),
                               [&density, &points](benchmark::State& state) {
                                 std::vector<double> g(density.dimension());
                                 std::size_t i = 0;
                                 for (auto _ : state) {
                                   benchmark::DoNotOptimize(density.log_density_and_gradient(points[i++ % points.size()], g));
                                 }
                               })
      ->Unit(benchmark::kNanosecond);
}

// ---- flags ---------------------------------------------------------------------------------------

// Removes --name=VALUE from argv and returns VALUE (nullopt if absent).
std::optional<std::string> take_flag(int& argc, char** argv, std::string_view name) {
  const std::string prefix = "--" + std::string(name) + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with(prefix)) continue;
    std::string value(arg.substr(prefix.size()));
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc;
    return value;
  }
  return std::nullopt;
}

template <class N>
void take_number(int& argc, char** argv, std::string_view name, N& out, N least) {
  const std::optional<std::string> value = take_flag(argc, argv, name);
  if (!value) return;
  N parsed{};
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), parsed);
  if (error != std::errc() || end != value->data() + value->size() || parsed < least) {
    fail("--" + std::string(name) + " takes a whole number >= " + std::to_string(least) + ", not '" + *value + "'");
  }
  out = parsed;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 21;
  NutsSettings nuts;
  take_number(argc, argv, "alternating-rounds", rounds, 0);
  take_number(argc, argv, "chains", nuts.chains, std::size_t{1});
  take_number(argc, argv, "threads", nuts.threads, std::size_t{1});
  take_number(argc, argv, "warmup", nuts.warmup, std::size_t{0});
  take_number(argc, argv, "draws", nuts.draws, std::size_t{1});
  take_number(argc, argv, "seed", nuts.seed, std::uint64_t{0});
  if (auto dir = take_flag(argc, argv, "posteriordb")) posteriordb_dir = *dir;
  const std::optional<std::string> nuts_list = take_flag(argc, argv, "nuts");
  openblas_set_num_threads(1);  // as the posteriordb example: the chains have the cores

  try {
    if (nuts_list) {
      std::string_view rest = *nuts_list;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        run_nuts_on(std::string(rest.substr(0, comma)), nuts);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
      return 0;
    }

    benchmark::Initialize(&argc, argv);
    std::vector<std::unique_ptr<GradientCase>> cases;
    for (const char* posterior :
         {"eight_schools-eight_schools_noncentered", "kidiq-kidscore_interaction", "earnings-logearn_height"}) {
      cases.push_back(load_case(posterior));
      check_agreement(*cases.back());
    }
    for (const auto& c : cases) {
      register_gradient(c->posterior, "tape", *c->tape, c->points);
      register_gradient(c->posterior, "hand", *c->hand, c->points);
    }
    vaelib::bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    for (const auto& c : cases) {
      const std::string name = short_name(c->posterior);
      vaelib::bench::print_ratio(reporter, name + ": tape / by hand", "gradient/" + name + "/tape",
                                 "gradient/" + name + "/hand");
    }
    // What the tape adds, per node it records: the time a user pays for not writing the gradient.
    for (const auto& c : cases) {
      const std::string name = short_name(c->posterior);
      const std::size_t nodes = c->tape->recorded_nodes();
      const double extra_ns = (reporter.seconds("gradient/" + name + "/tape") - reporter.seconds("gradient/" + name + "/hand")) * 1e9;
      std::printf("PER-NODE %-37s %zu nodes a gradient, %.0f ns more than by hand: %.0f ns a node\n",
                  (name + ":").c_str(), nodes, extra_ns, extra_ns / static_cast<double>(std::max<std::size_t>(nodes, 1)));
    }
    for (const auto& c : cases) {
      if (rounds == 0) break;
      // Each side of a round takes about a millisecond (so the clock's resolution does not matter).
      std::vector<double> g(c->tape->dimension());
      std::size_t i = 0, j = 0;
      const auto time_one = [&](auto&& f) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < 100; ++k) f();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 100;
      };
      const double hand_seconds =
          time_one([&] { benchmark::DoNotOptimize(c->hand->log_density_and_gradient(c->points[0], g)); });
      const int steps = std::clamp(static_cast<int>(1e-3 / std::max(hand_seconds, 1e-9)), 10, 100000);
      const double ratio = vaelib::bench::alternating_ratio(
          rounds, steps,
          [&] { benchmark::DoNotOptimize(c->hand->log_density_and_gradient(c->points[i++ % c->points.size()], g)); },
          [&] { benchmark::DoNotOptimize(c->tape->log_density_and_gradient(c->points[j++ % c->points.size()], g)); });
      std::printf("RATIO %-40s %.3f   (alternating rounds of %d gradients, median of %d)\n",
                  (short_name(c->posterior) + ": tape / by hand").c_str(), ratio, steps, rounds);
    }
    benchmark::Shutdown();
  } catch (const std::exception& e) {
    fail(e.what());
  }
}
