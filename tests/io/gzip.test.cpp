#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

TEST_CASE("gunzip: round trip, several members, detection", "[io]") {
  std::vector<std::byte> data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<std::byte>((i * 7) % 251));
  const auto gz = gzip_bytes(data);
  CHECK(io::is_gzip(gz));
  CHECK_FALSE(io::is_gzip(data));
  CHECK(io::gunzip(gz, "data.gz") == data);
  auto two = gz;
  two.insert(two.end(), gz.begin(), gz.end());  // gzip(1) concatenates members like this
  auto twice = data;
  twice.insert(twice.end(), data.begin(), data.end());
  CHECK(io::gunzip(two, "two.gz") == twice);
  CHECK(io::gunzip(gzip_bytes({}), "empty.gz").empty());
}

TEST_CASE("gunzip: corrupt, truncated and oversized input give errors naming the offset", "[io]") {
  std::vector<std::byte> data(5000, std::byte{42});
  const auto gz = gzip_bytes(data);
  const std::vector<std::byte> truncated(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2));
  CHECK_THROWS_WITH(io::gunzip(truncated, "t.gz"),
                    Contains("t.gz: the gzip data is truncated (it ends at offset " + std::to_string(truncated.size())));
  auto corrupt = gz;
  corrupt[12] ^= std::byte{0xff};
  CHECK_THROWS_WITH(io::gunzip(corrupt, "c.gz"), Contains("c.gz: corrupt gzip data near offset"));
  auto garbage = gz;
  garbage.push_back(std::byte{1});
  garbage.push_back(std::byte{2});
  CHECK_THROWS_WITH(io::gunzip(garbage, "g.gz"),
                    Contains("g.gz: 2 bytes of garbage after the gzip data at offset " + std::to_string(gz.size())));
  CHECK_THROWS_WITH(io::gunzip(gz, "big.gz", 1000), Contains("big.gz: decompresses to more than 1000 bytes"));
}

TEST_CASE("read_file: missing files and folders are named", "[io]") {
  const auto folder = scratch_folder("read_file");
  CHECK_THROWS_WITH(io::read_file(folder / "nope"), Contains("read " + (folder / "nope").string() + ": cannot open"));
  CHECK_THROWS_WITH(io::read_file(folder), Contains("is a folder, not a file"));
  write_bytes(folder / "empty", {});
  CHECK(io::read_file(folder / "empty").empty());
}
