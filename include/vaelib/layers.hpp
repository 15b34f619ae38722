#pragma once
// Parameters and scopes, initialisers, activations, Dense and MLP.

#include "vaelib/layers/activation.hpp"
#include "vaelib/layers/dense.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/mlp.hpp"
#include "vaelib/layers/parameters.hpp"
