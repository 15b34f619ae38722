#include <cmath>
#include <limits>

#include "reference/ops_reference.hpp"
#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
template <class T>
void check_log_diff_exp_reference() {
  INFO((std::is_same_v<T, float> ? "float" : "double"));
  const auto& cases = ops_reference::log_diff_exp_cases;
  const std::size_t n = std::size(cases);
  Tape<T> tape;
  xt::xarray<T> a = xt::empty<T>({n}), b = xt::empty<T>({n});
  for (std::size_t i = 0; i < n; ++i) {
    a(i) = static_cast<T>(cases[i].a);
    b(i) = static_cast<T>(cases[i].b);
  }
  const auto va = tape.variable(a);
  const auto vb = tape.variable(b);
  const auto y = log_diff_exp(va, vb);
  tape.backward(sum(y));
  // float loses relative accuracy to the rounding of a - b where b is close to a (up to
  // |a| eps / (a - b) in the derivatives): 1e4 - 0.01 keeps 1e-4 of its digits.
  const double tolerance = std::is_same_v<T, float> ? 2e-6 : 1e-12;
  for (std::size_t i = 0; i < n; ++i) {
    INFO("a = " << cases[i].a << ", b = " << cases[i].b);
    CHECK(ops_reference::close_to_reference<T>(y.value()(i), cases[i].value, tolerance));
    CHECK(ops_reference::close_to_reference<T>(va.grad()(i), cases[i].d_a, tolerance));
    CHECK(ops_reference::close_to_reference<T>(vb.grad()(i), cases[i].d_b, tolerance));
  }
}
}  // namespace

TEST_CASE("log_diff_exp: value and gradients against mpmath, double and float", "[ops]") {
  check_log_diff_exp_reference<double>();
  check_log_diff_exp_reference<float>();
}

TEST_CASE("log_diff_exp: gradient by finite differences, with broadcasting", "[ops]") {
  const auto a = random_array({3, 4}, 0.0, 2.0, 71);
  const auto gap = random_array({3, 4}, 0.05, 3.0, 72);
  require_gradient([](Tape<double>&, const Vars& v) { return log_diff_exp(v[0], v[0] - v[1]); }, {a, gap});
  // b broadcast along rows, a a scalar; both branches of log(1 - exp(-d)) (d below and above log 2).
  require_gradient([](Tape<double>&, const Vars& v) { return log_diff_exp(v[0], v[1]); },
                   {xt::xarray<double>(3.0), random_array({2, 3}, -1.0, 2.9, 73)});
  require_gradient([](Tape<double>&, const Vars& v) { return log_diff_exp(v[0], v[1]); },
                   {random_array({2, 3}, 3.0, 4.0, 74), random_array({3}, -2.0, 2.9, 75)});
}

TEST_CASE("log_diff_exp: a == b gives -inf, b = -inf gives a, a < b gives NaN", "[ops]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{1.5, 2.0, -inf, inf, 0.0, 1000.0});
  const auto b = tape.variable(xt::xarray<double>{1.5, -inf, -inf, 0.0, 1.0, 0.0});
  const auto y = log_diff_exp(a, b);
  const auto v = y.value();
  CHECK(v(0) == -inf);
  CHECK(v(1) == 2.0);
  CHECK(v(2) == -inf);
  CHECK(v(3) == inf);
  CHECK(std::isnan(v(4)));
  CHECK(v(5) == 1000.0);
  tape.backward(sum(y));
  CHECK(a.grad()(0) == inf);
  CHECK(b.grad()(0) == -inf);
  CHECK(a.grad()(1) == 1.0);
  CHECK(b.grad()(1) == 0.0);
  CHECK(a.grad()(2) == 1.0);  // b = -inf: y = a whatever a is
  CHECK(b.grad()(2) == 0.0);
  CHECK(a.grad()(5) == 1.0);
  CHECK(b.grad()(5) == Approx(-std::exp(-1000.0)).margin(1e-300));
  // Where exp(a) overflows and where it underflows the difference is still right.
  CHECK(log_diff_exp(tape.constant(1000.0), tape.constant(999.0)).item() ==
        Approx(1000.0 + std::log1p(-std::exp(-1.0))).epsilon(1e-15));
  CHECK(log_diff_exp(tape.constant(-1000.0), tape.constant(-1001.0)).item() ==
        Approx(-1000.0 + std::log1p(-std::exp(-1.0))).epsilon(1e-15));
}

TEST_CASE("log_diff_exp: operands that do not broadcast are refused, naming the op", "[ops]") {
  Tape<double> tape;
  REQUIRE_THROWS_AS(log_diff_exp(tape.constant(random_array({2, 3})), tape.constant(random_array({4}))), ShapeError);
  REQUIRE_THROWS_WITH(log_diff_exp(tape.constant(random_array({2, 3})), tape.constant(random_array({4}))),
                      Contains("log_diff_exp"));
}
