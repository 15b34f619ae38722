#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "flows/flow_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

/// A planar, a radial and an IAF step on R^2 with parameters away from the identity.
std::vector<FlowPtr<double>> fd_stack(ParameterStore<double>& store, std::size_t dim = 2) {
  auto planar = std::make_shared<PlanarFlow<double>>(store.scope("q"), "f0", dim);
  auto radial = std::make_shared<RadialFlow<double>>(store.scope("q"), "f1", dim);
  auto iaf = std::make_shared<InverseAutoregressiveFlow<double>>(store.scope("q"), "f2", dim,
                                                                 InverseAutoregressiveFlowOptions<double>{.hidden = {3}});
  std::uint32_t seed = 100;
  for (const auto& p : store) flow_set(*p, random_array(p->shape, -0.9, 0.9, seed++));
  return {planar, radial, iaf};
}

/// N(mean, std^2) on the last axis of [batch, D] (group_ndims 1), pushed through `flows`.
std::unique_ptr<FlowDistribution<double>> fd_make(const Var<double>& mean, const Var<double>& std_,
                                                  std::vector<FlowPtr<double>> flows) {
  auto base = std::make_unique<Normal<double>>(Normal<double>::with_std(mean, std_, {.group_ndims = 1}));
  return std::make_unique<FlowDistribution<double>>(std::move(base), std::move(flows));
}

struct FdMeanAndError {
  double mean, standard_error;
};
FdMeanAndError fd_mean_and_error(const std::vector<double>& v) {
  double m = 0, s2 = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) s2 += (x - m) * (x - m);
  return {m, std::sqrt(s2 / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()))};
}

/// z ~ N(0, I_2), x | z ~ N(z, s^2 I_2): log p(x) = log N(x; 0, (1 + s^2) I_2).
constexpr double fd_noise = 0.6;
MetaBayesianNet<double> fd_gaussian_model(Tape<double>& tape, Rng& rng, ParameterStore<double>& store,
                                          std::size_t batch, std::size_t particles) {
  return MetaBayesianNet<double>(tape, rng, store.scope("p"), [&tape, batch, particles](BayesianNet<double>& bn) {
    const Var<double> z = bn.normal("z", tape.zeros({batch, 2}), 1.0, {.group_ndims = 1, .n_samples = particles});
    bn.normal("x", z, fd_noise, {.group_ndims = 1});
  });
}
double fd_log_marginal(const xt::xarray<double>& x) {
  const double var = 1 + fd_noise * fd_noise;
  return -std::log(2 * std::numbers::pi * var) - (x(0) * x(0) + x(1) * x(1)) / (2 * var);
}

}  // namespace

TEST_CASE("FlowDistribution: shapes, and the log-density of its own draw without inverting", "[flows]") {
  ParameterStore<double> store;
  Tape<double> tape;
  Rng rng(3);
  const auto flows = fd_stack(store);
  const auto q = fd_make(tape.constant(random_array({4, 2}, -1.0, 1.0, 1)), tape.full({4, 2}, 0.7), flows);
  CHECK(q->name() == "FlowDistribution");
  CHECK(q->batch_shape() == Shape{4});
  CHECK(q->value_shape() == Shape{2});
  CHECK(q->is_reparameterized());
  CHECK(q->flows().size() == 3);

  const auto draw = q->sample_with_log_prob(rng, 5);
  REQUIRE(draw.value.shape() == Shape{5, 4, 2});
  REQUIRE(draw.log_prob.shape() == Shape{5, 4});
  // The same draw scored from scratch, through the three inverses (a constant copy of it).
  const Var<double> copy = tape.constant(xt::xarray<double>(draw.value.value()));
  const std::size_t before = tape.size();
  const Var<double> again = q->log_prob(copy);
  CHECK(tape.size() - before > 20);  // the inverse path records the whole stack backwards
  require_close(again.value(), draw.log_prob.value(), 1e-10);
  // log_prob of the draw itself returns the kept sum: no new node
  const std::size_t before_cached = tape.size();
  const Var<double> cached = q->log_prob(draw.value);
  CHECK(tape.size() == before_cached);
  CHECK(cached.index() == draw.log_prob.index());

  // Without n_samples: [4, 2], scored as kept too (through the view without the leading axis)
  const Var<double> one = q->sample(rng);
  REQUIRE(one.shape() == Shape{4, 2});
  const Var<double> lp_one = q->log_prob(one);
  REQUIRE(lp_one.shape() == Shape{4});
  require_close(lp_one.value(), q->log_prob(tape.constant(xt::xarray<double>(one.value()))).value(), 1e-10);
}

