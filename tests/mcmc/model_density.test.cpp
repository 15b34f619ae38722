#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "support/gradients.hpp"
#include "vaelib/mcmc/model_density.hpp"

using namespace vaelib;

namespace {

constexpr double model_density_log_2pi = 1.8378770664093454836;

double model_density_normal_lp(double x, double mean, double sd) {
  const double z = (x - mean) / sd;
  return -0.5 * z * z - std::log(sd) - 0.5 * model_density_log_2pi;
}

// Eight schools, non-centred (posteriordb's eight_schools_noncentered).
const std::vector<double> schools_y{28, 8, -3, 7, -1, 1, 18, 12};
const std::vector<double> schools_sigma{15, 10, 16, 11, 9, 11, 10, 18};

template <class T>
void eight_schools(BayesianNet<T>& bn) {
  Tape<T>& tape = bn.tape();
  const Var<T> mu = bn.normal("mu", tape.constant(T(0)), T(5));
  const Var<T> tau = bn.template add<HalfCauchy<T>>("tau", {}, tape.constant(T(5)));
  const Var<T> theta_trans = bn.normal("theta_trans", tape.zeros({8}), T(1));
  const Var<T> theta = bn.deterministic("theta", mu + tau * theta_trans);
  xt::xarray<T> sigma = xt::adapt(std::vector<T>(schools_sigma.begin(), schools_sigma.end()), {std::size_t{8}});
  bn.normal("y", theta, tape.constant(sigma));
}

template <class T>
std::map<std::string, xt::xarray<T>, std::less<>> schools_data() {
  return {{"y", xt::adapt(std::vector<T>(schools_y.begin(), schools_y.end()), {std::size_t{8}})}};
}

// The same density by hand: u = (mu, log tau, theta_trans[8]).
double eight_schools_by_hand(const std::vector<double>& u) {
  const double mu = u[0], tau = std::exp(u[1]);
  double lp = model_density_normal_lp(mu, 0, 5);
  lp += std::log(2.0 / (std::numbers::pi * 5.0 * (1.0 + (tau / 5.0) * (tau / 5.0)))) + u[1];  // half-Cauchy + log|J| of exp
  for (std::size_t j = 0; j < 8; ++j) {
    lp += model_density_normal_lp(u[2 + j], 0, 1);
    lp += model_density_normal_lp(schools_y[j], mu + tau * u[2 + j], schools_sigma[j]);
  }
  return lp;
}

std::vector<double> model_density_point() {
  return {1.3, 0.7, -0.5, 0.2, 1.1, -1.4, 0.3, 0.9, -0.2, 0.6};
}

}  // namespace

TEST_CASE("ModelDensity: eight schools on the reals equals the density written by hand") {
  mcmc::ModelDensity<double> density(eight_schools<double>, schools_data<double>(), {.quantities = {"theta"}});
  REQUIRE(density.dimension() == 10);
  REQUIRE(density.latents().size() == 3);
  CHECK(density.latents()[0].name == "mu");
  CHECK(density.latents()[1].name == "tau");
  CHECK(density.latents()[2].name == "theta_trans");
  CHECK(density.latents()[2].offset == 2);
  CHECK(density.latents()[2].size == 8);

  const std::vector<double> u = model_density_point();
  std::vector<double> grad(10);
  const double lp = density.log_density_and_gradient(u, grad);
  CHECK(lp == Approx(eight_schools_by_hand(u)).epsilon(1e-13));
  // Each evaluation records the same nodes anew on top of the data's (the tape does not grow).
  const std::size_t nodes = density.recorded_nodes();
  CHECK(nodes > 10);
  CHECK(density.log_density(u) == Approx(lp).epsilon(1e-15));
  CHECK(density.recorded_nodes() == nodes);
  density.log_density_and_gradient(u, grad);
  CHECK(density.recorded_nodes() == nodes);

  // The gradient against central differences of the hand-written density.
  for (std::size_t i = 0; i < u.size(); ++i) {
    std::vector<double> up = u, down = u;
    const double h = 1e-5;
    up[i] += h;
    down[i] -= h;
    const double fd = (eight_schools_by_hand(up) - eight_schools_by_hand(down)) / (2 * h);
    INFO("coordinate " << i);
    CHECK(grad[i] == Approx(fd).epsilon(1e-7).margin(1e-8));
  }
}

