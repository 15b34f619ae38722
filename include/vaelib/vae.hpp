#pragma once
// vaelib's umbrella header: include this one and link vaelib::vaelib.

#include "vaelib/autodiff.hpp"
#include "vaelib/error.hpp"
#include "vaelib/version.hpp"
