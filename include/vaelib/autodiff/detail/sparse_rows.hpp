#pragma once
// SparseRows: a matrix that is mostly zeros (the pixels of binary or grey-scale images: 13-19%
// of MNIST's are nonzero) kept as each row's nonzero positions and values, with the two
// products linear() needs of its input: y += X W and dW (+)= X^T G. They cost in proportion to
// the nonzeros where a GEMM costs in proportion to every entry.
//
// Both products split the output's columns into blocks of up to eight SIMD registers, one
// block per task, and keep a block's sums in registers: x W walks X by rows (each y row block
// summed over the row's nonzeros, W's block slice staying in cache), X^T G walks it by
// columns (each dW row block summed over the column's nonzeros and stored once: faster than
// updating dW rows in place, see docs/performance.md, "Figures behind the code's choices"). The
// columns after the last whole register (500 = 62 x 8 + 4) take one register ending at the
// last column, whose other lanes are dropped,
// rather than a scalar loop over every nonzero. Each output element is summed over the same
// nonzeros in the same order whatever the split, so results do not depend on the number of
// threads. Without xsimd, assign() declines and callers keep their GEMM.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "vaelib/detail/buffer.hpp"
#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/simd.hpp"

namespace vaelib::detail {

template <class T>
class SparseRows {
 public:
  /// Takes `x` [rows, cols] if at most `max_density` of its entries are nonzero (a NaN
  /// counts as nonzero) and returns true; returns false otherwise, keeping nothing. The
  /// first rows are looked at first, so a dense matrix is turned away cheaply.
  bool assign(const T* x, std::size_t rows, std::size_t cols, double max_density) {
    m_rows = 0;
#if VAELIB_SIMD
    if (!(max_density > 0) || rows == 0 || cols == 0 || cols > UINT32_MAX) return false;
    const std::size_t probe = std::min<std::size_t>(rows, 8) * cols;
    std::size_t probe_nonzeros = 0;
    for (std::size_t i = 0; i < probe; ++i) probe_nonzeros += !(x[i] == T(0));
    if (static_cast<double>(probe_nonzeros) > max_density * static_cast<double>(probe)) return false;
    std::uint32_t* index = m_index.ensure(rows * cols);
    T* values = m_values.ensure(rows * cols);
    std::uint32_t* count = m_count.ensure(rows);
    parallel_for(
        rows, grain_for(cols),
        [&](std::size_t first, std::size_t last) {
          for (std::size_t r = first; r < last; ++r)
            count[r] = gather_row(x + r * cols, cols, index + r * cols, values + r * cols);
        },
        1);
    std::size_t nonzeros = 0;
    for (std::size_t r = 0; r < rows; ++r) nonzeros += count[r];
    if (static_cast<double>(nonzeros) > max_density * static_cast<double>(rows * cols)) return false;
    if (nonzeros > UINT32_MAX || rows > UINT32_MAX) return false;  // the by-column lists count in 32 bits
    m_rows = rows;
    m_cols = cols;
    m_nonzeros = nonzeros;
    m_columns_built = false;
    return true;
#else
    (void)x, (void)rows, (void)cols, (void)max_density;
    return false;
#endif
  }

  std::size_t rows() const noexcept { return m_rows; }
  std::size_t cols() const noexcept { return m_cols; }
  std::size_t nonzeros() const noexcept { return m_nonzeros; }

  /// y [rows, out] += X W, W [cols, out].
  void times(const T* w, std::size_t out, T* y) const {
#if VAELIB_SIMD
    for_each_block(out, [&](std::size_t c0, std::size_t batches, std::size_t width) {
      dispatch(batches, [&](auto k) { times_block<decltype(k)::value>(w, out, c0, y); });
      const std::size_t tail = width - batches * lanes;
      if (tail > 0) times_tail(w, out, c0 + batches * lanes, tail, y);
    });
#else
    (void)w, (void)out, (void)y;
#endif
  }

