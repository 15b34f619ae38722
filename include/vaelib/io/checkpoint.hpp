#pragma once
// Checkpoints: parameters, optimiser state, RNG state and the step counter in one .npz file
// that NumPy reads directly (see docs/checkpoints.md). Saving is atomic; loading verifies
// the whole file (CRCs, names, shapes, dtypes) before changing anything.
//
// Arrays in the file:
//   vaelib/format                  uint64 [1]   format version (1)
//   param/<name>                   <f4|<f8 [shape]
//   buffer/<name>                  <f4|<f8 [shape]   state buffers (running statistics); only
//                                               when the store has some
//   optimizer/<kind>/steps         uint64 [1]
//   optimizer/<kind>/<slot>/<name> <f4|<f8 [shape]   (e.g. optimizer/adam/m/gen/h1/weight)
//   rng/state                      uint64 [4]   seed, counter (low, high), position
//   step                           uint64 [1]
//   run/metadata                   uint8 [n]    optional: text the program keeps with its
//                                               state (what made the checkpoint), UTF-8

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "vaelib/detail/finite.hpp"
#include "vaelib/io/npz.hpp"
#include "vaelib/layers/parameters.hpp"
#include "vaelib/optim/optimizer.hpp"
#include "vaelib/random/rng.hpp"

namespace vaelib::io {

inline constexpr std::uint64_t checkpoint_format_version = 1;

/// What a checkpoint saves and restores. `parameters` is required; the rest is optional
/// (a null pointer is neither saved nor restored).
template <class T>
struct TrainingState {
  ParameterStore<T>* parameters = nullptr;
  optim::Optimizer<T>* optimizer = nullptr;
  Rng* rng = nullptr;
  std::uint64_t* step = nullptr;
  /// Text saved beside the state (e.g. what program, model and options made it); on load it
  /// is set to the file's text, or emptied when the file has none (an older checkpoint).
  std::string* metadata = nullptr;
};

namespace detail {

inline NpyArray u64_array(std::span<const std::uint64_t> values) {
  return make_npy<std::uint64_t>(Shape{values.size()}, values);
}

/// The array's elements as T (memcpy: the byte buffer need not be aligned for T).
template <class T>
std::vector<T> values_of(const NpyArray& a) {
  std::vector<T> v(a.data.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), a.data.data(), v.size() * sizeof(T));
  return v;
}

}  // namespace detail

/// Writes `state` to `path` atomically: the previous checkpoint stays intact until the new
/// one is complete on disk.
template <class T>
void save_checkpoint(const std::filesystem::path& path, const TrainingState<T>& state) {
  if (state.parameters == nullptr) throw ArgumentError("save_checkpoint " + path.string() + ": no parameters given");
  // A diverged run must not replace the last good checkpoint with NaN parameters.
  for (const auto& p : *state.parameters) {
    const std::size_t k = vaelib::detail::first_non_finite(p->value, p->size);
    if (k == p->size) continue;
    throw NumericalError("save_checkpoint " + path.string() + ": parameter '" + p->name + "' holds " +
                         vaelib::detail::describe_non_finite(p->value[k]) + " at element " + std::to_string(k) +
                         "; the file was left as it was (turn on Tape::detect_anomaly to find the op)");
  }
  for (const auto& b : state.parameters->buffers()) {
    const std::size_t k = vaelib::detail::first_non_finite(b->value.data(), b->value.size());
    if (k == b->value.size()) continue;
    throw NumericalError("save_checkpoint " + path.string() + ": state buffer '" + b->name + "' holds " +
                         vaelib::detail::describe_non_finite(b->value.data()[k]) + " at element " + std::to_string(k) +
                         "; the file was left as it was");
  }
  NpzArchive archive;
  const std::uint64_t version = checkpoint_format_version;
  archive.add("vaelib/format", detail::u64_array({&version, 1}));
  for (const auto& p : *state.parameters) {
    archive.add("param/" + p->name, make_npy<T>(p->shape, {p->value, p->size}));
  }
  for (const auto& b : state.parameters->buffers()) {
    archive.add("buffer/" + b->name, make_npy<T>(b->shape(), {b->value.data(), b->value.size()}));
  }
  if (state.optimizer != nullptr) {
    optim::Optimizer<T>& opt = *state.optimizer;
    const std::string prefix = "optimizer/" + std::string(opt.name()) + "/";
    const std::uint64_t steps = opt.steps();
    archive.add(prefix + "steps", detail::u64_array({&steps, 1}));
    for (std::size_t s = 0; s < opt.slot_names().size(); ++s) {
      for (const auto& p : *state.parameters) {
        archive.add(prefix + opt.slot_names()[s] + "/" + p->name, make_npy<T>(p->shape, {opt.slot(s, *p), p->size}));
      }
    }
  }
  if (state.rng != nullptr) {
    const RngState r = state.rng->state();
    const std::uint64_t words[4] = {r.seed, r.counter_low, r.counter_high, r.position};
    archive.add("rng/state", detail::u64_array(words));
  }
  if (state.step != nullptr) archive.add("step", detail::u64_array({state.step, 1}));
  if (state.metadata != nullptr) {
    const auto* text = reinterpret_cast<const std::uint8_t*>(state.metadata->data());
    archive.add("run/metadata", make_npy<std::uint8_t>(Shape{state.metadata->size()}, {text, state.metadata->size()}));
  }
  save_npz(path, archive);
}

