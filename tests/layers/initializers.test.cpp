#include "support/gradients.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace vaelib;
using namespace vaelib::testing;

namespace {

template <class T>
std::vector<T> values_of(const Parameter<T>& p) {
  return std::vector<T>(p.value, p.value + p.size);
}

struct ParameterMoments {
  double mean = 0;
  double variance = 0;
  double max_abs = 0;
};

template <class T>
ParameterMoments moments(const Parameter<T>& p) {
  ParameterMoments m;
  for (std::size_t i = 0; i < p.size; ++i) m.mean += static_cast<double>(p.value[i]);
  m.mean /= static_cast<double>(p.size);
  for (std::size_t i = 0; i < p.size; ++i) {
    const double d = static_cast<double>(p.value[i]) - m.mean;
    m.variance += d * d;
    m.max_abs = std::max(m.max_abs, std::abs(static_cast<double>(p.value[i])));
  }
  m.variance /= static_cast<double>(p.size - 1);
  return m;
}

}  // namespace

TEST_CASE("initializers: fans of rank 0, 1, 2, 3 and 4 shapes", "[initializers]") {
  const init::Fans f0 = init::fans(Shape{});
  CHECK(f0.in == 1);
  CHECK(f0.out == 1);
  const init::Fans f1 = init::fans(Shape{7});
  CHECK(f1.in == 7);
  CHECK(f1.out == 7);
  const init::Fans f2 = init::fans(Shape{3, 5});
  CHECK(f2.in == 3);
  CHECK(f2.out == 5);
  const init::Fans f3 = init::fans(Shape{5, 4, 6});  // receptive field 5
  CHECK(f3.in == 20);
  CHECK(f3.out == 30);
  const init::Fans f4 = init::fans(Shape{3, 3, 16, 32});  // 3x3 kernel, 16 -> 32 channels
  CHECK(f4.in == 144);
  CHECK(f4.out == 288);
}

TEST_CASE("initializers: same seed and name give identical values, other seeds and names differ", "[initializers]") {
  ParameterStore<float> a(42);
  ParameterStore<float> b(42);
  ParameterStore<float> c(43);
  const auto& pa = a.get_or_create("enc/h1/weight", Shape{20, 30}, init::glorot_uniform<float>());
  const auto& pb = b.get_or_create("enc/h1/weight", Shape{20, 30}, init::glorot_uniform<float>());
  const auto& pc = c.get_or_create("enc/h1/weight", Shape{20, 30}, init::glorot_uniform<float>());
  const auto& other = a.get_or_create("enc/h2/weight", Shape{20, 30}, init::glorot_uniform<float>());
  CHECK(values_of(pa) == values_of(pb));
  std::size_t equal_seed = 0;
  std::size_t equal_name = 0;
  for (std::size_t i = 0; i < pa.size; ++i) {
    equal_seed += pa.value[i] == pc.value[i];
    equal_name += pa.value[i] == other.value[i];
  }
  CHECK(equal_seed == 0);
  CHECK(equal_name == 0);
  // The normal initialisers are deterministic too.
  ParameterStore<double> d1(9);
  ParameterStore<double> d2(9);
  CHECK(values_of(d1.get_or_create("w", Shape{50}, init::he_normal<double>())) ==
        values_of(d2.get_or_create("w", Shape{50}, init::he_normal<double>())));
}

TEST_CASE("initializers: values do not depend on the order parameters are created in", "[initializers]") {
  ParameterStore<float> ab(123);
  ParameterStore<float> ba(123);
  ab.get_or_create("a", Shape{8, 4}, init::glorot_uniform<float>());
  ab.get_or_create("b", Shape{4, 6}, init::glorot_normal<float>());
  ba.get_or_create("b", Shape{4, 6}, init::glorot_normal<float>());
  ba.get_or_create("unrelated", Shape{100}, init::normal<float>(0.0f, 1.0f));  // draws in between
  ba.get_or_create("a", Shape{8, 4}, init::glorot_uniform<float>());
  CHECK(values_of(ab.at("a")) == values_of(ba.at("a")));
  CHECK(values_of(ab.at("b")) == values_of(ba.at("b")));
  // Each parameter's stream is the store's rng stream for its full name.
  ParameterStore<double> store(77);
  std::uint32_t first = 0;
  store.get_or_create("gen/x", Shape{1}, [&first](std::span<double> v, const Shape&, Rng& rng) {
    first = rng.next_u32();
    v[0] = 1.0;
  });
  CHECK(first == Rng(77).stream("gen/x").next_u32());
  CHECK(first == store.rng().stream("gen/x").next_u32());
}

TEST_CASE("initializers: glorot_uniform is bounded by sqrt(6 / (fan_in + fan_out)) with variance limit^2 / 3",
          "[initializers]") {
  ParameterStore<float> store(2024);
  const auto& w = store.get_or_create("w", Shape{400, 300}, init::glorot_uniform<float>());
  const double limit = std::sqrt(6.0 / 700.0);
  const ParameterMoments m = moments(w);
  CHECK(m.max_abs <= limit);
  CHECK(m.max_abs > 0.999 * limit);  // fills the range
  CHECK(std::abs(m.mean) < 0.01 * limit);
  CHECK(m.variance == Approx(limit * limit / 3.0).epsilon(0.05));
  // Rank 4: fans include the receptive field.
  const auto& k = store.get_or_create("k", Shape{3, 3, 16, 32}, init::glorot_uniform<float>());
  const double klimit = std::sqrt(6.0 / (144.0 + 288.0));
  const ParameterMoments mk = moments(k);
  CHECK(mk.max_abs <= klimit);
  CHECK(mk.max_abs > 0.99 * klimit);
}

