#include "support/gradients.hpp"

#include <cmath>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("schedule: constant_schedule", "[schedule]") {
  const optim::Schedule s = optim::constant_schedule(0.25);
  for (std::uint64_t step : {0U, 1U, 10U, 1000000U}) CHECK(s(step) == 0.25);
}

TEST_CASE("schedule: step_schedule multiplies by gamma every `every` steps", "[schedule]") {
  const optim::Schedule s = optim::step_schedule(0.1, 0.5, 3);
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
  for (std::size_t step = 0; step < expected.size(); ++step) {
    INFO("step " << step);
    CHECK(s(step) == Approx(expected[step]).epsilon(1e-15));
  }
  CHECK(s(30) == Approx(0.1 * std::pow(0.5, 10)).epsilon(1e-15));
  const optim::Schedule every_step = optim::step_schedule(1.0, 0.9, 1);
  CHECK(every_step(0) == 1.0);
  CHECK(every_step(2) == Approx(0.81).epsilon(1e-15));
}

TEST_CASE("schedule: exponential_schedule, continuous and staircase", "[schedule]") {
  const optim::Schedule smooth = optim::exponential_schedule(0.1, 0.5, 4);
  CHECK(smooth(0) == 0.1);
  CHECK(smooth(1) == Approx(0.1 * std::pow(0.5, 0.25)).epsilon(1e-15));
  CHECK(smooth(2) == Approx(0.1 * std::sqrt(0.5)).epsilon(1e-15));
  CHECK(smooth(4) == Approx(0.05).epsilon(1e-15));
  CHECK(smooth(6) == Approx(0.1 * std::pow(0.5, 1.5)).epsilon(1e-15));
  CHECK(smooth(12) == Approx(0.0125).epsilon(1e-15));
  const optim::Schedule stairs = optim::exponential_schedule(0.1, 0.5, 4, true);
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025};
  for (std::size_t step = 0; step < expected.size(); ++step) {
    INFO("step " << step);
    CHECK(stairs(step) == Approx(expected[step]).epsilon(1e-15));
  }
  // Staircase and continuous agree on multiples of decay_steps.
  for (std::uint64_t step : {0U, 4U, 8U, 40U}) CHECK(stairs(step) == Approx(smooth(step)).epsilon(1e-15));
}

TEST_CASE("schedule: bad arguments throw ArgumentError", "[schedule]") {
  REQUIRE_THROWS_AS(optim::step_schedule(0.1, 0.5, 0), ArgumentError);
  REQUIRE_THROWS_WITH(optim::step_schedule(0.1, 0.5, 0), "step_schedule: 'every' must be at least 1 step");
  REQUIRE_THROWS_AS(optim::exponential_schedule(0.1, 0.5, 0), ArgumentError);
  REQUIRE_THROWS_WITH(optim::exponential_schedule(0.1, 0.5, 0, true),
                      "exponential_schedule: 'decay_steps' must be at least 1");
}

TEST_CASE("schedule: an optimiser uses schedule(step) at each step", "[schedule]") {
  // Plain SGD on f(p) = 0.5 a p^2: p_{t+1} = p_t (1 - lr_t a) with lr_t = schedule(t).
  const optim::Schedule schedule = optim::step_schedule(0.2, 0.5, 2);
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{2}, std::vector<double>{1.0, -3.0});
  const double a[] = {1.0, 2.0};
  optim::SgdOptions options;
  options.learning_rate = 5.0;  // ignored: the schedule wins
  options.schedule = schedule;
  optim::SGD<double> sgd(store, options);
  double expected[] = {1.0, -3.0};
  const double rates[] = {0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.025};
  for (std::size_t t = 0; t < 7; ++t) {
    INFO("step " << t);
    CHECK(sgd.learning_rate() == Approx(rates[t]).epsilon(1e-15));
    CHECK(sgd.learning_rate() == schedule(sgd.steps()));
    for (std::size_t i = 0; i < 2; ++i) p.grad[i] = a[i] * p.value[i];
    sgd.step();
    for (std::size_t i = 0; i < 2; ++i) {
      expected[i] *= 1 - rates[t] * a[i];
      CHECK(p.value[i] == Approx(expected[i]).epsilon(1e-14));
    }
  }
  // Any callable works; set_steps moves along the schedule.
  options.schedule = [](std::uint64_t step) { return 1.0 / static_cast<double>(step + 1); };
  optim::SGD<double> harmonic(store, options);
  CHECK(harmonic.learning_rate() == 1.0);
  harmonic.set_steps(3);
  CHECK(harmonic.learning_rate() == 0.25);
  const double before = p.value[0];
  p.grad[0] = 2.0;
  p.grad[1] = 0.0;
  harmonic.step();
  CHECK(p.value[0] == Approx(before - 0.25 * 2.0).epsilon(1e-15));
  CHECK(harmonic.learning_rate() == 0.2);
}
