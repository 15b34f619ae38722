#pragma once
// Optimisers (SGD, Adam, Adamax) and learning-rate schedules.

#include "vaelib/optim/adam.hpp"
#include "vaelib/optim/adamax.hpp"
#include "vaelib/optim/optimizer.hpp"
#include "vaelib/optim/schedule.hpp"
#include "vaelib/optim/sgd.hpp"
