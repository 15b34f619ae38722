#include "support/gradients.hpp"
#include "vaelib/blas_kernels.hpp"

using namespace vaelib;

TEST_CASE("blas_kernels: generic fallbacks are replaced on a CPU with AVX, others are kept", "[blas]") {
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

TEST_CASE("blas_kernels: the kernels in use are named, never a generic one on an AVX2 CPU", "[blas]") {
  const BlasKernels& k = blas_kernels();
  CHECK(&k == &blas_kernels());  // selected once
#if VAELIB_OPENBLAS_DISPATCH
  if (openblas_get_corename != nullptr && gotoblas_dynamic_init != nullptr && std::getenv("OPENBLAS_CORETYPE") == nullptr &&
      std::getenv("VAELIB_KEEP_BLAS_KERNELS") == nullptr) {
    INFO("kernels " << k.name << ", replaced " << k.replaced);
    REQUIRE_FALSE(k.name.empty());
    CHECK(detail::better_openblas_core(k.name).empty());
    CHECK(k.name == openblas_get_corename());
    CHECK(std::getenv("OPENBLAS_CORETYPE") == nullptr);  // the environment is left as it was
  }
#endif
}
