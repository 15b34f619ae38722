#pragma once
// The Distribution interface, the distributions, and analytic KL divergences.

#include "vaelib/distributions/bernoulli.hpp"
#include "vaelib/distributions/beta.hpp"
#include "vaelib/distributions/bin_concrete.hpp"
#include "vaelib/distributions/categorical.hpp"
#include "vaelib/distributions/concrete.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"
#include "vaelib/distributions/kl.hpp"
#include "vaelib/distributions/laplace.hpp"
#include "vaelib/distributions/logistic.hpp"
#include "vaelib/distributions/mixture_normal.hpp"
#include "vaelib/distributions/multivariate_normal_cholesky.hpp"
#include "vaelib/distributions/normal.hpp"
#include "vaelib/distributions/onehot_categorical.hpp"
#include "vaelib/distributions/poisson.hpp"
#include "vaelib/distributions/uniform.hpp"