TEST_CASE("ModelDensity: draws report the latents in natural parameters and the deterministic quantities, Stan's names") {
  mcmc::ModelDensity<double> density(eight_schools<double>, schools_data<double>(), {.quantities = {"theta"}});
  const std::vector<std::string>& names = density.quantity_names();
  REQUIRE(names.size() == 1 + 1 + 8 + 8);
  CHECK(names[0] == "mu");
  CHECK(names[1] == "tau");
  CHECK(names[2] == "theta_trans[1]");
  CHECK(names[9] == "theta_trans[8]");
  CHECK(names[10] == "theta[1]");
  CHECK(names[17] == "theta[8]");

  const std::vector<double> u = model_density_point();
  const std::vector<double> q = density.quantities(u);
  const double tau = std::exp(u[1]);
  CHECK(q[0] == Approx(u[0]));
  CHECK(q[1] == Approx(tau));
  for (std::size_t j = 0; j < 8; ++j) {
    CHECK(q[2 + j] == Approx(u[2 + j]));
    CHECK(q[10 + j] == Approx(u[0] + tau * u[2 + j]));
  }

  // unconstrain inverts the transforms: back to the same u.
  const std::vector<double> back = density.unconstrain(
      {{"mu", xt::xarray<double>(q[0])}, {"tau", xt::xarray<double>(q[1])},
       {"theta_trans", xt::adapt(std::vector<double>(q.begin() + 2, q.begin() + 10), {std::size_t{8}})}});
  for (std::size_t i = 0; i < u.size(); ++i) CHECK(back[i] == Approx(u[i]).epsilon(1e-12));
}

TEST_CASE("ModelDensity: a bound that depends on another latent (beta1 in (0, 1 - alpha1)) gets the right Jacobian") {
  // alpha ~ Uniform(0, 1), beta ~ Uniform(0, 1 - alpha): on the reals the density of
  // (u_a, u_b) is sigmoid'(u_a) * sigmoid'(u_b): the 1 / (1 - alpha) of beta's density
  // cancels the (1 - alpha) of its interval map.
  auto model = [](BayesianNet<double>& bn) {
    Tape<double>& tape = bn.tape();
    const Var<double> alpha = bn.uniform("alpha", tape.constant(0.0), tape.constant(1.0));
    bn.uniform("beta", tape.constant(0.0), 1.0 - alpha);
  };
  mcmc::ModelDensity<double> density(model, {});
  REQUIRE(density.dimension() == 2);
  auto log_sigmoid_derivative = [](double u) { return -std::log1p(std::exp(-u)) - std::log1p(std::exp(u)); };
  for (const auto& u : std::vector<std::vector<double>>{{0.0, 0.0}, {1.5, -2.0}, {-3.0, 4.0}}) {
    std::vector<double> grad(2);
    const double lp = density.log_density_and_gradient(u, grad);
    CHECK(lp == Approx(log_sigmoid_derivative(u[0]) + log_sigmoid_derivative(u[1])).epsilon(1e-12));
    CHECK(grad[0] == Approx(-std::tanh(u[0] / 2)).epsilon(1e-10).margin(1e-12));  // d/du log sigmoid'(u)
    CHECK(grad[1] == Approx(-std::tanh(u[1] / 2)).epsilon(1e-10).margin(1e-12));
    const std::vector<double> q = density.quantities(u);
    const double alpha = 1 / (1 + std::exp(-u[0]));
    CHECK(q[0] == Approx(alpha));
    CHECK(q[1] == Approx((1 - alpha) / (1 + std::exp(-u[1]))));
  }
}

