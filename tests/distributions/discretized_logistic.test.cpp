#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "vaelib/distributions/discretized_logistic.hpp"

#include <cmath>
#include <limits>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Message;

namespace {

/// The bin's mass computed directly, in long double: the edge bins' tails, else the difference
/// of the two CDFs (taken on the side of the mean where it does not cancel: 1 - F on the right).
long double dlogistic_direct_prob(long double x, long double mean, long double log_scale) {
  const long double s = std::exp(log_scale), h = 1.0L / 255.0L;
  auto cdf = [&](long double edge) { return 1.0L / (1.0L + std::exp(-(edge - mean) / s)); };
  auto sf = [&](long double edge) { return 1.0L / (1.0L + std::exp((edge - mean) / s)); };
  if (x < -1.0L + h) return cdf(x + h);
  if (x > 1.0L - h) return sf(x - h);
  return x > mean ? sf(x - h) - sf(x + h) : cdf(x + h) - cdf(x - h);
}

/// log P of every grid point (bytes 0..255) for one (mean, log_scale).
template <class T>
std::vector<double> dlogistic_bin_log_probs(T mean, T log_scale) {
  Tape<T> tape;
  xt::xarray<T> grid = xt::empty<T>({std::size_t{256}});
  for (int k = 0; k < 256; ++k) grid(k) = DiscretizedLogistic<T>::value_of_byte(k);
  const auto lp = DiscretizedLogistic<T>(tape.constant(mean), tape.constant(log_scale)).log_prob(tape.constant(grid));
  return std::vector<double>(lp.data(), lp.data() + lp.size());
}

}  // namespace

TEST_CASE("DiscretizedLogistic: log_prob against a direct computation in long double", "[distributions]") {
  const std::vector<double> means{-1.2, -0.7, -0.01, 0.0, 0.33, 0.9, 1.0};
  const std::vector<double> log_scales{-6.0, -4.5, -3.0, -1.0, 0.5, 2.0};
  std::size_t checked = 0;
  for (double m : means)
    for (double ls : log_scales) {
      const std::vector<double> lp = dlogistic_bin_log_probs<double>(m, ls);
      const std::vector<double> lpf = dlogistic_bin_log_probs<float>(static_cast<float>(m), static_cast<float>(ls));
      for (int k = 0; k < 256; ++k) {
        const long double x = 2.0L * k / 255.0L - 1.0L;
        const long double p = dlogistic_direct_prob(x, m, ls);
        if (!(p > 1e-4000L)) continue;  // long double underflow: the direct form has nothing to say
        const double expected = static_cast<double>(std::log(p));
        INFO("mean " << m << ", log_scale " << ls << ", byte " << k);
        CHECK(lp[static_cast<std::size_t>(k)] == Approx(expected).epsilon(1e-12).margin(1e-12));
        // float: its own rounding of x, mean and log_scale, scaled by the steepness 1 / s
        CHECK(lpf[static_cast<std::size_t>(k)] ==
              Approx(expected).epsilon(2e-5).margin(2e-5 * (1 + std::abs(expected)) * std::exp(-ls)));
        ++checked;
      }
    }
  CHECK(checked == means.size() * log_scales.size() * 256);
  // a wide logistic (s = 2.4e6): each interior bin is a sliver (the midpoint expansion), the
  // direct difference of long double CDFs keeps ~9 digits there
  const std::vector<double> wide = dlogistic_bin_log_probs<double>(0.2, 14.7);
  for (int k : {0, 1, 100, 128, 254, 255}) {
    const long double x = 2.0L * k / 255.0L - 1.0L;
    INFO("byte " << k);
    CHECK(wide[static_cast<std::size_t>(k)] ==
          Approx(static_cast<double>(std::log(dlogistic_direct_prob(x, 0.2L, 14.7L)))).epsilon(1e-8));
  }
  // the edge bins by hand: P(x = -1) = sigmoid((-1 + 1/255 - m) / s), P(x = 1) = 1 - sigmoid((1 - 1/255 - m) / s)
  Tape<double> tape;
  const DiscretizedLogistic<double> d(tape.constant(xt::xarray<double>{0.1, -0.4}), tape.constant(xt::xarray<double>{-1.0, 0.0}));
  const auto edges = d.log_prob(tape.constant(xt::xarray<double>{-1.0, 1.0}));
  CHECK(edges.data()[0] == Approx(-std::log1p(std::exp(-(-1 + 1 / 255.0 - 0.1) / std::exp(-1.0)))).epsilon(1e-14));
  CHECK(edges.data()[1] == Approx(-std::log1p(std::exp(1 - 1 / 255.0 + 0.4))).epsilon(1e-14));
  CHECK(d.name() == "DiscretizedLogistic");
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{});
}

