#pragma once
// Learnable normalizing flows: transforms of R^D with parameters in a ParameterScope, to
// compose with ComposeTransform and TransformedDistribution (docs/flows.md).

#include "vaelib/flows/affine_coupling.hpp"
#include "vaelib/flows/flow_distribution.hpp"
#include "vaelib/flows/iaf.hpp"
#include "vaelib/flows/permute.hpp"
#include "vaelib/flows/planar.hpp"
#include "vaelib/flows/radial.hpp"
#include "vaelib/flows/spline_coupling.hpp"
#include "vaelib/flows/sylvester.hpp"
#include "vaelib/flows/vector_flow.hpp"
