#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("read_idx: raw and gzip files", "[data]") {
  const auto folder = scratch_folder("idx_good");
  std::vector<std::uint8_t> pixels(2 * 3 * 4);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 10);
  write_bytes(folder / "images", idx_bytes({2, 3, 4}, pixels));
  write_bytes(folder / "images.gz", gzip_bytes(idx_bytes({2, 3, 4}, pixels)));
  write_bytes(folder / "labels", idx_bytes({3}, {7, 2, 1}));
  for (const char* name : {"images", "images.gz"}) {
    const data::IdxArray a = data::read_idx(folder / name);
    CHECK(a.shape == Shape{2, 3, 4});
    CHECK(a.data == pixels);
  }
  CHECK(data::read_idx(folder / "labels").data == std::vector<std::uint8_t>{7, 2, 1});
}

TEST_CASE("read_idx: every bad file gives its pinned error, naming the file and the offset", "[data]") {
  const auto folder = scratch_folder("idx_bad");
  auto error_of = [&](const std::string& name, const std::vector<std::byte>& bytes) {
    write_bytes(folder / name, bytes);
    try {
      data::read_idx(folder / name);
    } catch (const io::FormatError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string f = folder.string() + "/";
  CHECK(error_of("short", bytes_of({0, 0})) == f + "short: too short for an IDX header (2 bytes; the magic number alone takes 4)");
  CHECK(error_of("png", bytes_of({0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0})) ==
        f + "png: not an IDX file: the magic number at offset 0 starts with 89 50, expected 00 00");
  CHECK(error_of("float", bytes_of({0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0})) ==
        f + "float: IDX element type 0x0d at offset 2 is not supported (vaelib reads unsigned-byte IDX files, type 0x08)");
  CHECK(error_of("nodims", bytes_of({0, 0, 8, 0})) == f + "nodims: IDX header at offset 3 declares 0 dimensions (expected 1 to 4)");
  CHECK(error_of("header", bytes_of({0, 0, 8, 3, 0, 0, 0, 2, 0, 0})) ==
        f + "header: truncated IDX header: 3 dimensions need 16 bytes, the file has 10");
  auto truncated = idx_bytes({2, 3, 4}, std::vector<std::uint8_t>(24, 1));
  truncated.resize(truncated.size() - 5);
  CHECK(error_of("truncated", truncated) ==
        f + "truncated: truncated IDX data: the header declares [2, 3, 4] = 24 bytes from offset 16, but the data ends "
            "at offset 35");
  auto trailing = idx_bytes({3}, {1, 2, 3});
  trailing.push_back(std::byte{9});
  CHECK(error_of("trailing", trailing) ==
        f + "trailing: 1 unexpected bytes after the IDX data at offset 11 (header declares [3])");
  // gzip: the error names the decompressed stream, or the compressed offset
  CHECK(error_of("bad.gz", gzip_bytes(bytes_of({1, 2, 3, 4}))) ==
        f + "bad.gz (decompressed): not an IDX file: the magic number at offset 0 starts with 01 02, expected 00 00");
  auto gz = gzip_bytes(idx_bytes({100}, std::vector<std::uint8_t>(100, 3)));
  gz.resize(gz.size() - 10);
  CHECK_THAT(error_of("cut.gz", gz), Contains(f + "cut.gz: the gzip data is truncated"));
  CHECK_THROWS_WITH(data::read_idx(folder / "missing"), Contains("missing: cannot open the file"));
}

TEST_CASE("read_idx: a folder, an empty file and an unreadable file are named", "[data]") {
  const auto folder = scratch_folder("idx_unreadable");
  CHECK_THROWS_AS(data::read_idx(folder), io::IoError);
  CHECK_THROWS_WITH(data::read_idx(folder), "read " + folder.string() + ": is a folder, not a file");
  write_bytes(folder / "empty", {});
  CHECK_THROWS_WITH(data::read_idx(folder / "empty"),
                    (folder / "empty").string() + ": too short for an IDX header (0 bytes; the magic number alone takes 4)");
  // As root no permission bit stops a read, but a file with no size (here the process's own
  // memory) still cannot be read whole.
  CHECK_THROWS_WITH(data::read_idx("/proc/self/mem"), "read /proc/self/mem: cannot determine the size");
}
