#pragma once
// write_file_atomically: a file is either its old contents or its complete new contents,
// never a mix, whatever happens mid-write (crash, kill, full disk). The bytes go to a
// temporary file in the same folder, are flushed and fsync'ed, then renamed over the target
// (rename is atomic on POSIX), and the folder is fsync'ed so the rename itself is durable.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "vaelib/error.hpp"

namespace vaelib::io {

/// An I/O failure: the message names the file and the system's reason.
class IoError : public Error {
 public:
  using Error::Error;
};

/// Removes the temporary files that write_file_atomically left for `path` in processes that
/// no longer run (killed mid-save): ".<name>.tmp-<pid>-<n>" with no process <pid>. Best effort.
inline void remove_stale_temporaries(const std::filesystem::path& path) {
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string prefix = "." + path.filename().string() + ".tmp-";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const std::size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || rest.find_first_not_of("0123456789-") != std::string::npos) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code ignored;
    std::filesystem::remove(it->path(), ignored);
  }
}

inline void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  static std::atomic<unsigned> counter{0};
  remove_stale_temporaries(path);
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::filesystem::path temporary =
      folder / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  auto fail = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw IoError("write " + path.string() + ": " + what + " failed: " + reason + " (the previous file, if any, is unchanged)");
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw IoError("write " + path.string() + ": cannot create temporary file " + temporary.string() + ": " +
                  std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail("writing " + std::to_string(bytes.size()) + " bytes");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("fsync");
  }
  if (::close(fd) != 0) fail("close");
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("rename of " + temporary.string());
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {  // best effort: some file systems refuse fsync on folders
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace vaelib::io
