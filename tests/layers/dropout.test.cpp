#include <cmath>
#include <string>

#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("Dropout layer: in training it is the op with the same generator", "[dropout]") {
  Rng rng(17), same(17);
  Dropout drop(0.3, rng);
  CHECK(drop.training());
  CHECK(drop.p() == 0.3);
  Tape<double> tape;
  const Var<double> x = tape.constant(random_array({4, 3, 5, 5}, 1, 2, 50));
  const xt::xarray<double> y = drop(x).value();
  const xt::xarray<double> z = dropout(x, 0.3, same).value();
  CHECK((y == z));
  CHECK(rng.state() == same.state());
  // about 30 % dropped, the rest scaled by 1 / 0.7
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y.flat(i) == 0) {
      ++dropped;
    } else {
      CHECK(y.flat(i) == Approx(x.value().flat(i) / 0.7).epsilon(1e-14));
    }
  }
  CHECK(std::abs(static_cast<double>(dropped) / 300.0 - 0.3) < 0.1);  // sd 0.026
  // the next call draws a new mask
  CHECK_FALSE((xt::xarray<double>(drop(x).value()) == y));
}

TEST_CASE("Dropout layer: evaluation is the identity and draws nothing; float inputs too", "[dropout]") {
  Rng rng(3);
  Dropout drop(0.5, rng, /*training=*/false);
  CHECK_FALSE(drop.training());
  Tape<float> tape;
  const Var<float> x = tape.constant(xt::xarray<float>(xt::ones<float>({2, 8})));
  const RngState before = rng.state();
  CHECK(drop(x).index() == x.index());
  CHECK(rng.state() == before);
  drop.train();
  CHECK(drop.training());
  const xt::xarray<float> y = drop(x).value();
  CHECK(xt::all(xt::equal(y, 0.0f) || xt::equal(y, 2.0f)));
  CHECK_FALSE(rng.state() == before);
  drop.eval();
  CHECK(drop(x).index() == x.index());
}

TEST_CASE("Dropout layer: the gradient goes through the kept elements only", "[dropout]") {
  Rng rng(9);
  const Dropout drop(0.25, rng);
  Tape<double> tape;
  xt::xarray<double> xv = random_array({6, 7}, 1, 2, 51), grad = xt::zeros_like(xv);
  const Var<double> x = tape.parameter(xv, grad);
  const Var<double> y = drop(x);
  tape.backward(sum(y));
  const xt::xarray<double> yv = y.value();
  for (std::size_t i = 0; i < yv.size(); ++i) CHECK(grad.flat(i) == (yv.flat(i) == 0 ? 0.0 : 1.0 / 0.75));
}

TEST_CASE("Dropout layer: a probability outside [0, 1) is refused at construction", "[dropout]") {
  Rng rng;
  REQUIRE_THROWS_AS(Dropout(1.0, rng), ArgumentError);
  REQUIRE_THROWS_WITH(Dropout(1.0, rng), "Dropout: expected a drop probability p in [0, 1); got 1");
  REQUIRE_THROWS_WITH(Dropout(-0.5, rng), "Dropout: expected a drop probability p in [0, 1); got -0.5");
  REQUIRE_THROWS_WITH(Dropout(std::nan(""), rng), "Dropout: expected a drop probability p in [0, 1); got nan");
  CHECK(Dropout(0.0, rng).p() == 0.0);
}