TEST_CASE("DiscretizedLogistic: far tails stay finite and exact", "[distributions]") {
  // mean 1, s = e^-7: byte 0's bin is 2000 scales away, its mass e^-2000 (no double holds it)
  const std::vector<double> lp = dlogistic_bin_log_probs<double>(1.0, -7.0);
  const double s = std::exp(-7.0), h = 1 / 255.0;
  for (int k : {0, 1, 50, 200}) {
    const double x = 2.0 * k / 255.0 - 1.0;
    // log(sigmoid(a) - sigmoid(b)) -> a + log(1 - exp(-(a - b))) for a, b -> -inf
    const double a = (x + h - 1.0) / s, b = (x - h - 1.0) / s;
    const double expected = k == 0 ? a : a + std::log1p(-std::exp(b - a));
    INFO("byte " << k);
    CHECK(std::isfinite(lp[static_cast<std::size_t>(k)]));
    CHECK(lp[static_cast<std::size_t>(k)] == Approx(expected).epsilon(1e-12));
  }
  // float: the same, without -inf
  const std::vector<double> lpf = dlogistic_bin_log_probs<float>(1.0f, -7.0f);
  for (double v : lpf) CHECK(std::isfinite(v));
}

TEST_CASE("DiscretizedLogistic: the 256 bin probabilities sum to 1", "[distributions]") {
  for (double m : {-3.0, -1.0, -0.5, 0.0, 0.004, 0.77, 1.0, 2.5, 40.0})
    for (double ls : {-15.0, -9.0, -5.0, -2.0, 0.0, 3.0, 8.0, 14.0, 30.0}) {
      INFO("mean " << m << ", log_scale " << ls);
      long double total = 0;
      for (double v : dlogistic_bin_log_probs<double>(m, ls)) total += std::exp(static_cast<long double>(v));
      CHECK(static_cast<double>(total) == Approx(1.0).margin(1e-13));
      double total_float = 0;
      for (double v : dlogistic_bin_log_probs<float>(static_cast<float>(m), static_cast<float>(ls))) total_float += std::exp(v);
      CHECK(total_float == Approx(1.0).margin(2e-5));
    }
}

TEST_CASE("DiscretizedLogistic: log_prob has finite-difference gradients", "[distributions]") {
  const auto grad_of = [](xt::xarray<double> given, std::size_t group) {
    return [given, group](Tape<double>& tape, const Vars& v) {
      return DiscretizedLogistic<double>(v[0], v[1], {.group_ndims = group}).log_prob(tape.constant(given));
    };
  };
  xt::xarray<double> grid = xt::empty<double>({std::size_t{2}, std::size_t{4}});
  const int bytes[8] = {0, 3, 90, 128, 129, 200, 254, 255};
  for (std::size_t i = 0; i < 8; ++i) grid.data()[i] = DiscretizedLogistic<double>::value_of_byte(bytes[i]);
  // ordinary scales, the edge bins included
  require_gradient(grad_of(grid, 0), {random_array({2, 4}, -1, 1, 31), random_array({2, 4}, -4, 0.5, 32)});
  require_gradient(grad_of(grid, 2), {random_array({4}, -1, 1, 33), random_array({2, 1}, -3, 0, 34)});
  // tails: the values 20 to 60 scales from the mean
  require_gradient(grad_of(grid, 0), {xt::xarray<double>{{1.0, 1.0, -1.0, -1.0}, {1.0, 1.0, -1.0, 1.0}},
                                      xt::xarray<double>{{-4.0, -4.5, -4.0, -5.0}, {-3.5, -4.0, -4.0, -4.0}}},
                   {.relative_tolerance = 1e-4});
  // a wide logistic: the midpoint expansion
  require_gradient(grad_of(grid, 0), {random_array({2, 4}, -1, 1, 35), random_array({2, 4}, 19, 22, 36)});
  Tape<double> tape;
  CHECK_FALSE(DiscretizedLogistic<double>(tape.variable(xt::xarray<double>{0.1}), tape.variable(xt::xarray<double>{-1.0}),
                                          {.use_path_derivative = true})
                  .log_prob(tape.constant(grid))
                  .requires_grad());
}

