#include <functional>
#include <type_traits>

#include "support/distribution_checks.hpp"
#include "support/gradients.hpp"
#include "reference/variance_reference.inc"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
Normal<double> make_normal(Tape<double>& tape, std::size_t group_ndims) {
  return Normal<double>::with_std(tape.constant(random_array({2, 3}, -1, 1, 1)), tape.constant(random_array({3}, 0.5, 2, 2)),
                                  {.group_ndims = group_ndims});
}
}  // namespace

TEST_CASE("distribution: sample and log_prob shapes for group_ndims 0/1/2 and n_samples none/1/k", "[distributions]") {
  Tape<double> tape;
  // a given that broadcasts: [3] against batch [2, 3]
  check_distribution_shapes([&](std::size_t g) { return make_normal(tape, g); }, {2, 3}, {},
                            {.broadcast_given = xt::xarray<double>{0.1, 0.2, 0.3}});
}

TEST_CASE("distribution: group_ndims sums the last axes of the elementwise log_prob", "[distributions]") {
  Tape<double> tape;
  const auto x = tape.constant(random_array({4, 2, 3}, -1, 1, 3));
  const auto lp0 = make_normal(tape, 0).log_prob(x);
  const auto lp2 = make_normal(tape, 2).log_prob(x);
  const xt::xarray<double> expected = xt::sum(lp0.value(), {1, 2});
  require_close(lp2.value(), expected, 1e-12);
}

TEST_CASE("distribution: shape errors name the distribution and the shapes", "[distributions]") {
  Tape<double> tape;
  Rng rng(1);
  const Normal<double> d = make_normal(tape, 1);
  REQUIRE_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})))), ShapeError);
  REQUIRE_THROWS_WITH(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>({3, 5})))),
                      "Normal.log_prob: given has shape [3, 5], which does not broadcast with batch_shape [2, 3] + "
                      "value_shape [] (expected [...] + value_shape, the rest broadcasting)");
  REQUIRE_THROWS_WITH(Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0}), tape.constant(1.0), {.group_ndims = 2}),
                      "distribution: group_ndims 2 is larger than the rank of batch_shape [1]");
  REQUIRE_THROWS_WITH(d.sample(rng, 0), "Normal.sample: n_samples must be at least 1");
  REQUIRE_THROWS_WITH(Normal<double>::with_std(tape.constant(xt::xarray<double>(xt::zeros<double>({2, 3}))),
                                               tape.constant(xt::xarray<double>(xt::ones<double>({3, 2})))),
                      Contains("Normal parameters: cannot broadcast shapes [2, 3] and [3, 2]"));
  REQUIRE_THROWS_WITH(d.parameter("rate"), "Normal: no parameter 'rate'");
}

TEST_CASE("distribution: accepts_shape is log_prob's shape check (value_shape last, the rest broadcasting)",
          "[distributions]") {
  Tape<double> tape;
  const Normal<double> d = make_normal(tape, 0);  // batch [2, 3], value []
  for (const Shape& ok : {Shape{2, 3}, Shape{3}, Shape{1, 3}, Shape{2, 1}, Shape{}, Shape{5, 2, 3}, Shape{4, 1, 1}}) {
    INFO(to_string(ok));
    CHECK(d.accepts_shape(ok));
    CHECK_NOTHROW(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>(ok)))));
  }
  for (const Shape& bad : {Shape{3, 5}, Shape{2}, Shape{4, 3, 3}, Shape{3, 2}}) {
    INFO(to_string(bad));
    CHECK_FALSE(d.accepts_shape(bad));
    CHECK_THROWS_AS(d.log_prob(tape.constant(xt::xarray<double>(xt::zeros<double>(bad)))), ShapeError);
  }
  // value_shape [4]: a given must end in exactly 4, whatever broadcasts before it
  const OnehotCategorical<double> c(tape.constant(random_array({2, 4}, -1, 1, 5)));
  CHECK(c.accepts_shape({2, 4}));
  CHECK(c.accepts_shape({7, 1, 4}));
  CHECK(c.accepts_shape({4}));
  CHECK_FALSE(c.accepts_shape({2, 1}));
  CHECK_FALSE(c.accepts_shape({2, 4, 1}));
  CHECK_FALSE(c.accepts_shape({}));
  CHECK_FALSE(c.accepts_shape({3, 4}));
}

