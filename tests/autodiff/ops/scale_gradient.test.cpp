#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("scale_gradient: identity forward, row-weighted backward", "[ops]") {
  Tape<double> tape;
  const auto xv = random_array({2, 3, 4}, -2, 2, 1);
  const auto x = tape.variable(xv);
  const xt::xarray<double> sv = random_array({2, 3}, 0.1, 2, 2);
  const auto s = tape.constant(sv);
  const auto y = scale_gradient(x, s);
  CHECK(std::string(y.op()) == "scale_gradient");
  require_close(y.value(), xv, 0);
  tape.backward(sum(square(y)));  // d/dx = 2x, then scaled per [i, j] row
  xt::xarray<double> expected = 2.0 * xv;
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) expected(i, j, k) *= sv(i, j);
  require_close(x.grad(), expected);
}

TEST_CASE("scale_gradient: the gradient equals the composed detach(x) + s * (x - detach(x))", "[ops]") {
  const auto xv = random_array({3, 5}, -2, 2, 3);
  const auto sv = random_array({3}, -1, 1, 4);
  auto run = [&](bool fused) {
    Tape<double> tape;
    const auto x = tape.variable(xv);
    const auto s = tape.constant(sv);
    const auto s_col = reshape(s, {3, 1});
    const auto y = fused ? scale_gradient(x, s) : detach(x) + s_col * (x - detach(x));
    tape.backward(sum(exp(y) * x));  // x also reaches the root directly: gradients accumulate
    return xt::xarray<double>(x.grad());
  };
  require_close(run(true), run(false), 1e-12);
}

TEST_CASE("scale_gradient: the scale is read when backward runs", "[ops]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{1.0, 2.0});
  const auto s = tape.constant(xt::xarray<double>{1.0, 1.0});
  const auto y = scale_gradient(x, s);
  const auto root = sum(y * y);
  double* weights = tape.value_ptr(s);  // filled after y was used, as the DReG estimator does
  weights[0] = 0.5;
  weights[1] = 3.0;
  tape.backward(root);
  require_close(x.grad(), xt::xarray<double>{0.5 * 2.0, 3.0 * 4.0});
}

TEST_CASE("scale_gradient: errors name the shapes", "[ops]") {
  Tape<float> tape;
  const auto x = tape.variable(xt::xarray<float>(xt::ones<float>({2, 3})));
  CHECK_THROWS_WITH(scale_gradient(x, tape.constant(xt::xarray<float>(xt::ones<float>({3})))),
                    Contains("scale_gradient: the scale's shape [3] must be a leading part of x's shape [2, 3]"));
  CHECK_THROWS_WITH(scale_gradient(x, tape.variable(xt::xarray<float>(xt::ones<float>({2})))),
                    Contains("must not require a gradient"));
}
