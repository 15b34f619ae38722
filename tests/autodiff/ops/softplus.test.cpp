#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_softplus(xt::xarray<double> x) {
  for (double& v : x) v = std::log1p(std::exp(v));
  return x;
}
xt::xarray<float> reference_softplus_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(std::log1p(std::exp(v)));
  return x;
}
}  // namespace

TEST_CASE("softplus: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -4.0, 4.0, 1);
  const auto y = softplus(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "softplus");
  require_close(y.value(), reference_softplus(x));
  const auto x3 = random_array({2, 3, 2}, -4.0, 4.0, 2);
  require_close(softplus(tape.constant(x3)).value(), reference_softplus(x3));
  const auto s = random_array({}, -4.0, 4.0, 3);
  require_close(softplus(tape.constant(s)).value(), reference_softplus(s));
}

TEST_CASE("softplus: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return softplus(v[0]); }, {random_array({3, 4}, -4.0, 4.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return softplus(v[0]); },
                   {random_array({2, 3, 2}, -4.0, 4.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return softplus(v[0]); }, {random_array({}, -4.0, 4.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return softplus(v[0]) * v[0]; },
                   {random_array({5}, -4.0, 4.0, 7)});
}

TEST_CASE("softplus: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -4.0, 4.0, 8));
  require_close(softplus(tape.constant(x)).value(), reference_softplus_float(x), 1e-5);
}

TEST_CASE("softplus: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -4.0, 4.0));
  tape.clear();
  REQUIRE_THROWS_AS(softplus(x), TapeError);
  REQUIRE_THROWS_WITH(softplus(x), Contains("stale"));
}

TEST_CASE("softplus: closed-form values, stability for large |x| and gradient", "[ops]") {
  Tape<double> tape;
  const auto y = softplus(tape.constant(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0, 40.0}));
  require_close(y.value(), xt::xarray<double>{std::log(2.0), std::log(4.0), 1000.0, 0.0, 40.0 + std::exp(-40.0)},
                1e-14);
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0});
  tape.backward(sum(softplus(x)));
  require_close(x.grad(), xt::xarray<double>{0.5, 0.75, 1.0, 0.0});
  require_gradient([](Tape<double>&, const Vars& v) { return softplus(v[0]); },
                   {xt::xarray<double>{-30.0, 30.0, 1e-3}});
}
