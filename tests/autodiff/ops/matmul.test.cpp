#include "support/gradients.hpp"

#include <algorithm>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {
/// Triple-loop reference: per batch element, op(A) op(B), where a stored [..., ra, ca] and b
/// stored [..., rb, cb] have one shared (rank 2) or equal batch; the result has `out` shape.
template <class T>
xt::xarray<T> reference_matmul(const xt::xarray<T>& a, const xt::xarray<T>& b, bool ta, bool tb, const Shape& out) {
  const std::size_t ra = a.shape()[a.dimension() - 2], ca = a.shape()[a.dimension() - 1];
  const std::size_t rb = b.shape()[b.dimension() - 2], cb = b.shape()[b.dimension() - 1];
  const std::size_t batch_a = a.size() / (ra * ca), batch_b = b.size() / (rb * cb);
  const std::size_t m = ta ? ca : ra, k = ta ? ra : ca, n = tb ? rb : cb;
  const std::size_t batch = std::max(batch_a, batch_b);
  xt::xarray<T> c = xt::zeros<T>(out);
  REQUIRE(c.size() == batch * m * n);
  for (std::size_t p = 0; p < batch; ++p) {
    const T* ap = a.data() + (batch_a == 1 ? 0 : p) * ra * ca;
    const T* bp = b.data() + (batch_b == 1 ? 0 : p) * rb * cb;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t l = 0; l < k; ++l) {
          const T av = ta ? ap[l * ca + i] : ap[i * ca + l];
          const T bv = tb ? bp[j * cb + l] : bp[l * cb + j];
          s += static_cast<double>(av) * static_cast<double>(bv);
        }
        c.data()[(p * m + i) * n + j] = static_cast<T>(s);
      }
  }
  return c;
}

struct Case {
  Shape a, b;
  bool ta, tb;
  Shape out;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all{
      {{3, 4}, {4, 5}, false, false, {3, 5}},                    // 2-D
      {{4, 3}, {4, 5}, true, false, {3, 5}},                     // transpose_a
      {{3, 4}, {5, 4}, false, true, {3, 5}},                     // transpose_b
      {{4, 3}, {5, 4}, true, true, {3, 5}},                      // both
      {{2, 3, 4}, {4, 5}, false, false, {2, 3, 5}},              // leading axes folded into rows
      {{2, 2, 3, 4}, {4, 5}, false, false, {2, 2, 3, 5}},        // two leading axes folded
      {{2, 3, 4}, {5, 4}, false, true, {2, 3, 5}},               // folded, b transposed
      {{2, 4, 3}, {4, 5}, true, false, {2, 3, 5}},               // batched a transposed, shared b
      {{2, 3, 4}, {2, 4, 5}, false, false, {2, 3, 5}},           // batched
      {{2, 4, 3}, {2, 4, 5}, true, false, {2, 3, 5}},            // batched, transpose_a
      {{2, 3, 4}, {2, 5, 4}, false, true, {2, 3, 5}},            // batched, transpose_b
      {{2, 4, 3}, {2, 5, 4}, true, true, {2, 3, 5}},             // batched, both
      {{2, 2, 3, 4}, {2, 2, 4, 5}, false, false, {2, 2, 3, 5}},  // two batch axes
      {{3, 4}, {2, 4, 5}, false, false, {2, 3, 5}},              // shared a
      {{4, 3}, {2, 5, 4}, true, true, {2, 3, 5}},                // shared a, both transposed
      {{3, 4}, {2, 2, 4, 5}, false, false, {2, 2, 3, 5}},        // shared a, two batch axes
      {{1, 4}, {4, 1}, false, false, {1, 1}},                    // a dot product
  };
  return all;
}

std::string describe(const Case& c) {
  return to_string(c.a) + (c.ta ? "^T" : "") + " x " + to_string(c.b) + (c.tb ? "^T" : "");
}
}  // namespace

