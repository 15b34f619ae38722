#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;

TEST_CASE("exp: value and gradient", "[ops]") {
  Tape<double> tape;
  const auto x = random_array({3, 4});
  require_close(exp(tape.constant(x)).value(), xt::xarray<double>(xt::exp(x)));
  require_gradient([](Tape<double>&, const Vars& v) { return exp(v[0]); }, {x});
}
