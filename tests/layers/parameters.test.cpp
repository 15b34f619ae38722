#include "support/gradients.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

template <class T>
std::vector<T> stored_values(const Parameter<T>& p) {
  return std::vector<T>(p.value, p.value + p.size);
}

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

}  // namespace

TEST_CASE("parameters: get_or_create returns the same parameter for the same name", "[parameters]") {
  ParameterStore<float> store(7);
  Parameter<float>& a = store.get_or_create("w", Shape{2, 3}, init::glorot_uniform<float>());
  CHECK(a.name == "w");
  CHECK(a.shape == Shape{2, 3});
  CHECK(a.size == 6);
  const std::vector<float> before = stored_values(a);
  // On reuse the initialiser is not called again: the values stay.
  Parameter<float>& b = store.get_or_create("w", Shape{2, 3}, init::constant<float>(5.0f));
  CHECK(&a == &b);
  CHECK(a.value == b.value);
  CHECK(a.grad == b.grad);
  CHECK(stored_values(b) == before);
  CHECK(store.size() == 1);
  CHECK(&store.at("w") == &a);
  CHECK(store.find("w") == &a);
  CHECK(store.find("v") == nullptr);
  const ParameterStore<float>& cstore = store;
  CHECK(cstore.find("w") == &a);
  CHECK(cstore.find("v") == nullptr);
}

TEST_CASE("parameters: scopes join names with '/' and reach the same parameters", "[parameters]") {
  ParameterStore<double> store(1);
  const ParameterScope<double> gen = store.scope("gen");
  const ParameterScope<double> h1 = gen.scope("h1");
  CHECK(gen.prefix() == "gen");
  CHECK(h1.prefix() == "gen/h1");
  CHECK(&h1.store() == &store);
  Parameter<double>& w = store.scope("gen").scope("h1").get("weight", Shape{3, 4}, init::glorot_uniform<double>());
  CHECK(w.name == "gen/h1/weight");
  CHECK(&h1.get("weight", Shape{3, 4}, init::zeros<double>()) == &w);
  CHECK(&store.get_or_create("gen/h1/weight", Shape{3, 4}, init::zeros<double>()) == &w);
  CHECK(&store.scope("gen/h1").get("weight", Shape{3, 4}, {}) == &w);
  CHECK(&store.at("gen/h1/weight") == &w);
  // A sibling scope is another parameter.
  Parameter<double>& w2 = gen.scope("h2").get("weight", Shape{3, 4}, init::glorot_uniform<double>());
  CHECK(&w2 != &w);
  CHECK(w2.name == "gen/h2/weight");
  CHECK(store.size() == 2);
  // A scope copied keeps its prefix.
  ParameterScope<double> copy = h1;
  CHECK(copy.prefix() == "gen/h1");
  CHECK(&copy.get("weight", Shape{3, 4}, {}) == &w);
}

TEST_CASE("parameters: calling a model-building function twice gives the same parameter objects", "[parameters]") {
  ParameterStore<float> store(3);
  auto model = [&store](Tape<float>& tape, std::size_t batch) {
    xt::xarray<float> x = xt::empty<float>({batch, std::size_t{3}});
    for (std::size_t r = 0; r < batch; ++r)
      for (std::size_t c = 0; c < 3; ++c) x(r, c) = 0.1f * static_cast<float>(r + 1) - 0.2f * static_cast<float>(c);
    const ParameterScope<float> scope = store.scope("model");
    DenseOptions<float> hidden;
    hidden.activation = Activation::tanh;
    const Var<float> h = dense(scope, "h1", tape.constant(x), 4, hidden);
    return dense(scope, "out", h, 2);
  };
  Tape<float> tape;
  const Var<float> y2 = model(tape, 2);
  REQUIRE(store.size() == 4);
  std::vector<const Parameter<float>*> params;
  std::vector<const float*> values;
  std::vector<std::string> names;
  for (const auto& p : store) {
    params.push_back(p.get());
    values.push_back(p->value);
    names.push_back(p->name);
  }
  CHECK(names == std::vector<std::string>{"model/h1/weight", "model/h1/bias", "model/out/weight", "model/out/bias"});
  const std::vector<float> first_rows(y2.data(), y2.data() + 4);

  const Var<float> y5 = model(tape, 5);
  CHECK(y5.shape() == Shape{5, 2});
  CHECK(store.size() == 4);
  CHECK(store.count() == 3 * 4 + 4 + 4 * 2 + 2);
  std::size_t i = 0;
  for (const auto& p : store) {
    CHECK(p.get() == params[i]);
    CHECK(p->value == values[i]);
    ++i;
  }
  // Same parameters, so the rows both batches share are equal (up to GEMM blocking).
  for (std::size_t k = 0; k < 4; ++k) CHECK(y5.data()[k] == Approx(first_rows[k]).margin(1e-6));
}

