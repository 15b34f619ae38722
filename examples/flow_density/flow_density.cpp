// Flows fitted to two-dimensional densities (docs/flows.md):
//
// - The four energies of Rezende & Mohamed (2015, Figure 3), p(z) ~ exp(-U(z)): a standard
//   normal pushed through K flows (planar by default, K = 32 as in the paper) is fitted by
//   minimising F = E_q[log q(z) + U(z)], the reverse KL up to log Z, with reparameterised
//   draws. log Z is computed on a grid, so KL(q || p) = F + log Z is reported in nats. (U2-U4
//   are flat along z1 far out and have no finite integral: a soft wall outside |z1| = 4, the
//   range the paper plots, confines them.)
// - Samples of two moons and of two rings: affine coupling layers with permutations
//   (RealNVP) or rational-quadratic spline couplings fitted by maximum likelihood through
//   their inverses; the test negative log-likelihood is reported beside a Gaussian's.
//
// Each target gets <target>.png: the target density (left) beside the fitted one (right),
// darker where the density is higher, on [-4, 4]^2.
//
//   flow_density --steps 20000 --output results/flow_density

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numbers>
#include <string>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

#include "../common/cli_checks.hpp"
#include "../common/experiment_parts.hpp"

namespace {

using namespace vaelib;

constexpr double plot_half_width = 4.0;

/// log(exp(a) + exp(b)) elementwise, for a and b [n, 1]: [n, 1].
Var<double> log_add_exp(const Var<double>& a, const Var<double>& b) { return logsumexp(concat({a, b}, -1), -1, true); }

/// U(z) of Rezende & Mohamed's Table 1 for z [n, 2]: [n] (U2-U4 with a wall at |z1| = 4).
Var<double> energy(const std::string& target, const Var<double>& z) {
  const Var<double> z1 = slice(z, -1, 0, 1), z2 = slice(z, -1, 1, 2);
  const Var<double> w1 = sin(z1 * (2 * std::numbers::pi / 4));
  const auto gauss = [](const Var<double>& v, double scale) { return square(v / scale) * -0.5; };
  Var<double> u;
  if (target == "u1") {
    const Var<double> r = sqrt(sum(square(z), {-1}, true));
    u = square((r - 2.0) / 0.4) * 0.5 - log_add_exp(gauss(z1 - 2.0, 0.6), gauss(z1 + 2.0, 0.6));
  } else if (target == "u2") {
    u = square((z2 - w1) / 0.4) * 0.5;
  } else if (target == "u3") {
    const Var<double> w2 = exp(gauss(z1 - 1.0, 0.6)) * 3.0;
    u = -log_add_exp(gauss(z2 - w1, 0.35), gauss(z2 - w1 + w2, 0.35));
  } else {  // u4
    const Var<double> w3 = sigmoid((z1 - 1.0) / 0.3) * 3.0;
    u = -log_add_exp(gauss(z2 - w1, 0.4), gauss(z2 - w1 + w3, 0.35));
  }
  if (target != "u1") {
    // U2-U4 do not depend on z1 far out, so exp(-U) has no finite integral over the plane; a
    // soft wall outside |z1| = 4 (the plotted range) confines them and leaves them unchanged
    // inside, so that log Z, and KL(q || p), exist.
    u = u + square(relu(abs(z1) - 4.0) / 0.1) * 0.5;
  }
  const Shape& s = u.shape();
  return reshape(u, Shape(s.begin(), s.end() - 1));
}

/// n x n midpoints of [-half, half]^2, row-major with z2 along the rows (top: z2 = half).
xt::xarray<double> grid_points(std::size_t n, double half) {
  xt::xarray<double> g = xt::empty<double>({n * n, std::size_t{2}});
  const double h = 2 * half / static_cast<double>(n);
  for (std::size_t row = 0; row < n; ++row)
    for (std::size_t col = 0; col < n; ++col) {
      g(row * n + col, 0) = -half + (static_cast<double>(col) + 0.5) * h;
      g(row * n + col, 1) = half - (static_cast<double>(row) + 0.5) * h;
    }
  return g;
}

/// Two n x n density maps side by side (4 white pixels between), each scaled to its own
/// maximum, darker where denser.
io::GrayImage side_by_side(const std::vector<double>& left, const std::vector<double>& right, std::size_t n) {
  io::GrayImage image{2 * n + 4, n, std::vector<std::uint8_t>((2 * n + 4) * n, 255)};
  const auto draw = [&](const std::vector<double>& d, std::size_t x0) {
    double top = 0;
    for (double v : d) top = std::isfinite(v) ? std::max(top, v) : top;
    for (std::size_t row = 0; row < n; ++row)
      for (std::size_t col = 0; col < n; ++col) {
        const double v = top > 0 && std::isfinite(d[row * n + col]) ? d[row * n + col] / top : 0.0;
        image.pixels[row * image.width + x0 + col] = static_cast<std::uint8_t>(std::lround(255 * (1 - std::min(v, 1.0))));
      }
  };
  draw(left, 0);
  draw(right, n + 4);
  return image;
}

/// The densities of `d` at the grid points (chunked: the inverses record on the tape).
std::vector<double> density_on_grid(Tape<double>& tape, const std::function<std::unique_ptr<FlowDistribution<double>>()>& make,
                                    const xt::xarray<double>& grid) {
  std::vector<double> out(grid.shape(0));
  const std::size_t chunk = 4000;
  for (std::size_t begin = 0; begin < grid.shape(0); begin += chunk) {
    tape.clear();
    const std::size_t n = std::min(chunk, grid.shape(0) - begin);
    const xt::xarray<double> part = xt::view(grid, xt::range(begin, begin + n), xt::all());
    const auto guard = tape.no_grad();
    const xt::xarray<double> lp = make()->log_prob(tape.constant(part)).value();
    for (std::size_t i = 0; i < n; ++i) out[begin + i] = std::exp(lp(i));
  }
  return out;
}

struct Settings {
  std::size_t steps = 20000, batch_size = 256, flow_length = 32, coupling_layers = 8, grid = 200;
  double learning_rate = 1e-3;
  std::uint64_t seed = 1;
  std::string energy_flow = "planar", data_flow = "coupling";
  std::filesystem::path output = "results/flow_density";
};

/// K flows of `kind` on R^2 under scope "flow".
std::vector<FlowPtr<double>> make_flows(ParameterStore<double>& store, const std::string& kind, std::size_t k) {
  std::vector<FlowPtr<double>> flows;
  const ParameterScope<double> scope = store.scope("flow");
  for (std::size_t i = 0; i < k; ++i) {
    const std::string name = "f" + std::to_string(i);
    if (kind == "planar") flows.push_back(std::make_shared<PlanarFlow<double>>(scope, name, 2));
    else if (kind == "radial") flows.push_back(std::make_shared<RadialFlow<double>>(scope, name, 2));
    else if (kind == "iaf") flows.push_back(std::make_shared<InverseAutoregressiveFlow<double>>(scope, name, 2, InverseAutoregressiveFlowOptions<double>{.hidden = {16, 16}, .activation = Activation::tanh, .reversed = i % 2 == 1}));
    else if (kind == "spline") flows.push_back(std::make_shared<SplineCouplingFlow<double>>(scope, name, 2, SplineCouplingFlowOptions{.flip = i % 2 == 1}));
    else flows.push_back(std::make_shared<AffineCouplingFlow<double>>(scope, name, 2, AffineCouplingFlowOptions{.flip = i % 2 == 1}));
  }
  return flows;
}

std::unique_ptr<FlowDistribution<double>> standard_normal_through(Tape<double>& tape, const std::vector<FlowPtr<double>>& flows) {
  auto base = std::make_unique<Normal<double>>(Normal<double>::with_std(tape.zeros({2}), tape.full({2}, 1.0), {.group_ndims = 1}));
  return std::make_unique<FlowDistribution<double>>(std::move(base), flows);
}

/// Fits the energy `target`; prints and returns KL(q || p) in nats.
double fit_energy(const std::string& target, const Settings& s, io::MetricsLog& metrics) {
  Tape<double> tape;
  Rng rng(s.seed);
  ParameterStore<double> store(s.seed);
  const auto flows = make_flows(store, s.energy_flow, s.flow_length);
  optim::Adam<double> adam(store, {.learning_rate = s.learning_rate});
  for (std::size_t step = 0; step < s.steps; ++step) {
    tape.clear();
    const auto q = standard_normal_through(tape, flows);
    const auto draw = q->sample_with_log_prob(rng, s.batch_size);
    // annealed as in the paper's experiments: beta from 0.01 to 1 over the first half
    const double beta = std::min(1.0, 0.01 + static_cast<double>(step) / (0.5 * static_cast<double>(s.steps)));
    adam.minimize(tape, mean(draw.log_prob + energy(target, draw.value) * beta));
  }
  // log Z on [-8, 8]^2 (the energies' mass lies well inside), F by 20 000 draws
  const xt::xarray<double> wide = grid_points(800, 8.0);
  tape.clear();
  const xt::xarray<double> u = energy(target, tape.constant(wide)).value();
  const double h = 16.0 / 800;
  const double u_min = xt::amin(u)();
  const double log_z = std::log(xt::sum(xt::exp(-(u - u_min)))() * h * h) - u_min;
  double f = 0;
  for (int r = 0; r < 10; ++r) {
    tape.clear();
    const auto q = standard_normal_through(tape, flows);
    const auto draw = q->sample_with_log_prob(rng, 2000);
    f += xt::mean(draw.log_prob.value() + energy(target, draw.value).value())() / 10;
  }
  const double kl = f + log_z;
  std::printf("%s: KL(q || p) = %.4f nats (F = %.4f, log Z = %.4f; %zu %s flows, %zu steps)\n", target.c_str(), kl, f,
              log_z, s.flow_length, s.energy_flow.c_str(), s.steps);
  metrics.write({{"target", target}, {"kl", kl}, {"free_energy", f}, {"log_z", log_z}});

  const xt::xarray<double> grid = grid_points(s.grid, plot_half_width);
  tape.clear();
  const xt::xarray<double> u_grid = energy(target, tape.constant(grid)).value();
  std::vector<double> target_density(grid.shape(0));
  for (std::size_t i = 0; i < target_density.size(); ++i) target_density[i] = std::exp(-u_grid(i) - log_z);
  const auto fitted = density_on_grid(tape, [&] { return standard_normal_through(tape, flows); }, grid);
  io::save_png(s.output / (target + ".png"), side_by_side(target_density, fitted, s.grid));
  return kl;
}

/// n points of two moons or two rings (noise 0.1 before scaling), roughly within [-3, 3]^2.
xt::xarray<double> make_dataset(const std::string& name, std::size_t n, Rng& rng) {
  xt::xarray<double> x = xt::empty<double>({n, std::size_t{2}});
  std::vector<double> u(n), noise(2 * n);
  rng.fill_uniform(std::span<double>(u), 0.0, 1.0);
  rng.fill_normal(std::span<double>(noise), 0.0, 0.1);
  for (std::size_t i = 0; i < n; ++i) {
    double a, b;
    if (name == "moons") {
      const double t = std::numbers::pi * u[i];
      if (i % 2 == 0) a = std::cos(t), b = std::sin(t);
      else a = 1 - std::cos(t), b = 0.5 - std::sin(t);
      a = (a - 0.5) * 2;
      b = (b - 0.25) * 2;
    } else {  // rings: radii 1 and 2.5
      const double t = 2 * std::numbers::pi * u[i];
      const double r = i % 2 == 0 ? 1.0 : 2.5;
      a = r * std::cos(t), b = r * std::sin(t);
    }
    x(i, 0) = a + 2 * noise[2 * i];
    x(i, 1) = b + 2 * noise[2 * i + 1];
  }
  return x;
}

/// The mean log-density of a Gaussian with the sample mean and covariance of `train` at `test`.
double gaussian_mean_log_density(const xt::xarray<double>& train, const xt::xarray<double>& test) {
  const std::size_t n = train.shape(0);
  double m0 = 0, m1 = 0;
  for (std::size_t i = 0; i < n; ++i) m0 += train(i, 0) / n, m1 += train(i, 1) / n;
  double c00 = 0, c01 = 0, c11 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = train(i, 0) - m0, b = train(i, 1) - m1;
    c00 += a * a / n, c01 += a * b / n, c11 += b * b / n;
  }
  const double det = c00 * c11 - c01 * c01;
  double total = 0;
  for (std::size_t i = 0; i < test.shape(0); ++i) {
    const double a = test(i, 0) - m0, b = test(i, 1) - m1;
    const double quad = (c11 * a * a - 2 * c01 * a * b + c00 * b * b) / det;
    total += -std::log(2 * std::numbers::pi) - 0.5 * std::log(det) - 0.5 * quad;
  }
  return total / static_cast<double>(test.shape(0));
}