TEST_CASE("DiscretizedLogistic: samples fall on the grid with the bins' probabilities", "[distributions]") {
  Tape<double> tape;
  const xt::xarray<double> means{-0.95, 0.1, 0.6};
  const xt::xarray<double> log_scales{-3.0, -1.5, -5.5};
  const DiscretizedLogistic<double> d(tape.constant(means), tape.constant(log_scales));
  Rng rng(2024);
  const std::size_t n = 40000;
  const auto s = d.sample(rng, n);
  REQUIRE(s.shape() == Shape{n, 3});
  CHECK_FALSE(s.requires_grad());
  for (std::size_t j = 0; j < 3; ++j) {
    std::vector<double> counts(256, 0.0);
    bool on_grid = true;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = s.data()[i * 3 + j];
      const long k = std::lround((v + 1) * 127.5);
      on_grid = on_grid && k >= 0 && k <= 255 && v == DiscretizedLogistic<double>::value_of_byte(static_cast<int>(k));
      if (k >= 0 && k <= 255) counts[static_cast<std::size_t>(k)] += 1;
    }
    CHECK(on_grid);
    const std::vector<double> lp = dlogistic_bin_log_probs<double>(means(j), log_scales(j));
    // every bin within 5 standard deviations of n p (plus one count for the smallest bins)
    double worst = 0;
    for (std::size_t k = 0; k < 256; ++k) {
      const double p = std::exp(lp[k]);
      worst = std::max(worst, std::abs(counts[k] - n * p) / (5 * std::sqrt(n * p * (1 - p)) + 1));
    }
    INFO("batch element " << j);
    CHECK(worst <= 1.0);
  }
  // the left edge bin takes the tail below: mean -0.95 with s = e^-3 puts ~19% of draws at -1
  double at_minus_one = 0;
  for (std::size_t i = 0; i < n; ++i) at_minus_one += s.data()[i * 3] == -1.0;
  CHECK(at_minus_one / n == Approx(std::exp(dlogistic_bin_log_probs<double>(-0.95, -3.0)[0])).margin(0.01));
  // float draws: on the float grid
  Tape<float> float_tape;
  Rng frng(5);
  const auto sf = DiscretizedLogistic<float>(float_tape.constant(0.3f), float_tape.constant(-2.0f)).sample(frng, 100);
  for (std::size_t i = 0; i < 100; ++i) {
    const float v = sf.data()[i];
    CHECK(v == DiscretizedLogistic<float>::value_of_byte(static_cast<int>(std::lround((v + 1) * 127.5f))));
  }
}

TEST_CASE("DiscretizedLogistic: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.variable(random_array({2, 1}, -1, 1, 41));
  const auto log_scale = tape.variable(random_array({3}, -4, 0, 42));
  check_distribution_shapes([&](std::size_t g) { return DiscretizedLogistic<double>(mean, log_scale, {.group_ndims = g}); },
                            {2, 3}, {}, {.finite_log_prob = true, .broadcast_given = xt::xarray<double>{-1.0, 0.0, 1.0}});
  const DiscretizedLogistic<double> d(mean, log_scale);
  CHECK(d.parameter("mean").index() == mean.index());
  CHECK(d.parameter("log_scale").index() == log_scale.index());
  CHECK(d.loc().index() == mean.index());
  CHECK(d.support().describe() == "interval(-1, 1)");
}

TEST_CASE("DiscretizedLogistic: bad parameters and values give clear errors", "[distributions]") {
  Tape<double> tape;
  const auto mean = tape.constant(xt::xarray<double>{0.1, 0.2});
  REQUIRE_THROWS_MATCHES(DiscretizedLogistic<double>(tape.constant(xt::xarray<double>{0.1, NAN}), tape.constant(0.0)),
                         ArgumentError,
                         Message("DiscretizedLogistic: mean must be finite, got nan at flat index 1 of shape [2]"));
  REQUIRE_THROWS_MATCHES(DiscretizedLogistic<double>(mean, tape.constant(std::numeric_limits<double>::infinity())),
                         ArgumentError,
                         Message("DiscretizedLogistic: log_scale must be finite, got inf at flat index 0 of shape []"));
  REQUIRE_THROWS_MATCHES(DiscretizedLogistic<double>(mean, tape.constant(xt::xarray<double>{1.0, 1.0, 1.0})), ShapeError,
                         Message("DiscretizedLogistic parameters: cannot broadcast shapes [2] and [3] (axis -1: 2 vs "
                                 "3; sizes must be equal or 1)"));
  const DiscretizedLogistic<double> d(mean, tape.constant(-2.0));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.5, 1.5})), ArgumentError,
                         Message("DiscretizedLogistic: given must be in [-1, 1] (8-bit values as 2 b / 255 - 1), got "
                                 "1.500000 at flat index 1 of shape [2]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.0, 0.0, 0.0})), ShapeError,
                         Message("DiscretizedLogistic.log_prob: given has shape [3], which does not broadcast with "
                                 "batch_shape [2] + value_shape [] (expected [...] + value_shape, the rest broadcasting)"));
  REQUIRE_THROWS_MATCHES(d.parameter("scale"), ArgumentError, Message("DiscretizedLogistic: no parameter 'scale'"));
  REQUIRE_THROWS_MATCHES(d.mean(), ArgumentError, Message("DiscretizedLogistic: no closed-form mean"));
}
