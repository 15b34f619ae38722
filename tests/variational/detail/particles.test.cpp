#include "support/gradients.hpp"
#include "vaelib/variational/detail/particles.hpp"

using namespace vaelib;
using namespace vaelib::testing;

namespace {

double log_mean_exp_of(const std::vector<double>& v) {
  double m = -INFINITY;
  for (double x : v) m = std::max(m, x);
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s / static_cast<double>(v.size()));
}

}  // namespace

TEST_CASE("particles: normalised weights along any axis", "[variational]") {
  const xt::xarray<double> lw = random_array({3, 4, 2}, -30, 5, 1);
  for (std::size_t axis : {0, 1, 2}) {
    xt::xarray<double> w = xt::zeros<double>(lw.shape());
    vaelib::detail::normalized_weights(lw.data(), w.data(), vaelib::detail::axis_view(Shape(lw.shape().begin(), lw.shape().end()), axis));
    // plain loops (xtensor 0.24's keep_dims reducers are unreliable): w = exp(lw) / sum over axis
    const auto& s = lw.shape();
    for (std::size_t i = 0; i < s[0]; ++i)
      for (std::size_t j = 0; j < s[1]; ++j)
        for (std::size_t l = 0; l < s[2]; ++l) {
          double total = 0;
          for (std::size_t t = 0; t < s[axis]; ++t) {
            std::size_t at[3] = {i, j, l};
            at[axis] = t;
            total += std::exp(lw(at[0], at[1], at[2]));
          }
          CHECK(w(i, j, l) == Approx(std::exp(lw(i, j, l)) / total).margin(1e-12));
        }
  }
}

TEST_CASE("particles: VIMCO leave-one-out signals match the direct O(k^2) formula", "[variational]") {
  const std::size_t k = 6;
  const xt::xarray<double> lw = random_array({k, 3}, -40, 10, 2);  // widely spread: cancellation-prone
  xt::xarray<double> out = xt::zeros<double>(lw.shape());
  vaelib::detail::leave_one_out_signals(lw.data(), out.data(), vaelib::detail::axis_view(Shape{k, 3}, 0));
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<double> column;
    for (std::size_t j = 0; j < k; ++j) column.push_back(lw(j, i));
    const double bound = log_mean_exp_of(column);
    for (std::size_t j = 0; j < k; ++j) {
      std::vector<double> replaced = column;
      double others = 0;
      for (std::size_t t = 0; t < k; ++t)
        if (t != j) others += column[t];
      replaced[j] = others / static_cast<double>(k - 1);
      CHECK(out(j, i) == Approx(bound - log_mean_exp_of(replaced)).margin(1e-10));
    }
  }
}

TEST_CASE("particles: the particle axis is checked", "[variational]") {
  CHECK(vaelib::detail::particle_axis("elbo", -1, Shape{2, 3}) == 1);
  CHECK_THROWS_WITH(vaelib::detail::particle_axis("elbo", 2, Shape{2, 3}),
                    "elbo: the particle axis 2 is out of range for the per-particle objective of shape [2, 3] (did q "
                    "draw n_samples?)");
}
