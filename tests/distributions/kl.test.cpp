#include <cmath>

#include "reference/distributions_reference.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

TEST_CASE("kl: Normal-Normal matches the closed form and a Monte Carlo estimate", "[distributions]") {
  Tape<double> tape;
  const auto p = Normal<double>::with_std(tape.constant(xt::xarray<double>{0.5, -1.0}),
                                          tape.constant(xt::xarray<double>{0.8, 1.5}), {.group_ndims = 1});
  const auto q =
      Normal<double>::with_logstd(tape.constant(xt::xarray<double>{0.0, 0.0}), tape.constant(0.0), {.group_ndims = 1});
  double expected = 0;
  const double mp[2] = {0.5, -1.0}, sp[2] = {0.8, 1.5};
  for (int i = 0; i < 2; ++i) expected += std::log(1 / sp[i]) + (sp[i] * sp[i] + mp[i] * mp[i]) / 2 - 0.5;
  const auto kl = kl_divergence<double>(p, q);
  CHECK(kl.shape() == Shape{});
  CHECK(kl.item() == Approx(expected).epsilon(1e-12));
  Rng rng(8);
  const auto z = p.sample(rng, 40000);
  const xt::xarray<double> diff = p.log_prob(z).value() - q.log_prob(z).value();
  const Moments moments = moments_over_first_axis(diff);
  const double mc = moments.mean(), se = std::sqrt(moments.variance() / 40000);
  CHECK(std::abs(mc - expected) < 4 * se);
  CHECK(has_analytic_kl<double>(p, q));
}

TEST_CASE("kl: Bernoulli-Bernoulli matches the direct sum, and its gradient", "[distributions]") {
  Tape<double> tape;
  const Bernoulli<double> p(tape.constant(xt::xarray<double>{0.4, -2.0}));
  const Bernoulli<double> q(tape.constant(xt::xarray<double>{-1.0, 3.0}));
  const auto kl = kl_divergence<double>(p, q);
  for (std::size_t i = 0; i < 2; ++i) {
    const double a = 1 / (1 + std::exp(-p.logits().value()(i))), b = 1 / (1 + std::exp(-q.logits().value()(i)));
    CHECK(kl.value()(i) == Approx(a * std::log(a / b) + (1 - a) * std::log((1 - a) / (1 - b))).epsilon(1e-12));
  }
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Bernoulli<double>(v[0]), Bernoulli<double>(v[1]));
      },
      {random_array({3}, -2, 2, 1), random_array({3}, -2, 2, 2)});
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return kl_divergence<double>(Normal<double>::with_logstd(v[0], v[1]), Normal<double>::with_logstd(v[2], v[3]));
      },
      {random_array({3}, -1, 1, 3), random_array({3}, -0.5, 0.5, 4), random_array({3}, -1, 1, 5),
       random_array({3}, -0.5, 0.5, 6)});
}

namespace {
// A user type: the registry is open to new pairs.
template <class T>
class Point final : public Distribution<T> {
 public:
  explicit Point(const Var<T>& at) : Distribution<T>(at.tape(), at.shape(), Shape{}, {}), m_at(at) {}
  std::string_view name() const override { return "Point"; }
  bool is_reparameterized() const override { return true; }
  Var<T> at() const { return m_at; }

 protected:
  Var<T> log_prob_impl(const Var<T>& given, bool) const override { return given * T(0); }
  Var<T> sample_impl(std::size_t, Rng&) const override { return m_at; }

 private:
  Var<T> m_at;
};
}  // namespace

TEST_CASE("kl: unregistered pairs are an error; users register their own", "[distributions]") {
  Tape<double> tape;
  const auto n = Normal<double>::with_std(tape.constant(xt::xarray<double>{0.0}), tape.constant(1.0));
  const Bernoulli<double> b(tape.constant(xt::xarray<double>{0.0}));
  REQUIRE_THROWS_WITH(kl_divergence<double>(n, b),
                      "kl_divergence: no analytic KL(Normal || Bernoulli) is registered; use the Monte Carlo "
                      "estimate p.log_prob(z) - q.log_prob(z) averaged over draws z ~ p (what elbo(...) does without "
                      "analytic_kl), or register one with KLRegistry<T>::instance().add<P, Q>(...)");
  KLRegistry<double>::instance().add<Point<double>, Normal<double>>(
      [](const Point<double>& p, const Normal<double>& q) { return -q.log_prob(p.at()); });
  const Point<double> point(tape.constant(xt::xarray<double>{0.5}));
  CHECK(kl_divergence<double>(point, n).item() == Approx(0.5 * std::log(2 * M_PI) + 0.125).epsilon(1e-12));
}

TEMPLATE_TEST_CASE("kl: Normal-Normal and Bernoulli-Bernoulli match the mpmath reference, log-stds far apart",
                   "[distributions]", double, float) {
  using T = TestType;
  dist_reference::require_reference_values<T>(
      dist_reference::kKLNormal, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
        const auto p = Normal<T>::with_logstd(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
        const auto q = Normal<T>::with_logstd(tape.constant(T(c.p[2])), tape.constant(T(c.x)));
        return kl_divergence<T>(p, q).item();
      });
  dist_reference::require_reference_values<T>(
      dist_reference::kKLBernoulli, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
        return kl_divergence<T>(Bernoulli<T>(tape.constant(T(c.p[0]))), Bernoulli<T>(tape.constant(T(c.x)))).item();
      });
}

