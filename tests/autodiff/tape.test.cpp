#include "support/gradients.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("tape: leaves and requires_grad propagation", "[tape]") {
  Tape<double> tape;
  auto c = tape.constant(xt::xarray<double>{1.0, 2.0});
  auto v = tape.variable(xt::xarray<double>{3.0, 4.0});
  CHECK_FALSE(c.requires_grad());
  CHECK(v.requires_grad());
  CHECK_FALSE((c * c).requires_grad());
  CHECK((c * v).requires_grad());
  CHECK(std::string(c.op()) == "constant");
  CHECK(std::string((c + v).op()) == "add");
  CHECK(tape.size() == 5);
  auto s = tape.constant(2.5);
  CHECK(s.rank() == 0);
  CHECK(s.item() == 2.5);
}

TEST_CASE("tape: backward sums every path into a gradient", "[tape]") {
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0, -2.0, 3.0});
  auto y = sum(x * x + x * 3.0);  // dy/dx = 2x + 3
  tape.backward(y);
  require_close(x.grad(), xt::xarray<double>{5.0, -1.0, 9.0});
}

TEST_CASE("tape: a second backward recomputes tape-owned gradients, parameters accumulate", "[tape]") {
  Tape<double> tape;
  xt::xarray<double> w = {1.0, 2.0};
  xt::xarray<double> gw = xt::zeros<double>({2});
  auto x = tape.variable(xt::xarray<double>{3.0, 4.0});
  auto p = tape.parameter(w, gw);
  auto y = sum(x * p);
  tape.backward(y);
  tape.backward(y);
  require_close(x.grad(), xt::xarray<double>{1.0, 2.0});   // recomputed, not doubled
  require_close(gw, xt::xarray<double>{6.0, 8.0});          // added into user memory twice
  require_close(p.grad(), gw);
}

TEST_CASE("tape: gradient of a node the root does not depend on is zero", "[tape]") {
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0, 2.0});
  auto unused = tape.variable(xt::xarray<double>{5.0});
  tape.backward(sum(x));
  require_close(unused.grad(), xt::xarray<double>{0.0});
}

TEST_CASE("tape: backward errors", "[tape]") {
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0, 2.0});
  SECTION("non-scalar root") {
    REQUIRE_THROWS_AS(tape.backward(x * x), TapeError);
    REQUIRE_THROWS_WITH(tape.backward(x * x),
                        "backward: the root must be a scalar (one element), got shape [2] from op 'mul'; reduce it "
                        "first, e.g. with sum() or mean()");
  }
  SECTION("root without gradient") {
    auto c = tape.constant(xt::xarray<double>{1.0});
    REQUIRE_THROWS_WITH(tape.backward(c),
                        "backward: the root (op 'constant') does not depend on any variable or parameter that "
                        "requires a gradient");
  }
  SECTION("cleared tape") {
    auto y = sum(x);
    tape.clear();
    REQUIRE_THROWS_AS(tape.backward(y), TapeError);
    REQUIRE_THROWS_WITH(tape.backward(y), Contains("backward: an operand is a stale handle") &&
                                              Contains("the tape was cleared or rewound and is at generation 1"));
    REQUIRE_THROWS_WITH(y.value(), Contains("stale handle"));
  }
  SECTION("handles of two tapes") {
    Tape<double> other;
    auto y = other.variable(xt::xarray<double>{1.0, 2.0});
    REQUIRE_THROWS_AS(x + y, TapeError);
    REQUIRE_THROWS_WITH(x * y, Contains("mul: operands belong to different tapes"));
    REQUIRE_THROWS_WITH(tape.backward(sum(y)), Contains("backward: operands belong to different tapes"));
  }
  SECTION("empty handle") {
    Var<double> empty;
    REQUIRE_THROWS_WITH(tape.backward(empty), Contains("empty Var handle"));
    REQUIRE_THROWS_WITH(empty.shape(), Contains("empty handle"));
  }
  SECTION("gradient of a constant") {
    auto c = tape.constant(xt::xarray<double>{1.0});
    REQUIRE_THROWS_WITH(c.grad(), Contains("does not require a gradient"));
  }
}

