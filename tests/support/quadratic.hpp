#pragma once
// The quadratic the optimiser tests descend: f(p) = 0.5 * sum(a * p^2) over two parameters,
// "p" [3] and "q" [2], with the gradient a * p written into the store by hand (no tape), so
// each optimiser's trajectory can be compared with a scalar reference loop.

#include <cstddef>
#include <vector>

#include "vaelib/vae.hpp"

namespace vaelib::testing {

inline const std::vector<double> curvature = {1.0, 3.0, 0.5, 2.0, 0.2};
inline const std::vector<double> start = {1.0, -2.0, 0.5, 0.3, -0.7};

/// f(p) = 0.5 * sum(a * p^2) over "p" [3] and "q" [2]; the gradient a * p is written by hand.
template <class T>
struct Quadratic {
  ParameterStore<T> store;
  Quadratic() {
    store.create_from("p", Shape{3}, std::vector<T>{T(start[0]), T(start[1]), T(start[2])});
    store.create_from("q", Shape{2}, std::vector<T>{T(start[3]), T(start[4])});
  }
  T& value(std::size_t i) { return i < 3 ? store.at("p").value[i] : store.at("q").value[i - 3]; }
  T& grad(std::size_t i) { return i < 3 ? store.at("p").grad[i] : store.at("q").grad[i - 3]; }
  void gradient() {
    for (std::size_t i = 0; i < curvature.size(); ++i) grad(i) = static_cast<T>(curvature[i]) * value(i);
  }
};

}  // namespace vaelib::testing
