#pragma once
// Reusable models built on the library: the VAE family.

#include "vaelib/models/vae.hpp"