TEST_CASE("tape: no_grad records values without gradients, and nests", "[tape]") {
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0, 2.0});
  {
    auto guard = tape.no_grad();
    CHECK_FALSE(tape.grad_enabled());
    auto y = x * x;
    CHECK_FALSE(y.requires_grad());
    require_close(y.value(), xt::xarray<double>{1.0, 4.0});
    {
      auto inner = tape.no_grad();
      CHECK_FALSE((x + x).requires_grad());
    }
    CHECK_FALSE(tape.grad_enabled());
    REQUIRE_THROWS_AS(tape.backward(sum(y)), TapeError);
  }
  CHECK(tape.grad_enabled());
  CHECK((x * x).requires_grad());
}

TEST_CASE("tape: freeze_parameters differentiates variables only, even inside no_grad", "[tape]") {
  Tape<double> tape;
  xt::xarray<double> w{2.0, 3.0}, w_grad{0.5, 0.5};
  const auto outer = tape.no_grad();
  {
    const auto frozen = tape.freeze_parameters();
    CHECK(tape.grad_enabled());
    CHECK(tape.parameters_frozen());
    const auto p = tape.parameter(w, w_grad);
    const auto x = tape.variable(xt::xarray<double>{1.0, -1.0});
    CHECK_FALSE(p.requires_grad());
    tape.backward(sum(p * x * x));
    require_close(x.grad(), xt::xarray<double>{4.0, -6.0});
  }
  CHECK_FALSE(tape.grad_enabled());
  CHECK_FALSE(tape.parameters_frozen());
  require_close(w_grad, xt::xarray<double>{0.5, 0.5});  // untouched
  CHECK(tape.parameter(w, w_grad).requires_grad());
}

TEST_CASE("tape: clear keeps node buffers for the next step", "[tape]") {
  Tape<float> tape;
  xt::xarray<float> a = xt::ones<float>({64, 64});
  const float* first_value = nullptr;
  const float* first_grad = nullptr;
  for (int step = 0; step < 3; ++step) {
    tape.clear();
    auto x = tape.variable(a);
    auto y = tanh(x);
    tape.backward(sum(y));
    if (step == 0) {
      first_value = y.data();
      first_grad = x.grad_data();
    }
    CHECK(y.data() == first_value);
    CHECK(x.grad_data() == first_grad);
    CHECK(tape.size() == 3);
    CHECK(tape.generation() == static_cast<std::uint32_t>(step + 1));
  }
}

TEST_CASE("tape: zeros and full are constants filled in the tape's own buffers", "[tape]") {
  Tape<double> tape;
  const double* first = nullptr;
  for (int step = 0; step < 2; ++step) {
    tape.clear();
    const auto z = tape.zeros({3, 2});
    const auto f = tape.full({2}, 1.5);
    CHECK(z.shape() == Shape{3, 2});
    CHECK((z.value() == xt::xarray<double>(xt::zeros<double>({3, 2}))));
    CHECK((f.value() == xt::xarray<double>{1.5, 1.5}));
    CHECK_FALSE(z.requires_grad());
    CHECK(std::string_view(tape.node(z).op) == "full");
    if (step == 0) first = z.data();
    CHECK(z.data() == first);  // the second step reuses the first one's buffer
  }
  const auto scalar = tape.full({}, -2.0);
  CHECK(scalar.item() == -2.0);
  CHECK(tape.zeros({0, 4}).shape() == Shape{0, 4});
  REQUIRE_THROWS_WITH(tape.zeros({std::size_t{1} << 40, std::size_t{1} << 40}),
                      "full: shape [1099511627776, 1099511627776] has more elements than fit in size_t");
}

TEST_CASE("tape: a chain of a million nodes runs backward without recursion", "[tape]") {
  Tape<float> tape;
  auto x = tape.variable(xt::xarray<float>{0.5f});
  Var<float> y = x;
  for (int i = 0; i < 1'000'000; ++i) y = -y;
  CHECK(tape.size() == 1'000'001);
  tape.backward(sum(y));
  CHECK(x.grad()(0) == 1.0f);
  CHECK(y.item() == 0.5f);
}

