// Ops written as a user would, outside namespace vaelib, with the public helpers only.
#include "support/gradients.hpp"

#include <cmath>

using vaelib::GradTarget;
using vaelib::Tape;
using vaelib::TapeRecord;
using vaelib::Var;
using vaelib::testing::random_array;
using vaelib::testing::require_close;
using vaelib::testing::require_gradient;
using vaelib::testing::Vars;
using Catch::Matchers::Contains;

namespace user_ops {

/// forward:  y = x^3
/// backward: dx += 3 x^2 dy
template <class T>
Var<T> cube(const Var<T>& x) {
  return vaelib::ops::unary_elementwise(
      "cube", x, [](const auto& x) { return x * x * x; },
      [](const auto& x, const auto& y, const auto& dy) {
        (void)y;
        return 3 * x * x * dy;
      });
}

/// forward:  y = sqrt(a^2 + b^2), broadcasting
/// backward: da += a / y dy, db += b / y dy
template <class T>
Var<T> hypot(const Var<T>& a, const Var<T>& b) {
  return vaelib::ops::binary_elementwise(
      "hypot", a, b, [](const auto& a, const auto& b) { return xt::sqrt(a * a + b * b); },
      [](const auto& a, const auto& b, const auto& y, const auto& dy) {
        (void)b;
        return a / y * dy;
      },
      [](const auto& a, const auto& b, const auto& y, const auto& dy) {
        (void)a;
        return b / y * dy;
      });
}

/// forward:  y = c x^2 (written by hand; the gradient through write_grad)
/// backward: dx += 2 c x dy
template <class T>
Var<T> scaled_square(const Var<T>& x, T c) {
  Tape<T>& tape = x.tape();
  const Var<T> y = tape.make_node("scaled_square", x.shape(), {x});
  const T* in = x.data();
  T* out = tape.value_ptr(y);
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = c * in[i] * in[i];
  tape.set_backward(y, [x, c](Tape<T>& t, TapeRecord<T>& self) {
    vaelib::ops::write_grad(t.grad_target(x), self.size,
                            [c](const auto& x, const auto& dy) { return 2 * c * x * dy; }, t.value_ptr(x), self.grad);
  });
  return y;
}

}  // namespace user_ops

TEST_CASE("op_helpers: a unary op written with unary_elementwise", "[op_helpers]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{{-2.0, 0.5}, {1.5, 3.0}});
  const auto y = user_ops::cube(x);
  CHECK(std::string(y.op()) == "cube");
  require_close(y.value(), xt::xarray<double>{{-8.0, 0.125}, {3.375, 27.0}});
  tape.backward(vaelib::sum(y));
  require_close(x.grad(), xt::xarray<double>{{12.0, 0.75}, {6.75, 27.0}});
  require_gradient([](Tape<double>&, const Vars& v) { return user_ops::cube(v[0]); }, {random_array({3, 4})});
  // float, and a large input (split over threads)
  Tape<float> tf;
  const auto xf = tf.constant(xt::xarray<float>(xt::ones<float>({300000}) * 2.0f));
  CHECK(user_ops::cube(xf).value()(299999) == 8.0f);
}

TEST_CASE("op_helpers: a binary op written with binary_elementwise broadcasts and sums gradients back",
          "[op_helpers]") {
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{3.0, 5.0});
  const auto b = tape.variable(xt::xarray<double>{4.0});
  const auto y = user_ops::hypot(a, b);
  require_close(y.value(), xt::xarray<double>{5.0, std::sqrt(41.0)});
  const auto shifted = [](double lo) { return random_array({3, 4}, lo, lo + 2, 7); };
  require_gradient([](Tape<double>&, const Vars& v) { return user_ops::hypot(v[0], v[1]); },
                   {shifted(0.5), random_array({4}, 0.5, 2.5, 8)});
  require_gradient([](Tape<double>&, const Vars& v) { return user_ops::hypot(v[0], v[1]); },
                   {random_array({3, 1}, 0.5, 2.5, 9), random_array({2, 1, 4}, 0.5, 2.5, 10)});
  require_gradient([](Tape<double>& t, const Vars& v) { return user_ops::hypot(v[0], t.constant(2.0)); },
                   {random_array({2, 3}, 0.5, 2.5, 11)});
  REQUIRE_THROWS_AS(user_ops::hypot(tape.variable(random_array({2, 3})), tape.variable(random_array({4}))),
                    vaelib::ShapeError);
  REQUIRE_THROWS_WITH(user_ops::hypot(tape.variable(random_array({2, 3})), tape.variable(random_array({4}))),
                      Contains("hypot"));
}

TEST_CASE("op_helpers: write_grad assigns on the first write of a sweep and adds after", "[op_helpers]") {
  Tape<double> tape;
  const auto x = tape.variable(xt::xarray<double>{1.0, -2.0, 3.0});
  // x reaches the loss through two nodes: its gradient is the sum of both contributions
  const auto loss = vaelib::sum(user_ops::scaled_square(x, 0.5) + user_ops::scaled_square(x, 2.0));
  tape.backward(loss);
  require_close(x.grad(), xt::xarray<double>{5.0, -10.0, 15.0});
  tape.backward(loss);  // a second sweep starts over
  require_close(x.grad(), xt::xarray<double>{5.0, -10.0, 15.0});
  require_gradient([](Tape<double>&, const Vars& v) { return user_ops::scaled_square(v[0], 1.5); },
                   {random_array({2, 5})});
}
