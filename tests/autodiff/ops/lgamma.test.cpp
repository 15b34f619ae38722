#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_lgamma(xt::xarray<double> x) {
  for (double& v : x) v = std::lgamma(v);
  return x;
}

struct LgammaKnown {
  double x;
  double value;
};

/// digamma(x), computed independently with mpmath (40 digits) and rounded to double.
constexpr LgammaKnown known_digamma[] = {
    {1.0, -0.5772156649015329},    // -Euler's gamma
    {0.5, -1.9635100260214235},    // -gamma - 2 log 2
    {2.0, 0.42278433509846713},    // 1 - gamma
    {10.0, 2.251752589066721},     // the first argument without a shift
    {9.99, 2.250700372831201},     // the last with nine shifts
    {0.001, -1000.5755719318103},  //
    {1e-8, -100000000.57721564},   //
    {1.5, 0.03648997397857652},    //
    {3.7, 1.1671535393615113},     //
    {30.0, 3.384438132685525},     //
    {100.0, 4.600161852738087},    //
    {123.456, 4.811829323828985},  //
    {1e6, 13.815510057964191},     //
    {-0.5, 0.03648997397857652},   // reflection
    {-2.5, 1.103156640645243},     //
    {-10.3, 4.662403493582097},    //
};
}  // namespace

TEST_CASE("lgamma: value against std::lgamma", "[ops]") {
  Tape<double> tape;
  const std::vector<Shape> shapes{{3, 4}, {2, 3, 2}, {}};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto x = random_array(shapes[i], 0.05, 20.0, static_cast<std::uint32_t>(1 + i));
    const auto y = lgamma(tape.constant(x));
    CHECK(y.shape() == shapes[i]);
    CHECK(std::string(y.op()) == "lgamma");
    require_close(y.value(), reference_lgamma(x));
  }
}

TEST_CASE("lgamma: closed-form values and the poles", "[ops]") {
  Tape<double> tape;
  // lgamma(1) = lgamma(2) = 0, lgamma(1/2) = log sqrt(pi), lgamma(10) = log 9!
  require_close(lgamma(tape.constant(xt::xarray<double>{1.0, 2.0, 0.5, 10.0})).value(),
                xt::xarray<double>{0.0, 0.0, 0.5 * std::log(M_PI), std::log(362880.0)});
  // log|Gamma(-0.5)| = log(2 sqrt(pi)); poles give +inf
  CHECK(lgamma(tape.constant(-0.5)).item() == Approx(std::log(2 * std::sqrt(M_PI))).epsilon(1e-14));
  CHECK(lgamma(tape.constant(0.0)).item() == std::numeric_limits<double>::infinity());
  CHECK(lgamma(tape.constant(-3.0)).item() == std::numeric_limits<double>::infinity());
}

TEST_CASE("lgamma: digamma matches known values to 1e-12", "[ops]") {
  for (const LgammaKnown& k : known_digamma) {
    INFO("digamma(" << k.x << ")");
    const double got = detail::digamma(k.x);
    CHECK(std::abs(got - k.value) <= 1e-12 * std::max(1.0, std::abs(k.value)));
  }
  // Near its positive root x0 = 1.46163214496836..., digamma is accurate in absolute terms.
  CHECK(std::abs(detail::digamma(1.4616321449683623)) < 1e-15);
  // Poles and non-finite arguments.
  CHECK(std::isnan(detail::digamma(0.0)));
  CHECK(std::isnan(detail::digamma(-1.0)));
  CHECK(std::isnan(detail::digamma(-7.0)));
  CHECK(std::isnan(detail::digamma(std::numeric_limits<double>::quiet_NaN())));
  CHECK(std::isnan(detail::digamma(-std::numeric_limits<double>::infinity())));
  CHECK(detail::digamma(std::numeric_limits<double>::infinity()) == std::numeric_limits<double>::infinity());
  // The recurrence psi(x + 1) = psi(x) + 1/x across the shift threshold.
  for (double x : {0.3, 4.5, 9.5, 9.999, 10.0, 17.25}) {
    INFO("x = " << x);
    CHECK(std::abs(detail::digamma(x + 1) - detail::digamma(x) - 1 / x) < 1e-13);
  }
}

TEST_CASE("lgamma: the gradient is digamma", "[ops]") {
  Tape<double> tape;
  xt::xarray<double> x = xt::empty<double>({std::size(known_digamma)});
  xt::xarray<double> expected = xt::empty<double>({std::size(known_digamma)});
  for (std::size_t i = 0; i < std::size(known_digamma); ++i) {
    x(i) = known_digamma[i].x;
    expected(i) = known_digamma[i].value;
  }
  const auto v = tape.variable(x);
  tape.backward(sum(lgamma(v)));
  CHECK(xt::allclose(v.grad(), expected, 1e-12, 1e-12));
}

TEST_CASE("lgamma: gradient by finite differences", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return lgamma(v[0]); }, {random_array({3, 4}, 0.2, 8.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return lgamma(v[0]); }, {random_array({2, 3, 2}, 0.2, 8.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return lgamma(v[0]); }, {random_array({}, 0.2, 8.0, 6)});
  // Large arguments and the same input used twice (gradients accumulate).
  require_gradient([](Tape<double>&, const Vars& v) { return lgamma(v[0]) * v[0]; }, {random_array({5}, 20, 60, 7)});
}

TEST_CASE("lgamma: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, 0.1, 10.0, 8));
  xt::xarray<float> expected = x;
  for (float& v : expected) v = static_cast<float>(std::lgamma(static_cast<double>(v)));
  const auto v = tape.variable(x);
  const auto y = lgamma(v);
  require_close(y.value(), expected, 1e-5);
  tape.backward(sum(y));
  xt::xarray<float> psi = x;
  for (float& p : psi) p = static_cast<float>(detail::digamma(static_cast<double>(p)));
  require_close(v.grad(), psi, 1e-5);
}

TEST_CASE("lgamma: a stale handle throws TapeError naming the op", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, 0.5, 3.0));
  tape.clear();
  REQUIRE_THROWS_AS(lgamma(x), TapeError);
  REQUIRE_THROWS_WITH(lgamma(x), Contains("lgamma: an operand is a stale handle"));
}