  /// dW [cols, out] = X^T G (or += with `accumulate`), G [rows, out]. Runs over X's columns
  /// (built from the rows on the first call after assign), so each dW row is summed in
  /// registers and stored once.
  void transpose_times(const T* g, std::size_t out, bool accumulate, T* dw) {
#if VAELIB_SIMD
    build_columns();
    for_each_block(out, [&](std::size_t c0, std::size_t batches, std::size_t width) {
      dispatch(batches, [&](auto k) { transpose_times_block<decltype(k)::value>(g, out, c0, accumulate, dw); });
      const std::size_t tail = width - batches * lanes;
      if (tail > 0) transpose_times_tail(g, out, c0 + batches * lanes, tail, accumulate, dw);
    });
#else
    (void)g, (void)out, (void)accumulate, (void)dw;
#endif
  }

 private:
#if VAELIB_SIMD
  using B = xsimd::batch<T>;
  static constexpr std::size_t lanes = B::size;
  static constexpr std::size_t block_batches = 8;  // registers of accumulators per block

  /// Writes the nonzeros of one row; returns how many. Runs of zeros (image borders) are
  /// skipped a register at a time.
  static std::uint32_t gather_row(const T* row, std::size_t cols, std::uint32_t* index, T* values) {
    std::size_t n = 0, j = 0;
    for (; j + lanes <= cols; j += lanes) {
      if (xsimd::all(B::load_unaligned(row + j) == B(T(0)))) continue;
      for (std::size_t k = j; k < j + lanes; ++k) {  // branch-free: write, then keep if nonzero
        index[n] = static_cast<std::uint32_t>(k);
        values[n] = row[k];
        n += !(row[k] == T(0));
      }
    }
    for (; j < cols; ++j) {
      index[n] = static_cast<std::uint32_t>(j);
      values[n] = row[j];
      n += !(row[j] == T(0));
    }
    return static_cast<std::uint32_t>(n);
  }

  std::size_t index(std::size_t r, std::size_t e) const { return m_index.data()[r * m_cols + e]; }
  T value(std::size_t r, std::size_t e) const { return m_values.data()[r * m_cols + e]; }

  /// body(first column, whole registers, width) for each block of columns, blocks split over
  /// the BLAS's threads; the last block also takes the columns that fill no register.
  template <class Body>
  static void for_each_block(std::size_t out, const Body& body) {
    const std::size_t batches = out / lanes;
    const std::size_t blocks = std::max<std::size_t>(1, (batches + block_batches - 1) / block_batches);
    parallel_for(
        blocks, 1,
        [&](std::size_t first, std::size_t last) {
          for (std::size_t b = first; b < last; ++b) {
            const std::size_t c0 = b * block_batches * lanes;
            const std::size_t whole = std::min(block_batches, batches - std::min(batches, b * block_batches));
            const std::size_t width = b + 1 == blocks ? out - c0 : whole * lanes;
            body(c0, whole, width);
          }
        },
        1);
  }

  /// f(std::integral_constant<std::size_t, k>) for k = batches (0 to block_batches).
  template <class F>
  static void dispatch(std::size_t batches, const F& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((batches == K ? f(std::integral_constant<std::size_t, K>{}) : void()), ...);
    }(std::make_index_sequence<block_batches + 1>{});
  }

  /// f(std::integral_constant<std::size_t, k>) for k = 0 to K - 1, written out: GCC at -O2
  /// kept a loop over an array of accumulators in memory, not in registers (the cost:
  /// docs/performance.md, "Figures behind the code's choices").
  template <std::size_t K, class F>
  static void unrolled(const F& f) {
    [&]<std::size_t... k>(std::index_sequence<k...>) {
      (f(std::integral_constant<std::size_t, k>{}), ...);
    }(std::make_index_sequence<K>{});
  }

