#include <catch2/catch.hpp>

#include <cstdint>

#include "vaelib/detail/buffer.hpp"

using vaelib::detail::Buffer;

TEST_CASE("buffer: grows only when asked for more, aligned to 64 bytes", "[detail]") {
  Buffer<float> b;
  float* p = b.ensure(100);
  CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
  CHECK(b.capacity() == 100);
  CHECK(b.ensure(50) == p);   // smaller: same memory
  CHECK(b.ensure(100) == p);  // same: same memory
  b.ensure(1000);
  CHECK(b.capacity() == 1000);
  Buffer<float> moved = std::move(b);
  CHECK(moved.capacity() == 1000);
  CHECK(b.data() == nullptr);
  CHECK(Buffer<double>().ensure(0) != nullptr);  // an empty tensor still gets a valid pointer
}
