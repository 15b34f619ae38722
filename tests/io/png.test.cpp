#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("png: written and read back", "[io]") {
  const auto folder = scratch_folder("png");
  io::GrayImage image{5, 3, {}};
  for (std::size_t i = 0; i < 15; ++i) image.pixels.push_back(static_cast<std::uint8_t>(i * 17));
  io::save_png(folder / "a.png", image);
  const io::GrayImage back = io::load_png(folder / "a.png");
  CHECK(back.width == 5);
  CHECK(back.height == 3);
  CHECK(back.pixels == image.pixels);
  CHECK_THROWS_WITH(io::encode_png(io::GrayImage{2, 2, {1, 2, 3}}), Contains("needs 4 values, got 3"));
  CHECK_THROWS_WITH(io::encode_png(io::GrayImage{1, 1, {1, 2}, 2}), Contains("1 (grey) or 3 (RGB) channels, not 2"));
  write_bytes(folder / "not.png", bytes_of({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  CHECK_THROWS_WITH(io::load_png(folder / "not.png"), Contains("not.png: not a PNG file (bad signature at offset 0)"));
  auto bytes = io::encode_png(image);
  bytes.resize(bytes.size() / 2);
  write_bytes(folder / "cut.png", bytes);
  CHECK_THROWS_WITH(io::load_png(folder / "cut.png"), Contains("cut.png: "));
}

TEST_CASE("image_grid: images tiled row by row, with padding and zoom", "[io]") {
  // three 2x2 images: all 0, all 1, a gradient; a 2x2 grid, padding 1, zoom 2
  const std::vector<float> images{0, 0, 0, 0, 1, 1, 1, 1, 0, 1.0f / 3, 2.0f / 3, 1};
  const io::GrayImage g = io::image_grid(images, 2, 2, {.grid_rows = 2, .grid_cols = 2, .padding = 1, .zoom = 2});
  CHECK(g.width == 2 * (4 + 1) + 1);
  CHECK(g.height == 2 * (4 + 1) + 1);
  auto at = [&](std::size_t r, std::size_t c) { return g.pixels[r * g.width + c]; };
  CHECK(at(0, 0) == 128);    // padding: background grey
  CHECK(at(1, 1) == 0);      // image 0
  CHECK(at(4, 4) == 0);
  CHECK(at(1, 6) == 255);    // image 1, to the right
  CHECK(at(6, 1) == 0);      // image 2, second row: its first pixel is 0
  CHECK(at(6, 3) == 85);     // its second pixel (1/3), zoomed 2x
  CHECK(at(8, 3) == 255);    // its last pixel
  CHECK(at(6, 6) == 128);    // empty fourth cell
  // scale_each stretches each image's range
  const std::vector<float> dim{0.2f, 0.4f, 0.2f, 0.4f};
  const io::GrayImage s = io::image_grid(dim, 2, 2, {.padding = 0, .scale_each = true});
  CHECK(s.pixels == std::vector<std::uint8_t>{0, 255, 0, 255});
  CHECK_THROWS_WITH(io::image_grid(images, 2, 5), Contains("12 values are not a whole number of 2x5 images"));
  CHECK_THROWS_WITH(io::image_grid(images, 2, 2, {.grid_rows = 1, .grid_cols = 2}),
                    Contains("a 1x2 grid cannot hold 3 images"));
  const auto folder = scratch_folder("grid");
  io::save_image_grid(folder / "g.png", images, 2, 2);
  CHECK(io::load_png(folder / "g.png").width == 2 * 3 + 1);
}

TEST_CASE("png: a folder, a truncated file, a missing file; NaN pixels drawn black", "[io]") {
  const auto folder = scratch_folder("png_bad");
  CHECK_THROWS_WITH(io::load_png(folder), "read " + folder.string() + ": is a folder, not a file");
  CHECK_THROWS_WITH(io::load_png(folder / "none.png"), Contains("read " + (folder / "none.png").string() + ": cannot open"));
  auto bytes = io::encode_png(io::GrayImage{4, 4, std::vector<std::uint8_t>(16, 7)});
  const std::size_t size = bytes.size() - 20;
  bytes.resize(size);
  write_bytes(folder / "cut.png", bytes);
  CHECK_THROWS_AS(io::load_png(folder / "cut.png"), io::FormatError);
  CHECK_THROWS_WITH(io::load_png(folder / "cut.png"),
                    Contains((folder / "cut.png").string() + ": truncated PNG data: ") &&
                        Contains(", the file ends at offset " + std::to_string(size)));
  const io::GrayImage grid = io::image_grid(std::vector<float>{std::nanf(""), 1.0f, 0.0f, 1.0f}, 2, 2, {.padding = 0});
  CHECK(grid.pixels == std::vector<std::uint8_t>{0, 255, 0, 255});
}

TEST_CASE("image_grid: colour images (three planes each) tiled into an RGB picture", "[io]") {
  // two 1x2 images of planes R, G, B: red then grey; grey; a 1x2 grid without padding
  const std::vector<float> images{1, 0.5f, 0, 0.5f, 0, 0.5f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
  const io::GrayImage g = io::image_grid(images, 1, 2, {.grid_rows = 1, .grid_cols = 2, .padding = 0, .channels = 3});
  CHECK(g.channels == 3);
  CHECK(g.width == 4);
  CHECK(g.height == 1);
  CHECK(g.pixels == std::vector<std::uint8_t>{255, 0, 0, 128, 128, 128, 51, 51, 51, 51, 51, 51});
  CHECK_THROWS_WITH(io::image_grid(images, 2, 3, {.channels = 3}), Contains("12 values are not a whole number of RGB 2x3 images"));
  CHECK_THROWS_WITH(io::image_grid(images, 1, 2, {.channels = 4}), Contains("1 (grey) or 3 (RGB) channels, not 4"));
  // written as an RGB PNG; read back as grey, where R = G = B the grey level is that value
  const auto folder = scratch_folder("grid_rgb");
  io::save_image_grid(folder / "c.png", images, 1, 2, {.grid_rows = 1, .padding = 0, .channels = 3});
  const io::GrayImage back = io::load_png(folder / "c.png");
  CHECK(back.width == 4);
  CHECK(back.channels == 1);
  CHECK(back.pixels[1] == 128);
  CHECK(back.pixels[3] == 51);
  CHECK(back.pixels[0] != 255);  // red is not white
}
