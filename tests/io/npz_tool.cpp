// A helper program for numpy_interop.py: writes a vaelib checkpoint with known contents, or
// reads any stored .npz and prints what it holds, so the test can check both directions
// against NumPy.

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "vaelib/io.hpp"
#include "vaelib/vae.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: npz_tool write-checkpoint|read FILE\n";
    return 2;
  }
  const std::string mode = argv[1];
  try {
    if (mode == "write-checkpoint") {
      vaelib::ParameterStore<float> store(1);
      auto& w = store.get_or_create("enc/w", vaelib::Shape{2, 3}, vaelib::init::zeros<float>());
      for (std::size_t i = 0; i < w.size; ++i) w.value[i] = static_cast<float>(i) * 0.5f;
      store.get_or_create("enc/b", vaelib::Shape{3}, vaelib::init::constant(-1.0f));
      vaelib::optim::Adam<float> adam(store);
      for (auto& p : store) std::fill_n(p->grad, p->size, 1.0f);
      adam.step();
      vaelib::Rng rng(77);
      std::uint64_t step = 5;
      vaelib::io::save_checkpoint(argv[2], vaelib::io::TrainingState<float>{&store, &adam, &rng, &step});
      return 0;
    }
    if (mode == "read") {
      const vaelib::io::NpzArchive archive = vaelib::io::load_npz(argv[2]);
      for (const auto& [name, array] : archive.entries()) {
        double sum = 0;
        const std::size_t n = vaelib::shape_size(array.shape);
        for (std::size_t i = 0; i < n; ++i) {
          if (array.dtype == "<f4") {
            float v;
            std::memcpy(&v, array.data.data() + 4 * i, 4);
            sum += v;
          } else if (array.dtype == "<f8") {
            double v;
            std::memcpy(&v, array.data.data() + 8 * i, 8);
            sum += v;
          } else if (array.dtype == "<u8") {
            std::uint64_t v;
            std::memcpy(&v, array.data.data() + 8 * i, 8);
            sum += static_cast<double>(v);
          }
        }
        std::printf("%s %s %s %.6f\n", name.c_str(), array.dtype.c_str(), vaelib::to_string(array.shape).c_str(), sum);
      }
      return 0;
    }
  } catch (const vaelib::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  std::cerr << "npz_tool: unknown mode '" << mode << "'\n";
  return 2;
}
