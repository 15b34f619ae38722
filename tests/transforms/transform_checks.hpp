#pragma once
// The checks every transform test shares: the round trip both ways, log|det J| against the
// log-determinant of the tape's own Jacobian (built row by row with backward, its log|det|
// by an LU factorisation in double), gradients by finite differences, and the total mass of
// a transformed density by quadrature.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "support/gradients.hpp"
#include "vaelib/vae.hpp"

namespace vaelib::testing {

/// inverse(forward(x)) = x and forward(inverse(y)) = y, with y = forward(x).
inline void transform_check_round_trip(const Transform<double>& t, const xt::xarray<double>& x,
                                       double tolerance = 1e-10) {
  INFO(t.name() << " round trip at x =\n" << x);
  Tape<double> tape;
  const Var<double> y = t.forward(tape.constant(x));
  const xt::xarray<double> y_value = y.value();
  const Shape expected_y_shape = t.forward_shape(Shape(x.shape().begin(), x.shape().end()));
  REQUIRE(y.shape() == expected_y_shape);
  require_close(t.inverse(y).value(), x, tolerance);
  const Var<double> y_again = t.forward(t.inverse(tape.constant(y_value)));
  require_close(y_again.value(), y_value, tolerance);
  REQUIRE(t.inverse_shape(y.shape()) == Shape(x.shape().begin(), x.shape().end()));
}

/// log|det A| of a square matrix (row-major, n x n) by LU with partial pivoting.
inline double transform_log_abs_det(std::vector<double> a, std::size_t n) {
  double log_det = 0;
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    if (pivot != col)
      for (std::size_t c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
    const double p = a[col * n + col];
    log_det += std::log(std::abs(p));
    for (std::size_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / p;
      for (std::size_t c = col; c < n; ++c) a[r * n + c] -= f * a[col * n + c];
    }
  }
  return log_det;
}

/// The transform's log|det J| at x (one event, or a batch: its values are summed) against
/// the log|det| of the Jacobian of x onto the entries `free` of y (flat indices into y):
/// every entry for a square map, the first K-1 of a simplex point, a lower triangle.
inline void transform_check_log_det(const Transform<double>& t, const xt::xarray<double>& x,
                                    const std::vector<std::size_t>& free, double tolerance = 1e-9) {
  INFO(t.name() << " log|det J| at x =\n" << x);
  REQUIRE(free.size() == x.size());
  const std::size_t n = x.size();
  std::vector<double> jacobian(n * n);
  Tape<double> tape;
  for (std::size_t row = 0; row < n; ++row) {
    tape.clear();
    const Var<double> xv = tape.variable(x);
    const Var<double> y = t.forward(xv);
    xt::xarray<double> pick = xt::zeros<double>(y.shape());
    pick.data()[free[row]] = 1;
    tape.backward(sum(y * tape.constant(pick)));
    const double* g = xv.grad_data();
    for (std::size_t j = 0; j < n; ++j) jacobian[row * n + j] = g[j];
  }
  tape.clear();
  const Var<double> xv = tape.constant(x);
  const double claimed = xt::sum(t.log_abs_det_jacobian(xv, t.forward(xv)).value())();
  const double from_tape = transform_log_abs_det(jacobian, n);
  CHECK(claimed == Approx(from_tape).epsilon(tolerance).margin(tolerance));
  const auto both = t.forward_and_log_abs_det_jacobian(xv);
  CHECK(xt::sum(both.log_abs_det_jacobian.value())() == Approx(claimed).epsilon(1e-14).margin(1e-14));
}

/// The indices of the lower triangle (with the diagonal, or without) of an n x n matrix.
inline std::vector<std::size_t> transform_lower_triangle(std::size_t n, bool with_diagonal) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i + (with_diagonal ? 1 : 0); ++j) out.push_back(i * n + j);
  return out;
}

/// 0, 1, ..., n - 1.
inline std::vector<std::size_t> transform_first_entries(std::size_t n) {
  std::vector<std::size_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = i;
  return out;
}

/// Finite-difference gradients of forward at x, of inverse at `y` (forward(x) unless given:
/// a point off the constrained set, where the inverse is still a smooth function) and of
/// log|det J| at x.
inline void transform_check_gradients(const Transform<double>& t, const xt::xarray<double>& x,
                                      std::optional<xt::xarray<double>> y = std::nullopt,
                                      GradCheckOptions options = {}) {
  INFO(t.name() << " gradients at x =\n" << x);
  if (!y) {
    Tape<double> tape;
    y = xt::xarray<double>(t.forward(tape.constant(x)).value());
  }
  require_gradient([&](Tape<double>&, const Vars& in) { return t.forward(in[0]); }, {x}, options);
  require_gradient([&](Tape<double>&, const Vars& in) { return t.inverse(in[0]); }, {*y}, options);
  Tape<double> tape;
  const Var<double> xv = tape.variable(x);
  if (!t.log_abs_det_jacobian(xv, t.forward(xv)).requires_grad()) return;  // constant (an affine map's)
  require_gradient([&](Tape<double>&, const Vars& in) { return t.log_abs_det_jacobian(in[0], t.forward(in[0])); }, {x},
                   options);
}

/// The trapezoid rule for f over the sorted points `grid`.
inline double transform_trapezoid(const std::vector<double>& grid, const std::function<double(std::size_t)>& f) {
  double total = 0;
  for (std::size_t i = 1; i < grid.size(); ++i) total += 0.5 * (f(i - 1) + f(i)) * (grid[i] - grid[i - 1]);
  return total;
}

/// n points from a to b, evenly spaced.
inline std::vector<double> transform_linspace(double a, double b, std::size_t n) {
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = a + (b - a) * static_cast<double>(i) / static_cast<double>(n - 1);
  return out;
}

}  // namespace vaelib::testing