TEST_CASE("parameters: a reused parameter must keep its shape", "[parameters]") {
  ParameterStore<float> store;
  store.get_or_create("enc/w", Shape{2, 3}, init::zeros<float>());
  REQUIRE_THROWS_AS(store.get_or_create("enc/w", Shape{3, 2}, init::zeros<float>()), ShapeError);
  REQUIRE_THROWS_WITH(store.get_or_create("enc/w", Shape{3, 2}, init::zeros<float>()),
                      "parameter 'enc/w': requested with shape [3, 2] but it exists with shape [2, 3] (a reused "
                      "parameter must keep its shape)");
  REQUIRE_THROWS_WITH(store.scope("enc").get("w", Shape{6}, init::zeros<float>()),
                      "parameter 'enc/w': requested with shape [6] but it exists with shape [2, 3] (a reused "
                      "parameter must keep its shape)");
  CHECK(store.size() == 1);
}

TEST_CASE("parameters: invalid names throw ArgumentError", "[parameters]") {
  ParameterStore<float> store;
  for (const std::string name : {"", "a//b", "/a", "a/", "/"}) {
    INFO("name: '" << name << "'");
    REQUIRE_THROWS_AS(store.get_or_create(name, Shape{2}, init::zeros<float>()), ArgumentError);
    REQUIRE_THROWS_WITH(store.get_or_create(name, Shape{2}, init::zeros<float>()),
                        "parameter name '" + name + "' is invalid (expected non-empty scope parts joined by '/')");
  }
  // Through scopes: an empty part, or a part that starts with '/'.
  REQUIRE_THROWS_AS(store.scope(""), ArgumentError);
  REQUIRE_THROWS_WITH(store.scope(""), "parameter scope: an empty scope name under ''");
  REQUIRE_THROWS_WITH(store.scope("gen").scope(""), "parameter scope: an empty scope name under 'gen'");
  REQUIRE_THROWS_WITH(store.scope("gen").get("", Shape{2}, {}), "parameter scope: an empty scope name under 'gen'");
  REQUIRE_THROWS_WITH(store.scope("gen").get("/w", Shape{2}, {}),
                      "parameter name 'gen//w' is invalid (expected non-empty scope parts joined by '/')");
  REQUIRE_THROWS_WITH(store.create_from("a//b", Shape{1}, std::vector<float>{1.0f}),
                      "parameter name 'a//b' is invalid (expected non-empty scope parts joined by '/')");
  CHECK(store.size() == 0);
}

TEST_CASE("parameters: scope names are limited to 255 characters", "[parameters]") {
  ParameterStore<float> store;
  const std::string long_part(253, 'a');
  // 253 + '/' + 1 = 255 characters: allowed.
  Parameter<float>& p = store.scope(long_part).get("b", Shape{1}, {});
  CHECK(p.name.size() == 255);
  CHECK(p.name == long_part + "/b");
  REQUIRE_THROWS_AS(store.scope(long_part).get("bc", Shape{1}, {}), ArgumentError);
  REQUIRE_THROWS_WITH(store.scope(long_part).scope("bc"),
                      "parameter scope: the name '" + long_part + "/bc' is longer than 255 characters");
  REQUIRE_THROWS_WITH(store.scope(std::string(256, 'x')),
                      "parameter scope: the name '" + std::string(256, 'x') + "' is longer than 255 characters");
}

