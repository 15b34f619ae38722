#pragma once
// How vaelib::blas_kernels() (blas_kernels.hpp) looks at and corrects OpenBLAS's choice of
// kernels: OpenBLAS's runtime-dispatch entry points (weak symbols), the table of its generic
// pre-AVX cores and the re-selection through OPENBLAS_CORETYPE. Internal: users call
// blas_kernels().

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

namespace vaelib::detail {

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

/// The name of the kernels OpenBLAS runs ("SkylakeX"), or "" when the BLAS does not say.
inline std::string openblas_core_name() {
#if VAELIB_OPENBLAS_DISPATCH
  if (openblas_get_corename != nullptr) return openblas_get_corename();
#endif
  return {};
}

/// Whether vaelib may replace OpenBLAS's kernels: a runtime-dispatching OpenBLAS, and
/// neither OPENBLAS_CORETYPE (the user's choice) nor VAELIB_KEEP_BLAS_KERNELS set.
inline bool may_select_openblas_core() {
#if VAELIB_OPENBLAS_DISPATCH
  return openblas_get_corename != nullptr && gotoblas_dynamic_init != nullptr && gotoblas_dynamic_quit != nullptr &&
         std::getenv("OPENBLAS_CORETYPE") == nullptr && std::getenv("VAELIB_KEEP_BLAS_KERNELS") == nullptr;
#else
  return false;
#endif
}

/// Makes OpenBLAS re-select its kernels as `core` (as OPENBLAS_CORETYPE would at start-up):
/// it reads the choice from the environment, so the variable is set for the re-selection
/// only and removed afterwards. Returns false if the environment could not be set.
inline bool select_openblas_core([[maybe_unused]] std::string_view core) {
#if VAELIB_OPENBLAS_DISPATCH
  if (!may_select_openblas_core()) return false;
  if (setenv("OPENBLAS_CORETYPE", std::string(core).c_str(), 1) != 0) return false;
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
  return true;
#else
  return false;
#endif
}

}  // namespace vaelib::detail
