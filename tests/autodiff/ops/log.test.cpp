#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_log(xt::xarray<double> x) {
  for (double& v : x) v = std::log(v);
  return x;
}
xt::xarray<float> reference_log_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(std::log(v));
  return x;
}
}  // namespace

TEST_CASE("log: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, 0.5, 3.0, 1);
  const auto y = log(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "log");
  require_close(y.value(), reference_log(x));
  const auto x3 = random_array({2, 3, 2}, 0.5, 3.0, 2);
  require_close(log(tape.constant(x3)).value(), reference_log(x3));
  const auto s = random_array({}, 0.5, 3.0, 3);
  require_close(log(tape.constant(s)).value(), reference_log(s));
}

TEST_CASE("log: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return log(v[0]); }, {random_array({3, 4}, 0.5, 3.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return log(v[0]); }, {random_array({2, 3, 2}, 0.5, 3.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return log(v[0]); }, {random_array({}, 0.5, 3.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return log(v[0]) * v[0]; }, {random_array({5}, 0.5, 3.0, 7)});
}

TEST_CASE("log: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, 0.5, 3.0, 8));
  require_close(log(tape.constant(x)).value(), reference_log_float(x), 1e-5);
}

TEST_CASE("log: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, 0.5, 3.0));
  tape.clear();
  REQUIRE_THROWS_AS(log(x), TapeError);
  REQUIRE_THROWS_WITH(log(x), Contains("stale"));
}

TEST_CASE("log: closed-form values and the domain edges", "[ops]") {
  Tape<double> tape;
  const double e = std::exp(1.0);
  require_close(log(tape.constant(xt::xarray<double>{1.0, e, e * e, 0.5})).value(),
                xt::xarray<double>{0.0, 1.0, 2.0, -std::log(2.0)});
  const auto y = log(tape.constant(xt::xarray<double>{0.0, -1.0}));
  CHECK(y.value()(0) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(y.value()(1)));
  // d log x / dx = 1 / x
  const auto x = tape.variable(xt::xarray<double>{0.5, 2.0, 4.0});
  tape.backward(sum(log(x)));
  require_close(x.grad(), xt::xarray<double>{2.0, 0.5, 0.25});
}
