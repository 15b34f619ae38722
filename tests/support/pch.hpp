#pragma once
// Precompiled for every test TU: the heavy headers (Catch2, xtensor, the library).
#include <catch2/catch.hpp>

#include "vaelib/vae.hpp"
