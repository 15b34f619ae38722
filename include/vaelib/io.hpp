#pragma once
// The io component's umbrella header: include it beside vaelib/vae.hpp and link vaelib::io
// (the core plus zlib and libpng). Files: atomic writes, .npy/.npz, checkpoints, gzip, PNG
// images and grids, plots, metrics, MCMC draws (CSV, .npz); and datasets (vaelib/data.hpp:
// IDX/MNIST readers, batches).

#include "vaelib/data.hpp"
#include "vaelib/io/atomic_file.hpp"
#include "vaelib/io/checkpoint.hpp"
#include "vaelib/io/draws.hpp"
#include "vaelib/io/gzip.hpp"
#include "vaelib/io/image_grid.hpp"
#include "vaelib/io/metrics_log.hpp"
#include "vaelib/io/npy.hpp"
#include "vaelib/io/npz.hpp"
#include "vaelib/io/plot.hpp"
#include "vaelib/io/png.hpp"
#include "vaelib/io/read_file.hpp"
