#pragma once
// flush_denormals: flush-to-zero and denormals-are-zero for the calling thread's float
// arithmetic (SSE/AVX control register). Denormal floats (below 1.2e-38) are handled by
// microcode on x86 and run 10-100x slower; training produces them wherever a weight or a
// gradient decays towards zero (IWAE's normalised importance weights, saturated sigmoids),
// and a GEMM fed with them slows down several times over (an IWAE step's figure:
// docs/performance.md, "Figures behind the code's choices"). TensorFlow flushes them by
// default; PyTorch on request (torch.set_flush_denormal).
// vaelib's examples and benchmarks turn it on; the library itself never changes the
// calling thread's floating-point mode behind the user's back.
//
//   const vaelib::FlushDenormals scope;  // on until the end of the scope, then as before

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define VAELIB_HAS_MXCSR 1
#else
#define VAELIB_HAS_MXCSR 0
#endif

namespace vaelib {

/// Turns flushing of denormals on or off for the calling thread; returns whether it was on.
/// Without an SSE control register (not x86) it does nothing and returns false.
inline bool flush_denormals(bool on) noexcept {
#if VAELIB_HAS_MXCSR
  constexpr unsigned bits = 0x8040;  // FTZ (bit 15): results; DAZ (bit 6): inputs
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | bits) : (csr & ~bits));
  return (csr & bits) == bits;
#else
  (void)on;
  return false;
#endif
}

/// Whether the calling thread flushes denormals.
inline bool flushes_denormals() noexcept {
#if VAELIB_HAS_MXCSR
  return (_mm_getcsr() & 0x8040u) == 0x8040u;
#else
  return false;
#endif
}

/// Flushes denormals from construction to destruction, then restores the previous mode.
class FlushDenormals {
 public:
  FlushDenormals() noexcept : m_was_on(flush_denormals(true)) {}
  ~FlushDenormals() { flush_denormals(m_was_on); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  bool m_was_on;
};

}  // namespace vaelib
