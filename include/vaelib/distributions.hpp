#pragma once
// The Distribution interface, the distributions, and analytic KL divergences.

#include "vaelib/distributions/bernoulli.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/kl.hpp"
#include "vaelib/distributions/normal.hpp"
