#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/onehot_categorical.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Message;

// Reference values below were computed independently with python3's mpmath at 30 digits.
namespace {
const xt::xarray<double> kOnehotLogits{{0.5, -1.0, 2.0}, {1.5, 0.3, -0.7}};
// log_softmax of each row of kOnehotLogits.
const xt::xarray<double> kOnehotLogSoftmax{{-1.7413112966571571, -3.2413112966571571, -0.24131129665715706},
                                     {-0.34500527665751433, -1.5450052766575143, -2.5450052766575143}};

}  // namespace

TEST_CASE("OnehotCategorical: log_prob is sum(given * log_softmax(logits))", "[distributions]") {
  Tape<double> tape;
  const OnehotCategorical<double> d(tape.constant(kOnehotLogits));
  CHECK(d.name() == "OnehotCategorical");
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{3});
  CHECK(d.n_categories() == 3);

  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{{0, 0, 1}, {1, 0, 0}}));
  CHECK(lp.shape() == Shape{2});
  require_values(lp, {-0.24131129665715706, -0.34500527665751433});

  // A leading sample axis, and a single one-hot vector broadcast over the batch.
  const auto lp3 = d.log_prob(tape.constant(xt::xarray<double>{{{1, 0, 0}, {0, 1, 0}}, {{0, 0, 1}, {0, 0, 1}}}));
  CHECK(lp3.shape() == Shape{2, 2});
  require_values(lp3, {kOnehotLogSoftmax(0, 0), kOnehotLogSoftmax(1, 1), kOnehotLogSoftmax(0, 2), kOnehotLogSoftmax(1, 2)});
  require_values(d.log_prob(tape.constant(xt::xarray<double>{0, 1, 0})), {kOnehotLogSoftmax(0, 1), kOnehotLogSoftmax(1, 1)});
}

TEST_CASE("OnehotCategorical: entropy, mean, probs and parameters", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kOnehotLogits);
  const OnehotCategorical<double> d(logits);
  require_values(d.entropy(), {0.62158460467927445, 0.77361797483421664});
  const OnehotCategorical<double> grouped(logits, {.group_ndims = 1});
  require_values(grouped.entropy(), {0.62158460467927445 + 0.77361797483421664});
  std::vector<double> expected;
  for (double v : kOnehotLogSoftmax) expected.push_back(std::exp(v));
  require_values(d.mean(), expected);
  require_values(d.parameter("probs"), expected);
  CHECK(d.mean().shape() == Shape{2, 3});
  CHECK(d.parameter("logits").index() == logits.index());
  REQUIRE_THROWS_MATCHES(d.parameter("temperature"), ArgumentError,
                         Message("OnehotCategorical: no parameter 'temperature'"));
}

TEST_CASE("OnehotCategorical: samples are one-hot with component means and variances p(1 - p)",
          "[distributions]") {
  Tape<double> tape;
  const OnehotCategorical<double> d(tape.variable(xt::xarray<double>{0.2, -0.4, 1.1, 0.0}));
  Rng rng(99);
  const std::size_t n = 20000;
  const auto s = d.sample(rng, n);
  CHECK(s.shape() == Shape{n, 4});
  CHECK_FALSE(s.requires_grad());
  const auto sv = s.value();
  for (std::size_t i = 0; i < n; ++i) {
    double total = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      REQUIRE((sv(i, j) == 0.0 || sv(i, j) == 1.0));
      total += sv(i, j);
    }
    REQUIRE(total == 1.0);
  }
  const std::vector<double> p{0.20716176877863998, 0.11369278925953781, 0.50953573100071954, 0.16960971096110266};
  for (std::size_t j = 0; j < 4; ++j) {
    INFO("component " << j);
    std::vector<double> column;
    for (std::size_t i = 0; i < n; ++i) column.push_back(sv(i, j));
    // Each component is Bernoulli(p_j): variance p(1-p), fourth central moment p(1-p)(1-3p+3p^2).
    const double q = p[j];
    require_sample_moments(column, q, q * (1 - q), q * (1 - q) * (1 - 3 * q + 3 * q * q));
  }
  // Same seed, same draws.
  Rng again(99);
  CHECK(values(d.sample(again, n)) == values(s));
  // The log_prob of the samples is finite and matches log_softmax at the hot index.
  const auto lp = d.log_prob(s);
  CHECK(lp.shape() == Shape{n});
  for (std::size_t i = 0; i < 50; ++i) {
    const double* row = s.data() + 4 * i;
    const auto hot = static_cast<std::size_t>(std::max_element(row, row + 4) - row);
    CHECK(lp.data()[i] == Approx(std::log(p[hot])).epsilon(1e-12));
  }
}

