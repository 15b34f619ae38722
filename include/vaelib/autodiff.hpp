#pragma once
// The autodiff core: Tape, Var, every op, activations and the gradient checker.

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/grad_check.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/autodiff/var.hpp"
