#include <catch2/catch.hpp>

#include "vaelib/detail/inline_function.hpp"

using vaelib::detail::InlineFunction;

TEST_CASE("inline_function: stores a capturing lambda in place and calls it", "[detail]") {
  InlineFunction<int(int), 32> f;
  CHECK_FALSE(f);
  const int offset = 40;
  const double scale = 2.0;
  f.assign([offset, scale](int x) { return static_cast<int>(x * scale) + offset; });
  REQUIRE(f);
  CHECK(f(1) == 42);
  InlineFunction<int(int), 32> copy = f;  // trivially copyable: a copy is a byte copy
  CHECK(copy(2) == 44);
  f.reset();
  CHECK_FALSE(f);
  STATIC_REQUIRE(std::is_trivially_copyable_v<InlineFunction<void(), 16>>);
}
