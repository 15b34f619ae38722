// Writes the fuzz targets' seed corpora: small valid IDX files (raw and gzip) and
// checkpoints of the model checkpoint.fuzz.cpp loads into, plus near-misses of each, and
// chains of reshape and slice for shape_ops.fuzz.cpp.
//   make_seed_corpus <tests/fuzz/corpus>
// Its output is committed; rerun it only to change the seeds.
#include <zlib.h>

#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vaelib/io/checkpoint.hpp"
#include "vaelib/layers/initializers.hpp"
#include "vaelib/optim/adam.hpp"
#include "vaelib/optim/sgd.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write(const fs::path& path, const Bytes& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes idx(const std::vector<std::uint32_t>& dims) {
  Bytes b = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  std::size_t count = 1;
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
    count *= d;
  }
  for (std::size_t i = 0; i < count; ++i) b.push_back(static_cast<std::uint8_t>(i * 37));
  return b;
}

Bytes gzip(const Bytes& raw) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&z, raw.size()) + 32);
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-folder>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  const std::vector<std::pair<std::string, Bytes>> idx_files = {
      {"labels", idx({10})},        {"images", idx({2, 4, 4})}, {"four_dims", idx({1, 2, 2, 3})},
      {"empty", idx({0})},          {"truncated", [] { Bytes b = idx({3, 3}); b.pop_back(); return b; }()},
  };
  for (const auto& [name, bytes] : idx_files) {
    write(root / "idx_raw" / (name + ".idx"), bytes);
    write(root / "idx_gzip" / (name + ".idx.gz"), gzip(bytes));
  }
  Bytes two_members = gzip(idx({4}));
  const Bytes tail = gzip(Bytes{});
  two_members.insert(two_members.end(), tail.begin(), tail.end());
  write(root / "idx_gzip" / "two_members.idx.gz", two_members);

  // Checkpoints: the fuzz target's own model (enc/w [2,3], enc/b [3]) with Adam, RNG and
  // step; one with an extra parameter; one with SGD's state instead of Adam's.
  const fs::path scratch = fs::temp_directory_path() / "vaelib_seed_corpus.npz";
  auto checkpoint = [&](const std::string& name, bool extra, bool sgd) {
    vaelib::ParameterStore<float> store(3);
    store.get_or_create("enc/w", {2, 3}, vaelib::init::normal<float>(0.0f, 1.0f));
    store.get_or_create("enc/b", {3}, vaelib::init::constant<float>(0.25f));
    if (extra) store.get_or_create("dec/x", {2}, vaelib::init::constant<float>(1.0f));
    vaelib::optim::Adam<float> adam(store, {});
    vaelib::optim::SGD<float> plain(store, {});
    vaelib::Rng rng(9);
    (void)rng.uniform<float>();
    std::uint64_t step = 3;
    vaelib::optim::Optimizer<float>* opt = sgd ? static_cast<vaelib::optim::Optimizer<float>*>(&plain) : &adam;
    vaelib::io::save_checkpoint(scratch, vaelib::io::TrainingState<float>{&store, opt, &rng, &step});
    write(root / "checkpoint" / (name + ".npz"), file_bytes(scratch));
  };
  checkpoint("model", false, false);
  checkpoint("extra_parameter", true, false);
  checkpoint("sgd_state", false, true);
  fs::remove(scratch);

  // Shape chains for shape_ops.fuzz.cpp (its Input class reads them: rank, dimensions, then
  // ops: 0 reshape (count, dims: a byte below 40 is -1), 1 slice (axis, start, stop, step; a
  // byte below 220 is its value mod 17 minus 8)).
  const std::vector<std::pair<std::string, Bytes>> shape_chains = {
      {"slice_then_flatten", {2, 3, 4, 2, 1, 1, 9, 7, 10, 0, 1, 0}},  // [3, 4][:, 1:-1:2] -> [-1]
      {"huge_empty_axis", {2, 254, 0, 1, 1, 1, 8, 8, 9}},             // [2^62, 0][:, 0:0:1]
      {"overflowing_reshape", {1, 4, 1, 0, 3, 254, 254, 254, 254, 254, 254}},  // [4] -> [2^62, 2^62, 2^62]
      {"huge_step", {1, 5, 1, 1, 0, 8, 13, 220}},                     // [5][0:5:PTRDIFF_MAX]
      {"empty_with_huge_axes", {4, 0, 0xff, 0xfe, 0xfc}},            // [0, 2^63, 2^62, 2^60]
      {"axis_too_long", {2, 0xff, 0x42, 0x70, 3}},                    // slicing an axis of 2^63
  };
  for (const auto& [name, bytes] : shape_chains) write(root / "shape_ops" / name, bytes);
  std::printf("seed corpora written to %s\n", root.string().c_str());
  return 0;
}