TEST_CASE("tape: float and double tapes give the same answers", "[tape]") {
  Tape<float> tf;
  Tape<double> td;
  auto xf = tf.variable(xt::xarray<float>{0.3f, -1.2f});
  auto xd = td.variable(xt::xarray<double>{0.3, -1.2});
  tf.backward(sum(exp(xf) * tanh(xf)));
  td.backward(sum(exp(xd) * tanh(xd)));
  for (std::size_t i = 0; i < 2; ++i) CHECK(xf.grad()(i) == Approx(xd.grad()(i)).epsilon(1e-6));
}

TEST_CASE("tape: external leaves read user memory without a copy", "[tape]") {
  Tape<double> tape;
  std::vector<double> data = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  std::vector<double> grad(6, 0.0);
  auto x = tape.external(data.data(), grad.data(), Shape{2, 3});
  CHECK(x.data() == data.data());
  tape.backward(sum(x * x));
  CHECK(grad == std::vector<double>{2.0, 4.0, 6.0, 8.0, 10.0, 12.0});
  xt::xarray<double> value = xt::ones<double>({2, 2});
  xt::xarray<double> wrong = xt::zeros<double>({3});
  REQUIRE_THROWS_WITH(tape.parameter(value, wrong),
                      "parameter: value shape [2, 2] and gradient shape [3] differ (expected equal shapes)");
}

TEST_CASE("tape: backward's callback sees each parameter's memory once, when its gradient is final", "[tape]") {
  // p is recorded twice (nodes 1 and 4) and q once; r overlaps q's memory, so q and r are one
  // stretch; u is recorded after the root and is not part of the sweep.
  std::vector<double> values = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0};
  std::vector<double> grads(7, 0.0);
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{0.5, -1.5});
  auto p1 = tape.external(values.data(), grads.data(), Shape{2});
  auto q = tape.external(values.data() + 2, grads.data() + 2, Shape{2});
  auto y = sum(p1 * x);
  auto p2 = tape.external(values.data(), grads.data(), Shape{2});
  auto r = tape.external(values.data() + 3, grads.data() + 3, Shape{2});
  auto root = y * sum(p2 * p2) + sum(q * q) + sum(r * x);
  tape.external(values.data() + 5, grads.data() + 5, Shape{2});

  // the gradients plain backward gives
  tape.backward(root);
  const std::vector<double> expected = grads;
  std::fill(grads.begin(), grads.end(), 0.0);

  std::vector<std::pair<std::ptrdiff_t, std::size_t>> seen;  // (offset, size) in call order
  tape.backward(root, [&](double* grad, std::size_t size) {
    const std::ptrdiff_t offset = grad - grads.data();
    seen.emplace_back(offset, size);
    for (std::size_t i = 0; i < size; ++i) CHECK(grad[i] == expected[static_cast<std::size_t>(offset) + i]);
    // changing the value here must not change any gradient still to be computed
    for (std::size_t i = 0; i < size; ++i) values[static_cast<std::size_t>(offset) + i] = -100.0;
  });
  const std::vector<std::pair<std::ptrdiff_t, std::size_t>> order = {{2, 3}, {0, 2}};  // q+r (node 2), then p (node 1)
  CHECK(seen == order);
  CHECK(grads == expected);
  // d root / dx = p sum(p^2) + r, from the values before the callbacks changed them
  require_close(x.grad(), xt::xarray<double>{1.0 * 5.0 + 4.0, 2.0 * 5.0 + 5.0});
}

TEST_CASE("tape: item needs exactly one element", "[tape]") {
  Tape<double> tape;
  auto x = tape.constant(xt::xarray<double>{1.0, 2.0});
  REQUIRE_THROWS_WITH(x.item(), "item: expected a one-element tensor, got shape [2] from op 'constant'");
}

