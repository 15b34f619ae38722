#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/kl.hpp"

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
const xt::xarray<double> kCategoricalLogits{{0.5, -1.0, 2.0}, {1.5, 0.3, -0.7}};
// log_softmax of each row of kCategoricalLogits.
const xt::xarray<double> kLogSoftmax{{-1.7413112966571571, -3.2413112966571571, -0.24131129665715706},
                                     {-0.34500527665751433, -1.5450052766575143, -2.5450052766575143}};

}  // namespace

TEST_CASE("Categorical: log_prob is log_softmax(logits) at the given class", "[distributions]") {
  Tape<double> tape;
  const Categorical<double> d(tape.constant(kCategoricalLogits));
  CHECK(d.name() == "Categorical");
  CHECK_FALSE(d.is_reparameterized());
  CHECK(d.batch_shape() == Shape{2});
  CHECK(d.value_shape() == Shape{});
  CHECK(d.n_categories() == 3);

  const auto lp = d.log_prob(tape.constant(xt::xarray<double>{2.0, 0.0}));
  CHECK(lp.shape() == Shape{2});
  require_values(lp, {-0.24131129665715706, -0.34500527665751433});
  require_values(d.prob(tape.constant(xt::xarray<double>{2.0, 0.0})),
                 {std::exp(-0.24131129665715706), std::exp(-0.34500527665751433)});

  // A given with a leading axis ([2, 2] against batch [2]) and a scalar given, broadcast.
  const auto lp2 = d.log_prob(tape.constant(xt::xarray<double>{{0.0, 1.0}, {2.0, 2.0}}));
  CHECK(lp2.shape() == Shape{2, 2});
  require_values(lp2, {kLogSoftmax(0, 0), kLogSoftmax(1, 1), kLogSoftmax(0, 2), kLogSoftmax(1, 2)});
  require_values(d.log_prob(tape.constant(1.0)), {kLogSoftmax(0, 1), kLogSoftmax(1, 1)});

  // Large logits: no overflow (log_softmax is shift-invariant).
  const Categorical<double> big(tape.constant(xt::xarray<double>(kCategoricalLogits + 1000.0)));
  require_values(big.log_prob(tape.constant(xt::xarray<double>{2.0, 0.0})),
                 {-0.24131129665715706, -0.34500527665751433}, 1e-9);
}

TEST_CASE("Categorical: entropy, probs and parameters", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.constant(kCategoricalLogits);
  const Categorical<double> d(logits);
  const auto h = d.entropy();
  CHECK(h.shape() == Shape{2});
  require_values(h, {0.62158460467927445, 0.77361797483421664});
  const Categorical<double> grouped(logits, {.group_ndims = 1});
  require_values(grouped.entropy(), {0.62158460467927445 + 0.77361797483421664});

  CHECK(d.parameter("logits").index() == logits.index());
  const auto probs = d.parameter("probs");
  CHECK(probs.shape() == Shape{2, 3});
  std::vector<double> expected;
  for (double v : kLogSoftmax) expected.push_back(std::exp(v));
  require_values(probs, expected);
  require_values(d.log_probs(), values(tape.constant(kLogSoftmax)));
  REQUIRE_THROWS_MATCHES(d.parameter("mean"), ArgumentError, Message("Categorical: no parameter 'mean'"));
  REQUIRE_THROWS_MATCHES(d.mean(), ArgumentError, Message("Categorical: no closed-form mean"));
}

TEST_CASE("Categorical: sample frequencies and index moments match the probabilities", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(xt::xarray<double>{0.2, -0.4, 1.1, 0.0});
  const Categorical<double> d(logits);
  Rng rng(20240607);
  const std::size_t n = 20000;
  const auto s = d.sample(rng, n);
  CHECK(s.shape() == Shape{n});
  CHECK_FALSE(s.requires_grad());  // not reparameterised: a constant
  const std::vector<double> p{0.20716176877863998, 0.11369278925953781, 0.50953573100071954, 0.16960971096110266};
  std::vector<double> counts(4, 0.0);
  for (double x : values(s)) {
    REQUIRE(x == std::floor(x));
    REQUIRE(x >= 0);
    REQUIRE(x < 4);
    counts[static_cast<std::size_t>(x)] += 1;
  }
  for (std::size_t j = 0; j < 4; ++j) {
    INFO("class " << j);
    const double se = std::sqrt(p[j] * (1 - p[j]) / static_cast<double>(n));
    CHECK(std::abs(counts[j] / static_cast<double>(n) - p[j]) <= 4 * se);
  }
  // The index itself: mean sum_j j p_j, variance and fourth central moment from p.
  require_sample_moments(values(s), 1.6415933841442849, 0.98349427304605427, 2.109626646860257);

  // Same seed, same draws.
  Rng again(20240607);
  CHECK(values(d.sample(again, n)) == values(s));
}

