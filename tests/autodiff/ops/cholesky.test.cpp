#include <cmath>
#include <limits>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// Symmetric positive-definite matrices [..., n, n]: B B^T / n + I per batch element.
xt::xarray<double> cholesky_random_spd(const Shape& shape, std::uint32_t seed) {
  const std::size_t n = shape.back();
  const auto b = random_array(shape, -1.0, 1.0, seed);
  xt::xarray<double> a = xt::zeros<double>(shape);
  for (std::size_t q = 0; q < a.size() / (n * n); ++q)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double s = i == j ? 1.0 : 0.0;
        for (std::size_t k = 0; k < n; ++k) s += b.data()[q * n * n + i * n + k] * b.data()[q * n * n + j * n + k] / n;
        a.data()[q * n * n + i * n + j] = s;
      }
  return a;
}

/// L L^T of every [n, n] block.
xt::xarray<double> cholesky_product(const xt::xarray<double>& l) {
  const std::size_t n = l.shape().back();
  xt::xarray<double> a = xt::zeros<double>(l.shape());
  for (std::size_t q = 0; q < l.size() / (n * n); ++q)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        for (std::size_t k = 0; k < n; ++k)
          a.data()[q * n * n + i * n + j] += l.data()[q * n * n + i * n + k] * l.data()[q * n * n + j * n + k];
  return a;
}
}  // namespace

TEST_CASE("cholesky: a known factor, L L^T = A, lower-triangular with a positive diagonal", "[ops]") {
  Tape<double> tape;
  const xt::xarray<double> a{{4, 12, -16}, {12, 37, -43}, {-16, -43, 98}};
  const auto l = cholesky(tape.constant(a));
  CHECK(std::string(l.op()) == "cholesky");
  require_close(l.value(), xt::xarray<double>{{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}}, 1e-15);

  for (const Shape& shape : {Shape{1, 1}, Shape{5, 5}, Shape{2, 3, 4, 4}}) {
    const auto spd = cholesky_random_spd(shape, 3);
    const xt::xarray<double> lv = cholesky(tape.constant(spd)).value();
    CHECK(lv.shape() == spd.shape());
    require_close(cholesky_product(lv), spd, 1e-13);
    const std::size_t n = shape.back();
    for (std::size_t i = 0; i < lv.size(); ++i) {
      const std::size_t r = (i / n) % n, c = i % n;
      if (c > r) CHECK(lv.data()[i] == 0.0);
      if (c == r) CHECK(lv.data()[i] > 0.0);
    }
  }
  // Only the lower triangle is read: garbage above the diagonal changes nothing.
  xt::xarray<double> lower_only = a;
  lower_only(0, 1) = 1e30;
  lower_only(1, 2) = std::numeric_limits<double>::quiet_NaN();
  require_close(cholesky(tape.constant(lower_only)).value(), xt::xarray<double>{{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}},
                1e-15);
}

TEST_CASE("cholesky: gradient by finite differences, single and batched", "[ops]") {
  require_gradient([](Tape<double>&, const Vars& v) { return cholesky(v[0]); }, {cholesky_random_spd({4, 4}, 5)});
  require_gradient([](Tape<double>&, const Vars& v) { return cholesky(v[0]); }, {cholesky_random_spd({2, 3, 3}, 6)});
  require_gradient([](Tape<double>&, const Vars& v) { return cholesky(v[0]); }, {cholesky_random_spd({1, 1}, 7)});
  // Through a symmetric A built from B: both triangles of A B B^T + I depend on B.
  require_gradient(
      [](Tape<double>& t, const Vars& v) {
        return cholesky(matmul(v[0], v[0], {.transpose_b = true}) + t.constant(xt::xarray<double>(xt::eye(3))));
      },
      {random_array({3, 3}, -1, 1, 8)});
  // The factor used twice downstream: gradients accumulate.
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        const auto l = cholesky(v[0]);
        return l * l;
      },
      {cholesky_random_spd({3, 3}, 9)});
}

