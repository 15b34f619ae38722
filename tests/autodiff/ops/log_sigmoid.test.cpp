#include "support/gradients.hpp"

#include <cmath>
#include <limits>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
xt::xarray<double> reference_log_sigmoid(xt::xarray<double> x) {
  for (double& v : x) v = -std::log1p(std::exp(-v));
  return x;
}
xt::xarray<float> reference_log_sigmoid_float(xt::xarray<float> x) {
  for (float& v : x) v = static_cast<float>(-std::log1p(std::exp(-v)));
  return x;
}
}  // namespace

TEST_CASE("log_sigmoid: value against an independent computation", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4}, -4.0, 4.0, 1);
  const auto y = log_sigmoid(tape.constant(x));
  CHECK(y.shape() == Shape{3, 4});
  CHECK(std::string(y.op()) == "log_sigmoid");
  require_close(y.value(), reference_log_sigmoid(x));
  const auto x3 = random_array({2, 3, 2}, -4.0, 4.0, 2);
  require_close(log_sigmoid(tape.constant(x3)).value(), reference_log_sigmoid(x3));
  const auto s = random_array({}, -4.0, 4.0, 3);
  require_close(log_sigmoid(tape.constant(s)).value(), reference_log_sigmoid(s));
}

TEST_CASE("log_sigmoid: gradient", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return log_sigmoid(v[0]); },
                   {random_array({3, 4}, -4.0, 4.0, 4)});
  require_gradient([](Tape<double>&, const Vars& v) { return log_sigmoid(v[0]); },
                   {random_array({2, 3, 2}, -4.0, 4.0, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return log_sigmoid(v[0]); }, {random_array({}, -4.0, 4.0, 6)});
  // The same input used twice: gradients accumulate.
  require_gradient([](Tape<double>&, const Vars& v) { return log_sigmoid(v[0]) * v[0]; },
                   {random_array({5}, -4.0, 4.0, 7)});
}

TEST_CASE("log_sigmoid: float smoke test", "[ops]") {
  Tape<float> tape;
  const xt::xarray<float> x = xt::cast<float>(random_array({3, 4}, -4.0, 4.0, 8));
  require_close(log_sigmoid(tape.constant(x)).value(), reference_log_sigmoid_float(x), 1e-5);
}

TEST_CASE("log_sigmoid: a stale handle throws TapeError", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(random_array({2}, -4.0, 4.0));
  tape.clear();
  REQUIRE_THROWS_AS(log_sigmoid(x), TapeError);
  REQUIRE_THROWS_WITH(log_sigmoid(x), Contains("stale"));
}

TEST_CASE("log_sigmoid: closed-form values, stability for large |x| and gradient", "[ops]") {
  Tape<double> tape;
  const auto y = log_sigmoid(tape.constant(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0}));
  require_close(y.value(), xt::xarray<double>{-std::log(2.0), std::log(0.75), 0.0, -1000.0}, 1e-14);
  const auto x = tape.variable(xt::xarray<double>{0.0, std::log(3.0), 1000.0, -1000.0});
  tape.backward(sum(log_sigmoid(x)));
  require_close(x.grad(), xt::xarray<double>{0.5, 0.25, 0.0, 1.0});
  // log sigmoid(x) = -softplus(-x)
  const auto z = random_array({6}, -5, 5, 21);
  require_close(log_sigmoid(tape.constant(z)).value(), xt::xarray<double>(-softplus(-tape.constant(z)).value()), 1e-14);
  require_gradient([](Tape<double>&, const Vars& v) { return log_sigmoid(v[0]); },
                   {xt::xarray<double>{-30.0, 30.0, 1e-3}});
}