TEST_CASE("Categorical: sampling a batch draws each row from its own probabilities", "[distributions]") {
  Tape<double> tape;
  // Row 0 puts (almost) all mass on class 2, row 1 on class 0.
  const Categorical<double> d(tape.constant(xt::xarray<double>{{-50.0, -50.0, 50.0}, {50.0, -50.0, -50.0}}));
  Rng rng(5);
  const auto s = d.sample(rng, 100);
  CHECK(s.shape() == Shape{100, 2});
  for (std::size_t i = 0; i < 100; ++i) {
    CHECK(s.data()[2 * i] == 2.0);
    CHECK(s.data()[2 * i + 1] == 0.0);
  }
}

TEST_CASE("Categorical: log_prob and entropy gradients match finite differences", "[distributions]") {
  const auto logits = random_array({2, 3, 4}, -2, 2, 11);
  const xt::xarray<double> given{{0, 3, 1}, {2, 2, 0}};
  require_gradient(
      [given](Tape<double>& tape, const Vars& v) { return Categorical<double>(v[0]).log_prob(tape.constant(given)); },
      {logits});
  require_gradient(
      [given](Tape<double>& tape, const Vars& v) {
        return Categorical<double>(v[0], {.group_ndims = 2}).log_prob(tape.constant(given));
      },
      {logits});
  require_gradient([](Tape<double>&, const Vars& v) { return Categorical<double>(v[0]).entropy(); }, {logits});

  // The path-derivative estimator sees the logits detached.
  Tape<double> tape;
  const auto l = tape.variable(logits);
  CHECK(Categorical<double>(l).log_prob(tape.constant(given)).requires_grad());
  CHECK_FALSE(Categorical<double>(l, {.use_path_derivative = true}).log_prob(tape.constant(given)).requires_grad());
}

TEST_CASE("Categorical: shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  const auto logits = tape.variable(random_array({2, 3, 4}, -2, 2, 3));
  check_distribution_shapes([&](std::size_t g) { return Categorical<double>(logits, {.group_ndims = g}); }, {2, 3}, {},
                            {.entropy = true});
  // With group_ndims 2 the log_prob of a [5, 2, 3] sample is the sum over each draw's batch.
  const Categorical<double> flat(logits);
  const Categorical<double> grouped(logits, {.group_ndims = 2});
  Rng rng(2);
  const auto s = flat.sample(rng, 5);
  const auto lp = flat.log_prob(s).value();
  const auto lpg = grouped.log_prob(s).value();
  for (std::size_t i = 0; i < 5; ++i) CHECK(lpg(i) == Approx(xt::sum(xt::view(lp, i))()).epsilon(1e-12));
  REQUIRE_THROWS_MATCHES(
      Categorical<double>(logits, {.group_ndims = 3}), ShapeError,
      Message("distribution: group_ndims 3 is larger than the rank of batch_shape [2, 3]"));
}

TEST_CASE("Categorical: bad parameters and values give clear errors", "[distributions]") {
  Tape<double> tape;
  REQUIRE_THROWS_MATCHES(
      Categorical<double>(tape.constant(1.0)), ShapeError,
      Message("Categorical: logits must have shape [..., k] with k >= 1 categories on the last axis, got shape []"));
  REQUIRE_THROWS_MATCHES(
      Categorical<double>(tape.constant(xt::xarray<double>(xt::zeros<double>({2, 0})))), ShapeError,
      Message("Categorical: logits must have shape [..., k] with k >= 1 categories on the last axis, got shape [2, 0]"));
  xt::xarray<double> bad = kCategoricalLogits;
  bad(1, 1) = -std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_MATCHES(Categorical<double>(tape.constant(bad)), ArgumentError,
                         Message("Categorical: logits must be finite, got -inf at flat index 4 of shape [2, 3]"));

  const Categorical<double> d(tape.constant(kCategoricalLogits));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.0, 3.0})), ArgumentError,
                         Message("Categorical.log_prob: given must hold class indices 0, ..., 2 (integers, k = 3), got "
                                 "3.000000 at flat index 1 of shape [2]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{-1.0, 0.0})), ArgumentError,
                         Message("Categorical.log_prob: given must hold class indices 0, ..., 2 (integers, k = 3), got "
                                 "-1.000000 at flat index 0 of shape [2]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{{0.0, 1.0}, {1.5, 0.0}})), ArgumentError,
                         Message("Categorical.log_prob: given must hold class indices 0, ..., 2 (integers, k = 3), got "
                                 "1.500000 at flat index 2 of shape [2, 2]"));
  REQUIRE_THROWS_MATCHES(d.log_prob(tape.constant(xt::xarray<double>{0.0, 1.0, 2.0})), ShapeError,
                         Message("Categorical.log_prob: given has shape [3], which does not broadcast with batch_shape "
                                 "[2] + value_shape [] (expected [...] + value_shape, the rest broadcasting)"));
  Rng rng(0);
  REQUIRE_THROWS_MATCHES(d.sample(rng, 0), ArgumentError, Message("Categorical.sample: n_samples must be at least 1"));
}

