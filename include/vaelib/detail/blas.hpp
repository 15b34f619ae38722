#pragma once
// Row-major GEMM through CBLAS (OpenBLAS), for float and double; large products split by
// rows of C over the BLAS's threads, each range one single-threaded GEMM.

#include <cblas.h>

#include <cstddef>

#include "vaelib/blas_kernels.hpp"
#include "vaelib/detail/parallel.hpp"

namespace vaelib::detail {

/// One CBLAS call: C = alpha op(A) op(B) + beta C, row-major; op(A) is m x k, op(B) k x n.
inline void cblas_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                       const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                       std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

inline void cblas_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
                       const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta, double* c,
                       std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

/// One CBLAS matrix-vector product: y = alpha op(A) x + beta y, A stored row-major rows x cols.
inline void cblas_gemv(bool trans_a, std::size_t rows, std::size_t cols, float alpha, const float* a, std::size_t lda,
                       const float* x, std::size_t incx, float beta, float* y, std::size_t incy) {
  cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), alpha,
              a, static_cast<int>(lda), x, static_cast<int>(incx), beta, y, static_cast<int>(incy));
}

inline void cblas_gemv(bool trans_a, std::size_t rows, std::size_t cols, double alpha, const double* a,
                       std::size_t lda, const double* x, std::size_t incx, double beta, double* y, std::size_t incy) {
  cblas_dgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), alpha,
              a, static_cast<int>(lda), x, static_cast<int>(incx), beta, y, static_cast<int>(incy));
}

/// A GEMM whose op(B) is one column (n = 1) or whose op(A) is one row (m = 1), as a GEMV:
/// a statistical model's X beta and its gradient X^T dy, where OpenBLAS's GEMM path costs
/// several times the product (docs/performance.md, "MCMC"). Returns false for other shapes.
template <class T>
bool gemm_as_gemv(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (n != 1 && m != 1) return false;
  const std::size_t length = n == 1 ? m : n;
  const std::size_t inc_c = n == 1 ? ldc : 1;
  // beta = 0 must not read C (it may hold NaN from an earlier use of the buffer)
  if (beta == T(0))
    for (std::size_t i = 0; i < length; ++i) c[i * inc_c] = T(0);
  if (n == 1) {  // c = op(A) b, b the column of op(B)
    cblas_gemv(trans_a, trans_a ? k : m, trans_a ? m : k, alpha, a, lda, b, trans_b ? 1 : ldb, beta, c, inc_c);
  } else {  // c^T = op(B)^T a^T, a^T the row of op(A)
    cblas_gemv(!trans_b, trans_b ? n : k, trans_b ? k : n, alpha, b, ldb, a, trans_a ? lda : 1, beta, c, inc_c);
  }
  return true;
}

/// GEMMs of at least this many multiply-adds are split by rows of C over the BLAS's threads,
/// each range one single-threaded GEMM (parallel_for_with_serial_blas). OpenBLAS 0.3.21
/// threads the VAE's shapes (C with 128 or 500 rows, k from 40 to 784) less well (the
/// figures: docs/performance.md, "Figures behind the code's choices").
inline constexpr std::size_t gemm_split_min_work = std::size_t{1} << 20;
inline constexpr std::size_t gemm_split_min_rows = 16;

/// C = alpha op(A) op(B) + beta C, all row-major; op(A) is m x k, op(B) is k x n.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  (void)blas_kernels();
  const auto rows = [&](std::size_t first, std::size_t last) {
    // row i of op(A) is row i of A, or column i of the stored A^T
    const T* a_rows = trans_a ? a + first : a + first * lda;
    cblas_gemm(trans_a, trans_b, last - first, n, k, alpha, a_rows, lda, b, ldb, beta, c + first * ldc, ldc);
  };
  if (m * n * k >= gemm_split_min_work && parallel_for_with_serial_blas(m, gemm_split_min_rows, rows, 8)) return;
  if (gemm_as_gemv(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  cblas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
