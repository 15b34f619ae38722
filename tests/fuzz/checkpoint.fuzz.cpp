// libFuzzer target: load_checkpoint_from_bytes into a small model with Adam, an RNG and a
// step counter. Beyond "no crash": a rejected file must leave every part of the state as it
// was (load_checkpoint's promise), which the target checks after each error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "vaelib/io/checkpoint.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/optim/adam.hpp"

namespace {

template <class T>
std::vector<T> values_of(const vaelib::ParameterStore<T>& store) {
  std::vector<T> v;
  for (const auto& p : store) v.insert(v.end(), p->value, p->value + p->size);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  vaelib::ParameterStore<float> store(1, 64);  // small blocks: thousands of runs a second
  store.get_or_create("enc/w", {2, 3}, vaelib::init::constant<float>(0.5f));
  store.get_or_create("enc/b", {3}, vaelib::init::constant<float>(-1.0f));
  vaelib::optim::Adam<float> adam(store, {});
  vaelib::Rng rng(5);
  std::uint64_t step = 11;
  const std::vector<float> before = values_of(store);
  const vaelib::RngState rng_before = rng.state();
  try {
    vaelib::io::load_checkpoint_from_bytes(bytes, "fuzz.npz", vaelib::io::TrainingState<float>{&store, &adam, &rng, &step});
  } catch (const vaelib::Error&) {
    bool moments_untouched = true;
    for (const auto& p : store)
      for (std::size_t s = 0; s < adam.slot_names().size(); ++s)
        for (std::size_t k = 0; k < p->size; ++k) moments_untouched &= adam.slot(s, *p)[k] == 0.0f;
    if (store.size() != 2 || values_of(store) != before || step != 11 || adam.steps() != 0 || !(rng.state() == rng_before) ||
        !moments_untouched) {
      std::abort();  // a rejected checkpoint changed the state
    }
  }
  return 0;
}
