#pragma once
// The examples' pictures: image grids, test images above their reconstructions, the
// figures of the autograd VAE practice (seed 003), and the training curve read back from
// metrics.jsonl.

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>
#include <vector>

namespace vaelib::examples {

/// Images [n, channels * rows * cols] (or any shape holding them in order) as a grid_rows x
/// grid_cols grid (3 channels: in colour).
inline void save_grid(const std::filesystem::path& file, const xt::xarray<float>& images, std::size_t rows,
                      std::size_t cols, std::size_t grid_rows, std::size_t grid_cols, std::size_t zoom = 2,
                      std::size_t channels = 1) {
  io::save_image_grid(file, std::span<const float>(images.data(), images.size()), rows, cols,
                      {.grid_rows = grid_rows, .grid_cols = grid_cols, .zoom = zoom, .channels = channels});
}

/// Images [n, d] in rows of 10, each row above the reconstructions [n, d] of its images.
inline void save_reconstruction_grid(const std::filesystem::path& file, const xt::xarray<float>& originals,
                                     const xt::xarray<float>& reconstructions, std::size_t rows, std::size_t cols,
                                     std::size_t channels = 1) {
  const std::size_t n = originals.shape()[0], d = channels * rows * cols;
  std::vector<float> grid;
  for (std::size_t r = 0; r < n; r += 10) {
    const std::size_t m = std::min<std::size_t>(10, n - r);
    for (const xt::xarray<float>* images : {&originals, &reconstructions}) {
      grid.insert(grid.end(), images->data() + r * d, images->data() + (r + m) * d);
      grid.resize(grid.size() + (10 - m) * d, 0.5f);  // a short last row, padded grey
    }
  }
  io::save_image_grid(file, grid, rows, cols, {.grid_cols = 10, .zoom = 2, .channels = channels});
}

/// training_curve.png: the train (and, if logged, validation) bound per epoch, read back
/// from metrics.jsonl so that a resumed run plots every epoch.
inline void save_training_curve(const std::filesystem::path& output, const std::string& title) {
  const auto records = io::read_metrics(output / "metrics.jsonl");
  const auto epochs = io::metrics_column(records, "epoch");
  std::vector<io::Series> series;
  for (const auto& [label, key] : {std::pair{"train", "train_lower_bound"}, std::pair{"validation", "validation_lower_bound"}}) {
    auto values = io::metrics_column(records, key);
    if (values.empty()) continue;
    std::vector<double> xs(epochs.begin(), epochs.begin() + static_cast<std::ptrdiff_t>(std::min(values.size(), epochs.size())));
    values.resize(xs.size());
    series.push_back({label, std::move(xs), std::move(values)});
  }
  if (!series.empty()) {
    io::plot_lines(output / "training_curve.png", series,
                   {.title = title, .x_label = "epoch", .y_label = "lower bound (nats per image)"});
  }
}

/// A VAE's pictures of the test set, given the means of q(z | x) for images [n, d]
/// (`encode_means`) and the likelihood's means for codes [n, z_dim] (`decode_means`):
/// reconstructions.png, the first 50 test images above their reconstructions; and, with 10
/// test images or more, seed 003's reconstructions_10.png (the first 10) and
/// interpolations.png (5 pairs of consecutive test images, 25 steps between their codes).
template <class Encode, class Decode>
void save_test_figures(const std::filesystem::path& output, const data::ImageSet& test, Encode&& encode_means,
                       Decode&& decode_means) {
  const auto firsts = [&](std::size_t n) { return xt::xarray<float>(xt::view(test.images, xt::range(0, n), xt::all())); };
  if (const std::size_t n = std::min<std::size_t>(50, test.size()); n > 0) {
    save_reconstruction_grid(output / "reconstructions.png", firsts(n), decode_means(encode_means(firsts(n))), test.rows,
                             test.cols);
  }
  if (test.size() < 10) return;
  const xt::xarray<float> codes = encode_means(firsts(10));
  save_grid(output / "reconstructions_10.png", xt::concatenate(xt::xtuple(firsts(10), decode_means(codes))), test.rows,
            test.cols, 2, 10);
  const std::size_t steps = 25;
  xt::xarray<float> path = xt::zeros<float>({5 * steps, codes.shape()[1]});
  for (std::size_t p = 0; p < 5; ++p)
    for (std::size_t s = 0; s < steps; ++s) {
      const float w = static_cast<float>(s) / static_cast<float>(steps - 1);
      xt::row(path, p * steps + s) = (1 - w) * xt::row(codes, 2 * p) + w * xt::row(codes, 2 * p + 1);
    }
  save_grid(output / "interpolations.png", decode_means(path), test.rows, test.cols, 5, steps, 1);
}

}  // namespace vaelib::examples
