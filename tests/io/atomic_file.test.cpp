#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "support/gradients.hpp"
#include "vaelib/io/atomic_file.hpp"

using namespace vaelib::io;
using Catch::Matchers::Contains;

namespace {
std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
}  // namespace

TEST_CASE("atomic_file: replaces the file whole and leaves no temporary behind", "[io]") {
  const auto folder = std::filesystem::temp_directory_path() / "vaelib_atomic_test";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const auto path = folder / "state.bin";
  write_file_atomically(path, as_bytes("first version"));
  CHECK(read_all(path) == "first version");
  write_file_atomically(path, as_bytes("second"));
  CHECK(read_all(path) == "second");
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
  std::filesystem::remove_all(folder);
}

TEST_CASE("atomic_file: a folder that does not exist is a clear error and changes nothing", "[io]") {
  const auto path = std::filesystem::temp_directory_path() / "vaelib_no_such_folder" / "x.npz";
  REQUIRE_THROWS_AS(write_file_atomically(path, as_bytes("x")), IoError);
  REQUIRE_THROWS_WITH(write_file_atomically(path, as_bytes("x")),
                      Contains("write " + path.string() + ": cannot create temporary file") &&
                          Contains("No such file or directory"));
}

TEST_CASE("atomic_file: a save removes the temporaries of killed saves, not live ones or other files (issue 20)",
          "[io]") {
  const auto folder = std::filesystem::temp_directory_path() / "vaelib_atomic_stale_test";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const auto path = folder / "checkpoint.npz";
  // a pid no process has (beyond pid_max), this process's own, and names that only look alike
  const std::string dead = ".checkpoint.npz.tmp-4194305-0", own = ".checkpoint.npz.tmp-" + std::to_string(::getpid()) + "-99";
  const std::vector<std::string> kept{own, ".checkpoint.npz.tmp-1-0",  // pid 1 (init) is alive
                                      ".checkpoint.npz.tmp-abc-0", ".other.npz.tmp-4194305-0", "checkpoint.npz.tmp-4194305-0"};
  for (const auto& name : kept) std::ofstream(folder / name) << "x";
  std::ofstream(folder / dead) << "half a checkpoint";
  write_file_atomically(path, as_bytes("new"));
  CHECK_FALSE(std::filesystem::exists(folder / dead));
  for (const auto& name : kept) CHECK(std::filesystem::exists(folder / name));
  CHECK(read_all(path) == "new");
  std::filesystem::remove_all(folder);
}
