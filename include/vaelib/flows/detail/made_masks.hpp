#pragma once
// MADE's masks (Germain, Gregor, Murray & Larochelle 2015): the 0/1 masks that make a dense
// network autoregressive, so that output j (and its copies) reads only the inputs that come
// before j in the order.
//
// Each unit gets a degree. Input i has degree order(i) in 1..D; hidden unit k has degree
// 1 + (k mod max(D - 1, 1)), cycling through 1..D-1 so that every degree is used as long as
// the layer has D - 1 units or more (a hidden unit of degree D could feed no output and is
// never made); output j has its input's degree. A weight from a unit of degree a to a hidden
// unit of degree b is kept when b >= a, to an output of degree b when b > a. So output j
// depends on the inputs of lower degree only: the Jacobian of the outputs in the inputs is
// strictly triangular in the order (tests/flows/iaf.test.cpp checks it). The degrees are
// fixed, not random: results do not depend on a seed, and the cycle spreads the degrees
// evenly.

#include <cstddef>
#include <vector>

#include <xtensor/xarray.hpp>

namespace vaelib::detail {

/// The input degrees: 1..D in order, or D..1 when `reversed` (a stack alternates them, as
/// Kingma et al.'s IAF reverses the order between steps).
inline std::vector<std::size_t> made_input_degrees(std::size_t dim, bool reversed) {
  std::vector<std::size_t> d(dim);
  for (std::size_t i = 0; i < dim; ++i) d[i] = reversed ? dim - i : i + 1;
  return d;
}

/// The masks of a network dim -> hidden[0] -> ... -> hidden[L-1] -> copies * dim: L + 1
/// arrays of shape [in, out], 1 where the weight is kept. Output c * dim + j is the c-th
/// quantity of element j (a shift and a scale: copies = 2).
template <class T>
std::vector<xt::xarray<T>> made_masks(std::size_t dim, const std::vector<std::size_t>& hidden, std::size_t copies,
                                      bool reversed) {
  const std::vector<std::size_t> input = made_input_degrees(dim, reversed);
  std::vector<std::size_t> previous = input;
  std::vector<xt::xarray<T>> masks;
  const std::size_t cycle = dim > 1 ? dim - 1 : 1;
  for (std::size_t width : hidden) {
    std::vector<std::size_t> degrees(width);
    for (std::size_t k = 0; k < width; ++k) degrees[k] = 1 + k % cycle;
    xt::xarray<T> m = xt::zeros<T>({previous.size(), width});
    for (std::size_t a = 0; a < previous.size(); ++a)
      for (std::size_t k = 0; k < width; ++k) m(a, k) = degrees[k] >= previous[a] ? T(1) : T(0);
    masks.push_back(std::move(m));
    previous = std::move(degrees);
  }
  xt::xarray<T> out = xt::zeros<T>({previous.size(), copies * dim});
  for (std::size_t a = 0; a < previous.size(); ++a)
    for (std::size_t c = 0; c < copies; ++c)
      for (std::size_t j = 0; j < dim; ++j) out(a, c * dim + j) = input[j] > previous[a] ? T(1) : T(0);
  masks.push_back(std::move(out));
  return masks;
}

}  // namespace vaelib::detail
