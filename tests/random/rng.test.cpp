#include <Random123/philox.h>

#include <cmath>
#include <vector>

#include "support/gradients.hpp"

using namespace vaelib;

TEST_CASE("rng: Philox4x32-10 matches Random123 (Debian's librandom123-dev)", "[rng]") {
  r123::Philox4x32_R<10> reference;
  Rng source(12345);
  for (int i = 0; i < 1000; ++i) {
    const Rng::Block counter = {source.next_u32(), source.next_u32(), source.next_u32(), source.next_u32()};
    const std::array<std::uint32_t, 2> key = {source.next_u32(), source.next_u32()};
    r123::Philox4x32_R<10>::ctr_type c = {{counter[0], counter[1], counter[2], counter[3]}};
    r123::Philox4x32_R<10>::key_type k = {{key[0], key[1]}};
    const auto expected = reference(c, k);
    const Rng::Block actual = Rng::philox(counter, key);
    for (int j = 0; j < 4; ++j) REQUIRE(actual[static_cast<std::size_t>(j)] == expected.v[j]);
  }
  // The published known answer for counter 0, key 0.
  const Rng::Block zero = Rng::philox({0, 0, 0, 0}, {0, 0});
  CHECK(zero == Rng::Block{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
}

TEST_CASE("rng: the same seed gives the same numbers; another seed does not", "[rng]") {
  Rng a(7), b(7), c(8);
  std::vector<std::uint32_t> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.next_u32());
    vb.push_back(b.next_u32());
    vc.push_back(c.next_u32());
  }
  CHECK(va == vb);
  CHECK(va != vc);
}

TEST_CASE("rng: state round trip resumes the exact sequence", "[rng]") {
  Rng a(99);
  for (int i = 0; i < 13; ++i) a.next_u32();  // mid-block
  const RngState saved = a.state();
  std::vector<double> expected;
  for (int i = 0; i < 50; ++i) expected.push_back(a.uniform<double>());
  Rng b(1);
  b.set_state(saved);
  CHECK(b.state() == saved);
  for (int i = 0; i < 50; ++i) REQUIRE(b.uniform<double>() == expected[static_cast<std::size_t>(i)]);
}

TEST_CASE("rng: uniform and normal have the right moments", "[rng]") {
  Rng rng(2024);
  const std::size_t n = 200000;
  std::vector<double> u(n), z(n);
  rng.fill_uniform<double>(u, -1.0, 3.0);
  rng.fill_normal<double>(z, 2.0, 0.5);
  double su = 0, sz = 0, sz2 = 0, min_u = 10, max_u = -10;
  for (std::size_t i = 0; i < n; ++i) {
    su += u[i];
    min_u = std::min(min_u, u[i]);
    max_u = std::max(max_u, u[i]);
    sz += z[i];
    sz2 += z[i] * z[i];
  }
  CHECK(min_u >= -1.0);
  CHECK(max_u < 3.0);
  CHECK(su / n == Approx(1.0).margin(0.01));   // sd of the mean: 1.15 / sqrt(n) = 0.0026
  const double mean = sz / n;
  CHECK(mean == Approx(2.0).margin(0.005));    // sd of the mean: 0.0011
  CHECK(std::sqrt(sz2 / n - mean * mean) == Approx(0.5).margin(0.005));
  float f = 0;
  for (int i = 0; i < 1000; ++i) {
    f = rng.uniform<float>();
    REQUIRE(f >= 0.0f);
    REQUIRE(f < 1.0f);
  }
}

TEST_CASE("rng: named streams are reproducible and independent", "[rng]") {
  const Rng base(5);
  Rng s1 = base.stream("gen/h1/weight"), s2 = base.stream("gen/h1/weight"), s3 = base.stream("gen/h1/bias");
  const std::uint32_t a = s1.next_u32();
  CHECK(a == s2.next_u32());
  CHECK(a != s3.next_u32());
  CHECK(Rng(6).stream("gen/h1/weight").next_u32() != a);
}

