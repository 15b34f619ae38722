#pragma once
// The autodiff core: Tape, Var, every op, activations, the op-writing helpers and the gradient
// checker.

#include "vaelib/autodiff/activation.hpp"
#include "vaelib/autodiff/grad_check.hpp"
#include "vaelib/autodiff/op_helpers.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/autodiff/tape.hpp"
#include "vaelib/autodiff/var.hpp"