TEST_CASE("parameters: at() on a missing name lists the known ones", "[parameters]") {
  ParameterStore<float> store;
  REQUIRE_THROWS_AS(store.at("x"), ArgumentError);
  REQUIRE_THROWS_WITH(store.at("x"), "parameter 'x' does not exist (parameters: none)");
  store.get_or_create("enc/w", Shape{2}, {});
  store.get_or_create("enc/b", Shape{2}, {});
  REQUIRE_THROWS_WITH(store.at("dec/w"), "parameter 'dec/w' does not exist (parameters: enc/w, enc/b)");
  CHECK(store.at("enc/b").name == "enc/b");
}

TEST_CASE("parameters: size, count and iteration in creation order", "[parameters]") {
  ParameterStore<double> store;
  CHECK(store.size() == 0);
  CHECK(store.count() == 0);
  CHECK(store.begin() == store.end());
  store.get_or_create("enc/w", Shape{3, 4}, init::glorot_uniform<double>());
  store.get_or_create("enc/b", Shape{4}, init::zeros<double>());
  store.get_or_create("dec/w", Shape{4, 2}, init::glorot_uniform<double>());
  store.get_or_create("scale", Shape{}, init::constant<double>(2.0));
  store.get_or_create("enc/w", Shape{3, 4}, init::glorot_uniform<double>());  // reuse: no new entry
  CHECK(store.size() == 4);
  CHECK(store.count() == 12 + 4 + 8 + 1);
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  std::vector<std::size_t> sizes;
  for (const auto& p : store) {
    names.push_back(p->name);
    shapes.push_back(p->shape);
    sizes.push_back(p->size);
  }
  CHECK(names == std::vector<std::string>{"enc/w", "enc/b", "dec/w", "scale"});
  CHECK(shapes == std::vector<Shape>{Shape{3, 4}, Shape{4}, Shape{4, 2}, Shape{}});
  CHECK(sizes == std::vector<std::size_t>{12, 4, 8, 1});
  CHECK(store.at("scale").value[0] == 2.0);
  // value_view / grad_view see the parameter with its shape.
  const Parameter<double>& w = store.at("enc/w");
  auto view = w.value_view();
  CHECK(view.dimension() == 2);
  CHECK(view.shape()[0] == 3);
  CHECK(view.shape()[1] == 4);
  CHECK(view(1, 2) == w.value[1 * 4 + 2]);
  w.grad[5] = 3.5;
  CHECK(w.grad_view()(1, 1) == 3.5);
}

TEST_CASE("parameters: a missing initialiser gives zeros; create_from copies values", "[parameters]") {
  ParameterStore<float> store;
  Parameter<float>& z = store.get_or_create("z", Shape{5}, Initializer<float>{});
  CHECK(stored_values(z) == std::vector<float>(5, 0.0f));
  const std::vector<float> data = {1.0f, 2.0f, 3.0f, 4.0f};
  Parameter<float>& c = store.create_from("c", Shape{2, 2}, data);
  CHECK(c.shape == Shape{2, 2});
  CHECK(stored_values(c) == data);
  CHECK(std::vector<float>(c.grad, c.grad + c.size) == std::vector<float>(4, 0.0f));
  REQUIRE_THROWS_AS(store.create_from("c", Shape{2, 2}, data), ArgumentError);
  REQUIRE_THROWS_WITH(store.create_from("c", Shape{2, 2}, data), "parameter 'c' already exists");
  REQUIRE_THROWS_AS(store.create_from("d", Shape{3}, data), ShapeError);
  REQUIRE_THROWS_WITH(store.create_from("d", Shape{3}, data), "parameter 'd': 4 values given for shape [3]");
  CHECK(store.size() == 2);
}

TEST_CASE("parameters: on(tape) reads the value in place and backward adds into the gradient", "[parameters]") {
  ParameterStore<double> store;
  Parameter<double>& p = store.create_from("p", Shape{3}, std::vector<double>{1.0, -2.0, 3.0});
  Tape<double> tape;
  const Var<double> v = p.on(tape);
  CHECK(v.data() == p.value);
  CHECK(v.shape() == Shape{3});
  CHECK(v.requires_grad());
  tape.backward(sum(v * v));  // d/dp = 2p
  CHECK(std::vector<double>(p.grad, p.grad + 3) == std::vector<double>{2.0, -4.0, 6.0});
  tape.clear();
  tape.backward(sum(p.on(tape) * 3.0));  // accumulates: + 3
  CHECK(std::vector<double>(p.grad, p.grad + 3) == std::vector<double>{5.0, -1.0, 9.0});
}

