#pragma once
// MCMC (docs/mcmc.md): the LogDensity interface (ModelDensity: a BayesianNet model on the
// reals), HMC and NUTS transition kernels on a Euclidean metric, their warm-up adaptation
// (dual averaging of the step size, Stan's windowed estimation of the metric), run_chain for
// one chain end to end, sample() for several chains on threads, the stochastic-gradient
// samplers (SGLD, PSGLD, SGHMC, SGNHT) on minibatches, and the convergence
// diagnostics (R-hat, ESS, MCSE, E-BFMI) with Stan's summary table. Draws to CSV and .npz:
// vaelib/io/draws.hpp (the io component).

#include "vaelib/mcmc/chain_state.hpp"
#include "vaelib/mcmc/diagnostics.hpp"
#include "vaelib/mcmc/hmc.hpp"
#include "vaelib/mcmc/leapfrog.hpp"
#include "vaelib/mcmc/log_density.hpp"
#include "vaelib/mcmc/metric.hpp"
#include "vaelib/mcmc/model_density.hpp"
#include "vaelib/mcmc/nuts.hpp"
#include "vaelib/mcmc/psgld.hpp"
#include "vaelib/mcmc/run_chain.hpp"
#include "vaelib/mcmc/sample.hpp"
#include "vaelib/mcmc/sghmc.hpp"
#include "vaelib/mcmc/sgld.hpp"
#include "vaelib/mcmc/sgmcmc.hpp"
#include "vaelib/mcmc/sgnht.hpp"
#include "vaelib/mcmc/step_size_adaptation.hpp"
#include "vaelib/mcmc/summary.hpp"
#include "vaelib/mcmc/windowed_adaptation.hpp"
