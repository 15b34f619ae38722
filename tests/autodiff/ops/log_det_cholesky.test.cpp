#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("log_det_cholesky: 2 sum log diag, per batch element, the rest of L unread", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> l{{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}};  // L L^T has determinant 36
  const auto y = log_det_cholesky(tape.constant(l));
  CHECK(std::string(y.op()) == "log_det_cholesky");
  CHECK(y.shape() == Shape{});
  CHECK(y.item() == Approx(std::log(36.0)).epsilon(1e-15));

  xt::xarray<double> batch = random_array({2, 3, 2, 2}, -1, 1, 1);
  xt::xarray<double> expected = xt::empty<double>({2, 3});
  for (std::size_t q = 0; q < 6; ++q) {
    batch.data()[q * 4] = 0.5 + static_cast<double>(q);
    batch.data()[q * 4 + 3] = 2.0;
    expected.data()[q] = 2 * (std::log(0.5 + static_cast<double>(q)) + std::log(2.0));
  }
  require_close(log_det_cholesky(tape.constant(batch)).value(), expected, 1e-14);
  // A non-positive diagonal: -inf for a zero, NaN for a negative entry.
  CHECK(log_det_cholesky(tape.constant(xt::xarray<double>{{0.0, 0.0}, {1.0, 1.0}})).item() ==
        -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(log_det_cholesky(tape.constant(xt::xarray<double>{{-1.0, 0.0}, {1.0, 1.0}})).item()));
}

TEST_CASE("log_det_cholesky: gradient by finite differences; float", "[ops]") {
  const auto positive_diagonal = [](xt::xarray<double> l) {
    const std::size_t n = l.shape().back();
    for (std::size_t i = 0; i < l.size(); ++i)
      if ((i / n) % n == i % n) l.data()[i] = 0.5 + std::abs(l.data()[i]);
    return l;
  };
  require_gradient([](Tape<double>&, const Vars& v) { return log_det_cholesky(v[0]); },
                   {positive_diagonal(random_array({3, 3}, -1, 1, 2))});
  require_gradient([](Tape<double>&, const Vars& v) { return log_det_cholesky(v[0]) * sum(v[0]); },
                   {positive_diagonal(random_array({2, 4, 4}, -1, 1, 3))});

  Tape<float> tape;
  const auto l = tape.variable(xt::xarray<float>{{2.0f, 0.0f}, {7.0f, 0.25f}});
  const auto y = log_det_cholesky(l);
  CHECK(y.item() == Approx(2 * std::log(0.5)).epsilon(1e-6));
  tape.backward(y);
  require_close(l.grad(), xt::xarray<float>{{1.0f, 0.0f}, {0.0f, 8.0f}}, 1e-6);
}

TEST_CASE("log_det_cholesky: shapes other than [..., n, n] are refused", "[ops]") {
  Tape<double> tape;
  REQUIRE_THROWS_AS(log_det_cholesky(tape.constant(random_array({2, 3}))), ShapeError);
  REQUIRE_THROWS_WITH(log_det_cholesky(tape.constant(random_array({4}))),
                      "log_det_cholesky: l has shape [4] (expected a square Cholesky factor [..., n, n])");
  const auto x = tape.variable(random_array({2, 2}, 1, 2));
  tape.clear();
  REQUIRE_THROWS_WITH(log_det_cholesky(x), Contains("log_det_cholesky: an operand is a stale handle"));
}