TEST_CASE("cholesky: the gradient of log det A through the factor is A^{-1}", "[ops]") {
  // d log det A / dA = A^{-1}; reading the lower triangle, entry (i, j), i > j, stands for
  // both (i, j) and (j, i): 2 A^{-1}_ij.
  Tape<double> tape;
  const xt::xarray<double> a{{4, 12, -16}, {12, 37, -43}, {-16, -43, 98}};
  // A^{-1} = L^{-T} L^{-1}, L^{-1} = [[1/2, 0, 0], [-3, 1, 0], [19/3, -5/3, 1/3]] (checked: A A^{-1} = I).
  const xt::xarray<double> inverse{
      {1777.0 / 36, -122.0 / 9, 19.0 / 9}, {-122.0 / 9, 34.0 / 9, -5.0 / 9}, {19.0 / 9, -5.0 / 9, 1.0 / 9}};
  xt::xarray<double> identity = xt::zeros<double>({3, 3});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 3; ++k) identity(i, j) += a(i, k) * inverse(k, j);
  require_close(identity, xt::xarray<double>(xt::eye(3)), 1e-12);
  const auto v = tape.variable(a);
  const auto log_det = log_det_cholesky(cholesky(v));
  CHECK(log_det.item() == Approx(std::log(36.0)).epsilon(1e-15));
  tape.backward(log_det);
  xt::xarray<double> expected = xt::zeros<double>({3, 3});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j <= i; ++j) expected(i, j) = i == j ? inverse(i, i) : 2 * inverse(i, j);
  require_close(v.grad(), expected, 1e-11);
}

TEST_CASE("cholesky: float values and gradients match double", "[ops]") {
  const auto spd = cholesky_random_spd({2, 4, 4}, 10);
  const xt::xarray<double> weights = random_array({2, 4, 4}, -1, 1, 13);
  Tape<float> tf;
  const auto af = tf.variable(xt::xarray<float>(xt::cast<float>(spd)));
  const auto lf = cholesky(af);
  tf.backward(sum(lf * tf.constant(xt::xarray<float>(xt::cast<float>(weights)))));
  Tape<double> td;
  const auto ad = td.variable(spd);
  const auto ld = cholesky(ad);
  td.backward(sum(ld * td.constant(weights)));
  require_close(xt::xarray<double>(xt::cast<double>(lf.value())), xt::xarray<double>(ld.value()), 1e-5);
  require_close(xt::xarray<double>(xt::cast<double>(af.grad())), xt::xarray<double>(ad.grad()), 1e-4);
}

TEST_CASE("cholesky: a matrix that is not positive definite is refused, naming the pivot", "[ops]") {
  Tape<double> tape;
  REQUIRE_THROWS_AS(cholesky(tape.constant(xt::xarray<double>{{1, 2}, {2, 1}})), ArgumentError);
  REQUIRE_THROWS_WITH(cholesky(tape.constant(xt::xarray<double>{{1, 2}, {2, 1}})),
                      "cholesky: a of shape [2, 2] is not positive definite: pivot 1 (a[1, 1] less the squares before "
                      "it) is -3 (expected a finite value > 0)");
  xt::xarray<double> batch = cholesky_random_spd({3, 2, 2}, 11);
  batch(2, 0, 0) = 0.0;
  REQUIRE_THROWS_WITH(cholesky(tape.constant(batch)),
                      Contains("not positive definite at batch element 2: pivot 0 (a[0, 0] less the squares before it) "
                               "is 0"));
  batch(2, 0, 0) = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_WITH(cholesky(tape.constant(batch)), Contains("pivot 0 (a[0, 0] less the squares before it) is nan"));
  batch(2, 0, 0) = 1.0;
  batch(2, 1, 1) = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(cholesky(tape.constant(batch)), Contains("at batch element 2: pivot 1"));
}

TEST_CASE("cholesky: shapes other than [..., n, n] and stale handles are refused", "[ops]") {
  Tape<double> tape;
  REQUIRE_THROWS_AS(cholesky(tape.constant(random_array({2, 3}))), ShapeError);
  REQUIRE_THROWS_WITH(cholesky(tape.constant(random_array({2, 3}))),
                      "cholesky: a has shape [2, 3] (expected a square matrix [..., n, n])");
  REQUIRE_THROWS_AS(cholesky(tape.constant(random_array({3}))), ShapeError);
  const auto x = tape.variable(cholesky_random_spd({2, 2}, 12));
  tape.clear();
  REQUIRE_THROWS_WITH(cholesky(x), Contains("cholesky: an operand is a stale handle"));
}
