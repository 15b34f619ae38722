#pragma once
// PNG images through libpng: 8-bit greyscale or RGB, written atomically (an image being
// replaced is never left half-written) and read back as greyscale (for checks).

#include <png.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vaelib/io/atomic_file.hpp"
#include "vaelib/io/npy.hpp"
#include "vaelib/io/read_file.hpp"

namespace vaelib::io {

/// A greyscale (channels 1) or RGB (channels 3, interleaved R, G, B) image, row-major, one
/// byte per value.
struct GrayImage {
  std::size_t width = 0, height = 0;
  std::vector<std::uint8_t> pixels;
  std::size_t channels = 1;
};

namespace detail {

/// libpng reports errors through longjmp; these callbacks turn them into exceptions thrown
/// from outside the longjmp region.
struct PngErrorState {
  std::string message;
};

inline void png_error_to_state(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngErrorState*>(png_get_error_ptr(png));
  state->message = message ? message : "unknown libpng error";
  png_longjmp(png, 1);
}
inline void png_ignore_warning(png_structp, png_const_charp) {}

}  // namespace detail

/// The PNG file's bytes for `image`.
inline std::vector<std::byte> encode_png(const GrayImage& image) {
  if (image.channels != 1 && image.channels != 3) {
    throw ArgumentError("encode_png: images have 1 (grey) or 3 (RGB) channels, not " + std::to_string(image.channels));
  }
  const std::size_t row_bytes = image.width * image.channels;
  if (image.width == 0 || image.height == 0 || image.pixels.size() != row_bytes * image.height) {
    throw ArgumentError("encode_png: an image of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                        "x" + std::to_string(image.channels) + " needs " + std::to_string(row_bytes * image.height) +
                        " values, got " + std::to_string(image.pixels.size()));
  }
  detail::PngErrorState state;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, detail::png_error_to_state,
                                            detail::png_ignore_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw IoError("encode_png: libpng could not allocate its state");
  }
  std::vector<std::byte> out;
  std::vector<png_bytep> rows(image.height);
  for (std::size_t r = 0; r < image.height; ++r)
    rows[r] = const_cast<png_bytep>(image.pixels.data() + r * row_bytes);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw IoError("encode_png: " + state.message);
  }
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t length) {
        auto* bytes = static_cast<std::vector<std::byte>*>(png_get_io_ptr(p));
        const auto* begin = reinterpret_cast<const std::byte*>(data);
        bytes->insert(bytes->end(), begin, begin + length);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               image.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

/// Writes `image` to `path` atomically.
inline void save_png(const std::filesystem::path& path, const GrayImage& image) {
  write_file_atomically(path, encode_png(image));
}

/// Reads an 8-bit (or lower-depth) greyscale PNG; colour images are converted to grey.
inline GrayImage load_png(const std::filesystem::path& path) {
  const std::vector<std::byte> bytes = read_file(path);
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0) {
    throw FormatError(path.string() + ": not a PNG file (bad signature at offset 0)");
  }
  detail::PngErrorState state;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, detail::png_error_to_state,
                                           detail::png_ignore_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw IoError("load_png: libpng could not allocate its state");
  }
  struct Reader {
    const std::vector<std::byte>* bytes;
    std::size_t at = 0;
    std::string error;  // outlives png_error's longjmp (a local string would not be destroyed)
  } reader{&bytes, 0, {}};
  GrayImage image;
  std::vector<png_bytep> rows;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw FormatError(path.string() + ": " + state.message);
  }
  png_set_read_fn(png, &reader, [](png_structp p, png_bytep data, png_size_t length) {
    auto* r = static_cast<Reader*>(png_get_io_ptr(p));
    if (r->at + length > r->bytes->size()) {
      r->error = "truncated PNG data: " + std::to_string(length) + " bytes wanted at offset " + std::to_string(r->at) +
                 ", the file ends at offset " + std::to_string(r->bytes->size());
      png_error(p, r->error.c_str());
    }
    std::memcpy(data, r->bytes->data() + r->at, length);
    r->at += length;
  });
  png_read_info(png, info);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_expand_gray_1_2_4_to_8(png);
  png_set_palette_to_rgb(png);
  if (png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR) png_set_rgb_to_gray_fixed(png, 1, -1, -1);
  png_read_update_info(png, info);
  image.width = png_get_image_width(png, info);
  image.height = png_get_image_height(png, info);
  image.pixels.resize(image.width * image.height);
  rows.resize(image.height);
  for (std::size_t r = 0; r < image.height; ++r) rows[r] = image.pixels.data() + r * image.width;
  png_read_image(png, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  return image;
}

}  // namespace vaelib::io
