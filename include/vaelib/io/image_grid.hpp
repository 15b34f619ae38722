#pragma once
// Image grids: n images of rows x cols pixels tiled into one picture, as ZhuSuan's
// save_image_collections does for generated digits.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "vaelib/io/png.hpp"

namespace vaelib::io {

struct ImageGridOptions {
  std::size_t grid_rows = 0;    // 0: as square as possible
  std::size_t grid_cols = 0;    // 0: ceil(n / grid_rows)
  std::size_t padding = 1;      // pixels between images (and around the grid)
  std::size_t zoom = 1;         // each pixel drawn as a zoom x zoom block
  bool scale_each = false;      // stretch each image's own range to [0, 1] (else values clipped to [0, 1])
  float background = 0.5f;      // grey between and after the images
  std::size_t channels = 1;     // 3: each image is three planes (R, G, B; NCHW) and the picture is in colour
};

/// Tiles `images` (n images of image_rows * image_cols values, row-major, normally in [0, 1];
/// with options.channels = 3, n images of three such planes) into a grey (or RGB) picture:
/// image i goes to grid cell (i / grid_cols, i % grid_cols).
inline GrayImage image_grid(std::span<const float> images, std::size_t image_rows, std::size_t image_cols,
                            ImageGridOptions options = {}) {
  const std::size_t channels = options.channels, plane = image_rows * image_cols, d = plane * channels;
  if (channels != 1 && channels != 3) {
    throw ArgumentError("image_grid: images have 1 (grey) or 3 (RGB) channels, not " + std::to_string(channels));
  }
  if (d == 0 || images.size() % d != 0 || images.empty()) {
    throw ArgumentError("image_grid: " + std::to_string(images.size()) + " values are not a whole number of " +
                        (channels == 3 ? "RGB " : "") + std::to_string(image_rows) + "x" +
                        std::to_string(image_cols) + " images");
  }
  const std::size_t n = images.size() / d;
  std::size_t gr = options.grid_rows, gc = options.grid_cols;
  if (gr == 0 && gc == 0) gr = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  if (gc == 0) gc = (n + gr - 1) / gr;
  if (gr == 0) gr = (n + gc - 1) / gc;
  if (gr * gc < n) {
    throw ArgumentError("image_grid: a " + std::to_string(gr) + "x" + std::to_string(gc) + " grid cannot hold " +
                        std::to_string(n) + " images");
  }
  const std::size_t zoom = std::max<std::size_t>(options.zoom, 1), pad = options.padding;
  const std::size_t cell_h = image_rows * zoom, cell_w = image_cols * zoom;
  GrayImage out;
  out.height = gr * (cell_h + pad) + pad;
  out.width = gc * (cell_w + pad) + pad;
  out.channels = channels;
  auto to_byte = [](float v) {
    return static_cast<std::uint8_t>(std::lround(std::clamp(std::isfinite(v) ? v : 0.0f, 0.0f, 1.0f) * 255.0f));
  };
  out.pixels.assign(out.width * out.height * channels, to_byte(options.background));
  for (std::size_t i = 0; i < n; ++i) {
    const float* img = images.data() + i * d;
    float low = 0, high = 1;
    if (options.scale_each) {
      const auto [mn, mx] = std::minmax_element(img, img + d);
      low = *mn;
      high = *mx > *mn ? *mx : *mn + 1;
    }
    const std::size_t top = pad + (i / gc) * (cell_h + pad), left = pad + (i % gc) * (cell_w + pad);
    for (std::size_t r = 0; r < cell_h; ++r)
      for (std::size_t c = 0; c < cell_w; ++c)
        for (std::size_t k = 0; k < channels; ++k)
          out.pixels[((top + r) * out.width + left + c) * channels + k] =
              to_byte((img[k * plane + (r / zoom) * image_cols + c / zoom] - low) / (high - low));
  }
  return out;
}

/// image_grid written to a PNG file.
inline void save_image_grid(const std::filesystem::path& path, std::span<const float> images, std::size_t image_rows,
                            std::size_t image_cols, ImageGridOptions options = {}) {
  save_png(path, image_grid(images, image_rows, image_cols, options));
}

}  // namespace vaelib::io