namespace {
constexpr int kKLRegistryPairs = 17;

/// Pair `which` of the built-in registry at ordinary parameters, its parameters made by
/// `leaf` (tape variables), on a T tape.
template <class T, class Leaf>
Var<T> kl_registry_pair(int which, Leaf& leaf) {
  using A = xt::xarray<double>;
  const A mean{0.3, -0.5}, logstd{0.2, -0.4}, mean2{-0.1, 0.6}, logstd2{-0.3, 0.5}, positive{0.7, 2.5},
      positive2{1.6, 0.9};
  const A factor{{1.2, 0.0}, {0.4, 0.7}}, factor2{{0.8, 0.0}, {-0.3, 1.1}};
  const A logits{{0.5, -1.0, 0.2}, {2.0, 0.1, -0.7}}, logits2{{-0.4, 0.3, 1.0}, {0.0, 0.0, 0.5}};
  const auto normal = [&](const A& m, const A& s, std::size_t g) {
    return Normal<T>::with_logstd(leaf(m), leaf(s), {.group_ndims = g});
  };
  switch (which) {
    case 0:
      return kl_divergence<T>(normal(mean, logstd, 0), normal(mean2, logstd2, 0));
    case 1:
      return kl_divergence<T>(normal(mean, logstd, 0), Laplace<T>(leaf(mean2), leaf(positive2)));
    case 2:
      return kl_divergence<T>(MultivariateNormalCholesky<T>(leaf(mean), leaf(factor)),
                              MultivariateNormalCholesky<T>(leaf(mean2), leaf(factor2)));
    case 3:
      return kl_divergence<T>(normal(mean, logstd, 1), MultivariateNormalCholesky<T>(leaf(mean2), leaf(factor2)));
    case 4:
      return kl_divergence<T>(MultivariateNormalCholesky<T>(leaf(mean), leaf(factor)), normal(mean2, logstd2, 1));
    case 5:
      return kl_divergence<T>(Bernoulli<T>(leaf(mean)), Bernoulli<T>(leaf(mean2)));
    case 6:
      return kl_divergence<T>(Categorical<T>(leaf(logits)), Categorical<T>(leaf(logits2)));
    case 7:
      return kl_divergence<T>(OnehotCategorical<T>(leaf(logits)), OnehotCategorical<T>(leaf(logits2)));
    case 8:
      return kl_divergence<T>(Gamma<T>(leaf(positive), leaf(positive2)), Gamma<T>(leaf(positive2), leaf(positive)));
    case 9:
      return kl_divergence<T>(Exponential<T>(leaf(positive)), Exponential<T>(leaf(positive2)));
    case 10:
      return kl_divergence<T>(Exponential<T>(leaf(positive)), Gamma<T>(leaf(positive2), leaf(positive)));
    case 11:
      return kl_divergence<T>(Gamma<T>(leaf(positive), leaf(positive2)), Exponential<T>(leaf(positive2)));
    case 12:
      return kl_divergence<T>(Beta<T>(leaf(positive), leaf(positive2)), Beta<T>(leaf(positive2), leaf(positive)));
    case 13:
      return kl_divergence<T>(Dirichlet<T>(leaf(A(xt::exp(logits)))), Dirichlet<T>(leaf(A(xt::exp(logits2)))));
    case 14:
      return kl_divergence<T>(Laplace<T>(leaf(mean), leaf(positive)), Laplace<T>(leaf(mean2), leaf(positive2)));
    case 15:
      return kl_divergence<T>(Poisson<T>(leaf(positive)), Poisson<T>::with_log_rate(leaf(logstd2)));
    default:
      return kl_divergence<T>(Uniform<T>(leaf(A{0.1, -1.0}), leaf(A{0.5, 0.2})),
                              Uniform<T>(leaf(A{-0.2, -1.5}), leaf(A{0.7, 1.0})));
  }
}

/// The value and every parameter gradient of pair `which` on a T tape, as doubles.
template <class T>
std::vector<double> kl_registry_value_and_gradients(int which) {
  Tape<T> tape;
  std::vector<Var<T>> leaves;
  auto leaf = [&](const xt::xarray<double>& v) {
    leaves.push_back(tape.variable(xt::xarray<T>(xt::cast<T>(v))));
    return leaves.back();
  };
  const Var<T> kl = sum(kl_registry_pair<T>(which, leaf));
  std::vector<double> out{static_cast<double>(kl.item())};
  tape.backward(kl);
  for (const Var<T>& v : leaves)
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(static_cast<double>(tape.grad_of(v)[i]));
  return out;
}
}  // namespace

TEST_CASE("kl: every built-in pair is registered, and its float value and gradients agree with double",
          "[distributions][kl]") {
  for (int which = 0; which < kKLRegistryPairs; ++which) {
    INFO("pair " << which);
    const std::vector<double> d = kl_registry_value_and_gradients<double>(which);
    const std::vector<double> f = kl_registry_value_and_gradients<float>(which);
    REQUIRE(d.size() == f.size());
    CHECK(d[0] > 0);
    for (std::size_t i = 0; i < d.size(); ++i) {
      INFO("entry " << i << " (0: the KL, then the gradients)");
      CHECK(std::abs(f[i] - d[i]) <= 2e-6 * std::max(1.0, std::abs(d[i])));
    }
  }
}
