#pragma once
// Which GEMM kernels OpenBLAS runs. Debian's OpenBLAS is built for every x86-64 CPU and picks
// its kernels when it loads; a CPU newer than the library (OpenBLAS 0.3.21 on Intel family 6
// model 207, Emerald Rapids, say) is not recognised and gets the generic SSE3 "Prescott"
// kernels, far slower on vaelib's GEMMs than the AVX-512 ones the CPU has (the figure:
// docs/performance.md, "Figures behind the code's choices"). Before its
// first GEMM vaelib checks the choice and, when OpenBLAS fell back to a pre-AVX kernel on a
// CPU with AVX2 or AVX-512, selects the right one (as OPENBLAS_CORETYPE would at start-up;
// the mechanics are in detail/openblas_dispatch.hpp).
//
// Nothing is changed when OPENBLAS_CORETYPE is set (the user's choice), when
// VAELIB_KEEP_BLAS_KERNELS is set, or when the BLAS is not a runtime-dispatching OpenBLAS.

#include <string>
#include <string_view>

#include "vaelib/detail/openblas_dispatch.hpp"

namespace vaelib {

/// What vaelib found and did about the BLAS kernels (see blas_kernels()).
struct BlasKernels {
  std::string name;      // the kernels in use ("SkylakeX"), or "" if the BLAS does not say
  std::string replaced;  // the kernels OpenBLAS had chosen, if vaelib replaced them ("Prescott")
};

/// The BLAS kernels vaelib's GEMMs run on, selecting better ones first if OpenBLAS fell back
/// to generic kernels (done once, on the first call or the first GEMM, whichever is first).
inline const BlasKernels& blas_kernels() {
  static const BlasKernels kernels = [] {
    BlasKernels out{detail::openblas_core_name(), {}};
    if (out.name.empty() || !detail::may_select_openblas_core()) return out;
    const std::string_view better = detail::better_openblas_core(out.name);
    if (better.empty() || !detail::select_openblas_core(better)) return out;
    out.replaced = out.name;
    out.name = detail::openblas_core_name();
    return out;
  }();
  return kernels;
}

}  // namespace vaelib