  /// One block of y: K registers of columns from c0, for every row.
  template <std::size_t K>
  void times_block(const T* w, std::size_t out, std::size_t c0, T* y) const {
    if constexpr (K > 0) {
      for (std::size_t r = 0; r < m_rows; ++r) {
        T* yr = y + r * out + c0;
        B acc[K];
        unrolled<K>([&](auto k) { acc[k] = B::load_unaligned(yr + k * lanes); });
        sum_row_into<K>(r, w, out, c0, acc);
        unrolled<K>([&](auto k) { acc[k].store_unaligned(yr + k * lanes); });
      }
    }
  }

  /// acc[k] += the sum over row r's nonzeros of value * w[index, c0 + k * lanes, ...].
  template <std::size_t K>
  void sum_row_into(std::size_t r, const T* w, std::size_t out, std::size_t c0, B (&acc)[K]) const {
    const std::uint32_t* idx = m_index.data() + r * m_cols;
    const T* val = m_values.data() + r * m_cols;
    for (std::size_t e = 0, n = m_count.data()[r]; e < n; ++e) {
      const B v(val[e]);
      const T* wr = w + static_cast<std::size_t>(idx[e]) * out + c0;
      unrolled<K>([&](auto k) { acc[k] = xsimd::fma(v, B::load_unaligned(wr + k * lanes), acc[k]); });
    }
  }

  /// The last `tail` (< lanes) columns from c of y; below one register, one at a time.
  void times_tail(const T* w, std::size_t out, std::size_t c, std::size_t tail, T* y) const {
    if (out >= lanes) {
      tail_by_register(m_rows, out, c, tail, true, y,
                       [&](std::size_t r, std::size_t from, B(&acc)[1]) { sum_row_into<1>(r, w, out, from, acc); });
      return;
    }
    for (std::size_t r = 0; r < m_rows; ++r) {
      for (std::size_t j = c; j < c + tail; ++j) {
        T sum = y[r * out + j];
        for (std::size_t e = 0; e < m_count.data()[r]; ++e) sum += value(r, e) * w[index(r, e) * out + j];
        y[r * out + j] = sum;
      }
    }
  }

  /// Columns [c, c + tail) of `result` [rows, out], tail < lanes <= out, one row at a time:
  /// one register over the last `lanes` columns, whose lanes before the tail start at zero
  /// and are never stored (they belong to another block), the tail's starting from the
  /// result (`from_result`) or zero; sum(row, first column, acc) adds the row's products.
  template <class Sum>
  static void tail_by_register(std::size_t rows, std::size_t out, std::size_t c, std::size_t tail, bool from_result,
                               T* result, const Sum& sum) {
    const std::size_t skip = lanes - tail;
    alignas(64) T lane[lanes];
    for (std::size_t r = 0; r < rows; ++r) {
      T* row = result + r * out + c;
      std::fill_n(lane, lanes, T(0));
      if (from_result) std::copy_n(row, tail, lane + skip);
      B acc[1] = {B::load_aligned(lane)};
      sum(r, c - skip, acc);
      acc[0].store_aligned(lane);
      std::copy_n(lane + skip, tail, row);
    }
  }

  /// One block of dW: K registers of columns from c0, for every row of dW.
  template <std::size_t K>
  void transpose_times_block(const T* g, std::size_t out, std::size_t c0, bool accumulate, T* dw) const {
    if constexpr (K > 0) {
      for (std::size_t j = 0; j < m_cols; ++j) {
        T* d = dw + j * out + c0;
        B acc[K];
        unrolled<K>([&](auto k) { acc[k] = accumulate ? B::load_unaligned(d + k * lanes) : B(T(0)); });
        sum_column_into<K>(j, g, out, c0, acc);
        unrolled<K>([&](auto k) { acc[k].store_unaligned(d + k * lanes); });
      }
    }
  }

