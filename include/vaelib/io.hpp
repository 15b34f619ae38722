#pragma once
// Files: atomic writes, .npy/.npz, checkpoints.

#include "vaelib/io/atomic_file.hpp"
#include "vaelib/io/checkpoint.hpp"
#include "vaelib/io/npy.hpp"
#include "vaelib/io/npz.hpp"
