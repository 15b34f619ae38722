#pragma once
// BayesianNet (stochastic and deterministic nodes, observe, log_joint) and MetaBayesianNet.

#include "vaelib/bayesian_net/bayesian_net.hpp"
#include "vaelib/bayesian_net/meta_bayesian_net.hpp"
