#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
struct Known {
  double x;
  double value;
};

/// trigamma(x) = psi'(x), computed independently with mpmath (40 digits) and rounded to double.
constexpr Known known_trigamma[] = {
    {1.0, 1.6449340668482264},      // pi^2 / 6
    {0.5, 4.934802200544679},       // pi^2 / 2
    {2.0, 0.6449340668482264},      // pi^2 / 6 - 1
    {10.0, 0.10516633568168575},    // the first argument without a shift
    {9.99, 0.10527695014824179},    // the last with nine shifts
    {0.001, 1000001.6425331959},    //
    {1.5, 0.9348022005446793},      //
    {3.7, 0.31003785767003833},     //
    {30.0, 0.033895060357739946},   //
    {100.0, 0.010050166663333571},  //
    {1e6, 1.0000005000001667e-06},  //
    {-0.5, 8.934802200544679},      // reflection
    {-2.5, 9.539246644989124},      //
    {-10.3, 14.986887065722687},    //
};

xt::xarray<double> reference_digamma(xt::xarray<double> x) {
  for (double& v : x) v = detail::digamma(v);
  return x;
}
}  // namespace

TEST_CASE("digamma: value against the scalar digamma and known values", "[ops]") {
  Tape<double> tape;
  const std::vector<Shape> shapes{{3, 4}, {2, 3, 2}, {}};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto x = random_array(shapes[i], 0.05, 20.0, static_cast<std::uint32_t>(11 + i));
    const auto y = digamma(tape.constant(x));
    CHECK(y.shape() == shapes[i]);
    CHECK(std::string(y.op()) == "digamma");
    require_close(y.value(), reference_digamma(x));
  }
  // mpmath: digamma(1) = -0.5772156649015329, digamma(0.5) = -1.9635100260214235,
  // digamma(2) = 0.42278433509846713, digamma(30) = 3.384438132685525
  CHECK(
      xt::allclose(digamma(tape.constant(xt::xarray<double>{1.0, 0.5, 2.0, 30.0})).value(),
                   xt::xarray<double>{-0.5772156649015329, -1.9635100260214235, 0.42278433509846713, 3.384438132685525},
                   1e-12, 1e-12));
  CHECK(std::isnan(digamma(tape.constant(0.0)).item()));
}

TEST_CASE("digamma: trigamma matches known values to 1e-12", "[ops]") {
  for (const Known& k : known_trigamma) {
    INFO("trigamma(" << k.x << ")");
    CHECK(std::abs(detail::trigamma(k.x) - k.value) <= 1e-12 * std::abs(k.value));
  }
  CHECK(std::isnan(detail::trigamma(0.0)));
  CHECK(std::isnan(detail::trigamma(-4.0)));
  CHECK(std::isnan(detail::trigamma(std::numeric_limits<double>::quiet_NaN())));
  CHECK(detail::trigamma(std::numeric_limits<double>::infinity()) == 0.0);
  // The recurrence psi'(x) = psi'(x + 1) + 1/x^2 across the shift threshold.
  for (double x : {0.3, 4.5, 9.5, 9.999, 10.0, 17.25}) {
    INFO("x = " << x);
    CHECK(std::abs(detail::trigamma(x) - detail::trigamma(x + 1) - 1 / (x * x)) < 1e-13);
  }
}

TEST_CASE("digamma: the gradient is trigamma, and matches finite differences", "[ops]") {
  Tape<double> tape;
  xt::xarray<double> x = xt::empty<double>({std::size(known_trigamma)});
  xt::xarray<double> expected = xt::empty<double>({std::size(known_trigamma)});
  for (std::size_t i = 0; i < std::size(known_trigamma); ++i) {
    x(i) = known_trigamma[i].x;
    expected(i) = known_trigamma[i].value;
  }
  const auto v = tape.variable(x);
  tape.backward(sum(digamma(v)));
  CHECK(xt::allclose(v.grad(), expected, 1e-12, 0));

  require_gradient([](Tape<double>&, const Vars& w) { return digamma(w[0]); }, {random_array({3, 4}, 0.3, 8.0, 14)});
  require_gradient([](Tape<double>&, const Vars& w) { return digamma(w[0]); }, {random_array({}, 0.3, 8.0, 15)});
  require_gradient([](Tape<double>&, const Vars& w) { return digamma(w[0]) * w[0]; }, {random_array({5}, 0.5, 40, 16)});
}

TEST_CASE("digamma: float smoke test and a stale handle", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, 0.1, 10.0, 17));
  xt::xarray<float> expected = x;
  for (float& e : expected) e = static_cast<float>(detail::digamma(static_cast<double>(e)));
  require_close(digamma(tape.constant(x)).value(), expected, 1e-5);

  Tape<double> t2;
  const auto stale = t2.variable(random_array({2}, 0.5, 3.0));
  t2.clear();
  REQUIRE_THROWS_AS(digamma(stale), TapeError);
  REQUIRE_THROWS_WITH(digamma(stale), Contains("digamma: an operand is a stale handle"));
}
