#pragma once
// MCMC (docs/mcmc.md): the LogDensity interface, HMC and NUTS transition kernels on a
// Euclidean metric, and their warm-up adaptation (dual averaging of the step size, Stan's
// windowed estimation of the metric).

#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/leapfrog.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