TEST_CASE("initializers: glorot_normal and he_normal have the formula's standard deviation", "[initializers]") {
  ParameterStore<double> store(5);
  const auto& g = store.get_or_create("g", Shape{400, 300}, init::glorot_normal<double>());
  const auto& h = store.get_or_create("h", Shape{400, 300}, init::he_normal<double>());
  const ParameterMoments mg = moments(g);
  const ParameterMoments mh = moments(h);
  const double sg = std::sqrt(2.0 / 700.0);
  const double sh = std::sqrt(2.0 / 400.0);
  CHECK(std::sqrt(mg.variance) == Approx(sg).epsilon(0.05));
  CHECK(std::sqrt(mh.variance) == Approx(sh).epsilon(0.05));
  CHECK(std::abs(mg.mean) < 0.01 * sg);
  CHECK(std::abs(mh.mean) < 0.01 * sh);
  // Normal, not uniform: about 68.3% within one standard deviation, and some beyond 3.
  std::size_t within = 0;
  std::size_t beyond3 = 0;
  for (std::size_t i = 0; i < g.size; ++i) {
    within += std::abs(g.value[i]) < sg;
    beyond3 += std::abs(g.value[i]) > 3 * sg;
  }
  CHECK(static_cast<double>(within) / static_cast<double>(g.size) == Approx(0.6827).margin(0.01));
  CHECK(beyond3 > 0);
}

TEST_CASE("initializers: he_uniform is bounded by sqrt(6 / fan_in)", "[initializers]") {
  ParameterStore<float> store(8);
  const auto& w = store.get_or_create("w", Shape{400, 300}, init::he_uniform<float>());
  const double limit = std::sqrt(6.0 / 400.0);
  const ParameterMoments m = moments(w);
  CHECK(m.max_abs <= limit);
  CHECK(m.max_abs > 0.999 * limit);
  CHECK(m.variance == Approx(limit * limit / 3.0).epsilon(0.05));
}

TEST_CASE("initializers: zeros, constant, uniform and normal", "[initializers]") {
  ParameterStore<float> store(3);
  CHECK(values_of(store.get_or_create("z", Shape{3, 4}, init::zeros<float>())) == std::vector<float>(12, 0.0f));
  CHECK(values_of(store.get_or_create("c", Shape{5}, init::constant<float>(-1.25f))) == std::vector<float>(5, -1.25f));
  const auto& u = store.get_or_create("u", Shape{10000}, init::uniform<float>(2.0f, 3.0f));
  const ParameterMoments mu = moments(u);
  CHECK(*std::min_element(u.value, u.value + u.size) >= 2.0f);
  CHECK(*std::max_element(u.value, u.value + u.size) < 3.0f);
  CHECK(mu.mean == Approx(2.5).margin(0.01));
  const auto& n = store.get_or_create("n", Shape{20000}, init::normal<float>(1.5f, 0.5f));
  const ParameterMoments mn = moments(n);
  CHECK(mn.mean == Approx(1.5).margin(0.01));
  CHECK(std::sqrt(mn.variance) == Approx(0.5).epsilon(0.03));
  ParameterStore<double> dstore;
  CHECK(values_of(dstore.get_or_create("c", Shape{2}, init::constant<double>(0.1))) == std::vector<double>{0.1, 0.1});
}

TEST_CASE("initializers: a user initializer gets the shape and fills the parameter", "[initializers]") {
  ParameterStore<double> store(1);
  int calls = 0;
  Shape seen_shape;
  std::size_t seen_size = 0;
  Initializer<double> ramp = [&](std::span<double> values, const Shape& shape, Rng&) {
    ++calls;
    seen_shape = shape;
    seen_size = values.size();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * static_cast<double>(i) - 1.0;
  };
  const auto& p = store.scope("enc").get("w", Shape{2, 3, 4}, ramp);
  CHECK(calls == 1);
  CHECK(seen_shape == Shape{2, 3, 4});
  CHECK(seen_size == 24);
  for (std::size_t i = 0; i < p.size; ++i) CHECK(p.value[i] == 0.5 * static_cast<double>(i) - 1.0);
  // Not called again when the parameter is reused.
  store.scope("enc").get("w", Shape{2, 3, 4}, ramp);
  CHECK(calls == 1);
  // Through a layer.
  DenseOptions<double> options;
  options.weight_init = ramp;
  options.bias_init = init::constant<double>(0.25);
  Tape<double> tape;
  dense(store.scope("layer"), "d", tape.constant(xt::xarray<double>(xt::ones<double>({2, 3}))), 2, options);
  CHECK(calls == 2);
  CHECK(seen_shape == Shape{3, 2});
  CHECK(values_of(store.at("layer/d/weight")) == std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0, 1.5});
  CHECK(values_of(store.at("layer/d/bias")) == std::vector<double>{0.25, 0.25});
}