  /// acc[k] += the sum over column j's nonzeros of value * g[row, c0 + k * lanes, ...].
  template <std::size_t K>
  void sum_column_into(std::size_t j, const T* g, std::size_t out, std::size_t c0, B (&acc)[K]) const {
    const std::uint32_t* start = m_col_start.data();
    const std::uint32_t* row_of = m_col_rows.data();
    const T* val = m_col_values.data();
    for (std::uint32_t e = start[j]; e < start[j + 1]; ++e) {
      const B v(val[e]);
      const T* gr = g + static_cast<std::size_t>(row_of[e]) * out + c0;
      unrolled<K>([&](auto k) { acc[k] = xsimd::fma(v, B::load_unaligned(gr + k * lanes), acc[k]); });
    }
  }

  /// transpose_times's last `tail` columns, as times_tail.
  void transpose_times_tail(const T* g, std::size_t out, std::size_t c, std::size_t tail, bool accumulate,
                            T* dw) const {
    if (out >= lanes) {
      tail_by_register(m_cols, out, c, tail, accumulate, dw,
                       [&](std::size_t j, std::size_t from, B(&acc)[1]) { sum_column_into<1>(j, g, out, from, acc); });
      return;
    }
    const std::uint32_t* start = m_col_start.data();
    const std::uint32_t* row_of = m_col_rows.data();
    const T* val = m_col_values.data();
    for (std::size_t j = 0; j < m_cols; ++j) {
      for (std::size_t i = c; i < c + tail; ++i) {
        T sum = accumulate ? dw[j * out + i] : T(0);
        for (std::uint32_t e = start[j]; e < start[j + 1]; ++e) sum += val[e] * g[row_of[e] * out + i];
        dw[j * out + i] = sum;
      }
    }
  }

  /// The same nonzeros by column (a counting sort of the rows' lists): each column's rows in
  /// ascending order.
  void build_columns() {
    if (m_columns_built) return;
    std::uint32_t* start = m_col_start.ensure(m_cols + 1);
    // sized for every entry, not this batch's nonzeros: a later batch with more nonzeros
    // must not allocate (steady-state steps allocate nothing)
    std::uint32_t* row_of = m_col_rows.ensure(m_rows * m_cols);
    T* val = m_col_values.ensure(m_rows * m_cols);
    std::fill_n(start, m_cols + 1, std::uint32_t{0});
    for (std::size_t r = 0; r < m_rows; ++r) {
      const std::uint32_t* idx = m_index.data() + r * m_cols;
      for (std::size_t e = 0, n = m_count.data()[r]; e < n; ++e) ++start[idx[e] + 1];
    }
    for (std::size_t j = 0; j < m_cols; ++j) start[j + 1] += start[j];
    std::uint32_t* cursor = m_col_cursor.ensure(m_cols);
    std::copy_n(start, m_cols, cursor);
    for (std::size_t r = 0; r < m_rows; ++r) {
      const std::uint32_t* idx = m_index.data() + r * m_cols;
      const T* v = m_values.data() + r * m_cols;
      for (std::size_t e = 0, n = m_count.data()[r]; e < n; ++e) {
        const std::uint32_t at = cursor[idx[e]]++;
        row_of[at] = static_cast<std::uint32_t>(r);
        val[at] = v[e];
      }
    }
    m_columns_built = true;
  }
#endif

  Buffer<std::uint32_t> m_index;  // row r's nonzero columns at [r * cols, r * cols + count[r])
  Buffer<T> m_values;             // their values, laid out the same way
  Buffer<std::uint32_t> m_count;  // nonzeros per row
  Buffer<std::uint32_t> m_col_start, m_col_rows, m_col_cursor;  // by column: column j's rows at
  Buffer<T> m_col_values;                                         // [start[j], start[j + 1])
  bool m_columns_built = false;
  std::size_t m_rows = 0, m_cols = 0, m_nonzeros = 0;
};

}  // namespace vaelib::detail
