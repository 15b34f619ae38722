#pragma once
// Files: atomic writes, .npy/.npz, checkpoints, gzip, PNG images and grids, plots, metrics.

#include "vaelib/io/atomic_file.hpp"
#include "vaelib/io/checkpoint.hpp"
#include "vaelib/io/gzip.hpp"
#include "vaelib/io/image_grid.hpp"
#include "vaelib/io/metrics_log.hpp"
#include "vaelib/io/npy.hpp"
#include "vaelib/io/npz.hpp"
#include "vaelib/io/plot.hpp"
#include "vaelib/io/png.hpp"
#include "vaelib/io/read_file.hpp"