/// Fits the dataset `name` by maximum likelihood; prints and returns the test NLL per point.
double fit_dataset(const std::string& name, const Settings& s, io::MetricsLog& metrics) {
  Tape<double> tape;
  Rng rng(s.seed);
  ParameterStore<double> store(s.seed);
  const xt::xarray<double> train = make_dataset(name, 4000, rng), test = make_dataset(name, 4000, rng);
  // alternate couplings transform z2 given z1 and z1 given z2 (flip): in two dimensions
  // that is the permutation between them
  const auto stack = make_flows(store, s.data_flow, s.coupling_layers);
  optim::Adam<double> adam(store, {.learning_rate = s.learning_rate});
  data::BatchSampler sampler(train.shape(0), s.batch_size);
  std::vector<double> batch(s.batch_size * 2);
  std::size_t step = 0;
  while (step < s.steps) {
    sampler.shuffle(rng);
    for (std::size_t t = 0; t < sampler.batches() && step < s.steps; ++t, ++step) {
      tape.clear();
      const auto rows = sampler.batch(t);
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t j = 0; j < 2; ++j) batch[i * 2 + j] = train(rows[i], j);
      const auto q = standard_normal_through(tape, stack);
      adam.minimize(tape, -mean(q->log_prob(tape.external(batch.data(), nullptr, {rows.size(), 2}))));
    }
  }
  double mean_lp = 0;
  {
    const auto guard = tape.no_grad();
    tape.clear();
    mean_lp = xt::mean(standard_normal_through(tape, stack)->log_prob(tape.constant(test)).value())();
  }
  const double nll = -mean_lp, gaussian_nll = -gaussian_mean_log_density(train, test);
  std::printf("%s: test NLL = %.4f nats per point (a Gaussian: %.4f, worse by %.4f; %zu %s layers, %zu steps)\n",
              name.c_str(), nll, gaussian_nll, gaussian_nll - nll, s.coupling_layers, s.data_flow.c_str(), s.steps);
  metrics.write({{"target", name}, {"test_nll", nll}, {"gaussian_test_nll", gaussian_nll}});

  // the target picture: a histogram of 200 000 fresh points on the grid's cells
  const std::size_t n = s.grid;
  std::vector<double> histogram(n * n, 0.0);
  const xt::xarray<double> many = make_dataset(name, 200000, rng);
  for (std::size_t i = 0; i < many.shape(0); ++i) {
    const double col = (many(i, 0) + plot_half_width) / (2 * plot_half_width) * static_cast<double>(n);
    const double row = (plot_half_width - many(i, 1)) / (2 * plot_half_width) * static_cast<double>(n);
    if (col >= 0 && row >= 0 && col < static_cast<double>(n) && row < static_cast<double>(n))
      histogram[static_cast<std::size_t>(row) * n + static_cast<std::size_t>(col)] += 1;
  }
  const auto fitted = density_on_grid(tape, [&] { return standard_normal_through(tape, stack); }, grid_points(n, plot_half_width));
  io::save_png(s.output / (name + ".png"), side_by_side(histogram, fitted, n));
  return nll;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::vector<std::string> targets = {"u1", "u2", "u3", "u4", "moons", "rings"};
  CLI::App app{"flow_density: flows fitted to Rezende & Mohamed's four energies and to two moons and two rings."};
  app.add_option("--target", targets, "Targets to fit: u1 u2 u3 u4 (energies), moons rings (datasets)")
      ->capture_default_str()
      ->check(CLI::IsMember({"u1", "u2", "u3", "u4", "moons", "rings"}));
  app.add_option("--steps", s.steps, "Adam steps per target")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_epochs * 1000));
  app.add_option("--batch-size", s.batch_size, "Draws (energies) or points (datasets) per step")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--flow-length", s.flow_length, "K, the flows fitted to an energy")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--energy-flow", s.energy_flow, "The flows fitted to an energy: planar, radial or iaf")->capture_default_str()->check(CLI::IsMember({"planar", "radial", "iaf"}));
  app.add_option("--coupling-layers", s.coupling_layers, "The coupling layers fitted to a dataset")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(vaelib::examples::max_width));
  app.add_option("--data-flow", s.data_flow, "The layers fitted to a dataset: coupling (affine, RealNVP) or spline")->capture_default_str()->check(CLI::IsMember({"coupling", "spline"}));
  app.add_option("--lr", s.learning_rate, "Adam's learning rate")->capture_default_str()->check(vaelib::examples::above_zero);
  app.add_option("--grid", s.grid, "Pixels per side of each density picture")->capture_default_str()->check(vaelib::examples::at_least_one_up_to(4000));
  app.add_option("--seed", s.seed, "Random seed")->capture_default_str()->check(vaelib::examples::zero_or_more_up_to(UINT64_MAX));
  app.add_option("--output", s.output, "Output folder (pictures and metrics.jsonl)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return vaelib::examples::report_errors("flow_density", [&] {
    std::filesystem::create_directories(s.output);
    io::MetricsLog metrics(s.output / "metrics.jsonl");
    for (const std::string& t : targets) {
      if (t[0] == 'u') fit_energy(t, s, metrics);
      else fit_dataset(t, s, metrics);
    }
    std::printf("Pictures and metrics are in %s\n", std::filesystem::absolute(s.output).string().c_str());
    return 0;
  });
}
