#pragma once
// MLP: a stack of Dense layers, "layer_0", "layer_1", ... under the MLP's scope.

#include <cstddef>
#include <string>
#include <vector>

#include "vaelib/layers/dense.hpp"

namespace vaelib {

template <class T>
struct MlpOptions {
  Activation hidden_activation = Activation::relu;
  Activation output_activation = Activation::none;
  Initializer<T> weight_init = {};  // empty: Glorot uniform
  Initializer<T> bias_init = {};    // empty: zeros
};

template <class T>
class MLP {
 public:
  /// `sizes` are the widths of the layers after the input: {500, 500, 40} makes three.
  MLP(const ParameterScope<T>& scope, std::string_view name, std::vector<std::size_t> sizes, MlpOptions<T> options = {})
      : m_scope(scope.scope(name)), m_sizes(std::move(sizes)), m_options(std::move(options)) {
    if (m_sizes.empty()) throw ArgumentError("MLP '" + std::string(name) + "': expected at least one layer size");
    for (std::size_t i = 0; i < m_sizes.size(); ++i) {
      const bool last = i + 1 == m_sizes.size();
      m_names.push_back("layer_" + std::to_string(i));
      m_layer_options.push_back(
          DenseOptions<T>{.activation = last ? m_options.output_activation : m_options.hidden_activation,
                          .use_bias = true,
                          .weight_init = m_options.weight_init,
                          .bias_init = m_options.bias_init});
    }
  }

  Var<T> operator()(Var<T> x) const {
    for (std::size_t i = 0; i < m_sizes.size(); ++i) x = dense(m_scope, m_names[i], x, m_sizes[i], m_layer_options[i]);
    return x;
  }

  const std::vector<std::size_t>& sizes() const noexcept { return m_sizes; }

 private:
  ParameterScope<T> m_scope;
  std::vector<std::size_t> m_sizes;
  std::vector<std::string> m_names;
  MlpOptions<T> m_options;
  std::vector<DenseOptions<T>> m_layer_options;
};

}  // namespace vaelib
