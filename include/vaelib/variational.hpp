#pragma once
// Variational objectives and marginal-likelihood evaluation (ZhuSuan's zs.variational):
// elbo().sgvb()/.reinforce(), importance_weighted_objective().sgvb()/.vimco()/.dreg(),
// klpq().importance(), is_loglikelihood() and ais_loglikelihood() / bdmc(). See docs/variational.md.

#include "vaelib/variational/evidence_lower_bound.hpp"
#include "vaelib/variational/importance_weighted_objective.hpp"
#include "vaelib/variational/inclusive_kl.hpp"
#include "vaelib/variational/ais.hpp"
#include "vaelib/variational/is_loglikelihood.hpp"
#include "vaelib/variational/latents.hpp"
#include "vaelib/variational/moving_average_baseline.hpp"
