#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "support/gradients.hpp"
#include "vaelib/io/checkpoint.hpp"

using namespace vaelib;
using namespace vaelib::io;
using Catch::Matchers::Contains;

namespace {

std::filesystem::path temp_folder(const std::string& name) {
  const auto folder = std::filesystem::temp_directory_path() / ("vaelib_checkpoint_" + name);
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

std::vector<char> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_chars(const std::filesystem::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A small regression model trained with Adam on batches drawn from the run's Rng: the
// whole training state is parameters + optimiser + rng + step.
struct Run {
  ParameterStore<float> store{11};
  optim::Adam<float> adam{store, {.learning_rate = 1e-2}};
  Rng rng{2024};
  std::uint64_t step = 0;
  Tape<float> tape;
  MLP<float> mlp{store.scope("model"), "mlp", {16, 16, 1}, {.hidden_activation = Activation::tanh}};

  float train_until(std::uint64_t last_step) {
    float loss_value = 0;
    xt::xarray<float> x = xt::zeros<float>({32, 1});
    while (step < last_step) {
      rng.fill_uniform<float>(std::span<float>(x.data(), x.size()), -2.0f, 2.0f);
      const xt::xarray<float> y = xt::sin(x);
      tape.clear();
      auto pred = mlp(tape.constant(x));
      auto loss = mean(square(pred - tape.constant(y)));
      adam.zero_grad();
      tape.backward(loss);
      adam.step();
      loss_value = loss.item();
      ++step;
    }
    return loss_value;
  }

  TrainingState<float> state() { return {&store, &adam, &rng, &step}; }
};

bool same_parameters(const ParameterStore<float>& a, const ParameterStore<float>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& p : a) {
    const Parameter<float>* q = b.find(p->name);
    if (q == nullptr || q->shape != p->shape || std::memcmp(q->value, p->value, p->size * sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("checkpoint: save then load restores everything bit for bit", "[io][checkpoint]") {
  const auto folder = temp_folder("roundtrip");
  Run a;
  a.train_until(20);
  save_checkpoint(folder / "ck.npz", a.state());
  Run b;  // fresh: no parameters yet, other optimiser state, other RNG position
  load_checkpoint(folder / "ck.npz", b.state());
  CHECK(same_parameters(a.store, b.store));
  CHECK(b.step == 20);
  CHECK(b.adam.steps() == 20);
  CHECK(b.rng.state() == a.rng.state());
  for (const auto& p : a.store) {
    for (std::size_t s = 0; s < 2; ++s) {
      CHECK(std::memcmp(a.adam.slot(s, *p), b.adam.slot(s, b.store.at(p->name)), p->size * sizeof(float)) == 0);
    }
  }
  save_checkpoint(folder / "again.npz", b.state());
  CHECK(read_bytes(folder / "ck.npz") == read_bytes(folder / "again.npz"));
  std::filesystem::remove_all(folder);
}

TEST_CASE("checkpoint: a resumed run continues exactly as the uninterrupted one", "[io][checkpoint]") {
  const auto folder = temp_folder("resume");
  Run uninterrupted;
  uninterrupted.train_until(60);

  Run first_half;
  first_half.train_until(25);
  save_checkpoint(folder / "ck.npz", first_half.state());
  Run resumed;
  load_checkpoint(folder / "ck.npz", resumed.state());
  resumed.train_until(60);

  CHECK(same_parameters(uninterrupted.store, resumed.store));
  CHECK(resumed.rng.state() == uninterrupted.rng.state());
  std::filesystem::remove_all(folder);
}

TEST_CASE("checkpoint: truncated files are refused with the file named, and nothing is loaded", "[io][checkpoint]") {
  const auto folder = temp_folder("truncated");
  Run a;
  a.train_until(3);
  const auto good = folder / "good.npz";
  save_checkpoint(good, a.state());
  const std::vector<char> bytes = read_bytes(good);
  const auto bad = folder / "bad.npz";
  Run b;
  b.train_until(1);  // has parameters of its own, which must survive failed loads
  ParameterStore<float> before(0);
  for (const auto& p : b.store) before.create_from(p->name, p->shape, {p->value, p->size});
  for (const std::size_t keep : {std::size_t{0}, std::size_t{10}, std::size_t{100}, bytes.size() / 2, bytes.size() - 30,
                                 bytes.size() - 1}) {
    write_chars(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)));
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    REQUIRE_THROWS_AS(load_checkpoint(bad, b.state()), FormatError);
    REQUIRE_THROWS_WITH(load_checkpoint(bad, b.state()), Contains(bad.string()));
    CHECK(same_parameters(before, b.store));
    CHECK(b.step == 1);
  }
  write_chars(bad, std::vector<char>(bytes.begin(), bytes.begin() + 10));
  REQUIRE_THROWS_WITH(load_checkpoint(bad, b.state()),
                      bad.string() + ": byte 0: truncated: 10 bytes is too short for an npz (zip) archive");
  write_chars(bad, std::vector<char>(bytes.begin(), bytes.end() - 30));
  REQUIRE_THROWS_WITH(load_checkpoint(bad, b.state()),
                      Contains("truncated or not an npz archive: no zip end-of-central-directory record"));
  std::filesystem::remove_all(folder);
}

TEST_CASE("checkpoint: flipped bytes are refused", "[io][checkpoint]") {
  const auto folder = temp_folder("flipped");
  Run a;
  a.train_until(2);
  const auto path = folder / "ck.npz";
  save_checkpoint(path, a.state());
  const std::vector<char> bytes = read_bytes(path);
  Run b;
  for (const std::size_t at : {std::size_t{5}, std::size_t{200}, bytes.size() / 2, bytes.size() - 40, bytes.size() - 3}) {
    std::vector<char> bad = bytes;
    bad[at] ^= 0x10;
    write_chars(path, bad);
    INFO("flipped byte " << at);
    REQUIRE_THROWS_AS(load_checkpoint(path, b.state()), FormatError);
    CHECK(b.store.size() == 0);
  }
  std::vector<char> bad = bytes;
  bad[bytes.size() / 2] ^= 0x10;
  write_chars(path, bad);
  REQUIRE_THROWS_WITH(load_checkpoint(path, b.state()),
                      Contains(path.string() + ": byte 0: corrupt: the archive's CRC-32 is"));
  std::filesystem::remove_all(folder);
}

TEST_CASE("checkpoint: mismatched models and files are named in the error", "[io][checkpoint]") {
  const auto folder = temp_folder("mismatch");
  const auto path = folder / "ck.npz";
  Run a;
  a.train_until(1);
  save_checkpoint(path, a.state());

  SECTION("a parameter of another shape") {
    ParameterStore<float> store;
    store.get_or_create("model/mlp/layer_0/weight", Shape{1, 8}, init::zeros<float>());
    REQUIRE_THROWS_WITH(load_checkpoint(path, TrainingState<float>{&store}),
                        "load_checkpoint " + path.string() +
                            ": array 'param/model/mlp/layer_0/weight' has shape [1, 16], the model's is [1, 8]");
    CHECK(store.size() == 1);  // nothing created
  }
  SECTION("a model parameter the file lacks") {
    ParameterStore<float> store;
    store.get_or_create("decoder/extra", Shape{3}, init::zeros<float>());
    REQUIRE_THROWS_WITH(load_checkpoint(path, TrainingState<float>{&store}),
                        Contains("the model's parameter 'decoder/extra' is not in the checkpoint"));
  }
  SECTION("another optimiser") {
    ParameterStore<float> store;
    optim::SGD<float> sgd(store);
    REQUIRE_THROWS_WITH(load_checkpoint(path, TrainingState<float>{&store, &sgd}),
                        Contains("the checkpoint has no state for optimizer 'sgd' (it has: adam)"));
    CHECK(store.size() == 0);
  }
  SECTION("another precision") {
    ParameterStore<double> store;
    REQUIRE_THROWS_WITH(load_checkpoint(path, TrainingState<double>{&store}),
                        Contains("array 'param/model/mlp/layer_0/weight' has dtype <f4, expected <f8"));
  }
  SECTION("a missing file") {
    ParameterStore<float> store;
    REQUIRE_THROWS_AS(load_checkpoint(folder / "none.npz", TrainingState<float>{&store}), IoError);
    REQUIRE_THROWS_WITH(load_checkpoint(folder / "none.npz", TrainingState<float>{&store}),
                        Contains("read " + (folder / "none.npz").string() + ": cannot open the file"));
  }
  SECTION("not a checkpoint") {
    write_chars(folder / "text.npz", std::vector<char>(100, 'x'));
    ParameterStore<float> store;
    REQUIRE_THROWS_AS(load_checkpoint(folder / "text.npz", TrainingState<float>{&store}), FormatError);
    REQUIRE_THROWS_WITH(load_checkpoint(folder / "text.npz", TrainingState<float>{&store}),
                        Contains("text.npz: byte 100: truncated or not an npz archive"));
  }
  SECTION("a parameter name the store cannot hold is refused before anything is created") {
    NpzArchive archive;
    const std::uint64_t version = 1;
    archive.add("vaelib/format", make_npy<std::uint64_t>(Shape{1}, std::span<const std::uint64_t>(&version, 1)));
    const std::vector<float> values{1.0f, 2.0f};
    archive.add("param/fine", make_npy<float>(Shape{2}, values));
    archive.add("param/enc//w", make_npy<float>(Shape{2}, values));
    const std::vector<std::byte> bytes = encode_npz(archive);
    ParameterStore<float> store;
    REQUIRE_THROWS_WITH(load_checkpoint_from_bytes(bytes, "odd.npz", TrainingState<float>{&store}),
                        "load_checkpoint odd.npz: array 'param/enc//w' does not name a valid parameter "
                        "(expected non-empty scope parts joined by '/')");
    CHECK(store.size() == 0);
  }
  std::filesystem::remove_all(folder);
}

TEST_CASE("checkpoint: NaN or infinite parameters are refused and the last good file is kept", "[io][checkpoint]") {
  const auto folder = temp_folder("non_finite");
  Run run;
  run.train_until(3);
  save_checkpoint(folder / "ck.npz", run.state());
  const auto good = read_bytes(folder / "ck.npz");
  Parameter<float>& p = *run.store.begin()->get();
  p.value[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(save_checkpoint(folder / "ck.npz", run.state()), NumericalError);
  CHECK_THROWS_WITH(save_checkpoint(folder / "ck.npz", run.state()),
                    Contains("parameter '" + p.name + "' holds NaN at element 1") && Contains("the file was left as it was"));
  p.value[1] = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(save_checkpoint(folder / "ck.npz", run.state()), Contains("holds -inf at element 1"));
  CHECK(read_bytes(folder / "ck.npz") == good);
  CHECK(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("checkpoint: a file holding NaN or infinite parameters is refused on loading too (issue 20)", "[io][checkpoint]") {
  const std::uint64_t version = 1;
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    NpzArchive archive;  // made by hand: save_checkpoint would refuse to write it
    archive.add("vaelib/format", make_npy<std::uint64_t>(Shape{1}, std::span<const std::uint64_t>(&version, 1)));
    const std::vector<float> good{1.0f, 2.0f, 3.0f}, values{1.0f, 2.0f, bad};
    archive.add("param/enc/a", make_npy<float>(Shape{3}, good));
    archive.add("param/enc/w", make_npy<float>(Shape{3}, values));
    const std::vector<std::byte> bytes = encode_npz(archive);
    ParameterStore<float> store;
    Parameter<float>& a = store.get_or_create("enc/a", Shape{3}, {});
    a.value[0] = 7.0f;
    REQUIRE_THROWS_AS(load_checkpoint_from_bytes(bytes, "nan.npz", TrainingState<float>{&store}), FormatError);
    REQUIRE_THROWS_WITH(load_checkpoint_from_bytes(bytes, "nan.npz", TrainingState<float>{&store}),
                        std::string("load_checkpoint nan.npz: array 'param/enc/w' holds ") + (std::isnan(bad) ? "NaN" : "+inf") +
                            " at element 2 (save_checkpoint never writes one); nothing was loaded");
    CHECK(store.size() == 1);  // nothing created
    CHECK(a.value[0] == 7.0f);  // nothing loaded
  }
}

TEST_CASE("checkpoint: the run's metadata text travels with the checkpoint (issue 20)", "[io][checkpoint]") {
  const auto folder = temp_folder("metadata");
  Run a;
  a.train_until(3);
  std::string written = "program=vae\nbatch_size=50\nbytes: \x01\xff, and a NUL:";
  written.push_back('\0');
  written += "after it";
  TrainingState<float> with_text = a.state();
  with_text.metadata = &written;
  save_checkpoint(folder / "ck.npz", with_text);

  Run b;
  std::string read = "stale text the load must replace";
  TrainingState<float> reading = b.state();
  reading.metadata = &read;
  load_checkpoint(folder / "ck.npz", reading);
  CHECK(read == written);  // byte for byte, NULs and all
  CHECK(same_parameters(a.store, b.store));

  // a reader that asks for no metadata loads the same file; a file without it reads as empty
  Run c;
  load_checkpoint(folder / "ck.npz", c.state());
  CHECK(same_parameters(a.store, c.store));
  save_checkpoint(folder / "plain.npz", a.state());
  Run d;
  TrainingState<float> reading_plain = d.state();
  reading_plain.metadata = &read;
  load_checkpoint(folder / "plain.npz", reading_plain);
  CHECK(read.empty());
  std::filesystem::remove_all(folder);
}

TEST_CASE("checkpoint: state buffers (running statistics) are saved, loaded and checked", "[io][checkpoint]") {
  const auto folder = temp_folder("buffers");
  const auto path = folder / "ck.npz";
  ParameterStore<float> a(3);
  a.get_or_create("bn/gamma", Shape{3}, init::constant(2.0f));
  StateBuffer<float>& mean = a.get_or_create_buffer("bn/running_mean", Shape{3}, {});
  StateBuffer<float>& var = a.get_or_create_buffer("bn/running_var", Shape{3}, init::constant(1.0f));
  mean.value = xt::xarray<float>({0.5f, -1.25f, 3.0f});
  var.value(1) = 0.75f;
  save_checkpoint(path, TrainingState<float>{&a});

  ParameterStore<float> b;  // fresh: the buffers are created from the file
  load_checkpoint(path, TrainingState<float>{&b});
  REQUIRE(b.buffers().size() == 2);
  CHECK(b.buffers()[0]->name == "bn/running_mean");
  CHECK((b.find_buffer("bn/running_mean")->value == mean.value));
  CHECK((b.find_buffer("bn/running_var")->value == xt::xarray<float>({1.0f, 0.75f, 1.0f})));
  CHECK(b.size() == 1);  // buffers are not parameters

  ParameterStore<float> c;  // existing buffers are overwritten in place
  StateBuffer<float>& c_mean = c.get_or_create_buffer("bn/running_mean", Shape{3}, {});
  const float* where = c_mean.value.data();
  load_checkpoint(path, TrainingState<float>{&c});
  CHECK(c_mean.value.data() == where);
  CHECK((c_mean.value == mean.value));

  SECTION("a model buffer the file lacks") {
    ParameterStore<float> d;
    d.get_or_create_buffer("bn2/running_mean", Shape{3}, {});
    REQUIRE_THROWS_WITH(load_checkpoint(path, TrainingState<float>{&d}),
                        "load_checkpoint " + path.string() +
                            ": the model's state buffer 'bn2/running_mean' is not in the checkpoint");
    CHECK(d.find_buffer("bn/running_mean") == nullptr);  // nothing created
  }
  SECTION("a buffer of another shape") {
    ParameterStore<float> d;
    d.get_or_create_buffer("bn/running_var", Shape{4}, {});
    REQUIRE_THROWS_WITH(load_checkpoint(path, TrainingState<float>{&d}),
                        "load_checkpoint " + path.string() +
                            ": array 'buffer/bn/running_var' has shape [3], the model's is [4]");
  }
  SECTION("a non-finite buffer is not saved") {
    const auto good = read_bytes(path);
    var.value(2) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_AS(save_checkpoint(path, TrainingState<float>{&a}), NumericalError);
    REQUIRE_THROWS_WITH(save_checkpoint(path, TrainingState<float>{&a}),
                        "save_checkpoint " + path.string() +
                            ": state buffer 'bn/running_var' holds NaN at element 2; the file was left as it was");
    CHECK(read_bytes(path) == good);
  }
  SECTION("an invalid buffer name in a file") {
    NpzArchive archive;
    const std::uint64_t version = 1;
    archive.add("vaelib/format", make_npy<std::uint64_t>(Shape{1}, std::span<const std::uint64_t>(&version, 1)));
    const std::vector<float> values{1.0f, 2.0f};
    archive.add("buffer/bn/", make_npy<float>(Shape{2}, values));
    const std::vector<std::byte> bytes = encode_npz(archive);
    ParameterStore<float> d;
    REQUIRE_THROWS_WITH(load_checkpoint_from_bytes(bytes, "odd.npz", TrainingState<float>{&d}),
                        "load_checkpoint odd.npz: array 'buffer/bn/' does not name a valid state buffer "
                        "(expected non-empty scope parts joined by '/')");
    CHECK(d.buffers().empty());
  }
  std::filesystem::remove_all(folder);
}