TEST_CASE("parameters: zero_grad zeroes every gradient in every block", "[parameters]") {
  ParameterStore<float> store;
  Parameter<float>& a = store.get_or_create("a", Shape{7}, init::constant<float>(1.0f));
  Parameter<float>& b = store.get_or_create("b", Shape{3, 5}, init::constant<float>(1.0f));
  Parameter<float>& big = store.get_or_create("big", Shape{ParameterStore<float>::default_block_elements}, {});
  REQUIRE(store.blocks().size() == 2);
  for (const auto& p : store)
    for (std::size_t i = 0; i < p->size; ++i) p->grad[i] = static_cast<float>(i % 13) + 0.5f;
  CHECK(a.grad[3] == 3.5f);
  CHECK(big.grad[big.size - 1] != 0.0f);
  store.zero_grad();
  for (const auto& p : store) {
    INFO(p->name);
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < p->size; ++i) nonzero += p->grad[i] != 0.0f;
    CHECK(nonzero == 0);
  }
  // Values are untouched.
  CHECK(stored_values(a) == std::vector<float>(7, 1.0f));
  CHECK(stored_values(b) == std::vector<float>(15, 1.0f));
}

TEST_CASE("parameters: parameters never move when new storage blocks are added", "[parameters]") {
  using Store = ParameterStore<float>;
  Store store(11);
  const std::size_t n = 300'000;  // three fit in one block of 2^20 elements, the fourth does not
  std::vector<Parameter<float>*> params;
  std::vector<float*> pointers;
  std::vector<std::vector<float>> snapshots;
  for (int i = 0; i < 5; ++i) {
    Parameter<float>& p = store.get_or_create("p" + std::to_string(i), Shape{n}, init::glorot_uniform<float>());
    params.push_back(&p);
    pointers.push_back(p.value);
    snapshots.push_back(stored_values(p));
  }
  CHECK(store.blocks().size() == 2);
  CHECK(params[0]->block == 0);
  CHECK(params[2]->block == 0);
  CHECK(params[3]->block == 1);
  CHECK(params[4]->block == 1);
  CHECK(params[3]->offset == 0);
  CHECK(store.blocks()[0]->capacity == Store::default_block_elements);
  // A parameter larger than a block gets a block of its own size.
  Parameter<float>& huge = store.get_or_create("huge", Shape{Store::default_block_elements + 10}, {});
  CHECK(store.blocks().size() == 3);
  CHECK(huge.block == 2);
  CHECK(store.blocks()[2]->capacity >= huge.size);
  for (std::size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(params[i] == &store.at("p" + std::to_string(i)));
    CHECK(params[i]->value == pointers[i]);
    CHECK(stored_values(*params[i]) == snapshots[i]);
    CHECK(params[i]->value == store.blocks()[params[i]->block]->values.data() + params[i]->offset);
    CHECK(params[i]->grad == store.blocks()[params[i]->block]->grads.data() + params[i]->offset);
  }
}

TEST_CASE("parameters: the block size can be chosen for small models", "[parameters]") {
  ParameterStore<float> store(2, 40);
  CHECK(ParameterStore<float>::is_valid_name("enc/h1/weight"));
  CHECK_FALSE(ParameterStore<float>::is_valid_name("enc//weight"));
  Parameter<float>& a = store.get_or_create("a", Shape{20}, init::constant<float>(1.0f));
  Parameter<float>& b = store.get_or_create("b", Shape{20}, init::constant<float>(2.0f));
  Parameter<float>& c = store.get_or_create("c", Shape{100}, init::constant<float>(3.0f));
  CHECK(store.blocks().size() == 3);  // a and b fill the first block; c is larger than a block
  CHECK(store.blocks()[0]->capacity == 40);
  CHECK(a.block == 0);
  CHECK(b.block == 1);  // padded to 32 floats each, two do not fit in 40
  CHECK(c.block == 2);
  CHECK(store.blocks()[2]->capacity >= 100);
  CHECK(stored_values(c) == std::vector<float>(100, 3.0f));
}