TEST_CASE("rng: fill_u32 gives exactly the words of next_u32, from any position", "[rng]") {
  for (const std::size_t skip : {0, 1, 3, 4, 5}) {
    // up to fills long enough to be split over the BLAS's threads
    for (const std::size_t n : {0, 1, 63, 64, 65, 200, 1031, 70000, 262147}) {
      INFO("skip " << skip << ", n " << n);
      Rng bulk(31), one(31);
      for (std::size_t i = 0; i < skip; ++i) CHECK(bulk.next_u32() == one.next_u32());
      std::vector<std::uint32_t> words(n);
      bulk.fill_u32(words);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(words[i] == one.next_u32());
      CHECK(bulk.state() == one.state());
      CHECK(bulk.next_u32() == one.next_u32());
    }
  }
  // near the end of the low counter word the bulk path steps aside; the words still agree
  Rng bulk(5), one(5);
  bulk.set_state({5, UINT64_MAX - 20, 7, 4});
  one.set_state(bulk.state());
  std::vector<std::uint32_t> words(300);
  bulk.fill_u32(words);
  for (std::uint32_t w : words) REQUIRE(w == one.next_u32());
  CHECK(bulk.state() == one.state());
  CHECK(bulk.state().counter_high == 8);
}

TEST_CASE("rng: skip and ahead move exactly as many next_u32 calls", "[rng]") {
  for (const std::size_t start : {0, 1, 3, 4}) {
    for (const std::uint64_t words : {0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 1000, 1001}) {
      INFO("start " << start << ", words " << words);
      Rng a(77), b(77);
      for (std::size_t i = 0; i < start; ++i) CHECK(a.next_u32() == b.next_u32());
      const Rng c = a.ahead(words);
      CHECK(a.state() == b.state());  // ahead leaves its generator alone
      a.skip(words);
      for (std::uint64_t i = 0; i < words; ++i) (void)b.next_u32();
      CHECK(a.state() == b.state());
      CHECK(c.state() == b.state());
      Rng d = c;
      for (int i = 0; i < 9; ++i) {
        const std::uint32_t expected = b.next_u32();
        CHECK(a.next_u32() == expected);
        CHECK(d.next_u32() == expected);
      }
    }
  }
  // across the low counter word's end, the counter carries into the high word
  Rng near_end(5), slow(5);
  near_end.set_state({5, UINT64_MAX - 1, 7, 4});
  slow.set_state(near_end.state());
  near_end.skip(4 * 3 + 2);
  for (int i = 0; i < 4 * 3 + 2; ++i) (void)slow.next_u32();
  CHECK(near_end.state() == slow.state());
  CHECK(near_end.state().counter_high == 8);
  CHECK(near_end.next_u32() == slow.next_u32());
}

TEST_CASE("rng: a long fill is the same split over threads and serially", "[rng]") {
  std::vector<std::uint32_t> split(500003), serial(500003);
  Rng a(9), b(9);
  (void)a.next_u32();
  (void)b.next_u32();
  a.fill_u32(split);
  {
    const detail::SerialRegion one_thread;
    b.fill_u32(serial);
  }
  CHECK(split == serial);
  CHECK(a.state() == b.state());
}

TEST_CASE("rng: fill_normal gives normal_pair's values from the same words, split or serial", "[rng]") {
  // Sizes around the vector width, the 256-pair chunks and the threads' grain, odd and even,
  // from a position inside a block: the values of normal_pair one pair at a time (to the
  // last bits, which the vectorised functions may round differently), the same state after,
  // and the same values on one thread.
  for (const std::size_t n : {1, 2, 15, 16, 17, 511, 512, 513, 9001, 50000}) {
    CAPTURE(n);
    Rng filled(31), stepped(31), serial(31);
    for (Rng* r : {&filled, &stepped, &serial}) (void)r->next_u32();
    std::vector<float> values(n), one_thread(n);
    filled.fill_normal<float>(values, 1.5f, 2.0f);
    {
      const detail::SerialRegion one;
      serial.fill_normal<float>(one_thread, 1.5f, 2.0f);
    }
    CHECK(values == one_thread);
    bool close = true;
    for (std::size_t i = 0; i < n; i += 2) {
      const auto [a, b] = stepped.normal_pair<float>();
      close = close && std::abs(values[i] - (1.5f + 2.0f * a)) <= 2e-5f * (1.0f + std::abs(a));
      if (i + 1 < n) close = close && std::abs(values[i + 1] - (1.5f + 2.0f * b)) <= 2e-5f * (1.0f + std::abs(b));
    }
    CHECK(close);
    CHECK(filled.state() == stepped.state());
  }
}
