#include "support/gradients.hpp"
#include "vaelib/detail/openblas_dispatch.hpp"

#include <cstdlib>
#include <string>

using namespace vaelib;

TEST_CASE("openblas_dispatch: generic fallbacks are replaced on a CPU with AVX, others are kept", "[blas]") {
  CHECK(detail::better_openblas_core("Haswell").empty());
  CHECK(detail::better_openblas_core("SkylakeX").empty());
  CHECK(detail::better_openblas_core("Zen").empty());
#if VAELIB_OPENBLAS_DISPATCH
  __builtin_cpu_init();
  const std::string_view replacement = detail::better_openblas_core("Prescott");
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd")) {
    CHECK(replacement == "SkylakeX");
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    CHECK(replacement == "Haswell");
  }
#endif
}

TEST_CASE("openblas_dispatch: the core name is OpenBLAS's, and the user's OPENBLAS_CORETYPE is respected", "[blas]") {
#if VAELIB_OPENBLAS_DISPATCH
  if (openblas_get_corename != nullptr) CHECK(detail::openblas_core_name() == std::string(openblas_get_corename()));
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::getenv("VAELIB_KEEP_BLAS_KERNELS") != nullptr) {
    CHECK_FALSE(detail::may_select_openblas_core());
    CHECK_FALSE(detail::select_openblas_core("Haswell"));
  }
#else
  CHECK(detail::openblas_core_name().empty());
  CHECK_FALSE(detail::may_select_openblas_core());
#endif
}
