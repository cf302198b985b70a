// read_file.h - a whole file's bytes with POSIX calls, for the replay driver
// (fuzz/replay_driver.cpp) and `vmafuzz` (repro/scenario_io.cpp). A stream
// would throw std::ios_base::failure on a read error (EIO, /proc/self/mem),
// which ends the program with an abort; this returns the error instead.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace vmafuzz::fuzz {

// Appends the bytes of `path` to *bytes. On failure returns what went wrong
// ("is a directory", "cannot read: No such file or directory", "read failed
// after N bytes: Input/output error"); "" on success.
inline std::string read_file_bytes(const char* path, std::vector<uint8_t>* bytes) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("cannot read: ") + std::strerror(errno);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return "is a directory";
  }
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return "read failed after " + std::to_string(bytes->size()) + " bytes: " + std::strerror(e);
    }
    bytes->insert(bytes->end(), buf, buf + n);
  }
  ::close(fd);
  return "";
}

}  // namespace vmafuzz::fuzz
