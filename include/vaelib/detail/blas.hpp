#pragma once
// Row-major GEMM through CBLAS (OpenBLAS), overloaded for float and double.

#include <cblas.h>

#include <cstddef>

#include "vaelib/blas_kernels.hpp"

namespace vaelib::detail {

/// C = alpha op(A) op(B) + beta C, all row-major; op(A) is m x k, op(B) is k x n.
inline void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  (void)blas_kernels();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

inline void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
                 const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta, double* c,
                 std::size_t ldc) {
  (void)blas_kernels();
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

/// GEMM on row-major matrices stored as [rows, cols]; `trans_*` reads the stored matrix
/// transposed. Leading dimensions follow from the stored shapes, and empty products are
/// handled (CBLAS rejects a leading dimension of 0).
template <class T>
void gemm_stored(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
                 T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // op(A) op(B) is all zeros
    for (std::size_t i = 0; i < m * n; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
    return;
  }
  const std::size_t lda = trans_a ? m : k;
  const std::size_t ldb = trans_b ? k : n;
  gemm(trans_a, trans_b, m, n, k, T(1), a, lda, b, ldb, beta, c, n);
}

}  // namespace vaelib::detail
