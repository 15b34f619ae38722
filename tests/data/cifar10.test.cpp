#include "support/files.hpp"
#include "vaelib/data/cifar10.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

// Crafted files only (CIFAR-10 itself is never needed): each pixel's byte is a function of the
// image, the channel and the position, so a swapped channel, a transposed plane or a record
// read from the wrong file shows.
namespace {

std::uint8_t cifar_pixel(std::size_t image, std::size_t channel, std::size_t row, std::size_t col) {
  return static_cast<std::uint8_t>((image * 37 + channel * 101 + row * 7 + col * 3) % 256);
}

/// One file of `n` records, images numbered from `first`, labels (first + i) % 10.
std::vector<std::byte> cifar_file(std::size_t first, std::size_t n) {
  std::vector<std::byte> out;
  for (std::size_t i = first; i < first + n; ++i) {
    out.push_back(static_cast<std::byte>(i % 10));
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t r = 0; r < 32; ++r)
        for (std::size_t x = 0; x < 32; ++x) out.push_back(static_cast<std::byte>(cifar_pixel(i, c, r, x)));
  }
  return out;
}

std::string cifar_error_of(const std::filesystem::path& file, const std::vector<std::byte>& bytes) {
  write_bytes(file, bytes);
  try {
    data::read_cifar10_bytes({file});
  } catch (const io::FormatError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("load_cifar10: values, labels and channel order round trip", "[data]") {
  const auto folder = scratch_folder("cifar_round_trip");
  write_bytes(folder / "test_batch.bin", cifar_file(0, 3));
  const data::ByteImageSet bytes = data::load_cifar10_bytes(folder, data::Split::test);
  CHECK(bytes.size() == 3);
  CHECK(bytes.channels == 3);
  CHECK(bytes.rows == 32);
  CHECK(bytes.cols == 32);
  CHECK(bytes.pixels() == 3072);
  CHECK(bytes.labels == std::vector<std::uint8_t>{0, 1, 2});
  const data::ImageSet set = data::load_cifar10(folder, data::Split::test);
  CHECK(set.channels == 3);
  CHECK(set.images.shape() == std::vector<std::size_t>{3, 3072});
  CHECK(set.labels == bytes.labels);
  const xt::xarray<float> nchw = data::to_nchw(set);
  REQUIRE(nchw.shape() == std::vector<std::size_t>{3, 3, 32, 32});
  bool same = true;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t r = 0; r < 32; ++r)
        for (std::size_t x = 0; x < 32; ++x) {
          const std::uint8_t b = cifar_pixel(i, c, r, x);
          same = same && nchw(i, c, r, x) == static_cast<float>(b) / 255.0f &&
                 bytes.bytes[((i * 3 + c) * 32 + r) * 32 + x] == b;
        }
  CHECK(same);
  // the red plane first: pixel (row 1, col 2) of image 2's green plane sits at 1024 + 34
  CHECK(set.images(2, 1024 + 34) == static_cast<float>(cifar_pixel(2, 1, 1, 2)) / 255.0f);
  // the channel count survives subset and head
  const data::ImageSet two = data::subset(set, {2, 0});
  CHECK(two.channels == 3);
  CHECK(two.labels == std::vector<std::uint8_t>{2, 0});
  CHECK(data::to_nchw(two)(0, 2, 31, 31) == nchw(2, 2, 31, 31));
  CHECK(data::head(bytes, 1).channels == 3);
}

TEST_CASE("load_cifar10: the training split concatenates its five files in order, raw or .gz", "[data]") {
  const auto folder = scratch_folder("cifar_train");
  // 2, 1, 3, 1, 2 records: every boundary between files is checked
  const std::size_t counts[5] = {2, 1, 3, 1, 2};
  std::size_t first = 0;
  for (std::size_t f = 0; f < 5; ++f) {
    const auto path = folder / ("data_batch_" + std::to_string(f + 1) + ".bin");
    if (f == 2)
      write_bytes(path.string() + ".gz", gzip_bytes(cifar_file(first, counts[f])));
    else
      write_bytes(path, cifar_file(first, counts[f]));
    first += counts[f];
  }
  const data::ByteImageSet set = data::load_cifar10_bytes(folder, data::Split::train);
  REQUIRE(set.size() == 9);
  CHECK(set.labels == std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  bool same = true;
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < 1024; ++p)
        same = same && set.bytes[i * 3072 + c * 1024 + p] == cifar_pixel(i, c, p / 32, p % 32);
  CHECK(same);
  // the six files make the folder a CIFAR-10 folder, found by its name under the folder given
  CHECK_FALSE(data::has_cifar10_files(folder));
  write_bytes(folder / "test_batch.bin", cifar_file(0, 1));
  CHECK(data::has_cifar10_files(folder));
  CHECK(data::locate_cifar10(folder) == folder);
  const auto parent = scratch_folder("cifar_parent");
  std::filesystem::rename(folder, parent / "cifar-10-batches-bin");
  CHECK(data::locate_cifar10(parent) == parent / "cifar-10-batches-bin");
  CHECK(data::cifar10_classes[3] == "cat");
}

TEST_CASE("load_cifar10: bad files give their pinned errors, naming the file and the offset", "[data]") {
  const auto folder = scratch_folder("cifar_bad");
  const std::string f = folder.string() + "/";
  // cut in the second record
  auto cut = cifar_file(0, 2);
  cut.resize(3073 + 100);
  CHECK(cifar_error_of(folder / "cut.bin", cut) ==
        f + "cut.bin: truncated record at offset 3073 (100 of its 3073 bytes): the file's 3173 bytes are not a "
            "multiple of 3073 (1 label byte + 3072 pixel bytes)");
  // shorter than one record: the record at offset 0
  CHECK(cifar_error_of(folder / "short.bin", bytes_of({1, 2, 3})) ==
        f + "short.bin: truncated record at offset 0 (3 of its 3073 bytes): the file's 3 bytes are not a multiple of "
            "3073 (1 label byte + 3072 pixel bytes)");
  // CIFAR-100's records (2 label bytes) do not divide either
  CHECK_THAT(cifar_error_of(folder / "cifar100.bin", std::vector<std::byte>(3 * 3074)),
             Contains("cifar100.bin: truncated record at offset 9219 (3 of its 3073 bytes)"));
  CHECK(cifar_error_of(folder / "empty.bin", {}) ==
        f + "empty.bin: empty (a CIFAR-10 batch holds 3073-byte records: 1 label byte + 3072 pixel bytes)");
  auto bad_label = cifar_file(0, 3);
  bad_label[2 * 3073] = std::byte{12};
  CHECK(cifar_error_of(folder / "label.bin", bad_label) ==
        f + "label.bin: label 12 at offset 6146 (record 2) is not a CIFAR-10 class (0 to 9)");
  // gzip: the decompressed stream is named
  auto gz_label = cifar_file(0, 1);
  gz_label[0] = std::byte{10};
  CHECK(cifar_error_of(folder / "label.bin.gz", gzip_bytes(gz_label)) ==
        f + "label.bin.gz (decompressed): label 10 at offset 0 (record 0) is not a CIFAR-10 class (0 to 9)");
  auto gz_cut = gzip_bytes(cifar_file(0, 2));
  gz_cut.resize(gz_cut.size() - 10);
  CHECK_THAT(cifar_error_of(folder / "cut.bin.gz", gz_cut), Contains(f + "cut.bin.gz: the gzip data is truncated"));
  // a bad file among several: its own name, and nothing is returned
  write_bytes(folder / "good.bin", cifar_file(0, 1));
  CHECK_THROWS_WITH(data::read_cifar10_bytes({folder / "good.bin", folder / "label.bin"}),
                    f + "label.bin: label 12 at offset 6146 (record 2) is not a CIFAR-10 class (0 to 9)");
}

TEST_CASE("load_cifar10: missing files say what to download and where to put it", "[data]") {
  const auto folder = scratch_folder("cifar_missing");
  const std::string hint_tail =
      "download the \"CIFAR-10 binary version\" (cifar-10-binary.tar.gz, https://www.cs.toronto.edu/~kriz/cifar.html; "
      "neither Debian nor npm packages it) and put its files (data_batch_1.bin ... data_batch_5.bin, test_batch.bin) "
      "in ";
  const auto env_folder = folder / "env";
  const ScopedEnv env("VAELIB_DATA", env_folder.string());
  const std::string where = folder.string() + ", or in " + (env_folder / "cifar-10-batches-bin").string();
  CHECK_THROWS_WITH(data::load_cifar10(folder, data::Split::test),
                    "load_cifar10: " + folder.string() + " has no test_batch.bin (nor .gz); " + hint_tail + where);
  write_bytes(folder / "data_batch_1.bin", cifar_file(0, 1));
  write_bytes(folder / "data_batch_4.bin.gz", gzip_bytes(cifar_file(0, 1)));
  CHECK_THROWS_WITH(data::load_cifar10_bytes(folder, data::Split::train),
                    "load_cifar10: " + folder.string() +
                        " has no data_batch_2.bin, data_batch_3.bin, data_batch_5.bin (nor .gz); " + hint_tail + where);
  // locate_cifar10 lists every folder tried (relative ones from the current folder)
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(folder);
  std::string message = "no error";
  try {
    data::locate_cifar10(folder);
  } catch (const io::IoError& e) {
    message = e.what();
  }
  std::filesystem::current_path(previous);
  CHECK(message == "cannot find cifar-10 (data_batch_1.bin ... data_batch_5.bin and test_batch.bin, raw or .gz) in:\n  " +
                       folder.string() + "\n  " + (folder / "cifar-10-batches-bin").string() + "\n  " +
                       (env_folder / "cifar-10-batches-bin").string() +
                       "\n  data/cifar-10-batches-bin\n  ../shared/data/cifar-10-batches-bin\n" + hint_tail + where);
  {
    // without $VAELIB_DATA the message still names the variable
    const ScopedEnv unset("VAELIB_DATA", std::nullopt);
    CHECK_THROWS_WITH(data::load_cifar10(folder, data::Split::test),
                      Contains("in " + folder.string() + ", or in $VAELIB_DATA/cifar-10-batches-bin"));
  }
}

TEST_CASE("image sets: MNIST-like sets stay 1-channel, to_nchw checks the sizes", "[data]") {
  data::ByteImageSet bytes;
  bytes.rows = 2;
  bytes.cols = 3;
  bytes.bytes = std::vector<std::uint8_t>(12, 51);
  CHECK(bytes.channels == 1);
  CHECK(bytes.size() == 2);
  const data::ImageSet set = data::to_image_set(bytes);
  CHECK(set.channels == 1);
  CHECK(set.pixels() == 6);
  CHECK(data::to_nchw(set).shape() == std::vector<std::size_t>{2, 1, 2, 3});
  data::ImageSet wrong = set;
  wrong.channels = 2;
  CHECK_THROWS_WITH(data::to_nchw(wrong), "to_nchw: the set's 12 values are not 2 images of 2 x 2 x 3");
}
