#include "support/gradients.hpp"
#include "vaelib/detail/blas.hpp"

using namespace vaelib;

namespace {
xt::xarray<double> naive(const xt::xarray<double>& a, const xt::xarray<double>& b) {
  xt::xarray<double> c = xt::zeros<double>({a.shape(0), b.shape(1)});
  for (std::size_t i = 0; i < a.shape(0); ++i)
    for (std::size_t j = 0; j < b.shape(1); ++j)
      for (std::size_t k = 0; k < a.shape(1); ++k) c(i, j) += a(i, k) * b(k, j);
  return c;
}
}  // namespace

TEST_CASE("blas: gemm_stored with every transpose flag and beta", "[detail]") {
  const auto a = testing::random_array({3, 5}, -1, 1, 1);  // op(A) = [3, 5]
  const auto b = testing::random_array({5, 4}, -1, 1, 2);  // op(B) = [5, 4]
  const xt::xarray<double> at = xt::transpose(a), bt = xt::transpose(b);
  const xt::xarray<double> expected = naive(a, b);
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      xt::xarray<double> c = xt::ones<double>({3, 4});
      detail::gemm_stored(ta, tb, 3, 4, 5, (ta ? at : a).data(), (tb ? bt : b).data(), 1.0, c.data());
      CHECK(xt::allclose(c, expected + 1.0));
      detail::gemm_stored(ta, tb, 3, 4, 5, (ta ? at : a).data(), (tb ? bt : b).data(), 0.0, c.data());
      CHECK(xt::allclose(c, expected));
    }
  }
}

TEST_CASE("blas: a one-column or one-row product (the GEMV route) with every transpose flag and beta",
          "[detail]") {
  // m x k times k x n for (m, n) = (7, 1), (1, 6), (1, 1): X beta, a row times a matrix, a dot product
  for (const auto& [m, n] : {std::pair<std::size_t, std::size_t>{7, 1}, {1, 6}, {1, 1}}) {
    const std::size_t k = 5;
    const auto a = testing::random_array({m, k}, -1, 1, 3);
    const auto b = testing::random_array({k, n}, -1, 1, 4);
    const xt::xarray<double> at = xt::transpose(a), bt = xt::transpose(b);
    const xt::xarray<double> expected = naive(a, b);
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        CAPTURE(m, n, ta, tb);
        xt::xarray<double> c = xt::ones<double>({m, n});
        detail::gemm_stored(ta, tb, m, n, k, (ta ? at : a).data(), (tb ? bt : b).data(), 1.0, c.data());
        CHECK(xt::allclose(c, expected + 1.0));
        c.fill(std::numeric_limits<double>::quiet_NaN());  // beta = 0 must not read C
        detail::gemm_stored(ta, tb, m, n, k, (ta ? at : a).data(), (tb ? bt : b).data(), 0.0, c.data());
        CHECK(xt::allclose(c, expected));
        const xt::xarray<float> af = a, bf = b, atf = at, btf = bt;
        xt::xarray<float> cf = xt::zeros<float>({m, n});
        cf.fill(std::numeric_limits<float>::quiet_NaN());
        detail::gemm_stored(ta, tb, m, n, k, (ta ? atf : af).data(), (tb ? btf : bf).data(), 0.0f, cf.data());
        CHECK(xt::allclose(xt::xarray<double>(cf), expected, 1e-5, 1e-6));
      }
    }
  }
}

TEST_CASE("blas: an empty inner dimension gives beta * C", "[detail]") {
  xt::xarray<float> c = {{1.0f, 2.0f}};
  detail::gemm_stored<float>(false, false, 1, 2, 0, nullptr, nullptr, 1.0f, c.data());
  CHECK((c == xt::xarray<float>{{1.0f, 2.0f}}));
  detail::gemm_stored<float>(false, false, 1, 2, 0, nullptr, nullptr, 0.0f, c.data());
  CHECK((c == xt::xarray<float>{{0.0f, 0.0f}}));
}

TEST_CASE("blas: a product large enough to split by rows equals one call, every transpose flag and beta",
          "[detail]") {
  // m * n * k above gemm_split_min_work, m not a multiple of the split's alignment
  const std::size_t m = 203, n = 70, k = 90;
  REQUIRE(m * n * k >= detail::gemm_split_min_work);
  const auto a = testing::random_array({m, k}, -1, 1, 3);
  const auto b = testing::random_array({k, n}, -1, 1, 4);
  const xt::xarray<double> at = xt::transpose(a), bt = xt::transpose(b);
  const xt::xarray<double> expected = naive(a, b);
  const xt::xarray<float> af = a, bf = b, atf = at, btf = bt;
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      INFO("transpose a " << ta << ", b " << tb);
      xt::xarray<double> c = xt::ones<double>({m, n});
      detail::gemm_stored(ta, tb, m, n, k, (ta ? at : a).data(), (tb ? bt : b).data(), 1.0, c.data());
      CHECK(xt::allclose(c, expected + 1.0));
      detail::gemm_stored(ta, tb, m, n, k, (ta ? at : a).data(), (tb ? bt : b).data(), 0.0, c.data());
      CHECK(xt::allclose(c, expected));
      // float: the rows split over threads, and the same ranges run on this thread, give the same bits
      xt::xarray<float> split = xt::ones<float>({m, n}), serial = split;
      detail::gemm_stored(ta, tb, m, n, k, (ta ? atf : af).data(), (tb ? btf : bf).data(), 1.0f, split.data());
      {
        const detail::SerialRegion region;
        detail::gemm_stored(ta, tb, m, n, k, (ta ? atf : af).data(), (tb ? btf : bf).data(), 1.0f, serial.data());
      }
      CHECK(bool(split == serial));
      CHECK(xt::allclose(split, xt::xarray<float>(expected + 1.0), 1e-5, 1e-4));
    }
  }
}
