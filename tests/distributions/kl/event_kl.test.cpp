#include "distributions/kl/kl_checks.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {
/// A toy event kernel: the dot product of two rows of 3 (partials b and a).
struct EventKLDot {
  double operator()(const detail::EventKLArgs<2>& a) const {
    double s = 0;
    for (std::size_t j = 0; j < 3; ++j) s += a.in[0][j] * a.in[1][j];
    if (a.partial[0] != nullptr)
      for (std::size_t j = 0; j < 3; ++j) {
        a.partial[0][j] = a.in[1][j];
        a.partial[1][j] = a.in[0][j];
      }
    return s;
  }
};
}  // namespace

TEST_CASE("kl event node: values per batch element, gradients to each input, an input used twice",
          "[distributions][kl]") {
  Tape<double> tape;
  const auto x = tape.constant(random_array({2, 3}, -1, 1, 1));
  const auto y = tape.constant(random_array({2, 3}, -1, 1, 2));
  const auto dot = detail::event_kl<double, 2>("dot", Shape{2}, {x, y}, EventKLDot{});
  REQUIRE(dot.shape() == Shape{2});
  for (std::size_t b = 0; b < 2; ++b) {
    double s = 0;
    for (std::size_t j = 0; j < 3; ++j) s += x.value()(b, j) * y.value()(b, j);
    CHECK(dot.value()(b) == Approx(s).epsilon(1e-15));
  }
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return detail::event_kl<double, 2>("dot", Shape{2}, {v[0], v[1]}, EventKLDot{});
      },
      {random_array({2, 3}, -1, 1, 3), random_array({2, 3}, -1, 1, 4)});
  // the same node as both inputs: |x|^2, gradient 2x
  require_gradient(
      [](Tape<double>&, const Vars& v) {
        return detail::event_kl<double, 2>("dot", Shape{2}, {v[0], v[0]}, EventKLDot{});
      },
      {random_array({2, 3}, -1, 1, 5)});
  // a float tape: the kernel in double, the result rounded once (4097^2 is not a float)
  Tape<float> tf;
  const auto xf = tf.constant(xt::xarray<float>{4097.0f, 1.0f, -4097.0f});
  const auto yf = tf.constant(xt::xarray<float>{4097.0f, 3.0f, 4097.0f});
  CHECK(detail::event_kl<float, 2>("dot", Shape{}, {xf, yf}, EventKLDot{}).item() == 3.0f);
}
