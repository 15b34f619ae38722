#pragma once
// NumPy's .npz: a zip archive of .npy files ("name.npy" holds array "name"). vaelib writes
// uncompressed ("stored") entries, each with its CRC-32, and an archive comment holding the
// CRC-32 of everything before the end record, so any flipped byte is detected. It reads any
// stored .npz (numpy.savez), checking every CRC; compressed entries are refused by name.

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vaelib/io/atomic_file.hpp"
#include "vaelib/io/npy.hpp"
#include "vaelib/io/read_file.hpp"

namespace vaelib::io {

/// Named arrays in order.
class NpzArchive {
 public:
  void add(std::string name, NpyArray array) {
    if (find(name) != nullptr) throw ArgumentError("npz: array '" + name + "' added twice");
    m_entries.emplace_back(std::move(name), std::move(array));
  }
  const NpyArray* find(std::string_view name) const {
    for (const auto& [n, a] : m_entries)
      if (n == name) return &a;
    return nullptr;
  }
  const std::vector<std::pair<std::string, NpyArray>>& entries() const noexcept { return m_entries; }

 private:
  std::vector<std::pair<std::string, NpyArray>> m_entries;
};

namespace detail {

inline std::uint32_t crc32_of(std::span<const std::byte> bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const std::size_t chunk = std::min<std::size_t>(bytes.size() - done, std::size_t{1} << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), static_cast<uInt>(chunk));
    done += chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

inline void put16(std::vector<std::byte>& out, std::uint16_t v) {
  out.push_back(static_cast<std::byte>(v & 0xFF));
  out.push_back(static_cast<std::byte>(v >> 8));
}
inline void put32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}
inline std::uint32_t get(std::span<const std::byte> b, std::size_t at, int width) {
  std::uint32_t v = 0;
  for (int i = 0; i < width; ++i) v |= static_cast<std::uint32_t>(b[at + static_cast<std::size_t>(i)]) << (8 * i);
  return v;
}

constexpr std::uint32_t local_signature = 0x04034b50;
constexpr std::uint32_t central_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::uint16_t dos_date_1980_01_01 = (0 << 9) | (1 << 5) | 1;  // fixed: same bytes every save
constexpr const char* integrity_prefix = "vaelib crc32 ";

}  // namespace detail

/// The bytes of a .npz holding `archive`.
inline std::vector<std::byte> encode_npz(const NpzArchive& archive) {
  using namespace detail;
  std::vector<std::byte> out;
  struct Central {
    std::string name;
    std::uint32_t crc, size, offset;
  };
  std::vector<Central> central;
  for (const auto& [name, array] : archive.entries()) {
    const std::vector<std::byte> npy = encode_npy(array);
    const std::string file_name = name + ".npy";
    if (out.size() + npy.size() + file_name.size() + 30 > UINT32_MAX || file_name.size() > UINT16_MAX) {
      throw ArgumentError("npz: archive larger than 4 GiB (zip64 is not supported)");
    }
    const Central c{file_name, crc32_of(npy), static_cast<std::uint32_t>(npy.size()), static_cast<std::uint32_t>(out.size())};
    put32(out, local_signature);
    put16(out, 20);  // version needed: 2.0
    put16(out, 0);   // flags
    put16(out, 0);   // method: stored
    put16(out, 0);   // time
    put16(out, dos_date_1980_01_01);
    put32(out, c.crc);
    put32(out, c.size);
    put32(out, c.size);
    put16(out, static_cast<std::uint16_t>(file_name.size()));
    put16(out, 0);  // extra length
    for (char ch : file_name) out.push_back(static_cast<std::byte>(ch));
    out.insert(out.end(), npy.begin(), npy.end());
    central.push_back(c);
  }
  const auto central_offset = static_cast<std::uint32_t>(out.size());
  for (const Central& c : central) {
    put32(out, central_signature);
    put16(out, 20);  // made by
    put16(out, 20);  // needed
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, dos_date_1980_01_01);
    put32(out, c.crc);
    put32(out, c.size);
    put32(out, c.size);
    put16(out, static_cast<std::uint16_t>(c.name.size()));
    put16(out, 0);  // extra
    put16(out, 0);  // comment
    put16(out, 0);  // disk
    put16(out, 0);  // internal attributes
    put32(out, 0);  // external attributes
    put32(out, c.offset);
    for (char ch : c.name) out.push_back(static_cast<std::byte>(ch));
  }
  const auto central_size = static_cast<std::uint32_t>(out.size() - central_offset);
  if (central.size() > UINT16_MAX) throw ArgumentError("npz: more than 65535 arrays (zip64 is not supported)");
  const auto count = static_cast<std::uint16_t>(central.size());
  put32(out, end_signature);
  put16(out, 0);
  put16(out, 0);
  put16(out, count);
  put16(out, count);
  put32(out, central_size);
  put32(out, central_offset);
  char comment[32];
  // The CRC covers every byte up to the comment length field (which the reader checks by
  // locating the end record with it).
  std::snprintf(comment, sizeof comment, "%s%08x", integrity_prefix, crc32_of(out));
  const std::size_t comment_length = std::strlen(comment);
  put16(out, static_cast<std::uint16_t>(comment_length));
  for (std::size_t i = 0; i < comment_length; ++i) out.push_back(static_cast<std::byte>(comment[i]));
  return out;
}

