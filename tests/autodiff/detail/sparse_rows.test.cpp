#include "support/gradients.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace vaelib;
using vaelib::detail::SparseRows;

namespace {

/// rows x cols values, each nonzero with probability `density` (values in [-2, 2), or 1 for a
/// binary matrix).
template <class T>
std::vector<T> sparse_matrix(std::size_t rows, std::size_t cols, double density, bool binary, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1), v(-2, 2);
  std::vector<T> x(rows * cols, T(0));
  for (T& e : x)
    if (u(rng) < density) e = binary ? T(1) : static_cast<T>(v(rng));
  return x;
}

template <class T>
std::vector<T> dense_matrix(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> v(-1, 1);
  std::vector<T> a(n);
  for (T& e : a) e = static_cast<T>(v(rng));
  return a;
}

/// Reference products in double: y + X W, and X^T G (+ dW).
std::vector<double> reference_times(const auto& x, const auto& w, const auto& y, std::size_t rows, std::size_t cols,
                                    std::size_t out) {
  std::vector<double> r(y.begin(), y.end());
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      for (std::size_t c = 0; c < out; ++c) r[i * out + c] += double(x[i * cols + j]) * double(w[j * out + c]);
  return r;
}
std::vector<double> reference_transpose_times(const auto& x, const auto& g, const auto& dw, std::size_t rows,
                                              std::size_t cols, std::size_t out) {
  std::vector<double> r(dw.begin(), dw.end());
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      for (std::size_t c = 0; c < out; ++c) r[j * out + c] += double(x[i * cols + j]) * double(g[i * out + c]);
  return r;
}

template <class T>
void require_close_to(const std::vector<T>& actual, const std::vector<double>& expected, double tolerance) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::abs(double(actual[i]) - expected[i]) <= tolerance * (1 + std::abs(expected[i])));
  }
}

template <class T>
void check_products(std::size_t rows, std::size_t cols, std::size_t out, double density, bool binary) {
  INFO("rows " << rows << ", cols " << cols << ", out " << out << ", density " << density);
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const std::vector<T> x = sparse_matrix<T>(rows, cols, density, binary, 3);
  const std::vector<T> w = dense_matrix<T>(cols * out, 4), g = dense_matrix<T>(rows * out, 5);
  SparseRows<T> s;
  REQUIRE(s.assign(x.data(), rows, cols, 0.5));
  std::size_t nonzeros = 0;
  for (T e : x) nonzeros += e != T(0);
  CHECK(s.nonzeros() == nonzeros);

  std::vector<T> y = dense_matrix<T>(rows * out, 6);
  const std::vector<double> y_expected = reference_times(x, w, y, rows, cols, out);
  s.times(w.data(), out, y.data());
  require_close_to(y, y_expected, tolerance);

  std::vector<T> dw(cols * out, T(7));  // overwritten without accumulate
  s.transpose_times(g.data(), out, false, dw.data());
  require_close_to(dw, reference_transpose_times(x, g, std::vector<double>(cols * out, 0.0), rows, cols, out), tolerance);
  std::vector<T> acc = dense_matrix<T>(cols * out, 8);
  const std::vector<double> acc_expected = reference_transpose_times(x, g, acc, rows, cols, out);
  s.transpose_times(g.data(), out, true, acc.data());
  require_close_to(acc, acc_expected, tolerance);
}

}  // namespace

TEST_CASE("sparse_rows: both products equal dense loops, across register blocks and tails", "[sparse_rows]") {
  if (!VAELIB_SIMD) return;  // without xsimd assign() declines (tested below)
  // out covers: below one register, whole registers, a whole block, blocks and a tail
  for (std::size_t out : {1, 3, 8, 9, 17, 64, 65, 130, 500}) {
    check_products<float>(13, 37, out, 0.2, false);
    check_products<double>(13, 37, out, 0.2, false);
  }
  check_products<float>(128, 784, 500, 0.13, true);  // a binarised MNIST batch into 500 units
  check_products<float>(5, 20, 40, 0.0, false);       // all zeros
}

TEST_CASE("sparse_rows: results do not depend on the number of threads", "[sparse_rows]") {
  if (!VAELIB_SIMD) return;
  const std::size_t rows = 96, cols = 300, out = 700;
  const std::vector<float> x = sparse_matrix<float>(rows, cols, 0.15, false, 11);
  const std::vector<float> w = dense_matrix<float>(cols * out, 12), g = dense_matrix<float>(rows * out, 13);
  const auto run = [&](bool serial) {
    std::vector<float> y(rows * out, 0.5f), dw(cols * out);
    SparseRows<float> s;
    std::optional<detail::SerialRegion> region;
    if (serial) region.emplace();
    REQUIRE(s.assign(x.data(), rows, cols, 0.3));
    s.times(w.data(), out, y.data());
    s.transpose_times(g.data(), out, false, dw.data());
    return std::make_pair(y, dw);
  };
  CHECK(run(true) == run(false));
}

TEST_CASE("sparse_rows: assign takes a matrix only when it is sparse enough", "[sparse_rows]") {
  SparseRows<float> s;
  const std::vector<float> sparse = sparse_matrix<float>(40, 50, 0.1, false, 21);
  const std::vector<float> dense = sparse_matrix<float>(40, 50, 0.6, false, 22);
  CHECK(s.assign(sparse.data(), 40, 50, 0.3) == bool(VAELIB_SIMD));
  CHECK_FALSE(s.assign(dense.data(), 40, 50, 0.3));
  CHECK(s.rows() == 0);
  CHECK_FALSE(s.assign(sparse.data(), 40, 50, 0.0));  // 0 turns it off
  // zero first rows (the first look) but dense below them: the full count turns it away
  std::vector<float> late(40 * 50, 0.0f);
  std::fill(late.begin() + 8 * 50, late.end(), 1.0f);
  CHECK_FALSE(s.assign(late.data(), 40, 50, 0.3));
  if (!VAELIB_SIMD) return;
  // a NaN is a nonzero: it reaches the product as a GEMM would carry it
  std::vector<float> with_nan(40 * 50, 0.0f);
  with_nan[3 * 50 + 7] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE(s.assign(with_nan.data(), 40, 50, 0.3));
  CHECK(s.nonzeros() == 1);
  std::vector<float> w(50 * 2, 1.0f), y(40 * 2, 0.0f);
  s.times(w.data(), 2, y.data());
  CHECK(std::isnan(y[3 * 2]));
  CHECK(y[4 * 2] == 0.0f);
}