TEST_CASE("distribution: the path derivative detaches the parameters in log_prob only", "[distributions]") {
  // With use_path_derivative, d log q(z) / d mean is zero when z is held fixed...
  Tape<double> tape;
  auto mean = tape.variable(xt::xarray<double>{0.5, -0.5});
  auto logstd = tape.variable(xt::xarray<double>{0.1, 0.2});
  const auto fixed = tape.constant(xt::xarray<double>{1.0, 2.0});
  const auto stl = Normal<double>::with_logstd(mean, logstd, {.use_path_derivative = true});
  CHECK_FALSE(stl.log_prob(fixed).requires_grad());
  // ...but a reparameterised sample still carries the gradient along its path.
  Rng rng(3);
  const auto z = stl.sample(rng);
  const auto lp = sum(stl.log_prob(z));
  tape.backward(lp);
  // log q(z) with parameters detached, z = m + s eps: d/dm = -(z - m)/s^2 * dz/dm = -eps/s
  const auto eps = (z.value() - mean.value()) / xt::exp(logstd.value());
  require_close(mean.grad(), xt::xarray<double>(-eps / xt::exp(logstd.value())), 1e-12);
}

TEST_CASE("distribution: each declares its support; continuous draws map to the reals and back through it (issue 21)",
          "[distributions]") {
  Tape<double> tape;
  Rng rng(2112);
  const auto c = [&](xt::xarray<double> v) { return tape.constant(std::move(v)); };
  const xt::xarray<double> logits{{0.3, -1.0, 2.0}, {0.0, 0.5, -0.5}};
  // draws of a constrained continuous distribution: the support's transform takes them to the
  // reals (finite) and back (the same draws)
  const auto check_continuous = [&](const Distribution<double>& d, SupportKind kind) {
    CAPTURE(d.name());
    const Support<double> support = d.support();
    CHECK(support.kind() == kind);
    const Var<double> draws = d.sample(rng, 50);
    const TransformPtr<double> to_support = bijector_to(support);
    const Var<double> free = to_support->inverse(draws);
    for (double v : xt::xarray<double>(free.value())) REQUIRE(std::isfinite(v));
    require_close(to_support->forward(free).value(), draws.value(), 1e-9);
  };
  check_continuous(Beta<double>(c({0.5, 2.0}), c({3.0, 0.7})), SupportKind::unit_interval);
  check_continuous(BinConcrete<double>(0.5, c({0.3, -2.0})), SupportKind::unit_interval);
  check_continuous(Concrete<double>(0.5, c(logits)), SupportKind::simplex);
  check_continuous(Uniform<double>(c({-1.0, 2.0}), c({0.5, 9.0})), SupportKind::interval);
  check_continuous(Gamma<double>(c({0.7, 3.0}), c({2.0, 0.5})), SupportKind::positive);
  check_continuous(InverseGamma<double>(c({2.5, 3.0}), c({1.0, 0.5})), SupportKind::positive);
  check_continuous(Exponential<double>(c({0.5, 4.0})), SupportKind::positive);
  check_continuous(HalfNormal<double>(c({0.5, 4.0})), SupportKind::positive);
  check_continuous(HalfCauchy<double>(c({0.5, 4.0})), SupportKind::positive);
  check_continuous(LogNormal<double>(c({0.0, 1.0}), c({0.5, 0.3})), SupportKind::positive);
  check_continuous(Weibull<double>(c({1.0, 2.0}), c({0.8, 3.0})), SupportKind::positive);
  check_continuous(FoldNormal<double>::with_std(c({0.5, -1.0}), c({1.0, 0.3})), SupportKind::positive);
  check_continuous(Pareto<double>(c({1.0, 2.5}), c({3.0, 5.0})), SupportKind::greater_than);

  // discrete supports: reported, and refused by bijector_to (no transform from the reals)
  const auto check_discrete = [&](const Distribution<double>& d, SupportKind kind) {
    CAPTURE(d.name());
    CHECK(d.support().kind() == kind);
    CHECK_THROWS_AS(bijector_to(d.support()), ArgumentError);
  };
  check_discrete(Bernoulli<double>(c({0.3, -2.0})), SupportKind::boolean);
  check_discrete(Categorical<double>(c(logits)), SupportKind::integer_interval);
  CHECK(Categorical<double>(c(logits)).support().upper().scalar() == 2.0);
  check_discrete(OnehotCategorical<double>(c(logits)), SupportKind::one_hot);
  check_discrete(Poisson<double>(c({0.5, 4.0})), SupportKind::nonnegative_integer);
  check_discrete(Geometric<double>(c({0.5, -1.0})), SupportKind::nonnegative_integer);
}

