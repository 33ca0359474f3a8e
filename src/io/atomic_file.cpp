#include "eqprop/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace eqprop {
namespace {

std::string sys_error() { return std::strerror(errno); }

// Writes all of buf to fd, or returns false with errno set.
bool write_all(int fd, const char* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    buf += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

std::string parent_dir(const std::string& path) {
  const std::filesystem::path p = std::filesystem::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

std::string atomic_write_problem(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string dir = parent_dir(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "folder '" + dir + "' does not exist";
  if (fs::is_directory(path, ec)) return "is a folder, expected a file path";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return "cannot create '" + tmp + "': " + sys_error();
  ::close(fd);
  ::unlink(tmp.c_str());
  return "";
}

void write_file_atomically(const std::string& path, const std::string& bytes, const std::string& what,
                           const std::string& kept) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& why) {
    ::unlink(tmp.c_str());
    throw AtomicWriteError(what + ": " + why + "; " + kept);
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw AtomicWriteError(what + ": cannot create '" + tmp + "': " + sys_error() + "; " + kept);
  const bool ok = write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
  const std::string err = ok ? "" : sys_error();
  if (::close(fd) != 0 && ok) fail("writing '" + tmp + "' failed: " + sys_error());
  if (!ok) fail("writing '" + tmp + "' failed: " + err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming '" + tmp + "' failed: " + sys_error());
  // The rename is durable only once the folder's entry is on disk.
  const int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace eqprop