TEST_CASE("FlowDistribution: log q(z_K) = log q_0(z_0) - sum log|det J_k|, and its density has mass 1 (D = 2)",
          "[flows]") {
  ParameterStore<double> store;
  Tape<double> tape;
  const auto flows = fd_stack(store);
  const auto q = fd_make(tape.constant(xt::xarray<double>{0.3, -0.2}), tape.constant(xt::xarray<double>{0.8, 1.3}),
                         flows);
  // by hand at one point
  const xt::xarray<double> z0 = {0.4, -1.1};
  Var<double> z = tape.constant(z0);
  double expected = -std::log(2 * std::numbers::pi * 0.8 * 1.3) - 0.5 * (std::pow((0.4 - 0.3) / 0.8, 2) +
                                                                          std::pow((-1.1 + 0.2) / 1.3, 2));
  for (const auto& f : flows) {
    const auto r = f->forward_and_log_abs_det_jacobian(z);
    expected -= r.log_abs_det_jacobian.item();
    z = r.y;
  }
  CHECK(q->log_prob(tape.constant(xt::xarray<double>(z.value()))).item() == Approx(expected).epsilon(1e-10));

  // midpoint rule on [-9, 9]^2
  const std::size_t n = 360;
  const double half = 9.0, h = 2 * half / n;
  xt::xarray<double> grid = xt::empty<double>({n * n, std::size_t{2}});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      grid(i * n + j, 0) = -half + (static_cast<double>(i) + 0.5) * h;
      grid(i * n + j, 1) = -half + (static_cast<double>(j) + 0.5) * h;
    }
  const xt::xarray<double> lp = q->log_prob(tape.constant(grid)).value();
  CHECK(xt::sum(xt::exp(lp))() * h * h == Approx(1.0).margin(2e-4));
}

TEST_CASE("FlowDistribution: log_prob with the parameters detached is the same value, differentiated in z only",
          "[flows]") {
  // The detached score against an independent one: the same flows built from a second store
  // holding a copy of the values, whose gradients are not looked at.
  ParameterStore<double> store, copy;
  Tape<double> tape;
  Rng rng(5);
  const auto flows = fd_stack(store);
  const auto flows_copy = fd_stack(copy);
  for (const auto& p : store) flow_set(copy.at(p->name), xt::adapt(p->value, p->size, xt::no_ownership(), p->shape));
  const Var<double> mean = tape.variable(xt::xarray<double>{{0.3, -0.2}, {1.0, 0.5}});
  const Var<double> std_ = tape.variable(xt::xarray<double>{{0.8, 1.3}, {0.5, 0.9}});
  const auto q = fd_make(mean, std_, flows);
  const auto q_fixed = fd_make(tape.constant(xt::xarray<double>(mean.value())),
                               tape.constant(xt::xarray<double>(std_.value())), flows_copy);
  const Var<double> z = q->sample(rng, 3);
  const Var<double> detached = q->log_prob(z, true);
  const Var<double> independent = q_fixed->log_prob(z, false);
  require_close(detached.value(), independent.value(), 1e-10);

  store.zero_grad();
  tape.backward(sum(detached));
  const xt::xarray<double> grad_mean = mean.grad(), grad_std = std_.grad();
  std::vector<std::vector<double>> grads;
  for (const auto& p : store) grads.emplace_back(p->grad, p->grad + p->size);
  store.zero_grad();
  tape.backward(sum(independent));
  require_close(mean.grad(), grad_mean, 1e-9);
  require_close(std_.grad(), grad_std, 1e-9);
  std::size_t k = 0;
  for (const auto& p : store) {
    INFO(p->name);
    require_close(xt::adapt(p->grad, p->size, xt::no_ownership(), Shape{p->size}),
                  xt::adapt(grads[k].data(), p->size, xt::no_ownership(), Shape{p->size}), 1e-9);
    ++k;
  }
}

TEST_CASE("FlowDistribution: importance sampling with a flow proposal is unbiased for p(x) (Gaussian model)",
          "[flows]") {
  ParameterStore<double> store;
  Tape<double> tape;
  Rng rng(7);
  const auto flows = fd_stack(store);
  const xt::xarray<double> x = {{0.9, -0.4}};
  const auto estimate = is_loglikelihood<double>(
      fd_gaussian_model(tape, rng, store, 1, 1), {{"x", tape.constant(x)}},
      [&](std::size_t n) {
        BayesianNet<double> q(tape, rng);
        q.stochastic("z", fd_make(tape.constant(xt::xarray<double>{{0.2, 0.1}}), tape.full({1, 2}, 0.9), flows), n);
        return q;
      },
      0, {.n_particles = 200000, .chunk_size = 5000});
  const double exact = fd_log_marginal(xt::view(x, 0, xt::all()));
  INFO("IS " << estimate.log_likelihood(0) << " +- " << estimate.standard_error(0) << ", exact " << exact);
  CHECK(std::abs(estimate.log_likelihood(0) - exact) < 4 * estimate.standard_error(0) + 1e-6);
  CHECK(estimate.standard_error(0) < 0.01);
}

