#include <cmath>

#include "support/gradients.hpp"
#include "support/statistics.hpp"
#include "reference/distributions_reference.hpp"

using namespace vaelib;
using namespace vaelib::testing;
namespace dist_reference = vaelib::testing::distributions_reference;
using Catch::Matchers::Contains;

TEST_CASE("kl: Normal-Normal matches the closed form and a Monte Carlo estimate", "[distributions]") {
  Tape<double> tape;
  const auto p = Normal<double>::with_std(tape.constant(xt::xarray<double>{0.5, -1.0}),
                                          tape.constant(xt::xarray<double>{0.8, 1.5}), {.group_ndims = 1});
  const auto q = Normal<double>::with_logstd(tape.constant(xt::xarray<double>{0.0, 0.0}), tape.constant(0.0),
                                             {.group_ndims = 1});
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
  require_gradient([](Tape<double>&, const Vars& v) { return kl_divergence<double>(Bernoulli<double>(v[0]), Bernoulli<double>(v[1])); },
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
  dist_reference::require_reference_values<T>(dist_reference::kKLNormal, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    const auto p = Normal<T>::with_logstd(tape.constant(T(c.p[0])), tape.constant(T(c.p[1])));
    const auto q = Normal<T>::with_logstd(tape.constant(T(c.p[2])), tape.constant(T(c.x)));
    return kl_divergence<T>(p, q).item();
  });
  dist_reference::require_reference_values<T>(dist_reference::kKLBernoulli, [](Tape<T>& tape, const dist_reference::ScalarCase& c) {
    return kl_divergence<T>(Bernoulli<T>(tape.constant(T(c.p[0]))), Bernoulli<T>(tape.constant(T(c.x)))).item();
  });
}
