#include "support/gradients.hpp"
#include "vaelib/io/npy.hpp"

using namespace vaelib;
using namespace vaelib::io;
using Catch::Matchers::Contains;

TEST_CASE("npy: encode then decode gives back dtype, shape and bytes", "[io]") {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  const NpyArray a = make_npy<float>(Shape{2, 3}, values);
  const std::vector<std::byte> bytes = encode_npy(a);
  CHECK(bytes.size() % 64 == 24 % 64);  // 64-byte aligned header, then 24 data bytes
  const NpyArray b = decode_npy(bytes, "test");
  CHECK(b.dtype == "<f4");
  CHECK(b.shape == Shape{2, 3});
  CHECK(b.data == a.data);
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 10, 60);
  CHECK_THAT(header, Contains("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
}

TEST_CASE("npy: shapes of rank 0 and 1 use Python tuple syntax", "[io]") {
  const double one = 4.0;
  const NpyArray scalar = make_npy<double>(Shape{}, {&one, 1});
  CHECK(decode_npy(encode_npy(scalar), "t").shape == Shape{});
  const std::uint64_t v[3] = {1, 2, 3};
  const auto bytes = encode_npy(make_npy<std::uint64_t>(Shape{3}, v));
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 10, 60);
  CHECK_THAT(header, Contains("'shape': (3,)"));
  CHECK(decode_npy(bytes, "t").shape == Shape{3});
}

TEST_CASE("npy: bad inputs give errors naming the place", "[io]") {
  const std::vector<float> values = {1.0f, 2.0f};
  std::vector<std::byte> bytes = encode_npy(make_npy<float>(Shape{2}, values));
  SECTION("bad magic") {
    bytes[1] = std::byte{'X'};
    REQUIRE_THROWS_WITH(decode_npy(bytes, "f.npz: entry 'a.npy'"),
                        "f.npz: entry 'a.npy', byte 0 of the .npy: not a .npy array (bad magic string)");
  }
  SECTION("data too short") {
    bytes.pop_back();
    REQUIRE_THROWS_WITH(decode_npy(bytes, "x"), Contains("data is 7 bytes but shape [2] of <f4 needs 8"));
  }
  SECTION("Fortran order") {
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    text.replace(text.find("False"), 5, "True ");
    std::vector<std::byte> changed(text.size());
    std::memcpy(changed.data(), text.data(), text.size());
    REQUIRE_THROWS_WITH(decode_npy(changed, "x"), Contains("Fortran-ordered arrays are not supported"));
  }
  SECTION("big-endian dtype") {
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    text.replace(text.find("<f4"), 3, ">f4");
    std::vector<std::byte> changed(text.size());
    std::memcpy(changed.data(), text.data(), text.size());
    REQUIRE_THROWS_WITH(decode_npy(changed, "x"), Contains("unsupported dtype '>f4'"));
  }
}
