// libFuzzer target: chains of reshape and slice on shapes read from the input, among them
// empty tensors with huge axes ([2^62, 0]) and requests whose sizes overflow size_t. Beyond
// "no crash, no hang": slice accepts exactly the valid ranges, each result holds the elements
// an index-by-index reference picks, and the gradient of the sum of the last result counts
// how often each input element was taken.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

#include "vaelib/autodiff/ops/reshape.hpp"
#include "vaelib/autodiff/ops/slice.hpp"
#include "vaelib/autodiff/ops/sum.hpp"

namespace {

using vaelib::Shape;

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}
  std::uint8_t byte() { return m_at < m_size ? m_data[m_at++] : 0; }
  /// A dimension: mostly 0..5, sometimes a power of two up to 2^63.
  std::size_t dimension() {
    const std::uint8_t b = byte();
    return b < 200 ? b % 6 : std::size_t(1) << (b % 64);
  }
  /// A signed index: mostly -8..8, sometimes an extreme.
  std::ptrdiff_t index() {
    const std::uint8_t b = byte();
    constexpr std::ptrdiff_t max = std::numeric_limits<std::ptrdiff_t>::max();
    if (b < 220) return static_cast<std::ptrdiff_t>(b % 17) - 8;
    switch (b % 4) {
      case 0: return max;
      case 1: return std::numeric_limits<std::ptrdiff_t>::min();
      case 2: return std::ptrdiff_t(1) << (b % 62);
      default: return -(std::ptrdiff_t(1) << (b % 62));
    }
  }

 private:
  const std::uint8_t* m_data;
  std::size_t m_size, m_at = 0;
};

/// The element at multi-index `index` of a row-major `shape`.
std::size_t flat_index(const Shape& shape, const std::vector<std::size_t>& index) {
  std::size_t flat = 0;
  for (std::size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + index[a];
  return flat;
}

/// The source elements a slice picks, computed index by index; `ok` false when the range is
/// invalid (what slice must refuse).
std::vector<std::size_t> reference_slice(const std::vector<std::size_t>& source, const Shape& shape, std::size_t axis,
                                         std::ptrdiff_t start, std::ptrdiff_t stop, std::ptrdiff_t step, Shape& out,
                                         bool& ok) {
  ok = shape[axis] <= static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());  // indexable at all
  if (!ok) return {};
  const auto n = static_cast<std::ptrdiff_t>(shape[axis]);
  const std::ptrdiff_t b = start < 0 ? start + n : start, e = stop < 0 ? stop + n : stop;
  ok = step >= 1 && b >= 0 && e <= n && b <= e;
  if (!ok) return {};
  out = shape;
  out[axis] = b == e ? 0 : static_cast<std::size_t>((e - b - 1) / step + 1);
  std::size_t count = 1;
  for (std::size_t d : out) count *= d;  // the result is never larger than the source
  std::vector<std::size_t> picked(count), index(out.size(), 0);
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t rest = i;
    for (std::size_t a = out.size(); a-- > 0;) {
      index[a] = rest % out[a];
      rest /= out[a];
    }
    index[axis] = static_cast<std::size_t>(b) + index[axis] * static_cast<std::size_t>(step);
    picked[i] = source[flat_index(shape, index)];
  }
  return picked;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  Shape shape(in.byte() % 5);
  for (auto& d : shape) d = in.dimension();
  std::size_t count = 0;
  try {
    count = vaelib::checked_shape_size("fuzz", shape);
  } catch (const vaelib::ShapeError&) {
    return 0;  // no tensor of this shape can exist
  }
  if (count > 4096) return 0;
  // x over plain buffers: xtensor's own strides overflow for empty shapes with huge axes
  std::vector<double> values(count + 1), grad(count + 1, 0.0);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<double>(i);
  vaelib::Tape<double> tape;
  const vaelib::Var<double> x = tape.external(values.data(), grad.data(), shape);
  vaelib::Var<double> y = x;
  std::vector<std::size_t> source(count);  // y's elements as indices into x
  for (std::size_t i = 0; i < count; ++i) source[i] = i;

  for (int ops = in.byte() % 5; ops > 0; --ops) {
    if (in.byte() % 2 == 0) {
      std::vector<std::ptrdiff_t> dims(in.byte() % 5);
      for (auto& d : dims) d = in.byte() < 40 ? -1 : static_cast<std::ptrdiff_t>(in.dimension());
      try {
        y = vaelib::reshape(y, dims);
      } catch (const vaelib::ShapeError&) {
        continue;  // a request of another element count, two -1s, or an overflowing product
      }
      std::size_t n = 1;
      for (std::size_t d : y.shape()) n *= d;
      if (n != source.size()) std::abort();  // reshape changed the element count
    } else {
      if (y.rank() == 0) continue;
      const std::size_t axis = in.byte() % y.rank();
      const std::ptrdiff_t start = in.index(), stop = in.index(), step = in.index();
      Shape expected;
      bool valid = false;
      std::vector<std::size_t> picked = reference_slice(source, y.shape(), axis, start, stop, step, expected, valid);
      try {
        y = vaelib::slice(y, static_cast<std::ptrdiff_t>(axis), start, stop, step);
      } catch (const vaelib::Error&) {  // ArgumentError (the range), ShapeError (an axis too long to index)
        if (valid) std::abort();  // a valid range refused
        continue;
      }
      if (!valid || y.shape() != expected) std::abort();  // an invalid range taken, or a wrong shape
      source = std::move(picked);
    }
    for (std::size_t i = 0; i < source.size(); ++i) {
      if (y.data()[i] != static_cast<double>(source[i])) std::abort();  // a wrong element
    }
  }

  tape.backward(vaelib::sum(y));
  std::vector<double> taken(count, 0.0);
  for (std::size_t s : source) taken[s] += 1;
  for (std::size_t i = 0; i < count; ++i) {
    if (grad[i] != taken[i]) std::abort();  // the gradient does not count the picks
  }
  return 0;
}
