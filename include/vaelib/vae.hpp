#pragma once
// vaelib's umbrella header: include this one and link vaelib::vaelib.

#include "vaelib/autodiff.hpp"
#include "vaelib/bayesian_net.hpp"
#include "vaelib/blas_kernels.hpp"
#include "vaelib/data.hpp"
#include "vaelib/distributions.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flush_denormals.hpp"
#include "vaelib/io.hpp"
#include "vaelib/layers.hpp"
#include "vaelib/models.hpp"
#include "vaelib/optim.hpp"
#include "vaelib/random/rng.hpp"
#include "vaelib/variational.hpp"
#include "vaelib/version.hpp"
