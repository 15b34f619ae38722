#include "vaelib/autodiff/ops/dropout.hpp"

#include "support/gradients.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("dropout: p = 0 and evaluation are the identity and draw nothing", "[ops][dropout]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({3, 4}, -2, 2, 1));
  Rng rng(7);
  const RngState before = rng.state();
  const auto y0 = dropout(x, 0.0, rng);
  CHECK(y0.index() == x.index());
  const auto ye = dropout(x, 0.5, rng, false);
  CHECK(ye.index() == x.index());
  CHECK(rng.state() == before);
  tape.backward(sum(mul(ye, y0)));
  require_close(x.grad(), xt::xarray<double>(2.0 * x.value()));
}

TEST_CASE("dropout: keep rate, scaling and E[y] = x", "[ops][dropout]") {
  Tape<double> tape;
  Rng rng(11);
  for (const double p : {0.1, 0.3, 0.5, 0.9}) {
    INFO("p " << p);
    tape.clear();
    const std::size_t n = 200000;
    const auto y = dropout(tape.constant(xt::xarray<double>(xt::ones<double>({n}))), p, rng);
    CHECK(std::string(y.op()) == "dropout");
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = y.data()[i];
      if (v != 0) {
        REQUIRE(v == 1 / (1 - p));  // every kept value scaled by exactly 1 / (1 - p)
        ++kept;
      }
    }
    const double rate = static_cast<double>(kept) / n, sd = std::sqrt(p * (1 - p) / n);
    CHECK(std::abs(rate - (1 - p)) < 5 * sd);
    CHECK(std::abs(xt::mean(y.value())() - 1) < 5 * sd / (1 - p));
  }
  // per element, the average over many masks approaches x
  const auto xa = random_array({20}, -2, 2, 3);
  const std::size_t reps = 4000;
  const double p = 0.3;
  xt::xarray<double> total = xt::zeros<double>({20});
  for (std::size_t r = 0; r < reps; ++r) {
    tape.clear();
    total += dropout(tape.constant(xa), p, rng).value();
  }
  const xt::xarray<double> average = total / static_cast<double>(reps);
  for (std::size_t i = 0; i < 20; ++i) {
    const double sd = std::abs(xa(i)) * std::sqrt(p / (1 - p) / reps);
    CHECK(std::abs(average(i) - xa(i)) < 5 * sd + 1e-12);
  }
}

TEST_CASE("dropout: the backward uses the forward's mask", "[ops][dropout]") {
  Tape<double> tape;
  Rng rng(5);
  const auto xa = random_array({4, 50}, 0.5, 2, 4);  // nonzero: y reveals the mask
  const auto r = random_array({4, 50}, -1, 1, 5);
  const auto x = tape.variable(xa);
  const auto y = dropout(x, 0.4, rng);
  // other draws between forward and backward do not change the mask
  for (int i = 0; i < 10; ++i) rng.next_u32();
  tape.backward(sum(mul(y, tape.constant(r))));
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < xa.size(); ++i) {
    const double mask = y.value().data()[i] / xa.data()[i];
    CHECK(std::abs(x.grad().data()[i] - r.data()[i] * mask) < 1e-15);
    dropped += y.value().data()[i] == 0 ? 1 : 0;
  }
  CHECK(dropped > 40);
  CHECK(dropped < 120);
  // finite differences: a fixed seed per evaluation gives the same mask every time
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng local(99);
        return dropout(mul(v[0], v[0]), 0.5, local);
      },
      {random_array({3, 7}, -2, 2, 6)});
  // x read twice: dropout's gradient accumulates onto mul's
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        Rng local(98);
        return mul(dropout(v[0], 0.25, local), v[0]);
      },
      {random_array({5, 4}, -2, 2, 7)});
}

TEST_CASE("dropout: deterministic for a seed, the same mask in float and double, steady state", "[ops][dropout]") {
  const auto xa = random_array({6, 33}, -2, 2, 8);
  const auto draw = [&](std::uint64_t seed) {
    Tape<double> tape;
    Rng rng(seed);
    return xt::xarray<double>(dropout(tape.constant(xa), 0.5, rng).value());
  };
  CHECK((draw(1) == draw(1)));
  CHECK(!(draw(1) == draw(2)));
  // x.size() words drawn, in next_u32 order: the rng ends where skip(size) leaves a copy
  Tape<float> tf;
  Tape<double> td;
  Rng rf(3), rd(3), expected(3);
  expected.skip(xa.size());
  const auto yf = dropout(tf.constant(xt::xarray<float>(xa)), 0.3, rf);
  const auto yd = dropout(td.constant(xa), 0.3, rd);
  CHECK(rf.state() == expected.state());
  CHECK(rd.state() == expected.state());
  Rng words(3);
  const auto threshold = static_cast<std::uint32_t>(0.3 * 4294967296.0);
  for (std::size_t i = 0; i < xa.size(); ++i) {
    const bool keep = words.next_u32() >= threshold;
    REQUIRE((yf.data()[i] != 0) == keep);
    REQUIRE((yd.data()[i] != 0) == keep);
    REQUIRE(std::abs(yf.data()[i] - yd.data()[i]) <= 1e-6 * (1 + std::abs(yd.data()[i])));
  }
  // steady state: the node's mask and words stay where they were
  Tape<double> tape;
  Rng rng(4);
  const double* mask = nullptr;
  for (int step = 0; step < 3; ++step) {
    tape.clear();
    const auto x = tape.variable(xa);
    const auto y = dropout(x, 0.2, rng);
    tape.backward(sum(y));
    if (step > 0) CHECK(tape.node(y).scratch.data() == mask);
    mask = tape.node(y).scratch.data();
    require_close(x.grad(), xt::xarray<double>(xt::where(xt::equal(y.value(), 0.0), 0.0, 1.25)));
  }
}

TEST_CASE("dropout: errors", "[ops][dropout]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2, 3}));
  Rng rng(1);
  REQUIRE_THROWS_AS(dropout(x, 1.0, rng), ArgumentError);
  REQUIRE_THROWS_WITH(dropout(x, 1.0, rng), "dropout: expected a drop probability p in [0, 1); got 1");
  REQUIRE_THROWS_WITH(dropout(x, -0.25, rng), "dropout: expected a drop probability p in [0, 1); got -0.25");
  REQUIRE_THROWS_WITH(dropout(x, std::numeric_limits<double>::quiet_NaN(), rng),
                      "dropout: expected a drop probability p in [0, 1); got nan");
  // checked in evaluation too
  REQUIRE_THROWS_WITH(dropout(x, 1.5, rng, false), "dropout: expected a drop probability p in [0, 1); got 1.5");
  REQUIRE_NOTHROW(dropout(x, 0.999, rng));
}
