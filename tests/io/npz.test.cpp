#include "support/gradients.hpp"
#include "vaelib/io/npz.hpp"
#include "vaelib/io/png.hpp"  // a PNG file where an npz archive is expected

using namespace vaelib;
using namespace vaelib::io;
using Catch::Matchers::Contains;

namespace {

NpzArchive sample_archive() {
  NpzArchive a;
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  const std::vector<std::uint64_t> n = {42};
  a.add("param/gen/w", make_npy<float>(Shape{2, 3}, w));
  a.add("step", make_npy<std::uint64_t>(Shape{1}, n));
  return a;
}

}  // namespace

TEST_CASE("npz: round trip keeps names, order, dtypes, shapes and bytes", "[io]") {
  const NpzArchive a = sample_archive();
  const std::vector<std::byte> bytes = encode_npz(a);
  const NpzArchive b = decode_npz(bytes, "mem.npz", true);
  REQUIRE(b.entries().size() == 2);
  CHECK(b.entries()[0].first == "param/gen/w");
  CHECK(b.entries()[1].first == "step");
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(b.entries()[i].second.dtype == a.entries()[i].second.dtype);
    CHECK(b.entries()[i].second.shape == a.entries()[i].second.shape);
    CHECK(b.entries()[i].second.data == a.entries()[i].second.data);
  }
  CHECK(encode_npz(b) == bytes);  // deterministic bytes
  REQUIRE_THROWS_WITH(NpzArchive(a).add("step", a.entries()[1].second), "npz: array 'step' added twice");
}

TEST_CASE("npz: every truncation is refused with an error, never a crash", "[io]") {
  const std::vector<std::byte> bytes = encode_npz(sample_archive());
  for (std::size_t keep = 0; keep < bytes.size(); ++keep) {
    const std::span<const std::byte> cut(bytes.data(), keep);
    REQUIRE_THROWS_AS(decode_npz(cut, "cut.npz", true), FormatError);
    REQUIRE_THROWS_AS(decode_npz(cut, "cut.npz", false), FormatError);
  }
  REQUIRE_THROWS_WITH(decode_npz(std::span(bytes.data(), 10), "cut.npz", true),
                      "cut.npz: byte 0: truncated: 10 bytes is too short for an npz (zip) archive");
  REQUIRE_THROWS_WITH(decode_npz(std::span(bytes.data(), bytes.size() - 5), "cut.npz", true),
                      Contains("cut.npz: byte " + std::to_string(bytes.size() - 5) +
                               ": truncated or not an npz archive: no zip end-of-central-directory record"));
}

TEST_CASE("npz: flipping any byte is detected", "[io]") {
  const std::vector<std::byte> bytes = encode_npz(sample_archive());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (const unsigned mask : {0x01u, 0x80u}) {
      std::vector<std::byte> bad = bytes;
      bad[i] ^= std::byte(mask);
      INFO("byte " << i << " mask " << mask);
      REQUIRE_THROWS_AS(decode_npz(bad, "flip.npz", true), FormatError);
    }
  }
  std::vector<std::byte> bad = bytes;
  bad[100] ^= std::byte{1};
  REQUIRE_THROWS_WITH(decode_npz(bad, "flip.npz", true),
                      Contains("flip.npz: byte 0: corrupt: the archive's CRC-32 is") &&
                          Contains("(the file was changed or damaged)"));
}

TEST_CASE("npz: without the integrity record, entry CRCs still catch damage", "[io]") {
  std::vector<std::byte> bytes = encode_npz(sample_archive());
  // Drop vaelib's archive comment, as a plain zip writer (numpy.savez) would have none.
  const std::size_t comment_length = 21;
  bytes.resize(bytes.size() - comment_length);
  bytes[bytes.size() - 2] = std::byte{0};
  bytes[bytes.size() - 1] = std::byte{0};
  CHECK(decode_npz(bytes, "plain.npz", false).entries().size() == 2);
  REQUIRE_THROWS_WITH(decode_npz(bytes, "plain.npz", true), Contains("not a vaelib checkpoint"));
  std::vector<std::byte> damaged = bytes;
  damaged[180] ^= std::byte{4};  // inside the first array's data (bytes 173 to 196)
  REQUIRE_THROWS_WITH(decode_npz(damaged, "plain.npz", false), Contains("entry 'param/gen/w.npy': CRC-32 mismatch"));
  std::vector<std::byte> compressed = bytes;
  const std::size_t central = bytes.size() - 22 - (46 + 15) - (46 + 8);  // first central directory entry
  compressed[central + 10] = std::byte{8};
  REQUIRE_THROWS_WITH(decode_npz(compressed, "c.npz", false),
                      Contains("entry 'param/gen/w.npy' is compressed (method 8)"));
}

TEST_CASE("npz: a file of another kind (a PNG, a bare .npy) is refused, naming it", "[io]") {
  const std::vector<std::byte> png = encode_png(GrayImage{2, 2, {1, 2, 3, 4}});
  REQUIRE_THROWS_AS(decode_npz(png, "ck.npz", true), FormatError);
  REQUIRE_THROWS_WITH(decode_npz(png, "ck.npz", true),
                      "ck.npz: byte " + std::to_string(png.size()) +
                          ": truncated or not an npz archive: no zip end-of-central-directory record in the last bytes "
                          "(size " + std::to_string(png.size()) + ")");
  const std::vector<float> w = {1, 2};
  const std::vector<std::byte> npy = encode_npy(make_npy<float>(Shape{2}, w));
  REQUIRE_THROWS_WITH(decode_npz(npy, "w.npy", false), Contains("w.npy: byte ") && Contains("not an npz archive"));
}