TEST_CASE("ModelDensity: a simplex latent has K - 1 coordinates and reports K values summing to one") {
  auto model = [](BayesianNet<double>& bn) {
    xt::xarray<double> a = {2.0, 3.0, 4.0};
    bn.template add<Dirichlet<double>>("p", {}, bn.tape().constant(a));
  };
  mcmc::ModelDensity<double> density(model, {});
  REQUIRE(density.dimension() == 2);
  CHECK(density.quantity_names() == std::vector<std::string>{"p[1]", "p[2]", "p[3]"});
  const std::vector<double> q = density.quantities(std::vector<double>{0.3, -0.4});
  CHECK(q[0] + q[1] + q[2] == Approx(1.0).epsilon(1e-14));

  // The density on the reals integrates to 1 over R^2 (trapezoid on a wide grid).
  double total = 0;
  const double h = 0.05;
  std::vector<double> grad(2);
  for (double a = -12; a <= 12; a += h)
    for (double b = -12; b <= 12; b += h) total += std::exp(density.log_density_and_gradient(std::vector<double>{a, b}, grad));
  CHECK(total * h * h == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("ModelDensity: a float model gives the double model's density to float precision") {
  mcmc::ModelDensity<double> in_double(eight_schools<double>, schools_data<double>());
  mcmc::ModelDensity<float> in_float(eight_schools<float>, schools_data<float>());
  const std::vector<double> u = model_density_point();
  std::vector<double> g_double(10), g_float(10);
  const double lp_double = in_double.log_density_and_gradient(u, g_double);
  const double lp_float = in_float.log_density_and_gradient(u, g_float);
  CHECK(lp_float == Approx(lp_double).epsilon(1e-5));
  for (std::size_t i = 0; i < u.size(); ++i) CHECK(g_float[i] == Approx(g_double[i]).epsilon(1e-4).margin(1e-4));
}

TEST_CASE("ModelDensity: outside the model's domain the density is -inf, not an error") {
  // y ~ Normal(mu, sigma) with sigma = exp(u): u = -800 underflows sigma to 0.
  auto model = [](BayesianNet<double>& bn) {
    const Var<double> sigma = bn.template add<HalfNormal<double>>("sigma", {}, bn.tape().constant(1.0));
    bn.normal("y", bn.tape().constant(0.0), sigma);
  };
  mcmc::ModelDensity<double> density(model, {{"y", xt::xarray<double>(1.0)}});
  std::vector<double> grad(1);
  const double lp = density.log_density_and_gradient(std::vector<double>{-800.0}, grad);
  CHECK(lp == -std::numeric_limits<double>::infinity());
  CHECK(grad[0] == 0.0);
  CHECK_THAT(density.last_rejection(), Catch::Contains("Normal: std must be positive"));
  CHECK(density.log_density(std::vector<double>{-800.0}) == -std::numeric_limits<double>::infinity());
  // Back inside: finite again.
  CHECK(std::isfinite(density.log_density_and_gradient(std::vector<double>{0.0}, grad)));
}

TEST_CASE("ModelDensity: initial points are uniform in (-radius, radius) and reproducible") {
  mcmc::ModelDensity<double> density(eight_schools<double>, schools_data<double>());
  Rng a(7), b(7);
  const std::vector<double> u = density.initial_point(a);
  CHECK(u == density.initial_point(b));
  for (double x : u) CHECK((x > -2 && x < 2));
  CHECK_THROWS_WITH(density.initial_point(a, -1.0), Catch::Contains("radius"));
}

TEST_CASE("ModelDensity: bad input is refused with a message naming it") {
  mcmc::ModelDensity<double> density(eight_schools<double>, schools_data<double>(), {.quantities = {"thetta"}});
  std::vector<double> grad(10);
  CHECK_THROWS_WITH(density.log_density_and_gradient(std::vector<double>(3, 0.0), grad),
                    Catch::Contains("3 coordinates") && Catch::Contains("dimension is 10"));
  CHECK_THROWS_WITH(density.quantity_names(), Catch::Contains("'thetta' names no node"));
  CHECK_THROWS_WITH(density.unconstrain({{"mu", xt::xarray<double>(0.0)}}), Catch::Contains("'tau'"));

  // Every stochastic node observed: nothing to sample.
  auto observed_only = [](BayesianNet<double>& bn) { bn.normal("y", bn.tape().constant(0.0), 1.0); };
  CHECK_THROWS_WITH(mcmc::ModelDensity<double>(observed_only, {{"y", xt::xarray<double>(0.5)}}),
                    Catch::Contains("no continuous latent"));
  // A discrete latent cannot be moved on the reals.
  auto discrete = [](BayesianNet<double>& bn) { bn.poisson("k", bn.tape().constant(3.0)); };
  CHECK_THROWS_WITH(mcmc::ModelDensity<double>(discrete, {}), Catch::Contains("'k'") && Catch::Contains("discrete"));
  // A typo in the data's names.
  auto one_latent = [](BayesianNet<double>& bn) {
    const Var<double> mu = bn.normal("mu", bn.tape().constant(0.0), 1.0);
    bn.normal("y", mu, 1.0);
  };
  CHECK_THROWS_WITH(mcmc::ModelDensity<double>(one_latent, {{"yy", xt::xarray<double>(0.5)}}),
                    Catch::Contains("'yy' names no stochastic node"));
  // A model whose latents change from one call to the next.
  int calls = 0;
  auto unstable = [&calls](BayesianNet<double>& bn) {
    bn.normal(++calls == 1 ? "a" : "b", bn.tape().constant(0.0), 1.0);
  };
  mcmc::ModelDensity<double> changing(unstable, {});
  CHECK_THROWS_WITH(changing.log_density(std::vector<double>{0.0}), Catch::Contains("same latents in the same order"));
}