/// Restores `state` from the bytes of a checkpoint file; `file` names it in error messages.
/// The same checks as load_checkpoint (the fuzz target tests/fuzz/checkpoint.fuzz.cpp drives it).
template <class T>
void load_checkpoint_from_bytes(std::span<const std::byte> bytes, const std::string& file,
                                const TrainingState<T>& state) {
  if (state.parameters == nullptr) throw ArgumentError("load_checkpoint " + file + ": no parameters given");
  const NpzArchive archive = decode_npz(bytes, file, /*require_integrity=*/true);
  auto fail = [&](const std::string& what) { return FormatError("load_checkpoint " + file + ": " + what); };
  auto require = [&](const std::string& name, const char* dtype, const Shape* shape) -> const NpyArray& {
    const NpyArray* a = archive.find(name);
    if (a == nullptr) throw fail("the checkpoint has no array '" + name + "'");
    if (a->dtype != dtype) throw fail("array '" + name + "' has dtype " + a->dtype + ", expected " + dtype);
    if (shape != nullptr && a->shape != *shape) {
      throw fail("array '" + name + "' has shape " + to_string(a->shape) + ", the model's is " + to_string(*shape));
    }
    return *a;
  };
  const Shape one{1};
  const Shape four{4};
  if (detail::values_of<std::uint64_t>(require("vaelib/format", "<u8", &one))[0] != checkpoint_format_version) {
    throw fail("unsupported checkpoint format version (this vaelib reads version 1)");
  }

  // 1. Check everything.
  ParameterStore<T>& store = *state.parameters;
  std::vector<std::pair<std::string, const NpyArray*>> file_parameters;
  std::set<std::string> in_file;
  std::vector<std::pair<std::string, const NpyArray*>> file_buffers;
  std::set<std::string> buffers_in_file;
  for (const auto& [name, array] : archive.entries()) {
    const bool is_buffer = name.rfind("buffer/", 0) == 0;
    if (name.rfind("param/", 0) != 0 && !is_buffer) continue;
    const std::string parameter = name.substr(is_buffer ? 7 : 6);
    Shape buffer_shape;
    const Shape* existing_shape = nullptr;
    if (is_buffer) {
      if (const StateBuffer<T>* b = store.find_buffer(parameter)) existing_shape = &(buffer_shape = b->shape());
    } else if (const Parameter<T>* p = store.find(parameter)) {
      existing_shape = &p->shape;
    }
    if (existing_shape == nullptr && !ParameterStore<T>::is_valid_name(parameter)) {
      throw fail("array '" + name + "' does not name a valid " + (is_buffer ? "state buffer" : "parameter") +
                 " (expected non-empty scope parts joined by '/')");
    }
    require(name, npy_dtype<T>(), existing_shape);
    {  // save_checkpoint refuses NaN or infinite values; so does loading
      const std::vector<T> values = detail::values_of<T>(array);
      const std::size_t k = vaelib::detail::first_non_finite(values.data(), values.size());
      if (k != values.size()) {
        throw fail("array '" + name + "' holds " + vaelib::detail::describe_non_finite(values[k]) + " at element " +
                   std::to_string(k) + " (save_checkpoint never writes one); nothing was loaded");
      }
    }
    if (is_buffer) {
      file_buffers.emplace_back(parameter, &array);
      buffers_in_file.insert(parameter);
      continue;
    }
    file_parameters.emplace_back(parameter, &array);
    in_file.insert(parameter);
  }
  for (const auto& p : store) {
    if (!in_file.count(p->name)) throw fail("the model's parameter '" + p->name + "' is not in the checkpoint");
  }
  for (const auto& b : store.buffers()) {
    if (!buffers_in_file.count(b->name)) throw fail("the model's state buffer '" + b->name + "' is not in the checkpoint");
  }
  std::string optimizer_prefix;
  if (state.optimizer != nullptr) {
    optimizer_prefix = "optimizer/" + std::string(state.optimizer->name()) + "/";
    if (archive.find(optimizer_prefix + "steps") == nullptr) {
      std::string found;
      for (const auto& [name, array] : archive.entries())
        if (name.rfind("optimizer/", 0) == 0 && name.size() > 16 && name.compare(name.size() - 6, 6, "/steps") == 0)
          found += (found.empty() ? "" : ", ") + name.substr(10, name.size() - 16);
      throw fail("the checkpoint has no state for optimizer '" + std::string(state.optimizer->name()) +
                 "' (it has: " + (found.empty() ? "none" : found) + ")");
    }
    require(optimizer_prefix + "steps", "<u8", &one);
    for (const auto& slot : state.optimizer->slot_names())
      for (const auto& [parameter, array] : file_parameters)
        require(optimizer_prefix + slot + "/" + parameter, npy_dtype<T>(), &array->shape);
  }
  if (state.rng != nullptr && detail::values_of<std::uint64_t>(require("rng/state", "<u8", &four))[3] > 4) {
    throw fail("array 'rng/state' holds an impossible generator position (expected 0..4)");
  }
  if (state.step != nullptr) require("step", "<u8", &one);
  const NpyArray* metadata = state.metadata != nullptr ? archive.find("run/metadata") : nullptr;
  if (metadata != nullptr && (metadata->dtype != "|u1" || metadata->shape.size() != 1)) {
    throw fail("array 'run/metadata' has dtype " + metadata->dtype + " and shape " + to_string(metadata->shape) +
               ", expected |u1 text of one dimension");
  }

  // 2. Apply (nothing below can fail on the file's account).
  for (const auto& [parameter, array] : file_parameters) {
    const std::vector<T> values = detail::values_of<T>(*array);
    if (Parameter<T>* p = store.find(parameter))
      std::copy(values.begin(), values.end(), p->value);
    else
      store.create_from(parameter, array->shape, values);
  }
  for (const auto& [buffer, array] : file_buffers) {
    const std::vector<T> values = detail::values_of<T>(*array);
    if (StateBuffer<T>* b = store.find_buffer(buffer))
      std::copy(values.begin(), values.end(), b->value.data());
    else
      store.create_buffer_from(buffer, array->shape, values);
  }
  if (state.optimizer != nullptr) {
    optim::Optimizer<T>& opt = *state.optimizer;
    opt.set_steps(detail::values_of<std::uint64_t>(*archive.find(optimizer_prefix + "steps"))[0]);
    for (std::size_t s = 0; s < opt.slot_names().size(); ++s) {
      for (const auto& [parameter, array] : file_parameters) {
        const std::vector<T> values =
            detail::values_of<T>(*archive.find(optimizer_prefix + opt.slot_names()[s] + "/" + parameter));
        std::copy(values.begin(), values.end(), opt.slot(s, store.at(parameter)));
      }
    }
  }
  if (state.rng != nullptr) {
    const auto w = detail::values_of<std::uint64_t>(*archive.find("rng/state"));
    state.rng->set_state(RngState{w[0], w[1], w[2], w[3]});
  }
  if (state.step != nullptr) *state.step = detail::values_of<std::uint64_t>(*archive.find("step"))[0];
  if (state.metadata != nullptr) {
    state.metadata->assign(metadata != nullptr ? reinterpret_cast<const char*>(metadata->data.data()) : "",
                           metadata != nullptr ? metadata->data.size() : 0);
  }
}

/// Restores `state` from `path`. Every check runs before anything is changed: a truncated,
/// corrupt or mismatched file raises an error naming the file and the problem, and leaves
/// the parameters, optimiser, RNG and step untouched. Parameters in the file that the store
/// does not have yet are created (so a fresh process can load before building its model).
template <class T>
void load_checkpoint(const std::filesystem::path& path, const TrainingState<T>& state) {
  if (state.parameters == nullptr) throw ArgumentError("load_checkpoint " + path.string() + ": no parameters given");
  load_checkpoint_from_bytes(read_file(path), path.string(), state);
}

}  // namespace vaelib::io
