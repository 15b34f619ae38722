#pragma once
// Parameters and scopes, initialisers, Dense and MLP (their activations: autodiff/activation.hpp).

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/layers/dense.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/mlp.hpp"
#include "vaelib/layers/parameters.hpp"