TEST_CASE("parameters: parameters are packed at 64-byte boundaries with zero padding", "[parameters]") {
  ParameterStore<float> store(5);
  const std::vector<Shape> shapes = {Shape{1}, Shape{3}, Shape{17}, Shape{}, Shape{4, 5}, Shape{16}, Shape{33}};
  for (std::size_t i = 0; i < shapes.size(); ++i)
    store.get_or_create("p" + std::to_string(i), shapes[i], init::constant<float>(1.0f));
  const std::size_t align = ParameterStore<float>::alignment_elements;
  CHECK(align == 16);
  CHECK(ParameterStore<double>::alignment_elements == 8);
  std::size_t expected_offset = 0;
  const ParameterBlock<float>& block = *store.blocks()[0];
  for (const auto& p : store) {
    INFO(p->name);
    CHECK(aligned64(p->value));
    CHECK(aligned64(p->grad));
    CHECK(p->offset == expected_offset);
    const std::size_t padded = (p->size + align - 1) / align * align;
    for (std::size_t i = p->size; i < padded; ++i) {
      CHECK(p->value[i] == 0.0f);
      CHECK(p->grad[i] == 0.0f);
    }
    expected_offset += padded;
  }
  CHECK(block.used == expected_offset);
  CHECK(block.used == 16 * 11);  // lines of 16: 1, 1, 2 (17), 1 ([]), 2 (20), 1, 3 (33)

  ParameterStore<double> dstore;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const Parameter<double>& p = dstore.get_or_create("p" + std::to_string(i), shapes[i], {});
    CHECK(aligned64(p.value));
    CHECK(aligned64(p.grad));
  }
}

TEST_CASE("parameters: state buffers live beside the parameters, outside the optimised blocks", "[parameters]") {
  ParameterStore<float> store(5);
  const ParameterScope<float> bn = store.scope("enc").scope("bn");
  StateBuffer<float>& mean = bn.buffer("running_mean", Shape{4});
  StateBuffer<float>& var = bn.buffer("running_var", Shape{4}, init::constant(1.0f));
  CHECK(mean.name == "enc/bn/running_mean");
  CHECK(mean.shape() == Shape{4});
  CHECK((mean.value == xt::xarray<float>(xt::zeros<float>({4}))));
  CHECK((var.value == xt::xarray<float>(xt::ones<float>({4}))));
  CHECK(&bn.buffer("running_mean", Shape{4}) == &mean);  // reused
  REQUIRE(store.buffers().size() == 2);
  CHECK(store.buffers()[1].get() == &var);
  CHECK(store.find_buffer("enc/bn/running_var") == &var);
  CHECK(store.find_buffer("enc/bn/gamma") == nullptr);
  // not parameters: no block storage, so optimisers and zero_grad never touch them
  CHECK(store.size() == 0);
  CHECK(store.count() == 0);
  CHECK(store.blocks().empty());
  // a parameter may share a buffer's name
  store.get_or_create("enc/bn/running_mean", Shape{2}, {});
  CHECK(store.size() == 1);
  CHECK(store.find_buffer("enc/bn/running_mean") == &mean);

  REQUIRE_THROWS_AS(bn.buffer("running_mean", Shape{5}), ShapeError);
  REQUIRE_THROWS_WITH(bn.buffer("running_mean", Shape{5}),
                      "state buffer 'enc/bn/running_mean': requested with shape [5] but it exists with shape [4] (a "
                      "reused buffer must keep its shape)");
  REQUIRE_THROWS_WITH(store.get_or_create_buffer("a//b", Shape{1}, {}),
                      "parameter name 'a//b' is invalid (expected non-empty scope parts joined by '/')");
  const std::vector<float> values{1, 2, 3};
  StateBuffer<float>& copied = store.create_buffer_from("x/stat", Shape{3}, values);
  CHECK((copied.value == xt::xarray<float>({1.0f, 2.0f, 3.0f})));
  REQUIRE_THROWS_WITH(store.create_buffer_from("x/stat", Shape{3}, values), "state buffer 'x/stat' already exists");
  REQUIRE_THROWS_WITH(store.create_buffer_from("x/other", Shape{2}, values),
                      "state buffer 'x/other': 3 values given for shape [2]");
}
