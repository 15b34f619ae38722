#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/mcmc.hpp"

using namespace vaelib;
using vaelib::mcmc::WarmupSchedule;
using vaelib::mcmc::WindowedAdaptation;

TEST_CASE("windowed_adaptation: warm-up 1000 is 75 | 25, 50, 100, 200, 500 | 50", "[mcmc][windowed_adaptation]") {
  const WarmupSchedule s = WarmupSchedule::make(1000);
  CHECK(s.num_warmup == 1000);
  CHECK(s.init_buffer == 75);
  CHECK(s.term_buffer == 50);
  CHECK(s.window_ends == std::vector<std::size_t>{100, 150, 250, 450, 950});
  CHECK(WarmupSchedule::make(2000).window_ends == std::vector<std::size_t>{100, 150, 250, 450, 850, 1950});
  CHECK(WarmupSchedule::make(200).window_ends == std::vector<std::size_t>{100, 150});
  CHECK(WarmupSchedule::make(150).window_ends == std::vector<std::size_t>{100});
  // Other buffers: 50 | 100, 300 | 50 (a window of 400 would not fit).
  const WarmupSchedule custom = WarmupSchedule::make(500, 50, 50, 100);
  CHECK(custom.window_ends == std::vector<std::size_t>{150, 450});
}

TEST_CASE("windowed_adaptation: short warm-ups shrink to 15% | 75% | 10%, and under 20 adapt no metric",
          "[mcmc][windowed_adaptation]") {
  const WarmupSchedule hundred = WarmupSchedule::make(100);
  CHECK(hundred.init_buffer == 15);
  CHECK(hundred.term_buffer == 10);
  CHECK(hundred.window_ends == std::vector<std::size_t>{90});
  const WarmupSchedule s149 = WarmupSchedule::make(149);
  CHECK(s149.init_buffer == 22);
  CHECK(s149.term_buffer == 14);
  CHECK(s149.window_ends == std::vector<std::size_t>{135});
  const WarmupSchedule twenty = WarmupSchedule::make(20);
  CHECK(twenty.init_buffer == 3);
  CHECK(twenty.term_buffer == 2);
  CHECK(twenty.window_ends == std::vector<std::size_t>{18});
  const WarmupSchedule nineteen = WarmupSchedule::make(19);
  CHECK(nineteen.window_ends.empty());
  CHECK(WarmupSchedule::make(0).window_ends.empty());
  // Stan would end warm-up 151 with a one-draw window [100, 101); here the first window takes it.
  CHECK(WarmupSchedule::make(151).window_ends == std::vector<std::size_t>{101});
  CHECK_THROWS_WITH(WarmupSchedule::make(100, 10, 10, 0), "WarmupSchedule: base_window = 0; it must be >= 1");
}

TEST_CASE("windowed_adaptation: at a window's end the metric is the regularised variance of the window's positions",
          "[mcmc][windowed_adaptation]") {
  auto density = testing::McmcIndependentGaussian::standard(2);
  for (const bool dense : {false, true}) {
    INFO((dense ? "dense" : "diagonal"));
    // Warm-up 100: positions of iterations 15 .. 89 make the one window.
    WindowedAdaptation adaptation(100);
    mcmc::Metric metric = dense ? mcmc::Metric::dense_unit(2) : mcmc::Metric();
    mcmc::ChainState state = mcmc::make_chain_state(density, {0.0, 0.0});
    Rng rng(9), positions(10);
    double step_size = 1.0;
    adaptation.start(density, state, metric, step_size, rng);
    CHECK(metric.dimension() == 2);
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < 100; ++i) {
      const double x = 3 * positions.normal<double>(), y = 0.5 * x + 0.2 * positions.normal<double>();
      state = mcmc::make_chain_state(density, {x, y});
      if (i >= 15 && i < 90) {
        xs.push_back(x);
        ys.push_back(y);
      }
      const bool changed = adaptation.learn(density, state, {.accept_stat = 0.8}, metric, step_size, rng);
      REQUIRE(changed == (i == 89));
      REQUIRE(adaptation.iteration() == i + 1);
    }
    CHECK(adaptation.finished());
    const double n = 75, shrink = n / (n + 5), ridge = 1e-3 * 5 / (n + 5);
    const double mx = testing::mcmc_mean(xs), my = testing::mcmc_mean(ys);
    double cxy = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) cxy += (xs[k] - mx) * (ys[k] - my);
    cxy /= n - 1;
    const auto m = metric.inverse_mass();
    if (!dense) {
      REQUIRE(m.size() == 2);
      CHECK(m[0] == Approx(shrink * testing::mcmc_variance(xs) + ridge).epsilon(1e-12));
      CHECK(m[1] == Approx(shrink * testing::mcmc_variance(ys) + ridge).epsilon(1e-12));
    } else {
      REQUIRE(m.size() == 4);
      CHECK(m[0] == Approx(shrink * testing::mcmc_variance(xs) + ridge).epsilon(1e-12));
      CHECK(m[3] == Approx(shrink * testing::mcmc_variance(ys) + ridge).epsilon(1e-12));
      CHECK(m[1] == Approx(shrink * cxy).epsilon(1e-12));
      CHECK(m[2] == m[1]);
    }
    // After the last iteration the step size is dual averaging's average.
    CHECK(step_size == adaptation.dual_averaging().final_step_size());
    CHECK_THROWS_WITH(adaptation.learn(density, state, {}, metric, step_size, rng),
                      "WindowedAdaptation::learn: called after the 100 warm-up iterations");
  }
}

