#include "support/files.hpp"

using namespace vaelib;
using namespace vaelib::testing;
using Catch::Matchers::Contains;

// The real files: MNIST where test_data_folder finds it ($VAELIB_DATA/mnist, <source>/data/mnist,
// optionally <source>/../shared/data/mnist; cmake/get-data.sh fetches it) and Fashion-MNIST
// from Debian's dataset-fashion-mnist (installed by cmake/setup-debian.sh). Missing data fails
// the test, naming the places searched.

TEST_CASE("load_mnist: the MNIST test set", "[data]") {
  const auto folder = test_data_folder("mnist");
  INFO("MNIST from " << folder);
  const data::ImageSet test = data::load_mnist(folder, data::Split::test);
  CHECK(test.size() == 10000);
  CHECK(test.rows == 28);
  CHECK(test.cols == 28);
  CHECK(test.images.shape()[1] == 784);
  CHECK(test.labels.size() == 10000);
  CHECK(test.labels[0] == 7);  // the famous first test digit
  CHECK(test.labels[1] == 2);
  CHECK(xt::amin(test.images)() == 0.0f);
  CHECK(xt::amax(test.images)() == 1.0f);
  std::array<int, 10> counts{};
  for (auto l : test.labels) counts.at(l)++;
  CHECK(counts[1] == 1135);  // digit counts of the MNIST test set
  CHECK(counts[5] == 892);
  // the same split kept as bytes: a quarter of the memory, the same images
  const data::ByteImageSet bytes = data::load_mnist_bytes(folder, data::Split::test);
  CHECK(bytes.size() == 10000);
  CHECK(bytes.bytes.size() == 10000 * 784);
  CHECK(bytes.labels == test.labels);
  const bool same_images = data::to_image_set(bytes).images == test.images;
  CHECK(same_images);
}

TEST_CASE("load_mnist: Fashion-MNIST from Debian's package", "[data]") {
  const std::filesystem::path folder = "/usr/share/datasets/fashion-mnist";
  INFO("Fashion-MNIST is expected at " << folder << " (run `bash cmake/get-data.sh fashion-mnist`)");
  REQUIRE(data::has_dataset_files(folder));
  {
    // Debian's folder is the last place searched: found when $VAELIB_DATA has no copy
    const auto no_copy = scratch_folder("fashion_no_copy");
    const ScopedEnv env("VAELIB_DATA", no_copy.string());
    CHECK(data::locate_dataset(data::Dataset::fashion_mnist, "/nonexistent") == folder);
  }
  const data::ImageSet test = data::load_mnist(folder, data::Split::test);
  CHECK(test.size() == 10000);
  CHECK(test.labels[0] == 9);  // an ankle boot
}

TEST_CASE("locate_dataset and load errors list what was tried", "[data]") {
  const auto folder = scratch_folder("mnist_missing");
  CHECK_THROWS_WITH(data::load_mnist(folder, data::Split::train),
                    Contains(folder.string() + " has no train-images-idx3-ubyte (nor .gz)"));
  write_bytes(folder / "t10k-images-idx3-ubyte", idx_bytes({2, 2, 2}, std::vector<std::uint8_t>(8, 255)));
  write_bytes(folder / "t10k-labels-idx1-ubyte", idx_bytes({3}, {1, 2, 3}));
  CHECK_THROWS_WITH(data::load_mnist(folder, data::Split::test),
                    Contains("t10k-labels-idx1-ubyte: expected 2 labels (one per image of"));
  CHECK(data::parse_dataset("fashion-mnist") == data::Dataset::fashion_mnist);
  CHECK_THROWS_WITH(data::parse_dataset("cifar"), "unknown dataset 'cifar' (expected mnist or fashion-mnist)");
  // From a folder with no data beside it and a $VAELIB_DATA without it, every place is tried
  // and listed: the folder given, $VAELIB_DATA, then ./data and ../shared/data (relative to
  // the current folder).
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(folder);
  std::string message = "no error";
  {
    const ScopedEnv env("VAELIB_DATA", (folder / "env").string());
    try {
      data::locate_dataset(data::Dataset::mnist, folder);
    } catch (const io::IoError& e) {
      message = e.what();
    }
  }
  std::filesystem::current_path(previous);
  CHECK_THAT(message, Contains("cannot find mnist (the four IDX files, raw or .gz) in:\n  " + folder.string() + "\n  " +
                               (folder / "mnist").string() + "\n  " + (folder / "env" / "mnist").string() +
                               "\n  data/mnist\n  ../shared/data/mnist\nrun `bash cmake/get-data.sh`"));
  // a copy of MNIST is found by the name of its folder
  const auto mnist = test_data_folder("mnist");
  CHECK(data::locate_dataset(data::Dataset::mnist, mnist.parent_path()) == mnist);
}

