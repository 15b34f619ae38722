#pragma once
// vaelib's umbrella header for the core: include this one and link vaelib::vaelib (xtensor and
// BLAS only). It includes neither zlib's nor libpng's headers: files, images, plots and the
// MNIST readers are the io component (vaelib/io.hpp, target vaelib::io).

#include "vaelib/autodiff.hpp"
#include "vaelib/bayesian_net.hpp"
#include "vaelib/blas_kernels.hpp"
#include "vaelib/distributions.hpp"
#include "vaelib/error.hpp"
#include "vaelib/flows.hpp"
#include "vaelib/flush_denormals.hpp"
#include "vaelib/layers.hpp"
#include "vaelib/models.hpp"
#include "vaelib/optim.hpp"
#include "vaelib/random/rng.hpp"
#include "vaelib/transforms.hpp"
#include "vaelib/variational.hpp"
#include "vaelib/version.hpp"
