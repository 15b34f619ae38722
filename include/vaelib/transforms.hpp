#pragma once
// Transforms (bijectors) from the reals onto constrained sets, supports, bijector_to, and
// TransformedDistribution (docs/transforms.md).

#include "vaelib/transforms/affine.hpp"
#include "vaelib/transforms/bijector_to.hpp"
#include "vaelib/transforms/compose.hpp"
#include "vaelib/transforms/correlation_cholesky.hpp"
#include "vaelib/transforms/exp.hpp"
#include "vaelib/transforms/identity.hpp"
#include "vaelib/transforms/independent.hpp"
#include "vaelib/transforms/lower_cholesky.hpp"
#include "vaelib/transforms/ordered.hpp"
#include "vaelib/transforms/scalar_or_var.hpp"
#include "vaelib/transforms/sigmoid.hpp"
#include "vaelib/transforms/softplus.hpp"
#include "vaelib/transforms/stick_breaking.hpp"
#include "vaelib/transforms/support.hpp"
#include "vaelib/transforms/transform.hpp"
#include "vaelib/transforms/transformed_distribution.hpp"