TEST_CASE("matmul: value, closed form", "[ops]") {
  Tape<double> tape;
  const auto a = tape.constant(xt::xarray<double>{{1, 2}, {3, 4}});
  const auto b = tape.constant(xt::xarray<double>{{5, 6}, {7, 8}});
  const auto y = matmul(a, b);
  CHECK(std::string(y.op()) == "matmul");
  require_close(y.value(), xt::xarray<double>{{19, 22}, {43, 50}});
  require_close(matmul(a, b, {.transpose_a = true}).value(), xt::xarray<double>{{26, 30}, {38, 44}});
  require_close(matmul(a, b, {.transpose_b = true}).value(), xt::xarray<double>{{17, 23}, {39, 53}});
  require_close(matmul(a, b, {.transpose_a = true, .transpose_b = true}).value(),
                xt::xarray<double>{{23, 31}, {34, 46}});
  // [2,3] x [3,1]
  require_close(matmul(tape.constant(xt::xarray<double>{{1, 2, 3}, {4, 5, 6}}),
                       tape.constant(xt::xarray<double>(xt::xtensor<double, 2>{{1}, {0}, {-1}})))
                    .value(),
                xt::xarray<double>(xt::xtensor<double, 2>{{-2}, {-2}}));
}

TEST_CASE("matmul: value, transposes and batches against a reference", "[ops]") {
  Tape<double> tape;
  std::uint32_t seed = 1;
  for (const Case& c : cases()) {
    INFO(describe(c));
    const auto a = random_array(c.a, -2, 2, seed++);
    const auto b = random_array(c.b, -2, 2, seed++);
    const auto y = matmul(tape.constant(a), tape.constant(b), {.transpose_a = c.ta, .transpose_b = c.tb});
    CHECK(y.shape() == c.out);
    require_close(y.value(), reference_matmul(a, b, c.ta, c.tb, c.out), 1e-12);
  }
}

TEST_CASE("matmul: gradient, transposes and batches", "[ops]") {
  std::uint32_t seed = 100;
  for (const Case& c : cases()) {
    INFO(describe(c));
    const MatmulOptions options{.transpose_a = c.ta, .transpose_b = c.tb};
    require_gradient([options](Tape<double>&, const Vars& v) { return matmul(v[0], v[1], options); },
                     {random_array(c.a, -2, 2, seed), random_array(c.b, -2, 2, seed + 1)});
    seed += 2;
  }
  // x x^T: the same operand on both sides accumulates.
  require_gradient([](Tape<double>&, const Vars& v) { return matmul(v[0], v[0], {.transpose_b = true}); },
                   {random_array({3, 4}, -2, 2, 7)});
  require_gradient([](Tape<double>&, const Vars& v) { return matmul(v[0], v[0], {.transpose_a = true}); },
                   {random_array({2, 3, 4}, -2, 2, 8)});
  // Only one operand requiring a gradient.
  require_gradient(
      [](Tape<double>& t, const Vars& v) { return matmul(t.constant(random_array({2, 3, 4}, -2, 2, 9)), v[0]); },
      {random_array({4, 5}, -2, 2, 10)});
  require_gradient(
      [](Tape<double>& t, const Vars& v) { return matmul(v[0], t.constant(random_array({2, 4, 5}, -2, 2, 11))); },
      {random_array({3, 4}, -2, 2, 12)});

  // Closed form: d sum(A B) / dA = 1 B^T, / dB = A^T 1.
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>{{1, 2}, {3, 4}});
  const auto b = tape.variable(xt::xarray<double>{{5, 6}, {7, 8}});
  tape.backward(sum(matmul(a, b)));
  require_close(a.grad(), xt::xarray<double>{{11, 15}, {11, 15}});
  require_close(b.grad(), xt::xarray<double>{{4, 4}, {6, 6}});
}

TEST_CASE("matmul: float smoke test", "[ops]") {
  Tape<float> tape;
  std::uint32_t seed = 200;
  for (const Case& c : cases()) {
    INFO(describe(c));
    const xt::xarray<float> a = xt::cast<float>(random_array(c.a, -2, 2, seed++));
    const xt::xarray<float> b = xt::cast<float>(random_array(c.b, -2, 2, seed++));
    require_close(matmul(tape.constant(a), tape.constant(b), {.transpose_a = c.ta, .transpose_b = c.tb}).value(),
                  reference_matmul(a, b, c.ta, c.tb, c.out), 1e-5);
  }
}

