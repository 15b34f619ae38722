#pragma once
// NumPy's .npy format (version 1.0 written; 1.0 to 3.0 read): a magic string, a Python-dict
// header giving dtype, order and shape, then the raw little-endian data. Used for
// checkpoints so that `numpy.load` reads them with no vaelib code.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vaelib/autodiff/shape.hpp"
#include "vaelib/error.hpp"

namespace vaelib::io {

static_assert(std::endian::native == std::endian::little, "vaelib's .npy code assumes a little-endian machine");

/// The format or contents of a file are wrong; the message names the file and the offset.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// An array as stored in a .npy: dtype descriptor ('<f4', '<f8', '<u8', '<i8', '|u1'), shape,
/// row-major bytes.
struct NpyArray {
  std::string dtype;
  Shape shape;
  std::vector<std::byte> data;
};

template <class T>
constexpr const char* npy_dtype() {
  if constexpr (std::is_same_v<T, float>) return "<f4";
  else if constexpr (std::is_same_v<T, double>) return "<f8";
  else if constexpr (std::is_same_v<T, std::uint64_t>) return "<u8";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
  else if constexpr (std::is_same_v<T, std::uint8_t>) return "|u1";
  else static_assert(sizeof(T) == 0, "no .npy dtype for this type");
}

inline std::size_t npy_item_size(std::string_view dtype) {
  if (dtype.size() < 3) return 0;
  std::size_t n = 0;
  for (char c : dtype.substr(2)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

template <class T>
NpyArray make_npy(const Shape& shape, std::span<const T> values) {
  NpyArray a;
  a.dtype = npy_dtype<T>();
  a.shape = shape;
  a.data.resize(values.size_bytes());
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), values.size_bytes());
  return a;
}

/// Encodes an array as .npy version 1.0 (header padded to a multiple of 64 bytes).
inline std::vector<std::byte> encode_npy(const NpyArray& a) {
  std::string header = "{'descr': '" + a.dtype + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) header += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : i + 1 < a.shape.size() ? ", " : "");
  header += "), }";
  const std::size_t unpadded = 10 + header.size() + 1;  // magic(6) version(2) length(2) header '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::vector<std::byte> out(10 + header.size() + a.data.size());
  const char magic[] = "\x93NUMPY\x01\x00";
  std::memcpy(out.data(), magic, 8);
  const auto length = static_cast<std::uint16_t>(header.size());
  std::memcpy(out.data() + 8, &length, 2);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (!a.data.empty()) std::memcpy(out.data() + 10 + header.size(), a.data.data(), a.data.size());
  return out;
}

/// Decodes a .npy held in `bytes`; `where` names it in errors ("file.npz: entry 'x.npy' at
/// offset 1234"). Refuses Fortran order, unknown dtypes and a data size that disagrees with
/// the shape.
inline NpyArray decode_npy(std::span<const std::byte> bytes, const std::string& where) {
  auto fail = [&](std::size_t offset, const std::string& what) -> FormatError {
    return FormatError(where + ", byte " + std::to_string(offset) + " of the .npy: " + what);
  };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw fail(0, "not a .npy array (bad magic string)");
  const auto major = static_cast<unsigned>(bytes[6]);
  std::size_t header_length = 0;
  std::size_t header_start = 0;
  if (major == 1) {
    std::uint16_t n;
    std::memcpy(&n, bytes.data() + 8, 2);
    header_length = n;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail(8, "truncated header length");
    std::uint32_t n;
    std::memcpy(&n, bytes.data() + 8, 4);
    header_length = n;
    header_start = 12;
  } else {
    throw fail(6, "unsupported .npy version " + std::to_string(major));
  }
  if (header_start + header_length > bytes.size()) {
    throw fail(header_start, "header of " + std::to_string(header_length) + " bytes runs past the end (" +
                                 std::to_string(bytes.size()) + " bytes)");
  }
  const std::string header(reinterpret_cast<const char*>(bytes.data() + header_start), header_length);
  auto value_of = [&](const std::string& key) -> std::string {
    const std::size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw fail(header_start, "header has no '" + key + "': " + header);
    const std::size_t colon = header.find(':', k);
    if (colon == std::string::npos) throw fail(header_start + k, "malformed header: " + header);
    std::size_t start = colon + 1;
    while (start < header.size() && header[start] == ' ') ++start;
    return header.substr(start);
  };
  NpyArray a;
  const std::string descr = value_of("descr");
  if (descr.empty() || descr[0] != '\'' || descr.find('\'', 1) == std::string::npos) throw fail(header_start, "malformed descr");
  a.dtype = descr.substr(1, descr.find('\'', 1) - 1);
  const std::size_t item = npy_item_size(a.dtype);
  if (item == 0 || (a.dtype[0] != '<' && a.dtype[0] != '|')) {
    throw fail(header_start, "unsupported dtype '" + a.dtype + "' (expected a little-endian number type)");
  }
  if (value_of("fortran_order").rfind("False", 0) != 0) throw fail(header_start, "Fortran-ordered arrays are not supported");
  const std::string shape_text = value_of("shape");
  if (shape_text.empty() || shape_text[0] != '(' || shape_text.find(')') == std::string::npos) throw fail(header_start, "malformed shape");
  std::size_t number = 0;
  bool in_number = false;
  std::size_t elements = 1;
  for (std::size_t i = 1; i < shape_text.find(')'); ++i) {
    const char c = shape_text[i];
    if (c >= '0' && c <= '9') {
      if (number > (SIZE_MAX - 9) / 10) throw fail(header_start, "shape dimension too large");
      number = number * 10 + static_cast<std::size_t>(c - '0');
      in_number = true;
    } else if (c == ',' || c == ' ') {
      if (in_number) {
        a.shape.push_back(number);
        if (number != 0 && elements > SIZE_MAX / number) throw fail(header_start, "shape too large");
        elements *= number;
      }
      number = 0;
      in_number = false;
    } else {
      throw fail(header_start, "malformed shape " + shape_text.substr(0, shape_text.find(')') + 1));
    }
  }
  if (in_number) {
    a.shape.push_back(number);
    elements *= number;
  }
  const std::size_t data_start = header_start + header_length;
  const std::size_t expected = elements * item;
  if (bytes.size() - data_start != expected) {
    throw fail(data_start, "data is " + std::to_string(bytes.size() - data_start) + " bytes but shape " +
                               to_string(a.shape) + " of " + a.dtype + " needs " + std::to_string(expected));
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_start), bytes.end());
  return a;
}

}  // namespace vaelib::io
