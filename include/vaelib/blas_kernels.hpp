#pragma once
// Which GEMM kernels OpenBLAS runs. Debian's OpenBLAS is built for every x86-64 CPU and picks
// its kernels when it loads; a CPU newer than the library (OpenBLAS 0.3.21 on Intel family 6
// model 207, Emerald Rapids, say) is not recognised and gets the generic SSE3 "Prescott"
// kernels, far slower on vaelib's GEMMs than the AVX-512 ones the CPU has (the figure:
// docs/performance.md, "Figures behind the code's choices"). Before its
// first GEMM vaelib checks the choice and, when OpenBLAS fell back to a pre-AVX kernel on a
// CPU with AVX2 or AVX-512, selects the right one (as OPENBLAS_CORETYPE would at start-up).
//
// Nothing is changed when OPENBLAS_CORETYPE is set (the user's choice), when
// VAELIB_KEEP_BLAS_KERNELS is set, or when the BLAS is not a runtime-dispatching OpenBLAS.

#include <cstdlib>
#include <string>
#include <string_view>

#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define VAELIB_OPENBLAS_DISPATCH 1
// Weak: present only in OpenBLAS builds with runtime dispatch (DYNAMIC_ARCH); with any
// other BLAS they are null and nothing is done.
extern "C" {
char* openblas_get_corename(void) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}
#else
#define VAELIB_OPENBLAS_DISPATCH 0
#endif

namespace vaelib {

/// What vaelib found and did about the BLAS kernels (see blas_kernels()).
struct BlasKernels {
  std::string name;      // the kernels in use ("SkylakeX"), or "" if the BLAS does not say
  std::string replaced;  // the kernels OpenBLAS had chosen, if vaelib replaced them ("Prescott")
};

namespace detail {

/// The OpenBLAS core to use instead of `current` on this CPU, or "" to keep it.
inline std::string_view better_openblas_core([[maybe_unused]] std::string_view current) {
#if VAELIB_OPENBLAS_DISPATCH
  // OpenBLAS's pre-AVX x86-64 cores: what an unrecognised CPU falls back to
  constexpr std::string_view generic[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom"};
  bool is_generic = false;
  for (std::string_view g : generic) is_generic = is_generic || current == g;
  if (!is_generic) return {};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return {};
}

inline BlasKernels select_blas_kernels() {
  BlasKernels out;
#if VAELIB_OPENBLAS_DISPATCH
  if (openblas_get_corename == nullptr) return out;
  out.name = openblas_get_corename();
  if (gotoblas_dynamic_init == nullptr || gotoblas_dynamic_quit == nullptr) return out;
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::getenv("VAELIB_KEEP_BLAS_KERNELS") != nullptr) return out;
  const std::string_view better = better_openblas_core(out.name);
  if (better.empty()) return out;
  // OpenBLAS reads its choice from the environment: set it for the re-selection only.
  if (setenv("OPENBLAS_CORETYPE", std::string(better).c_str(), 1) != 0) return out;
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
  out.replaced = out.name;
  out.name = openblas_get_corename();
#endif
  return out;
}

}  // namespace detail

/// The BLAS kernels vaelib's GEMMs run on, selecting better ones first if OpenBLAS fell back
/// to generic kernels (done once, on the first call or the first GEMM, whichever is first).
inline const BlasKernels& blas_kernels() {
  static const BlasKernels kernels = detail::select_blas_kernels();
  return kernels;
}

}  // namespace vaelib
