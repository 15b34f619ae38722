#include "support/gradients.hpp"
#include "vaelib/autodiff/detail/elementwise.hpp"

using namespace vaelib;
using namespace vaelib::detail;
using namespace vaelib::testing;

namespace {

// Sizes around the flat pass's 512-element blocks and the threads' grain (16384).
constexpr std::size_t flat_sizes[] = {1, 511, 512, 513, 5120, 40000};

}  // namespace

TEST_CASE("elementwise: assign_flat reads a repeated operand as its value everywhere", "[detail]") {
  const auto formula = [](const auto& a, const auto& b, const auto& c) { return a * b - c; };
  for (const std::size_t n : flat_sizes) {
    CAPTURE(n);
    std::vector<double> a(n), c(n), out(n, 7.0);
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = 0.25 * static_cast<double>(i % 97) - 3.0;
      c[i] = static_cast<double>(i % 13);
    }
    const double b = -1.5;
    assign_flat(out.data(), n, false, formula,
                std::array<FlatOperand<double>, 3>{FlatOperand<double>{a.data()}, FlatOperand<double>{&b, true},
                                                   FlatOperand<double>{c.data()}});
    bool all_equal = true;
    for (std::size_t i = 0; i < n; ++i) all_equal = all_equal && out[i] == a[i] * b - c[i];
    CHECK(all_equal);
    // accumulating, with the repeated operand first and last
    assign_flat(out.data(), n, true, formula,
                std::array<FlatOperand<double>, 3>{FlatOperand<double>{&b, true}, FlatOperand<double>{a.data()},
                                                   FlatOperand<double>{&b, true}});
    for (std::size_t i = 0; i < n; ++i) all_equal = all_equal && out[i] == (a[i] * b - c[i]) + (b * a[i] - b);
    CHECK(all_equal);
  }
}

TEST_CASE("elementwise: a scalar or a same-layout operand takes the flat pass and matches the broadcast", "[detail]") {
  // [1, m, 40] against [m, 40] (a sample axis of one against its parameters) and against a
  // scalar, at sizes that span several blocks and both threads: the values equal xtensor's
  // broadcast, and the gradients equal those of the operand broadcast explicitly first.
  for (const std::size_t m : {1, 13, 1000}) {
    CAPTURE(m);
    const xt::xarray<double> big = random_array({1, m, 40}, -2, 2, 1);
    const xt::xarray<double> same = random_array({m, 40}, 0.5, 2, 2);
    const xt::xarray<double> scalar = random_array({}, 0.5, 2, 3);
    for (const auto& other : {same, scalar}) {
      const xt::xarray<double> weights = random_array({1, m, 40}, -1, 1, 4);  // every element's gradient differs
      struct Run {
        std::vector<xt::xarray<double>> values;
        xt::xarray<double> dx, dy;
      };
      const auto run = [&](bool broadcast_first) {
        Tape<double> tape;
        const auto x = tape.variable(big);
        const auto y = tape.variable(other);
        const auto b = broadcast_first ? broadcast_to(y, x.shape()) : y;
        const Var<double> results[] = {x * b, b - x, x / b, b / x};
        Run r;
        Var<double> cost;
        for (const auto& v : results) {
          r.values.push_back(v.value());
          const auto term = sum(v * tape.constant(weights));
          cost = cost.empty() ? term : cost + term;
        }
        tape.backward(cost);
        r.dx = x.grad();
        r.dy = y.grad();
        return r;
      };
      const Run flat = run(false), broadcast = run(true);
      const xt::xarray<double> broadcast_other = xt::broadcast(other, big.shape());
      require_close(flat.values[0], xt::xarray<double>(big * broadcast_other), 0);
      require_close(flat.values[1], xt::xarray<double>(broadcast_other - big), 0);
      for (std::size_t k = 0; k < 4; ++k) require_close(flat.values[k], broadcast.values[k], 0);
      require_close(flat.dx, broadcast.dx, 1e-12);
      require_close(flat.dy, broadcast.dy, 1e-9);
    }
  }
}

TEST_CASE("elementwise: flat broadcast paths against finite differences", "[detail]") {
  const auto fn = [](Tape<double>&, const Vars& v) { return (v[0] - v[1]) * v[2]; };
  require_gradient(fn, {random_array({1, 3, 200}), random_array({3, 200}, -2, 2, 2), random_array({}, -2, 2, 3)});
  require_gradient(fn, {random_array({}, -2, 2, 4), random_array({1, 1, 600}, -2, 2, 5), random_array({600}, -2, 2, 6)});
}
