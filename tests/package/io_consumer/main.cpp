// A user program of the io component: compute six 4x4 images with the core, write them as a
// 2 x 3 PNG grid, read the file back.
#include <iostream>
#include <span>

#include <vaelib/io.hpp>
#include <vaelib/vae.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: io_consumer <file.png>\n";
    return 2;
  }
  vaelib::Tape<float> tape;
  const auto ramp = tape.constant(xt::eval(xt::arange<float>(-48.0f, 48.0f) / 8.0f));
  const xt::xarray<float> images = vaelib::sigmoid(ramp).value();  // 96 values: six 4x4 images
  vaelib::io::save_image_grid(argv[1], std::span<const float>(images.data(), images.size()), 4, 4,
                              {.grid_rows = 2, .grid_cols = 3});
  const vaelib::io::GrayImage back = vaelib::io::load_png(argv[1]);
  std::cout << "wrote and read back a " << back.width << "x" << back.height << " PNG\n";
  return 0;
}