TEST_CASE("Categorical: float", "[distributions]") {
  Tape<float> tape;
  const Categorical<float> d(tape.constant(xt::xarray<float>{{0.5f, -1.0f, 2.0f}, {1.5f, 0.3f, -0.7f}}));
  const auto lp = d.log_prob(tape.constant(xt::xarray<float>{2.0f, 0.0f}));
  CHECK(lp.data()[0] == Approx(-0.24131129665715706).epsilon(1e-6));
  CHECK(lp.data()[1] == Approx(-0.34500527665751433).epsilon(1e-6));
  Rng rng(3);
  CHECK(d.sample(rng, 4).shape() == Shape{4, 2});
  CHECK(d.entropy().data()[0] == Approx(0.62158460467927445).epsilon(1e-6));
}

TEST_CASE("kl_divergence: Categorical || Categorical matches the direct sum", "[distributions][kl]") {
  Tape<double> tape;
  const auto lq = tape.constant(xt::xarray<double>{0.1, 0.2, -0.3});
  const Categorical<double> p(tape.constant(kCategoricalLogits));
  const Categorical<double> q(lq);
  REQUIRE(has_analytic_kl<double>(p, q));
  REQUIRE(KLRegistry<double>::instance().find(p, q) != nullptr);
  const auto kl = kl_divergence<double>(p, q);
  CHECK(kl.shape() == Shape{2});
  require_values(kl, {0.70957060738262652, 0.25726766131638058});

  // The direct sum over classes, sum_j p_j (log p_j - log q_j), from xtensor.
  const xt::xarray<double> qv{0.1, 0.2, -0.3};
  const xt::xarray<double> log_q = qv - std::log(xt::sum(xt::exp(qv))());
  for (std::size_t b = 0; b < 2; ++b) {
    double direct = 0;
    for (std::size_t j = 0; j < 3; ++j) direct += std::exp(kLogSoftmax(b, j)) * (kLogSoftmax(b, j) - log_q(j));
    CHECK(kl.data()[b] == Approx(direct).epsilon(1e-12));
  }

  // group_ndims of p sums the batch; KL(p || p) = 0.
  const Categorical<double> p_grouped(tape.constant(kCategoricalLogits), {.group_ndims = 1});
  const auto klg = kl_divergence<double>(p_grouped, q);
  CHECK(klg.shape() == Shape{});
  CHECK(klg.item() == Approx(0.70957060738262652 + 0.25726766131638058).epsilon(1e-12));
  for (double v : values(kl_divergence<double>(p, p))) CHECK(v == Approx(0.0).margin(1e-15));

  // Gradients in both sets of logits.
  require_gradient(
      [](Tape<double>&, const Vars& v) { return kl_divergence<double>(Categorical<double>(v[0]), Categorical<double>(v[1])); },
      {random_array({2, 3, 4}, -2, 2, 21), random_array({3, 4}, -2, 2, 22)});
}

TEST_CASE("kl_divergence: Categorical errors", "[distributions][kl]") {
  Tape<double> tape;
  const Categorical<double> p(tape.constant(kCategoricalLogits));
  const Categorical<double> q4(tape.constant(xt::xarray<double>{0.1, 0.2, -0.3, 0.0}));
  REQUIRE_THROWS_MATCHES(
      kl_divergence<double>(p, q4), ShapeError,
      Message("kl_divergence: Categorical distributions over different numbers of categories: 3 vs 4"));
  const Categorical<double> q_batch(tape.constant(xt::xarray<double>(xt::zeros<double>({3, 3}))));
  REQUIRE_THROWS_AS(kl_divergence<double>(p, q_batch), ShapeError);
  const auto normal = Normal<double>::with_std(tape.constant(0.0), tape.constant(1.0));
  CHECK_FALSE(has_analytic_kl<double>(p, normal));
  REQUIRE_THROWS_MATCHES(kl_divergence<double>(p, normal), ArgumentError,
                         Message("kl_divergence: no analytic KL(Categorical || Normal) is registered; use the Monte "
                                 "Carlo estimate p.log_prob(z) - q.log_prob(z) averaged over draws z ~ p (what "
                                 "elbo(...) does without analytic_kl), or register one with "
                                 "KLRegistry<T>::instance().add<P, Q>(...)"));
}

TEMPLATE_TEST_CASE("categorical: log_prob matches the mpmath reference, ordinary and extreme logits", "[distributions]",
                   double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(dist_reference::kCategorical, [](Tape<T>& tape, const dist_reference::VectorCase& c) {
    const auto logits = tape.constant(xt::xarray<T>{T(c.p[0]), T(c.p[1]), T(c.p[2])});
    return Categorical<T>(logits).log_prob(tape.constant(T(c.x[0]))).item();
  });
}