/// Parses and verifies a .npz in memory. `file` names it in errors, with byte offsets.
/// With `require_integrity`, the archive must carry vaelib's whole-file CRC.
inline NpzArchive decode_npz(std::span<const std::byte> bytes, const std::string& file, bool require_integrity) {
  using namespace detail;
  auto fail = [&](std::size_t offset, const std::string& what) -> FormatError {
    return FormatError(file + ": byte " + std::to_string(offset) + ": " + what);
  };
  const std::size_t size = bytes.size();
  if (size < 22) throw fail(0, "truncated: " + std::to_string(size) + " bytes is too short for an npz (zip) archive");
  std::size_t end = SIZE_MAX;
  const std::size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  for (std::size_t pos = size - 22 + 1; pos-- > lowest;) {
    if (get(bytes, pos, 4) == end_signature && get(bytes, pos + 20, 2) == size - pos - 22) {
      end = pos;
      break;
    }
  }
  if (end == SIZE_MAX) {
    throw fail(size, "truncated or not an npz archive: no zip end-of-central-directory record in the last bytes (size " +
                         std::to_string(size) + ")");
  }
  const std::string comment(reinterpret_cast<const char*>(bytes.data() + end + 22), size - end - 22);
  const std::size_t prefix_length = std::strlen(integrity_prefix);
  if (comment.rfind(integrity_prefix, 0) == 0 && comment.size() == prefix_length + 8) {
    const std::uint32_t stored = static_cast<std::uint32_t>(std::strtoul(comment.c_str() + prefix_length, nullptr, 16));
    const std::uint32_t actual = crc32_of(bytes.first(end + 20));
    if (stored != actual) {
      char message[160];
      std::snprintf(message, sizeof message,
                    "corrupt: the archive's CRC-32 is %08x but its bytes give %08x (the file was changed or damaged)",
                    stored, actual);
      throw fail(0, message);
    }
  } else if (require_integrity) {
    throw fail(end + 22, "not a vaelib checkpoint: the archive has no vaelib integrity record (comment '" + comment + "')");
  }
  if (get(bytes, end + 4, 2) != 0 || get(bytes, end + 6, 2) != 0) throw fail(end + 4, "multi-disk zip archives are not supported");
  const std::size_t count = get(bytes, end + 10, 2);
  const std::size_t central_size = get(bytes, end + 12, 4);
  const std::size_t central_offset = get(bytes, end + 16, 4);
  if (get(bytes, end + 8, 2) != count) throw fail(end + 8, "inconsistent entry counts in the end record");
  if (central_offset + central_size != end) {
    throw fail(end + 16, "central directory at offset " + std::to_string(central_offset) + " with " +
                             std::to_string(central_size) + " bytes does not end at the end record (offset " +
                             std::to_string(end) + "): truncated or corrupt");
  }
  NpzArchive archive;
  std::size_t at = central_offset;
  for (std::size_t e = 0; e < count; ++e) {
    if (at + 46 > end || get(bytes, at, 4) != central_signature) throw fail(at, "bad central directory entry " + std::to_string(e));
    const std::uint32_t method = get(bytes, at + 10, 2);
    const std::uint32_t crc = get(bytes, at + 16, 4);
    const std::size_t compressed = get(bytes, at + 20, 4);
    const std::size_t uncompressed = get(bytes, at + 24, 4);
    const std::size_t name_length = get(bytes, at + 28, 2);
    const std::size_t skip = get(bytes, at + 30, 2) + get(bytes, at + 32, 2);
    const std::size_t local = get(bytes, at + 42, 4);
    if (at + 46 + name_length + skip > end) throw fail(at, "central directory entry " + std::to_string(e) + " runs past its end");
    const std::string name(reinterpret_cast<const char*>(bytes.data() + at + 46), name_length);
    const std::string entry = "entry '" + name + "'";
    if (method != 0) {
      throw fail(at + 10, entry + " is compressed (method " + std::to_string(method) +
                              "); vaelib reads stored (numpy.savez) archives, not numpy.savez_compressed");
    }
    if (compressed != uncompressed) throw fail(at + 20, entry + ": stored sizes disagree");
    if (local + 30 > central_offset || get(bytes, local, 4) != local_signature) {
      throw fail(local, entry + ": no local file header where the central directory points");
    }
    const std::size_t local_name_length = get(bytes, local + 26, 2);
    const std::size_t local_extra = get(bytes, local + 28, 2);
    const std::size_t data = local + 30 + local_name_length + local_extra;
    if (local_name_length != name_length || local + 30 + name_length > central_offset ||
        std::memcmp(bytes.data() + local + 30, name.data(), name_length) != 0) {
      throw fail(local + 26, entry + ": the local header names a different file");
    }
    if (get(bytes, local + 8, 2) != 0 || get(bytes, local + 14, 4) != crc || get(bytes, local + 18, 4) != compressed ||
        get(bytes, local + 22, 4) != uncompressed) {
      throw fail(local + 8, entry + ": local header disagrees with the central directory");
    }
    if (data + compressed > central_offset) {
      throw fail(data, entry + ": " + std::to_string(compressed) + " bytes of data run past the central directory (truncated)");
    }
    const auto payload = bytes.subspan(data, compressed);
    const std::uint32_t actual = crc32_of(payload);
    if (actual != crc) {
      char message[96];
      std::snprintf(message, sizeof message, ": CRC-32 mismatch (stored %08x, data gives %08x)", crc, actual);
      throw fail(data, entry + message);
    }
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) throw fail(at + 46, entry + " is not a .npy file");
    archive.add(name.substr(0, name.size() - 4),
                decode_npy(payload, file + ": " + entry + " at offset " + std::to_string(data)));
    at += 46 + name_length + skip;
  }
  return archive;
}

/// Writes `archive` to `path` atomically (see write_file_atomically).
inline void save_npz(const std::filesystem::path& path, const NpzArchive& archive) {
  write_file_atomically(path, encode_npz(archive));
}

/// Reads and verifies `path` completely before returning anything.
inline NpzArchive load_npz(const std::filesystem::path& path, bool require_integrity = false) {
  return decode_npz(read_file(path), path.string(), require_integrity);
}

}  // namespace vaelib::io
