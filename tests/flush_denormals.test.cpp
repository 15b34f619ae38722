#include <limits>

#include "support/gradients.hpp"
#include "vaelib/flush_denormals.hpp"

using namespace vaelib;

namespace {
// volatile: the products must be computed at run time, under the current mode
float product(float a, float b) {
  volatile float x = a, y = b;
  return x * y;
}
}  // namespace

TEST_CASE("flush_denormals: denormal results and inputs become zero inside the scope only", "[flush_denormals]") {
  const float tiny = std::numeric_limits<float>::min();  // the smallest normal float
  const bool before = flushes_denormals();
  flush_denormals(false);
  CHECK(product(tiny, 0.5f) > 0.0f);  // a denormal
#if VAELIB_HAS_MXCSR
  {
    const FlushDenormals scope;
    CHECK(flushes_denormals());
    CHECK(product(tiny, 0.5f) == 0.0f);
    CHECK(product(tiny, 2.0f) == 2.0f * tiny);  // normal numbers are untouched
    {
      const FlushDenormals nested;
      CHECK(flushes_denormals());
    }
    CHECK(flushes_denormals());  // the inner scope restored "on"
  }
#endif
  CHECK_FALSE(flushes_denormals());
  CHECK(product(tiny, 0.5f) > 0.0f);
  flush_denormals(before);
}