namespace {
namespace vr = vaelib::testing::variance_reference;

/// variance() of `make(tape, case)` against each reference case, in T: `relative` times the
/// reference, or exactly +inf. Cases beyond float's range are skipped for float.
template <class T, std::size_t N, class Make>
void variance_require_reference(const char* name, const vr::Case (&cases)[N], const Make& make, double relative) {
  for (std::size_t i = 0; i < N; ++i) {
    const vr::Case& c = cases[i];
    if (std::is_same_v<T, float> && c.double_only) continue;
    INFO(name << " case " << i << ": parameters " << c.p[0] << ", " << c.p[1] << ", " << c.p[2] << "; variance "
              << c.variance);
    Tape<T> tape;
    const auto s = [&](double v) { return tape.constant(static_cast<T>(v)); };
    const auto d = make(s, c.p);
    const Var<T> v = d.variance();
    REQUIRE(v.shape() == d.mean().shape());
    const double actual = static_cast<double>(v.item());
    INFO("got " << actual);
    if (std::isinf(c.variance)) {
      CHECK(actual == c.variance);
    } else {
      CHECK(std::abs(actual - c.variance) <= relative * c.variance);
    }
  }
}

template <class T>
void variance_require_all_references(double relative) {
  using S = std::function<Var<T>(double)>;
  using P = const double*;
  variance_require_reference<T>("Normal(std)", vr::kNormalStd,
                                [](S s, P p) { return Normal<T>::with_std(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("Normal(logstd)", vr::kNormalLogstd,
                                [](S s, P p) { return Normal<T>::with_logstd(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("Bernoulli", vr::kBernoulli, [](S s, P p) { return Bernoulli<T>(s(p[0])); }, relative);
  variance_require_reference<T>("Beta", vr::kBeta, [](S s, P p) { return Beta<T>(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("Gamma", vr::kGamma, [](S s, P p) { return Gamma<T>(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("Poisson", vr::kPoisson, [](S s, P p) { return Poisson<T>(s(p[0])); }, relative);
  variance_require_reference<T>("Laplace", vr::kLaplace, [](S s, P p) { return Laplace<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("Logistic", vr::kLogistic, [](S s, P p) { return Logistic<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("Uniform", vr::kUniform, [](S s, P p) { return Uniform<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("Exponential", vr::kExponential, [](S s, P p) { return Exponential<T>(s(p[0])); },
                                relative);
  variance_require_reference<T>("HalfNormal", vr::kHalfNormal, [](S s, P p) { return HalfNormal<T>(s(p[0])); },
                                relative);
  variance_require_reference<T>("LogNormal", vr::kLogNormal, [](S s, P p) { return LogNormal<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("StudentT", vr::kStudentT,
                                [](S s, P p) { return StudentT<T>(s(p[0]), s(p[1]), s(p[2])); }, relative);
  variance_require_reference<T>("Weibull", vr::kWeibull, [](S s, P p) { return Weibull<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("Gumbel", vr::kGumbel, [](S s, P p) { return Gumbel<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("Pareto", vr::kPareto, [](S s, P p) { return Pareto<T>(s(p[0]), s(p[1])); },
                                relative);
  variance_require_reference<T>("InverseGamma", vr::kInverseGamma,
                                [](S s, P p) { return InverseGamma<T>(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("FoldNormal", vr::kFoldNormal,
                                [](S s, P p) { return FoldNormal<T>::with_std(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("Geometric(logits)", vr::kGeometricLogits,
                                [](S s, P p) { return Geometric<T>::with_logits(s(p[0])); }, relative);
  variance_require_reference<T>("Geometric(probs)", vr::kGeometricProbs,
                                [](S s, P p) { return Geometric<T>::with_probs(s(p[0])); }, relative);
  variance_require_reference<T>("Binomial(logits)", vr::kBinomialLogits,
                                [](S s, P p) { return Binomial<T>::with_logits(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("Binomial(probs)", vr::kBinomialProbs,
                                [](S s, P p) { return Binomial<T>::with_probs(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("NegativeBinomial", vr::kNegativeBinomial,
                                [](S s, P p) { return NegativeBinomial<T>(s(p[0]), s(p[1])); }, relative);
  variance_require_reference<T>("BetaBinomial", vr::kBetaBinomial,
                                [](S s, P p) { return BetaBinomial<T>(s(p[0]), s(p[1]), s(p[2])); }, relative);
}

/// The array of the first `size` numbers of `values`, of `shape`, as a constant on `tape`.
template <class T>
Var<T> variance_constant(Tape<T>& tape, const double* values, const Shape& shape) {
  xt::xarray<T> a = xt::empty<T>(shape);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<T>(values[i]);
  return tape.constant(a);
}

template <class T>
void variance_require_event_references(double relative) {
  const auto check = [&](const Distribution<T>& d, const vr::EventCase& c) {
    CAPTURE(d.name());
    const Var<T> v = d.variance();
    REQUIRE(v.shape() == d.mean().shape());
    for (std::size_t i = 0; i < v.size(); ++i) {
      CAPTURE(i);
      CHECK(std::abs(static_cast<double>(v.data()[i]) - c.variance[i]) <= relative * c.variance[i]);
    }
  };
  Tape<T> tape;
  const auto& m = vr::kMultinomial;
  check(Multinomial<T>(tape.constant(static_cast<T>(m.a[0])), variance_constant(tape, m.b, {3})), m);
  check(OnehotCategorical<T>(variance_constant(tape, vr::kOnehotCategorical.b, {3})), vr::kOnehotCategorical);
  check(Dirichlet<T>(variance_constant(tape, vr::kDirichlet.a, {3})), vr::kDirichlet);
  const auto& mvn = vr::kMultivariateNormalCholesky;
  check(MultivariateNormalCholesky<T>(tape.full({3}, T(0.5)), variance_constant(tape, mvn.a, {3, 3})), mvn);
  const auto& mn = vr::kMatrixVariateNormalCholesky;
  check(MatrixVariateNormalCholesky<T>(tape.full({2, 3}, T(-1)), variance_constant(tape, mn.a, {2, 2}),
                                       variance_constant(tape, mn.b, {3, 3})),
        mn);
  const auto& mix = vr::kMixtureNormal;
  const Var<T> mix_logits = variance_constant(tape, mix.a, {2});
  const Var<T> mix_means = variance_constant(tape, mix.b, {2, 2});
  const Var<T> mix_stds = variance_constant(tape, mix.c, {2, 2});
  check(MixtureNormal<T>::with_std(mix_logits, mix_means, mix_stds), mix);
  check(MixtureNormal<T>::with_logstd(mix_logits, mix_means, log(mix_stds)), mix);
}

/// The sample variance of `draws` ([n, ...] flattened per position) within `n_se` standard
/// errors of `variance` at every position, the standard error sqrt((m4 - v^2) / n) from the
/// draws' own fourth central moment.
void variance_require_sample_variance(const Var<double>& draws, const Var<double>& variance, double n_se = 5.0) {
  const std::size_t width = variance.size();
  REQUIRE(draws.size() % width == 0);
  const std::size_t n = draws.size() / width;
  for (std::size_t j = 0; j < width; ++j) {
    double m = 0;
    for (std::size_t i = 0; i < n; ++i) m += draws.data()[i * width + j];
    m /= static_cast<double>(n);
    double m2 = 0, m4 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = draws.data()[i * width + j] - m;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    m2 /= static_cast<double>(n - 1);
    m4 /= static_cast<double>(n);
    const double se = std::sqrt((m4 - m2 * m2) / static_cast<double>(n));
    INFO("position " << j << ": sample variance " << m2 << ", variance() " << variance.data()[j]
                     << ", standard error " << se);
    CHECK(std::abs(m2 - variance.data()[j]) <= n_se * se);
  }
}
}  // namespace

TEST_CASE("distribution: variance() against closed forms from scipy.stats and mpmath (double, float; issue 21)",
          "[distributions]") {
  variance_require_all_references<double>(1e-12);
  variance_require_event_references<double>(1e-12);
  variance_require_all_references<float>(2e-6);
  variance_require_event_references<float>(2e-6);
}

TEST_CASE("distribution: variance() has mean()'s shape, and says where it does not exist", "[distributions]") {
  Tape<double> tape;
  const Normal<double> d = make_normal(tape, 1);  // mean [2, 3], std [3]
  CHECK(d.variance().shape() == Shape{2, 3});
  require_close(d.variance().value(), xt::xarray<double>(xt::broadcast(xt::square(random_array({3}, 0.5, 2, 2)), {2, 3})),
                1e-15);
  CHECK_THROWS_WITH(VonMises<double>(tape.constant(0.0), tape.constant(1.0)).variance(),
                    "VonMises: no closed-form variance");
  CHECK_THROWS_WITH(Cauchy<double>(tape.constant(0.0), tape.constant(1.0)).variance(),
                    "Cauchy: the variance is undefined (the tails are too heavy)");
  CHECK_THROWS_WITH(StudentT<double>(tape.constant(xt::xarray<double>{3.0, 0.5}), tape.constant(0.0),
                                     tape.constant(1.0))
                        .variance(),
                    Contains("StudentT: df must be above 1 for the variance to exist, got 0.5"));
  CHECK(std::isinf(HalfCauchy<double>(tape.constant(2.0)).variance().item()));
}

TEST_CASE("distribution: variance() gradients by finite differences (the double kernels and composed forms)",
          "[distributions]") {
  const auto one = [](auto make) {
    return [make](Tape<double>&, const std::vector<Var<double>>& in) { return sum(make(in).variance()); };
  };
  using In = const std::vector<Var<double>>&;
  require_gradient(one([](In in) { return LogNormal<double>(in[0], in[1]); }),
                   {xt::xarray<double>{0.5, -1.0}, xt::xarray<double>{0.75, 0.01}});
  require_gradient(one([](In in) { return Weibull<double>(in[0], in[1]); }),
                   {xt::xarray<double>{1.5, 0.5}, xt::xarray<double>{2.0, 30.0}});
  require_gradient(one([](In in) { return FoldNormal<double>::with_std(in[0], in[1]); }),
                   {xt::xarray<double>{0.5, -1.0, 6.0}, xt::xarray<double>{1.5, 0.5, 1.0}});
  require_gradient(one([](In in) { return StudentT<double>(in[0], in[1], in[2]); }),
                   {xt::xarray<double>{3.0, 2.5, 30.0}, xt::xarray<double>{0.5}, xt::xarray<double>{1.5}});
  require_gradient(one([](In in) { return MixtureNormal<double>::with_logstd(in[0], in[1], in[2]); }),
                   {xt::xarray<double>{0.3, -0.7}, xt::xarray<double>{{-1.0, 2.0}, {1.5, 0.25}},
                    xt::xarray<double>{{-0.5, 0.4}, {0.2, -0.3}}});
}

TEST_CASE("distribution: the sample variance of many draws agrees with variance() (z-scores)", "[distributions]") {
  Tape<double> tape;
  Rng rng(4242);
  const auto c = [&](xt::xarray<double> v) { return tape.constant(std::move(v)); };
  constexpr std::size_t n = 200000;
  const auto check = [&](const Distribution<double>& d) {
    CAPTURE(d.name());
    variance_require_sample_variance(d.sample(rng, n), d.variance());
  };
  check(Gamma<double>(c({2.5, 0.5}), c({1.5, 3.0})));
  check(StudentT<double>(c({10.0, 25.0}), c({0.5}), c({2.0})));
  check(Weibull<double>(c({1.5, 0.5}), c({2.0, 4.0})));
  check(FoldNormal<double>::with_std(c({0.5, -3.0}), c({1.5, 1.0})));
  check(BetaBinomial<double>(c({10.0}), c({2.0, 0.5}), c({3.0, 0.25})));
  check(NegativeBinomial<double>(c({3.0}), c({0.5, -1.0})));
  check(Multinomial<double>(c(7.0), c({0.5, -1.0, 2.0})));
  check(MixtureNormal<double>::with_std(c({0.3, -0.7}), c({{-1.0, 2.0}, {1.5, 0.25}}), c({{0.5, 1.5}, {1.25, 0.75}})));
}