TEST_CASE("tape: rewind forgets later nodes, keeps earlier handles valid, and reuses buffers", "[tape]") {
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0, 2.0, 3.0});
  const auto mark = tape.mark();
  auto y = x * 2.0;
  const double* y_buffer = y.data();
  tape.rewind(mark);
  CHECK(tape.size() == mark.size);
  CHECK_THROWS_WITH(y.data(), Contains("stale handle"));  // a rewound node is gone
  auto z = x * 3.0;  // same index as y: the old handle must not read it
  CHECK(z.data() == y_buffer);
  CHECK_THROWS_WITH(y.data(), Contains("stale handle"));
  auto total = sum(z + x);  // x, recorded before the mark, still works and differentiates
  tape.backward(total);
  require_close(x.grad(), xt::xarray<double>{4.0, 4.0, 4.0});
  // a concat's backward walks its inputs by index: inputs from before a rewind are fine
  auto c = sum(concat({x, z}, 0));  // d/dx = 1 (x itself) + 3 (through z)
  tape.backward(c);
  require_close(x.grad(), xt::xarray<double>{4.0, 4.0, 4.0});
}

TEST_CASE("tape: rewind refuses a mark from before a clear or beyond the tape", "[tape]") {
  Tape<double> tape;
  auto x = tape.variable(xt::xarray<double>{1.0});
  const auto late = tape.mark();
  tape.clear();
  CHECK_THROWS_WITH(tape.rewind(late), Contains("rewind: the mark is not from the tape's current recording"));
  x = tape.variable(xt::xarray<double>{1.0});
  const auto early = tape.mark();
  (void)(x * 2.0);
  const auto after = tape.mark();
  tape.rewind(early);
  CHECK_THROWS_WITH(tape.rewind(after), Contains("rewind: the mark"));
}

TEST_CASE("tape: anomaly mode names the op where a NaN or infinity first appears", "[tape]") {
  Tape<double> tape;
  CHECK_FALSE(tape.detecting_anomaly());
  tape.detect_anomaly(true);
  CHECK(tape.detecting_anomaly());
  SECTION("a forward value: the first node that is not finite, not the ones after it") {
    auto x = tape.variable(xt::xarray<double>{1.0, -1.0, 4.0});
    auto y = log(x);  // log(-1) = NaN at element 1: the op consuming it is refused
    CHECK_THROWS_AS(exp(y), NumericalError);
    CHECK_THROWS_WITH(sum(exp(y)), Contains("anomaly: NaN in the forward value of node 1 (op 'log', shape [3])") &&
                                       Contains("at element 1") && Contains("op 'log' produced it"));
    CHECK_THROWS_WITH(tape.check_finite(), Contains("node 1 (op 'log'"));
    CHECK_THROWS_WITH(tape.backward(sum(x)), Contains("node 1 (op 'log'"));  // recorded before the root
  }
  SECTION("an infinity in the data is reported as a leaf") {
    auto x = tape.variable(xt::xarray<double>{1.0, std::numeric_limits<double>::infinity()});
    CHECK_THROWS_WITH(tape.backward(sum(x)), Contains("+inf in the forward value of node 0 (op 'variable'") &&
                                                 Contains("it is a leaf"));
  }
  SECTION("a gradient: finite values, but sqrt'(0) is infinite") {
    xt::xarray<double> w = {0.0, 1.0};
    xt::xarray<double> gw = xt::zeros<double>({2});
    auto p = tape.parameter(w, gw);
    auto loss = sum(sqrt(p));
    CHECK_NOTHROW(tape.check_finite());
    CHECK_THROWS_WITH(tape.backward(loss), Contains("anomaly: +inf in the gradient of node 0 (op 'parameter', shape [2]) at element 0") &&
                                               Contains("written by the backward of node 1 (op 'sqrt'") &&
                                               Contains("from a finite output gradient"));
  }
  SECTION("finite steps pass, and the mode can be turned off again") {
    auto x = tape.variable(xt::xarray<double>{1.0, 2.0});
    tape.backward(sum(square(x)));
    require_close(x.grad(), xt::xarray<double>{2.0, 4.0});
    auto bad = log(x - 3.0);
    CHECK_THROWS_AS(tape.check_finite(), NumericalError);
    tape.detect_anomaly(false);
    CHECK_NOTHROW(tape.backward(sum(bad)));  // off: NaNs flow through silently, as by default
  }
}