TEST_CASE("OnehotCategorical: log_prob and entropy gradients match finite differences", "[distributions]") {
  const auto logits = random_array({2, 3, 4}, -2, 2, 12);
  xt::xarray<double> given = xt::zeros<double>({2, 3, 4});
  given(0, 0, 1) = given(0, 1, 3) = given(0, 2, 0) = given(1, 0, 2) = given(1, 1, 2) = given(1, 2, 1) = 1;
  require_gradient(
      [given](Tape<double>& tape, const Vars& v) {
        return OnehotCategorical<double>(v[0]).log_prob(tape.constant(given));
      },
      {logits});
  require_gradient(
      [given](Tape<double>& tape, const Vars& v) {
        return OnehotCategorical<double>(v[0], {.group_ndims = 1}).log_prob(tape.constant(given));
      },
      {logits});
  require_gradient([](Tape<double>&, const Vars& v) { return OnehotCategorical<double>(v[0]).entropy(); }, {logits});
  Tape<double> tape;
  const auto l = tape.variable(logits);
  CHECK_FALSE(
      OnehotCategorical<double>(l, {.use_path_derivative = true}).log_prob(tape.constant(given)).requires_grad());
}

TEST_CASE("OnehotCategorical: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(random_array({2, 3, 4}, -2, 2, 3));
  check_distribution_shapes([&](std::size_t g) { return OnehotCategorical<double>(logits, {.group_ndims = g}); },
                            {2, 3}, {4}, {.entropy = true});
}

TEST_CASE("OnehotCategorical: bad parameters and values give clear errors", "[distributions]") {
  Tape<double> tape;
  REQUIRE_THROWS_MATCHES(OnehotCategorical<double>(tape.constant(0.5)), ShapeError,
                         Message("OnehotCategorical: logits must have shape [..., k] with k >= 1 categories on the "
                                 "last axis, got shape []"));
  xt::xarray<double> bad = kOnehotLogits;
  bad(0, 2) = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_MATCHES(OnehotCategorical<double>(tape.constant(bad)), ArgumentError,
                         Message("OnehotCategorical: logits must be finite, got inf at flat index 2 of shape [2, 3]"));

  const OnehotCategorical<double> d(tape.constant(kOnehotLogits));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0, 0, 1}, {0, 0.5, 0.5}})), ArgumentError,
                         Message("OnehotCategorical.log_prob: given must be one-hot along its last axis (0s and a "
                                 "single 1), got 0.500000 at flat index 4 of shape [2, 3]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0, 0, 1}, {1, 0, 1}})), ArgumentError,
                         Message("OnehotCategorical.log_prob: given must be one-hot along its last axis (0s and a "
                                 "single 1), got 2 ones in the vector at flat index 3 of shape [2, 3]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0, 0, 0}, {1, 0, 0}})), ArgumentError,
                         Message("OnehotCategorical.log_prob: given must be one-hot along its last axis (0s and a "
                                 "single 1), got 0 ones in the vector at flat index 0 of shape [2, 3]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0, 0, 1, 0}, {1, 0, 0, 0}})), ShapeError,
                         Message("OnehotCategorical.log_prob: given has shape [2, 4], which does not broadcast with "
                                 "batch_shape [2] + value_shape [3] (expected [...] + value_shape, the rest "
                                 "broadcasting)"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0, 0, 1}, {1, 0, 0}, {1, 0, 0}})), ShapeError,
                         Message("OnehotCategorical.log_prob: given has shape [3, 3], which does not broadcast with "
                                 "batch_shape [2] + value_shape [3] (expected [...] + value_shape, the rest "
                                 "broadcasting)"));
}

TEST_CASE("OnehotCategorical: float", "[distributions]") {
  Tape<float> tape;
  const OnehotCategorical<float> d(tape.constant(xt::xarray<float>{{0.5f, -1.0f, 2.0f}, {1.5f, 0.3f, -0.7f}}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{{0, 0, 1}, {1, 0, 0}}));
  CHECK(lp.data()[0] == Approx(-0.24131129665715706).epsilon(1e-6));
  CHECK(lp.data()[1] == Approx(-0.34500527665751433).epsilon(1e-6));
  Rng rng(3);
  CHECK(d.sample(rng, 4).shape() == Shape{4, 2, 3});
}

TEMPLATE_TEST_CASE("onehot_categorical: log_prob matches the mpmath reference, ordinary and extreme logits",
                   "[distributions]", double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kOnehotCategorical, [](Tape<T>& tape, const dist_reference::VectorCase& c) {
    const auto logits = tape.constant(xt::xarray<T>{T(c.p[0]), T(c.p[1]), T(c.p[2])});
    const auto x = tape.constant(xt::xarray<T>{T(c.x[0]), T(c.x[1]), T(c.x[2])});
    return OnehotCategorical<T>(logits).log_prob(x).item();
  });
}
