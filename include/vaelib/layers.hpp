#pragma once
// Parameters and scopes, initialisers, Dense and MLP, Conv2d and ConvTranspose2d,
// BatchNorm, Dropout, Flatten and Unflatten (their activations: autodiff/activation.hpp).

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/layers/batch_norm.hpp"
#include "vaelib/layers/conv2d.hpp"
#include "vaelib/layers/dense.hpp"
#include "vaelib/layers/dropout.hpp"
#include "vaelib/layers/flatten.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/layers/mlp.hpp"
#include "vaelib/layers/parameters.hpp"
