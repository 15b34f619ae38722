#pragma once
// Parameter initialisers: Glorot/Xavier uniform and normal, He uniform and normal, zeros,
// constant, uniform, normal, and any user callable with the Initializer signature. All draw
// from the parameter's own stream, so they are deterministic for a store seed.

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

#include "vaelib/layers/parameters.hpp"

namespace vaelib::init {

/// Fan-in and fan-out of a weight shape: [in, out] for a matrix; a vector counts its length
/// for both; for rank > 2 the leading axes are a receptive field multiplying both.
struct Fans {
  double in = 1;
  double out = 1;
};

inline Fans fans(const Shape& shape) {
  if (shape.empty()) return {1, 1};
  if (shape.size() == 1) return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
  double receptive = 1;
  for (std::size_t i = 0; i + 2 < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
  return {static_cast<double>(shape[shape.size() - 2]) * receptive, static_cast<double>(shape.back()) * receptive};
}

template <class T>
Initializer<T> constant(T value) {
  return [value](std::span<T> v, const Shape&, Rng&) { std::fill(v.begin(), v.end(), value); };
}

template <class T>
Initializer<T> zeros() {
  return constant<T>(T(0));
}

template <class T>
Initializer<T> uniform(T low, T high) {
  return [low, high](std::span<T> v, const Shape&, Rng& rng) { rng.fill_uniform(v, low, high); };
}

template <class T>
Initializer<T> normal(T mean, T stddev) {
  return [mean, stddev](std::span<T> v, const Shape&, Rng& rng) { rng.fill_normal(v, mean, stddev); };
}

/// U(-l, l), l = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)
template <class T>
Initializer<T> glorot_uniform() {
  return [](std::span<T> v, const Shape& shape, Rng& rng) {
    const Fans f = fans(shape);
    const T limit = static_cast<T>(std::sqrt(6.0 / (f.in + f.out)));
    rng.fill_uniform(v, -limit, limit);
  };
}

/// N(0, 2 / (fan_in + fan_out))
template <class T>
Initializer<T> glorot_normal() {
  return [](std::span<T> v, const Shape& shape, Rng& rng) {
    const Fans f = fans(shape);
    rng.fill_normal(v, T(0), static_cast<T>(std::sqrt(2.0 / (f.in + f.out))));
  };
}

/// U(-l, l), l = sqrt(6 / fan_in)  (He et al. 2015, for ReLU layers)
template <class T>
Initializer<T> he_uniform() {
  return [](std::span<T> v, const Shape& shape, Rng& rng) {
    const T limit = static_cast<T>(std::sqrt(6.0 / fans(shape).in));
    rng.fill_uniform(v, -limit, limit);
  };
}

/// N(0, 2 / fan_in)
template <class T>
Initializer<T> he_normal() {
  return [](std::span<T> v, const Shape& shape, Rng& rng) {
    rng.fill_normal(v, T(0), static_cast<T>(std::sqrt(2.0 / fans(shape).in)));
  };
}

/// The weight initialiser layers use when none is given: Glorot uniform.
template <class T>
const Initializer<T>& default_weight() {
  static const Initializer<T> glorot = glorot_uniform<T>();
  return glorot;
}

}  // namespace vaelib::init
