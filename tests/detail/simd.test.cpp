#include <cmath>
#include <numeric>
#include <vector>

#include "support/gradients.hpp"
#include "vaelib/detail/simd.hpp"

using namespace vaelib;

namespace {

/// n values spread over [-20, 20], so every kernel sees both signs and large magnitudes.
template <class T>
std::vector<T> spread_values(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>(-20.0 + 40.0 * static_cast<double>((i * 37) % 101) / 100.0);
  return v;
}

}  // namespace

TEMPLATE_TEST_CASE("simd: map gives the scalar formula on the bulk and on the tail", "[detail]", float, double) {
  using T = TestType;
  const double tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  // lengths around the vector width (bulk only, tail only, both)
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, detail::simd::width<T>(), detail::simd::width<T>() + 3,
                              std::size_t{1000}}) {
    INFO("n = " << n);
    const std::vector<T> a = spread_values<T>(n);
    std::vector<T> sp(n), sg(n), mx(n);
    detail::simd::map(n, sp.data(), [](const auto& v) { return detail::simd::softplus(v); }, a.data());
    detail::simd::map(n, sg.data(), [](const auto& v) { return detail::simd::sigmoid(v); }, a.data());
    detail::simd::map(
        n, mx.data(),
        [](const auto& v, const auto& w) {
          using V = std::decay_t<decltype(v)>;
          return detail::simd::select(v > w, detail::simd::max(v, V(0)), detail::simd::min(w, V(1)));
        },
        a.data(), a.data() + 0);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = a[i];
      CHECK(std::abs(sp[i] - (std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))))) <= tolerance * (1 + std::abs(x)));
      CHECK(std::abs(sg[i] - 1.0 / (1.0 + std::exp(-x))) <= tolerance);
      CHECK(mx[i] == std::min<T>(a[i], T(1)));  // v > w is false when v == w
    }
  }
}

TEST_CASE("simd: map_into assigns or accumulates; map may write over an input", "[detail]") {
  std::vector<float> a = spread_values<float>(45), out(45, 2.0f);
  detail::simd::map_into(true, out.size(), out.data(), [](const auto& v) { return v * 3.0f; }, a.data());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(out[i] == 2.0f + 3.0f * a[i]);
  detail::simd::map_into(false, out.size(), out.data(), [](const auto& v) { return v * 3.0f; }, a.data());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(out[i] == 3.0f * a[i]);
  const std::vector<float> before = a;
  detail::simd::map(a.size(), a.data(), [](const auto& v) { return -v; }, static_cast<const float*>(a.data()));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == -before[i]);
}

TEST_CASE("simd: all_of and sum_of_squares", "[detail]") {
  std::vector<float> v(3001, 0.5f);
  CHECK(detail::simd::all_of(v.size(), v.data(), [](float x) { return x >= 0.0f; }));
  v[2999] = -1.0f;
  CHECK_FALSE(detail::simd::all_of(v.size(), v.data(), [](float x) { return x >= 0.0f; }));
  CHECK(detail::simd::all_of(0, v.data(), [](float) { return false; }));

  // sizes around the four-vector blocks, their one-vector tail, and the 1024-element chunks
  for (const std::size_t n : {1, 7, 8, 31, 32, 33, 39, 1023, 1024, 1025, 5000}) {
    CAPTURE(n);
    const std::vector<float> g = spread_values<float>(n);
    double expected = 0;
    for (float x : g) expected += static_cast<double>(x) * x;
    CHECK(detail::simd::sum_of_squares(g.size(), g.data()) == Approx(expected).epsilon(1e-6));
  }
  const std::vector<double> gd = spread_values<double>(17);
  CHECK(detail::simd::sum_of_squares(gd.size(), gd.data()) ==
        Approx(std::inner_product(gd.begin(), gd.end(), gd.begin(), 0.0)).epsilon(1e-14));
  CHECK(detail::simd::sum_of_squares(0, gd.data()) == 0.0);
}

TEMPLATE_TEST_CASE("simd: sum adds every element, in lanes then the tail", "[detail]", float, double) {
  using T = TestType;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, 2 * detail::simd::width<T>() - 1, 2 * detail::simd::width<T>(),
                              2 * detail::simd::width<T>() + 5, std::size_t{784}, std::size_t{100001}}) {
    INFO("n = " << n);
    std::vector<T> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>(static_cast<double>(i % 17) - 8.25);  // exact in float
    double exact = 0;
    for (T x : v) exact += static_cast<double>(x);
    CHECK(static_cast<double>(detail::simd::sum(n, v.data())) == Approx(exact).margin(1e-9));
  }
}
