#pragma once
// Learnable normalizing flows: transforms of R^D with parameters in a ParameterScope, to
// compose with ComposeTransform and TransformedDistribution (docs/flows.md).

#include "vaelib/flows/planar.hpp"
#include "vaelib/flows/radial.hpp"
#include "vaelib/flows/vector_flow.hpp"
