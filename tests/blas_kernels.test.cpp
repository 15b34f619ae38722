#include "support/gradients.hpp"
#include "vaelib/blas_kernels.hpp"

#include <cstdlib>

using namespace vaelib;

TEST_CASE("blas_kernels: the kernels in use are named, never a generic one on an AVX2 CPU", "[blas]") {
  const BlasKernels& k = blas_kernels();
  CHECK(&k == &blas_kernels());  // selected once
  CHECK(k.name == detail::openblas_core_name());
  if (!k.replaced.empty()) CHECK_FALSE(detail::better_openblas_core(k.replaced).empty());
  if (!detail::openblas_core_name().empty() && detail::may_select_openblas_core()) {
    INFO("kernels " << k.name << ", replaced " << k.replaced);
    CHECK(detail::better_openblas_core(k.name).empty());
    CHECK(std::getenv("OPENBLAS_CORETYPE") == nullptr);  // the environment is left as it was
  }
}