TEST_CASE("matmul: errors", "[ops]") {
  Tape<double> tape;
  const auto m34 = tape.variable(random_array({3, 4}));
  const auto m56 = tape.variable(random_array({5, 6}));
  REQUIRE_THROWS_AS(matmul(m34, m56), ShapeError);
  REQUIRE_THROWS_WITH(
      matmul(m34, m56),
      "matmul: inner dimensions differ (4 vs 5); a has shape [3, 4], b has shape [5, 6]; expected a [..., m, "
      "k] times b [..., k, n]");
  REQUIRE_THROWS_WITH(matmul(m34, m34), Contains("inner dimensions differ (4 vs 3)"));
  REQUIRE_NOTHROW(matmul(m34, m34, {.transpose_b = true}));
  REQUIRE_THROWS_WITH(
      matmul(m34, m56, {.transpose_a = true}),
      Contains("inner dimensions differ (3 vs 5); a has shape [3, 4] (transposed), b has shape [5, 6];"));
  REQUIRE_THROWS_WITH(
      matmul(m56, m34, {.transpose_b = true}),
      Contains("inner dimensions differ (6 vs 4); a has shape [5, 6], b has shape [3, 4] (transposed);"));

  const auto v4 = tape.variable(random_array({4}));
  REQUIRE_THROWS_AS(matmul(v4, m34), ShapeError);
  REQUIRE_THROWS_WITH(matmul(v4, m34), "matmul: expected operands of rank >= 2; a has shape [4], b has shape [3, 4]");
  REQUIRE_THROWS_WITH(matmul(m34, v4), Contains("matmul: expected operands of rank >= 2"));
  REQUIRE_THROWS_AS(matmul(tape.constant(xt::xarray<double>(1.0)), m34), ShapeError);

  const auto b234 = tape.variable(random_array({2, 3, 4}));
  const auto b345 = tape.variable(random_array({3, 4, 5}));
  REQUIRE_THROWS_AS(matmul(b234, b345), ShapeError);
  REQUIRE_THROWS_WITH(
      matmul(b234, b345),
      "matmul: batch dimensions [2] and [3] differ; a has shape [2, 3, 4], b has shape [3, 4, 5]; expected "
      "equal batch dimensions, or one operand of rank 2");
  const auto b1345 = tape.variable(random_array({1, 3, 4, 5}));
  REQUIRE_THROWS_WITH(matmul(b234, b1345), Contains("batch dimensions [2] and [1, 3] differ"));

  Tape<double> other;
  const auto o45 = other.variable(random_array({4, 5}));
  REQUIRE_THROWS_AS(matmul(m34, o45), TapeError);
  REQUIRE_THROWS_WITH(matmul(m34, o45), Contains("matmul") && Contains("different tapes"));
  tape.clear();
  REQUIRE_THROWS_AS(matmul(m34, m34), TapeError);
  REQUIRE_THROWS_WITH(matmul(m34, m34, {.transpose_b = true}), Contains("stale"));
}

TEST_CASE("matmul: an empty inner dimension gives zeros, empty rows give an empty product", "[ops]") {
  Tape<double> tape;
  const auto a = tape.variable(xt::xarray<double>(xt::zeros<double>({2, 0})));
  const auto b = tape.variable(xt::xarray<double>(xt::zeros<double>({0, 3})));
  const auto c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 3});
  CHECK(xt::all(xt::equal(c.value(), 0.0)));
  tape.backward(sum(c));
  CHECK(a.grad().size() == 0);
  const auto none = tape.constant(xt::xarray<double>(xt::zeros<double>({0, 4})));
  const auto rows = matmul(none, tape.variable(random_array({4, 3})));
  CHECK(rows.shape() == Shape{0, 3});
}
