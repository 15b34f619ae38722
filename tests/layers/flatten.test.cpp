#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("flatten: [N, C, H, W] -> [N, C H W] in row-major order, and unflatten back", "[flatten]") {
  Tape<double> tape;
  const xt::xarray<double> xv = random_array({2, 3, 4, 5}, -1, 1, 60);
  const Var<double> x = tape.constant(xv);
  const Var<double> f = flatten(x);
  CHECK(f.shape() == Shape{2, 60});
  const xt::xarray<double> fv = f.value();
  CHECK(fv(1, 2 * 20 + 3 * 5 + 4) == xv(1, 2, 3, 4));
  CHECK(fv(0, 7) == xv(0, 0, 1, 2));
  const Var<double> u = unflatten(f, {3, 4, 5});
  CHECK(u.shape() == Shape{2, 3, 4, 5});
  CHECK((xt::xarray<double>(u.value()) == xv));
  // the layer objects do the same, whatever the batch size
  const Flatten flat;
  const Unflatten unflat({3, 4, 5});
  CHECK(unflat.item() == Shape{3, 4, 5});
  CHECK(flat(tape.constant(random_array({7, 3, 4, 5}))).shape() == Shape{7, 60});
  CHECK((xt::xarray<double>(unflat(flat(x)).value()) == xv));
  CHECK(flatten(tape.constant(xt::xarray<float>(xt::ones<float>({4, 3})))).shape() == Shape{4, 3});
}

TEST_CASE("flatten: gradients flow back in the input's shape", "[flatten]") {
  require_gradient(
      [](Tape<double>& t, const std::vector<Var<double>>& in) {
        return sum(square(unflatten(flatten(in[0]) * t.constant(random_array({2, 12}, -1, 1, 61)), {3, 2, 2})));
      },
      {random_array({2, 3, 2, 2}, -1, 1, 62)});
}

TEST_CASE("flatten: errors", "[flatten]") {
  Tape<float> tape;
  const Var<float> v = tape.constant(xt::xarray<float>(xt::ones<float>({5})));
  REQUIRE_THROWS_AS(flatten(v), ShapeError);
  REQUIRE_THROWS_WITH(flatten(v), "flatten: input must be [N, ...] with rank >= 2, got shape [5]");
  const Var<float> m = tape.constant(xt::xarray<float>(xt::ones<float>({2, 10})));
  REQUIRE_THROWS_AS(unflatten(m, {2, 3}), ShapeError);
  REQUIRE_THROWS_WITH(unflatten(m, {2, 3}),
                      "unflatten: input has shape [2, 10]; expected [N, F] with F = 6, the size of [2, 3]");
  REQUIRE_THROWS_WITH(unflatten(tape.constant(xt::xarray<float>(xt::ones<float>({2, 2, 3}))), {2, 3}),
                      "unflatten: input has shape [2, 2, 3]; expected [N, F] with F = 6, the size of [2, 3]");
}