TEST_CASE("windowed_adaptation: the step size follows dual averaging and restarts at window ends",
          "[mcmc][windowed_adaptation]") {
  auto density = testing::McmcIndependentGaussian::standard(1);
  WindowedAdaptation adaptation(1000);
  mcmc::Metric metric;
  mcmc::ChainState state = mcmc::make_chain_state(density, {0.1});
  Rng rng(3), positions(4);
  double step_size = 1e-4;
  adaptation.start(density, state, metric, step_size, rng);
  CHECK(step_size > 0.1);  // the heuristic moved it from 1e-4
  std::size_t changes = 0;
  for (std::size_t i = 0; i < 1000; ++i) {
    state = mcmc::make_chain_state(density, {positions.normal<double>()});
    const double before = step_size;
    if (adaptation.learn(density, state, {.accept_stat = 0.9}, metric, step_size, rng)) {
      ++changes;
      CHECK(adaptation.dual_averaging().iterations() == 0);  // restarted
    } else if (i + 1 < 1000) {
      CHECK(adaptation.dual_averaging().iterations() > 0);
      // An acceptance above the target makes steps grow.
      if (adaptation.dual_averaging().iterations() > 1) CHECK(step_size >= before * 0.999);
    }
  }
  CHECK(changes == 5);
  CHECK(metric.inverse_mass()[0] == Approx(1.0).epsilon(0.2));
}

TEST_CASE("windowed_adaptation: turning parts off, and misuse", "[mcmc][windowed_adaptation]") {
  auto density = testing::McmcIndependentGaussian::standard(1);
  mcmc::ChainState state = mcmc::make_chain_state(density, {0.1});
  Rng rng(1);
  {
    WindowedAdaptation adaptation(200, {.adapt_step_size = false});
    mcmc::Metric metric;
    double step_size = 0.25;
    adaptation.start(density, state, metric, step_size, rng);
    for (int i = 0; i < 200; ++i) adaptation.learn(density, state, {.accept_stat = 0.1}, metric, step_size, rng);
    CHECK(step_size == 0.25);
  }
  {
    WindowedAdaptation adaptation(200, {.adapt_metric = false});
    CHECK(adaptation.schedule().window_ends.empty());
    mcmc::Metric metric = mcmc::Metric::diagonal({4.0});
    double step_size = 0.25;
    adaptation.start(density, state, metric, step_size, rng);
    for (int i = 0; i < 200; ++i) adaptation.learn(density, state, {.accept_stat = 0.8}, metric, step_size, rng);
    CHECK(metric.inverse_mass()[0] == 4.0);
  }
  WindowedAdaptation adaptation(100);
  mcmc::Metric metric;
  double step_size = 0.5;
  CHECK_THROWS_WITH(adaptation.learn(density, state, {}, metric, step_size, rng),
                    "WindowedAdaptation::learn: call start() before the first warm-up transition");
  adaptation.start(density, state, metric, step_size, rng);
  mcmc::Metric dense = mcmc::Metric::dense_unit(1);
  CHECK_THROWS_WITH(adaptation.learn(density, state, {}, dense, step_size, rng),
                    "WindowedAdaptation::learn: the metric is dense of dimension 1 but start() was given a diagonal "
                    "one of dimension 1");
  mcmc::Metric wrong = mcmc::Metric::unit(2);
  CHECK_THROWS_WITH(adaptation.start(density, state, wrong, step_size, rng),
                    "WindowedAdaptation::start: the metric has dimension 2 but the log density has dimension 1");
}