TEST_CASE("load_mnist: files of the wrong kind, shape or size name the file", "[data]") {
  const auto folder = scratch_folder("mnist_wrong_files");
  const std::vector<std::byte> labels = idx_bytes({2}, {1, 2});
  write_bytes(folder / "t10k-labels-idx1-ubyte", labels);
  // the labels file given as the images
  write_bytes(folder / "t10k-images-idx3-ubyte", labels);
  CHECK_THROWS_WITH(data::load_mnist(folder, data::Split::test),
                    (folder / "t10k-images-idx3-ubyte").string() + ": expected images of shape [n, rows, cols], got [2]");
  // a PNG under the images' name
  write_bytes(folder / "t10k-images-idx3-ubyte", io::encode_png(io::GrayImage{2, 2, {1, 2, 3, 4}}));
  CHECK_THROWS_WITH(data::load_mnist(folder, data::Split::test),
                    Contains("t10k-images-idx3-ubyte: not an IDX file: the magic number at offset 0 starts with 89 50"));
  // images cut short
  auto cut = idx_bytes({2, 2, 2}, std::vector<std::uint8_t>(8, 255));
  cut.resize(cut.size() - 3);
  write_bytes(folder / "t10k-images-idx3-ubyte", cut);
  CHECK_THROWS_WITH(data::load_mnist(folder, data::Split::test),
                    Contains("t10k-images-idx3-ubyte: truncated IDX data: the header declares [2, 2, 2] = 8 bytes"));
  // the images name a folder: it is skipped, and the file is reported missing
  std::filesystem::remove(folder / "t10k-images-idx3-ubyte");
  std::filesystem::create_directory(folder / "t10k-images-idx3-ubyte");
  CHECK_THROWS_WITH(data::load_mnist(folder, data::Split::test),
                    Contains(folder.string() + " has no t10k-images-idx3-ubyte (nor .gz)"));
}

TEST_CASE("locate_dataset_in: only the folder given, and what it lacks", "[data]") {
  const auto folder = scratch_folder("mnist_given");
  CHECK_THROWS_WITH(data::locate_dataset_in(data::Dataset::mnist, folder / "typo"),
                    "cannot find mnist in " + (folder / "typo").string() + ": it does not exist; nor in " +
                        (folder / "typo" / "mnist").string() +
                        " (pass the folder that holds the four IDX files, or run `bash cmake/get-data.sh`)");
  write_bytes(folder / "file", bytes_of({1}));
  CHECK_THROWS_WITH(data::locate_dataset_in(data::Dataset::mnist, folder / "file"),
                    Contains((folder / "file").string() + ": it is not a folder;"));
  write_bytes(folder / "t10k-images-idx3-ubyte.gz", bytes_of({1}));
  write_bytes(folder / "train-labels-idx1-ubyte", bytes_of({1}));
  CHECK_THROWS_WITH(data::locate_dataset_in(data::Dataset::fashion_mnist, folder),
                    "cannot find fashion-mnist in " + folder.string() +
                        ": it has no train-images-idx3-ubyte, t10k-labels-idx1-ubyte (nor .gz); nor in " +
                        (folder / "fashion-mnist").string() +
                        " (pass the folder that holds the four IDX files, or run `bash cmake/get-data.sh`)");
  // no fallback to the other places locate_dataset searches, even where the data is
  CHECK_THROWS_AS(data::locate_dataset_in(data::Dataset::mnist, folder), io::IoError);
  // the folder itself, or its <name> subfolder (every place test_data_folder searches ends in mnist/)
  const auto mnist = test_data_folder("mnist");
  CHECK(data::locate_dataset_in(data::Dataset::mnist, mnist.parent_path()) == mnist);
  CHECK(data::locate_dataset_in(data::Dataset::mnist, mnist) == mnist);
}
