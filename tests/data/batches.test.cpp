#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

namespace {

data::ImageSet numbered_set(std::size_t n) {
  data::ImageSet set;
  set.rows = 1;
  set.cols = 2;
  set.images = xt::xarray<float>::from_shape({n, 2});
  for (std::size_t i = 0; i < n; ++i) {
    set.images(i, 0) = static_cast<float>(i);
    set.images(i, 1) = 0.25f;
    set.labels.push_back(static_cast<std::uint8_t>(i % 10));
  }
  return set;
}

}  // namespace

TEST_CASE("split_train_validation: the last images validate", "[data]") {
  const auto [train, validation] = data::split_train_validation(numbered_set(10), 3);
  CHECK(train.size() == 7);
  CHECK(validation.size() == 3);
  CHECK(validation.images(0, 0) == 7.0f);
  CHECK(validation.labels[2] == 9);
  CHECK_THROWS_WITH(data::split_train_validation(numbered_set(3), 3), Contains("leave none of 3 for training"));
  CHECK(data::head(numbered_set(10), 4).size() == 4);
}

TEST_CASE("BatchSampler: each epoch visits every example once, in a seeded order", "[data]") {
  data::BatchSampler sampler(10, 3);
  CHECK(sampler.batches() == 3);  // the last partial batch is dropped
  Rng rng(5);
  sampler.shuffle(rng);
  std::vector<std::size_t> seen;
  for (std::size_t b = 0; b < sampler.batches(); ++b)
    for (std::size_t i : sampler.batch(b)) seen.push_back(i);
  CHECK(seen.size() == 9);
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  data::BatchSampler again(10, 3);
  Rng same(5);
  again.shuffle(same);
  CHECK(std::equal(again.batch(0).begin(), again.batch(0).end(), sampler.batch(0).begin()));
  // An epoch's order depends on the RNG state only, not on earlier shuffles (exact resume).
  const RngState before_second_epoch = rng.state();
  sampler.shuffle(rng);
  data::BatchSampler resumed(10, 3);
  Rng restored(0);
  restored.set_state(before_second_epoch);
  resumed.shuffle(restored);
  for (std::size_t b = 0; b < sampler.batches(); ++b)
    CHECK(std::equal(resumed.batch(b).begin(), resumed.batch(b).end(), sampler.batch(b).begin()));
  data::BatchSampler keep(10, 3, /*drop_last=*/false);
  CHECK(keep.batches() == 4);
  CHECK(keep.batch(3).size() == 1);
  CHECK_THROWS_WITH(data::BatchSampler(2, 3), Contains("2 examples do not fill one batch of 3"));
  const auto set = numbered_set(10);
  std::vector<float> out(4);
  const std::vector<std::size_t> picks{4, 2};
  data::gather(set, picks, out);
  CHECK(out == std::vector<float>{4.0f, 0.25f, 2.0f, 0.25f});
}

TEST_CASE("binarize: Bernoulli draws with the pixel as probability; static is fixed per seed", "[data]") {
  std::vector<float> p(20000, 0.25f), out(20000);
  Rng rng(7);
  data::binarize(p, out, rng);
  double ones = 0;
  for (float v : out) {
    CHECK((v == 0.0f || v == 1.0f));
    ones += v;
  }
  CHECK(ones / 20000 == Approx(0.25).margin(4 * std::sqrt(0.25 * 0.75 / 20000)));
  auto set = numbered_set(50);
  set.images /= 50.0f;  // pixels are probabilities (binarize refuses values outside [0, 1])
  const auto a = data::binarize_static(set, 3), b = data::binarize_static(set, 3), c = data::binarize_static(set, 4);
  CHECK(a.images == b.images);
  CHECK_FALSE(a.images == c.images);
}

TEST_CASE("batches: bad sizes, indices and pixels are refused, naming the value", "[data]") {
  CHECK_THROWS_WITH(data::BatchSampler(10, 0), "BatchSampler: batch_size must be at least 1");
  CHECK_THROWS_WITH(data::BatchSampler(0, 3), Contains("0 examples do not fill one batch of 3"));
  CHECK(data::BatchSampler(0, 3, /*drop_last=*/false).batches() == 0);  // an empty set has no batches
  const data::BatchSampler sampler(10, 3);
  CHECK_THROWS_WITH(sampler.batch(3), "BatchSampler: batch 3 is out of range (3 batches of 3 from 10 examples)");
  CHECK_THROWS_WITH(data::split_train_validation(data::ImageSet{}, 0), Contains("leave none of 0 for training"));
  const auto set = numbered_set(10);
  CHECK_THROWS_WITH(data::subset(set, {2, 10}), "subset: index 10 is out of range for a set of 10 images");
  std::vector<float> out(4);
  CHECK_THROWS_WITH(data::gather(set, std::vector<std::size_t>{1, 10}, out),
                    "gather: index 10 is out of range for a set of 10 images");
  CHECK_THROWS_WITH(data::gather(set, std::vector<std::size_t>{1, 2, 3}, out),
                    "gather: the output buffer holds 4 values, 3 images of 2 pixels need 6");
  Rng rng(1);
  std::vector<float> p{0.0f, 1.0f, std::nanf(""), 0.5f}, b(4);
  CHECK_THROWS_WITH(data::binarize(p, b, rng), "binarize: input value nan at index 2 is not a probability in [0, 1]");
  p[2] = 1.5f;
  CHECK_THROWS_WITH(data::binarize(p, b, rng), Contains("input value 1.500000 at index 2 is not a probability"));
  CHECK_THROWS_WITH(data::binarize(p, std::span<float>(b).first(3), rng),
                    "binarize: input and output sizes differ (4 vs 3)");
}

TEST_CASE("binarize: the draws are uniform<float>() < p, one word per pixel, in order", "[data]") {
  // 100352 pixels (a batch of 128 images) are split over the BLAS's threads
  for (const std::size_t n : {std::size_t{2500}, std::size_t{128 * 784}}) {
    INFO("n = " << n);
    std::vector<float> p(n), out(n);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(i % 11) / 10.0f;
    p[7] = 1.0f;
    Rng rng(42), reference(42);
    (void)rng.next_u32();  // start mid-block
    (void)reference.next_u32();
    data::binarize(p, out, rng);
    for (std::size_t i = 0; i < p.size(); ++i) REQUIRE(out[i] == (reference.uniform<float>() < p[i] ? 1.0f : 0.0f));
    CHECK(rng.state() == reference.state());
  }
}
