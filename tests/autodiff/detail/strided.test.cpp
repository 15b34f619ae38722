#include "support/gradients.hpp"
#include "vaelib/autodiff/detail/strided.hpp"

using namespace vaelib;
using namespace vaelib::detail;

TEST_CASE("strided: expand_into broadcasts like xtensor", "[detail]") {
  xt::xarray<double> small = {1.0, 2.0, 3.0};
  small.reshape({3, 1});
  xt::xarray<double> big = xt::zeros<double>({2, 3, 4});
  expand_into(big.data(), Shape{2, 3, 4}, small.data(), Shape{3, 1}, false);
  const xt::xarray<double> expected = xt::broadcast(small, {2, 3, 4});
  CHECK((big == expected));
  expand_into(big.data(), Shape{2, 3, 4}, small.data(), Shape{3, 1}, true);
  CHECK((big == xt::xarray<double>(2.0 * expected)));
}

TEST_CASE("strided: reduce_sum_into sums over broadcast axes", "[detail]") {
  xt::xarray<double> big = xt::arange<double>(24);
  big.reshape({2, 3, 4});
  xt::xarray<double> col = xt::zeros<double>({3, 1});
  reduce_sum_into(col.data(), Shape{3, 1}, big.data(), Shape{2, 3, 4}, false);
  const xt::xarray<double> expected_col = xt::sum(big, {0, 2}, xt::keep_dims);
  CHECK(xt::allclose(xt::reshape_view(col, {1, 3, 1}), expected_col));
  xt::xarray<double> total = {10.0};
  reduce_sum_into(total.data(), Shape{}, big.data(), Shape{2, 3, 4}, true);
  CHECK(total(0) == 10.0 + 276.0);
  xt::xarray<double> row = xt::zeros<double>({4});
  reduce_sum_into(row.data(), Shape{4}, big.data(), Shape{2, 3, 4}, false);
  CHECK((row == xt::xarray<double>(xt::sum(big, {0, 1}))));
}

TEST_CASE("strided: strided_copy permutes", "[detail]") {
  xt::xarray<double> x = xt::arange<double>(24);
  x.reshape({2, 3, 4});
  xt::xarray<double> y = xt::zeros<double>({4, 2, 3});
  const Shape strides = contiguous_strides(Shape{2, 3, 4});
  const Shape src_strides{strides[2], strides[0], strides[1]};
  strided_copy(y.data(), Shape{4, 2, 3}, x.data(), src_strides, false);
  CHECK((y == xt::xarray<double>(xt::transpose(x, {2, 0, 1}))));
}

TEST_CASE("strided: empty and scalar shapes move nothing or one element", "[detail]") {
  double dst = 5.0;
  const double src = 2.0;
  expand_into(&dst, Shape{}, &src, Shape{}, true);
  CHECK(dst == 7.0);
  std::vector<double> none;
  expand_into(none.data(), Shape{0, 3}, &src, Shape{}, false);  // must not touch memory
  CHECK(none.empty());
}