TEST_CASE("FlowDistribution: in a variational BayesianNet the ELBO, IWAE (sgvb and DReG) train its flows",
          "[flows]") {
  // The DReG and sgvb estimators of the IWAE bound's gradient have the same mean: compared on
  // every flow parameter over 200 batches of 100 replicates of one data point (k = 3).
  ParameterStore<double> store;
  Tape<double> tape;
  Rng rng(11);
  const auto flows = fd_stack(store);
  const std::size_t replicates = 100, k = 3;
  const xt::xarray<double> x = xt::ones<double>({replicates, std::size_t{2}}) * xt::xarray<double>{0.9, -0.4};
  auto gradients = [&](bool dreg, std::size_t batches) {
    std::vector<std::vector<double>> per_parameter(store.size());
    for (std::size_t b = 0; b < batches; ++b) {
      tape.clear();
      store.zero_grad();
      BayesianNet<double> q(tape, rng);
      q.stochastic("z", fd_make(tape.zeros({replicates, 2}), tape.full({replicates, 2}, 0.9), flows), k);
      auto iw = iw_objective(fd_gaussian_model(tape, rng, store, replicates, k), {{"x", tape.constant(x)}}, q, 0);
      tape.backward(sum(dreg ? iw.dreg() : iw.sgvb()) / static_cast<double>(replicates));
      std::size_t i = 0;
      for (const auto& p : store) {
        for (std::size_t j = 0; j < p->size; ++j) {
          if (per_parameter[i].size() < batches * p->size) per_parameter[i].resize(batches * p->size);
          per_parameter[i][b * p->size + j] = p->grad[j];
        }
        ++i;
      }
    }
    return per_parameter;
  };
  const auto sgvb = gradients(false, 200);
  const auto dreg = gradients(true, 200);
  std::size_t i = 0, compared = 0;
  for (const auto& p : store) {
    for (std::size_t j = 0; j < p->size; ++j) {
      std::vector<double> a, b;
      for (std::size_t r = 0; r < 200; ++r) {
        a.push_back(sgvb[i][r * p->size + j]);
        b.push_back(dreg[i][r * p->size + j]);
      }
      const FdMeanAndError ea = fd_mean_and_error(a), eb = fd_mean_and_error(b);
      INFO(p->name << "[" << j << "]: sgvb " << ea.mean << " +- " << ea.standard_error << ", dreg " << eb.mean << " +- "
                   << eb.standard_error);
      CHECK(std::abs(ea.mean - eb.mean) < 4.5 * std::hypot(ea.standard_error, eb.standard_error) + 1e-9);
      ++compared;
    }
    ++i;
  }
  CHECK(compared > 20);

  // The ELBO's sgvb cost with the flow posterior lowers -ELBO over a few Adam steps.
  tape.clear();
  BayesianNet<double> q(tape, rng);
  q.stochastic("z", fd_make(tape.zeros({replicates, 2}), tape.full({replicates, 2}, 0.9), flows), 1);
  const Var<double> value = elbo(fd_gaussian_model(tape, rng, store, replicates, 1), {{"x", tape.constant(x)}}, q, 0)
                                .value();
  CHECK(value.shape() == Shape{replicates});
  CHECK(xt::all(xt::isfinite(value.value())));
  CHECK(xt::all(value.value() <= fd_log_marginal(xt::xarray<double>{0.9, -0.4}) + 8.0));
}

TEST_CASE("FlowDistribution: errors name the base, the flow and the sizes", "[flows]") {
  ParameterStore<double> store;
  Tape<double> tape;
  const auto flows = fd_stack(store);
  CHECK_THROWS_WITH(FlowDistribution<double>(nullptr, flows), "FlowDistribution: the base distribution is null");
  auto no_event = std::make_unique<Normal<double>>(Normal<double>::with_std(tape.zeros({4, 2}), tape.full({4, 2}, 1.0)));
  CHECK_THROWS_AS(FlowDistribution<double>(std::move(no_event), flows), ShapeError);
  auto no_event_again =
      std::make_unique<Normal<double>>(Normal<double>::with_std(tape.zeros({4, 2}), tape.full({4, 2}, 1.0)));
  CHECK_THROWS_WITH(FlowDistribution<double>(std::move(no_event_again), flows),
                    "FlowDistribution: the base Normal has batch_shape + value_shape [4, 2] and an event of its last 0 "
                    "axes (value_shape [], group_ndims 0); flows on R^D need an event of exactly the last axis (a "
                    "Normal of [n, D] with group_ndims = 1)");
  auto wide = std::make_unique<Normal<double>>(
      Normal<double>::with_std(tape.zeros({4, 3}), tape.full({4, 3}, 1.0), {.group_ndims = 1}));
  CHECK_THROWS_WITH(FlowDistribution<double>(std::move(wide), flows),
                    "FlowDistribution: flow 0, PlanarFlow(q/f0), acts on vectors of size 2, but the base Normal's "
                    "events have size 3");
  auto base = std::make_unique<Normal<double>>(
      Normal<double>::with_std(tape.zeros({4, 2}), tape.full({4, 2}, 1.0), {.group_ndims = 1}));
  CHECK_THROWS_WITH(FlowDistribution<double>(std::move(base), {flows[0], nullptr}),
                    "FlowDistribution: flow 1 is null");
}
